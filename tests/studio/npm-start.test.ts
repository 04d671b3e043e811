import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startFakeDiscord } from '../fake-discord/index.js';
import { deletePrefix, REDIS_URL } from '../helpers/worker-harness.js';

/** `npm start` as a newcomer runs it (the built entry, `node dist/src/main.js`), with no Discord token. */
const MAIN = fileURLToPath(new URL('../../dist/src/main.js', import.meta.url));
const children: ChildProcess[] = [];
const prefix = `test-start-${randomUUID().slice(0, 8)}`;

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HAIR_EP: 'cpu', METRICS_PORT: '0', STUDIO_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const output: string[] = [];
  const collect = (chunk: Buffer) => output.push(...chunk.toString().split('\n').filter(Boolean));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      // The plain line without a token; the log line `studio at <url>` with one.
      const line = output.find((l) => l.includes('Hairstyler studio: http') || l.includes('"msg":"studio at http'));
      if (line) {
        clearInterval(timer);
        resolve((line.startsWith('{') ? (JSON.parse(line) as { msg: string }).msg : line).trim().split(' ').at(-1)!);
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`exited ${code}:\n${output.join('\n')}`));
    });
  });
  url.catch(() => undefined);
  return { child, output, exited, url };
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

afterAll(async () => {
  const redis = new Redis(REDIS_URL);
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe('npm start', () => {
  it('no Redis: says so in one line, serves the studio on loopback with the engine in process, exits 0 on SIGTERM', async () => {
    const run = start({ REDIS_URL: 'redis://127.0.0.1:1' });
    const url = await run.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(run.output.filter((l) => l.includes('no Redis answers at redis://127.0.0.1:1'))).toHaveLength(1);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Try-ons run in this process (no Redis).');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('Redis answers: the studio queues on it and a worker runs in the same process', async () => {
    const run = start({ REDIS_URL, QUEUE_PREFIX: prefix });
    const url = await run.url;
    expect(await (await fetch(url)).text()).toContain('Try-ons go through the queue to the workers.');
    expect(run.output.some((l) => l.includes('"msg":"worker ready'))).toBe(true);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it('with DISCORD_TOKEN and STUDIO_PORT: the bot, a worker and the studio on the same queue', async () => {
    const fake = await startFakeDiscord();
    try {
      const run = start({
        REDIS_URL, QUEUE_PREFIX: prefix, DISCORD_TOKEN: 'fake-bot-token', DISCORD_APPLICATION_ID: fake.applicationId, DISCORD_API_URL: fake.apiUrl,
      });
      const url = await run.url;
      expect(run.output.some((l) => l.includes('"msg":"bot ready"'))).toBe(true);
      expect(run.output.some((l) => l.includes('"msg":"worker ready'))).toBe(true);
      expect(await (await fetch(url)).text()).toContain('Try-ons go through the queue to the workers.');
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    } finally {
      await fake.close();
    }
  });

  it('bound beyond loopback without STUDIO_TOKEN: exits 1 and names the setting', async () => {
    const run = start({ REDIS_URL: 'redis://127.0.0.1:1', STUDIO_HOST: '0.0.0.0' });
    expect(await run.exited).toBe(1);
    expect(run.output.join('\n')).toMatch(/STUDIO_TOKEN \(missing\): required when STUDIO_HOST \(0\.0\.0\.0\) is not loopback/);
  });
});
