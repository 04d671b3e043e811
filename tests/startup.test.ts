import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { ENTRIES, passThrough, spawnEntry, TSX } from './helpers/spawn-worker.js';
import { closedPort } from './helpers/closed-port.js';

/** A port nothing listens on (bound, then closed). */
/**
 * `npm start`, `npm run bot` and `npm run worker` as an operator meets them when something is wrong: each exits
 * non-zero with one line naming the setting to fix. Run in an empty directory, so no .env is read.
 */
describe('entry points that cannot start', () => {
  let dir: string;
  const valid = { DISCORD_TOKEN: 'x', DISCORD_APPLICATION_ID: '123456789012345678', LOG_LEVEL: 'info' };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hair-startup-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('on a terminal every entry point writes its fatal line as readable text, not JSON (LOG_FORMAT auto)', async () => {
    // `script` (bsdutils, Essential in Debian) gives the child a pseudo-terminal as its stdout, as a shell does.
    const onTerminal = async (entry: keyof typeof ENTRIES) => {
      const command = [process.execPath, '--import', TSX, ENTRIES[entry]].map((arg) => `'${arg}'`).join(' ');
      const child = spawn('script', ['-qefc', command, '/dev/null'], {
        env: { ...passThrough(), ...valid, DISCORD_APPLICATION_ID: 'not-a-snowflake' },
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      return { entry, code, text: text.replace(/\u001b\[[0-9;]*m/g, '') };
    };
    for (const { entry, code, text } of await Promise.all((['start', 'bot', 'worker'] as const).map(onTerminal))) {
      expect(code, entry).toBe(1);
      expect(text, entry).toMatch(/FATAL.*failed to start: CONFIG_INVALID/);
      expect(text, entry).toContain('DISCORD_APPLICATION_ID');
      expect(text, entry).not.toContain('"level":');
    }
  }, 60_000);

  for (const entry of ['start', 'bot', 'worker'] as const) {
    // The worker's own invalid-config case is in tests/worker/worker-process.test.ts.
    it.skipIf(entry === 'worker')(`${entry}: an invalid setting exits 1 and names it`, async () => {
      const run = spawnEntry(ENTRIES[entry], { ...valid, DISCORD_APPLICATION_ID: 'not-a-snowflake' }, dir);
      run.ready.catch(() => undefined);
      const exited = await run.exited;
      expect(exited.code).toBe(1);
      const fatal = run.output.map((line) => JSON.parse(line)).find((line) => line.level === 60);
      expect(fatal.code).toBe('CONFIG_INVALID');
      expect(fatal.msg).toContain('DISCORD_APPLICATION_ID');
    }, 30_000);

    it.skipIf(entry !== 'bot')(`${entry}: INTERACTIONS_MODE=http without DISCORD_PUBLIC_KEY exits 1 and names it`, async () => {
      const run = spawnEntry(ENTRIES[entry], { ...valid, INTERACTIONS_MODE: 'http' }, dir);
      run.ready.catch(() => undefined);
      const exited = await run.exited;
      expect(exited.code).toBe(1);
      const fatal = run.output.map((line) => JSON.parse(line)).find((line) => line.level === 60);
      expect(fatal.code).toBe('CONFIG_INVALID');
      expect(fatal.msg).toContain('DISCORD_PUBLIC_KEY');
      expect(fatal.msg).toContain('INTERACTIONS_MODE');
    }, 90_000); // a tsx child under a loaded CI can take most of 30 s just to start

    it(`${entry}: Redis unreachable exits 1 with one line naming REDIS_URL, no client error dumps`, async () => {
      const port = await closedPort();
      const run = spawnEntry(ENTRIES[entry], { ...valid, REDIS_URL: `redis://:hunter2@127.0.0.1:${port}`, QUEUE_PREFIX: 'test-startup' }, dir);
      run.ready.catch(() => undefined);
      const exited = await run.exited;
      expect(exited.code).toBe(1);
      const text = run.output.join('\n');
      const lines = run.output.map((line) => JSON.parse(line));
      const fatal = lines.find((line) => line.level === 60);
      expect(fatal.code).toBe('REDIS_UNAVAILABLE');
      expect(fatal.msg).toContain('REDIS_URL');
      expect(fatal.msg).toContain(`127.0.0.1:${port}`);
      expect(fatal.msg).toContain('ECONNREFUSED');
      expect(text).not.toContain('hunter2'); // the password in the URL
      expect(text).not.toContain('Unhandled error event');
      expect(text).not.toContain('Connection is closed');
      expect(fatal.err).toBeUndefined(); // a known failure: no stack dump
      expect(lines.length).toBeLessThanOrEqual(2);
    }, 30_000);
  }
});
