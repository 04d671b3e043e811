import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRIES, spawnEntry } from '../helpers/spawn-worker.js';
import { closedPort } from '../helpers/closed-port.js';

/**
 * The bot and the worker as an operator meets them when the Sentinels or the Cluster do not answer: exit 1 with one
 * line naming the setting (REDIS_SENTINELS, REDIS_CLUSTER_NODES), no password, no client error dumps.
 */
describe('entry points on an unreachable Sentinel set or Cluster', () => {
  let dir: string;
  const valid = { DISCORD_TOKEN: 'x', DISCORD_APPLICATION_ID: '123456789012345678', LOG_LEVEL: 'info', REDIS_PASSWORD: 'hunter2-secret' };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hair-startup-ha-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('bot with REDIS_SENTINELS and worker with REDIS_CLUSTER_NODES: exit 1 naming the setting', async () => {
    const [sentinelPort, clusterPort] = [await closedPort(), await closedPort()];
    const runs = [
      { setting: 'REDIS_SENTINELS', port: sentinelPort, run: spawnEntry(ENTRIES.bot, { ...valid, REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`, REDIS_SENTINEL_NAME: 'hair', QUEUE_PREFIX: 'test-startup' }, dir) },
      { setting: 'REDIS_CLUSTER_NODES', port: clusterPort, run: spawnEntry(ENTRIES.worker, { ...valid, REDIS_CLUSTER_NODES: `127.0.0.1:${clusterPort}`, QUEUE_PREFIX: '{test-startup}' }, dir) },
    ];
    for (const { run } of runs) run.ready.catch(() => undefined);
    for (const { setting, port, run } of runs) {
      const exited = await run.exited;
      expect(exited.code, setting).toBe(1);
      const text = run.output.join('\n');
      const fatal = run.output.map((line) => JSON.parse(line)).find((line) => line.level === 60);
      expect(fatal.code).toBe('REDIS_UNAVAILABLE');
      expect(fatal.msg).toContain(`(set ${setting})`);
      expect(fatal.msg).toContain(`127.0.0.1:${port}`);
      expect(text).not.toContain('hunter2-secret');
      expect(text).not.toContain('Unhandled error event');
      expect(fatal.err).toBeUndefined();
      expect(run.output.length).toBeLessThanOrEqual(2);
    }
  }, 40_000);
});
