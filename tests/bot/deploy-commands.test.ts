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

  it('every command, subcommand and option has a valid Korean name, unique among its siblings', () => {
    // Discord's rule for localized names (lowercase where the script has case).
    const valid = /^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
    const missing: string[] = [];
    const walk = (path: string, options: Array<{ name: string; name_localizations?: { ko?: string }; options?: unknown[] }> = []) => {
      const seen = new Set<string>();
      for (const option of options) {
        const ko = option.name_localizations?.ko;
        if (!ko || !valid.test(ko) || ko !== ko.toLowerCase() || seen.has(ko)) missing.push(`${path} ${option.name}`);
        if (ko) seen.add(ko);
        walk(`${path} ${option.name}`, option.options as typeof options);
      }
    };
    for (const command of commands.map((c) => c.data.toJSON())) walk(command.name, (command as { options?: [] }).options);
    expect(missing).toEqual([]);
  });

  it('every English UI string has a Korean one', () => {
    const missing = Object.keys(en.ui).filter((key) => !(key in ko.ui));
    expect(missing).toEqual([]);
  });
});
