import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { botKeys } from '../../src/bot/bot-keys.js';
import { createLimits } from '../../src/bot/limits.js';
import { REDIS_URL, useRedisPrefix } from '../helpers/redis-prefix.js';

/**
 * MONITOR on a plain socket: ioredis's monitor mode can throw "Command queue state error" when a monitored line
 * arrives in the same read as its +OK (seen in CI while other test files were connecting).
 */
async function monitorCommands(url: string, onCommand: (line: string, command: string) => void): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port || 6379), hostname);
  await once(socket, 'connect');
  let pending = '';
  let confirmed = false;
  const ok = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\r\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!confirmed && line === '+OK') {
          confirmed = true;
          resolve();
          continue;
        }
        const command = /^\+\S+ \[[^\]]*\] "([^"]+)"/.exec(line)?.[1];
        if (command) onCommand(line, command.toLowerCase());
      }
    });
  });
  socket.write('MONITOR\r\n');
  await ok;
  return socket;
}

/** The admission script is loaded once per connection, then called by its SHA (MONITOR shows what Redis receives). */
describe('the reserve script', () => {
  const db = useRedisPrefix('reserve');
  const { prefix } = db;
  const keys = botKeys(prefix);

  it('sends its body once, then EVALSHA for every later request, on one connection', async () => {
    const seen: string[] = [];
    const monitor = await monitorCommands(REDIS_URL, (line, command) => {
      if (line.includes(prefix)) seen.push(command);
    });
    try {
      const config = { USER_MAX_ACTIVE_JOBS: 5, USER_HOURLY_QUOTA: 20, GUILD_HOURLY_QUOTA: 20 };
      const limits = createLimits(config, { redis: db.redis, keys, jobPhase: async () => 'unfinished' as const, readyAt: async () => Date.now() });
      const again = createLimits(config, { redis: db.redis, keys, jobPhase: async () => 'unfinished' as const, readyAt: async () => Date.now() });
      for (const [i, l] of [limits, limits, again].entries()) await l.reserve({ guildId: 'g', userId: 'u', jobId: `j${i}` });
      await expect.poll(() => seen.filter((c) => c === 'eval' || c === 'evalsha').length).toBe(3);
      expect(seen.filter((c) => c === 'eval' || c === 'evalsha')).toEqual(['eval', 'evalsha', 'evalsha']);
      expect(await db.redis.zcard(keys.userHour('u'))).toBe(3);
    } finally {
      monitor.destroy();
    }
  });
});
