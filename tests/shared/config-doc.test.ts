import { readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { describe, expect, it } from 'vitest';
import { envExample, settingDocs, settingsMarkdown } from '../../src/shared/config-doc.js';
import { loadConfig } from '../../src/shared/config.js';

/** docs/settings.md and .env.example are generated from the zod schemas; these keep them true. */
describe('settings documentation', () => {
  const docs = settingDocs();

  it('documents every setting of every section (a description in the schema)', () => {
    expect(docs.length).toBeGreaterThan(40);
    expect(docs.filter((d) => !d.description || d.description.length < 10).map((d) => d.key)).toEqual([]);
    for (const key of ['DISCORD_API_URL', 'LOG_LEVEL', 'LOG_FORMAT', 'SHUTDOWN_TIMEOUT_MS', 'REDIS_URL']) expect(docs.map((d) => d.key)).toContain(key);
    expect(docs.map((d) => d.key)).not.toContain('DISCORD_CDN_URL'); // read once and never used: removed
  });

  it('docs/settings.md and .env.example are what the schemas generate (npm run settings:generate)', () => {
    expect(readFileSync('docs/settings.md', 'utf8')).toBe(settingsMarkdown(docs));
    expect(readFileSync('.env.example', 'utf8')).toBe(envExample(docs));
  });

  it('.env.example lists every setting, and with its required values filled it is a valid configuration', () => {
    const text = envExample(docs);
    for (const doc of docs) expect(text).toMatch(new RegExp(`^(# )?${doc.key}=`, 'm'));
    // Uncommented, every default line parses back to the default itself.
    const uncommented = text.replace(/^# ([A-Z][A-Z0-9_]+=)/gm, '$1');
    const env = { ...parseDotenv(uncommented), DISCORD_TOKEN: 't', DISCORD_APPLICATION_ID: '123456789012345678' };
    const config = loadConfig({ env, need: ['discord'] });
    expect(config.SHUTDOWN_TIMEOUT_MS).toBe(60_000);
    expect(config.DOWNLOAD_ALLOWED_HOSTS).toEqual(['cdn.discordapp.com', 'media.discordapp.net']);
  });
});
