import { afterEach, describe, expect, it } from 'vitest';
import { commands } from '../../src/bot/commands/index.js';
import { deployCommands } from '../../src/bot/deploy.js';
import { en } from '../../src/shared/i18n/en.js';
import { ko } from '../../src/shared/i18n/ko.js';
import { startFakeDiscord, type FakeDiscord } from '../fake-discord/index.js';

describe('deploy-commands', () => {
  let fake: FakeDiscord;
  afterEach(async () => {
    await fake?.close();
  });

  it('bulk-registers the static list globally and per guild, with Korean names and descriptions', async () => {
    fake = await startFakeDiscord();
    const options = { token: 't', applicationId: fake.applicationId, apiUrl: fake.apiUrl };
    await deployCommands(commands, options);
    await deployCommands(commands, { ...options, guildId: fake.guildId });
    expect(fake.globalCommands.map((c) => c.name)).toEqual(['hair', 'Try a hairstyle', 'hair-presets', 'hair-admin']);
    expect(fake.guildCommands.get(fake.guildId)?.length).toBe(4);
    const put = fake.requests.filter((r) => r.method === 'PUT');
    expect(put.map((r) => r.path)).toEqual([`/applications/${fake.applicationId}/commands`, `/applications/${fake.applicationId}/guilds/${fake.guildId}/commands`]);
    for (const command of fake.globalCommands) {
      expect(command.name_localizations?.ko).toBeTruthy();
      if (command.type === 1 || command.type === undefined) {
        expect(command.description_localizations.ko).toBeTruthy();
        for (const sub of command.options) expect(sub.description_localizations.ko).toBeTruthy();
      }
    }
    const hair = fake.globalCommands.find((c) => c.name === 'hair');
    const tryOpts = hair.options.find((o: { name: string }) => o.name === 'try').options;
    expect(tryOpts.filter((o: { autocomplete?: boolean }) => o.autocomplete).map((o: { name: string }) => o.name)).toEqual(['shape', 'color']);
    expect(fake.globalCommands.find((c) => c.name === 'hair-admin').default_member_permissions).toBe('8');
  });

  it('every English UI string has a Korean one', () => {
    const missing = Object.keys(en.ui).filter((key) => !(key in ko.ui));
    expect(missing).toEqual([]);
  });
});
