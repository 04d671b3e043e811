import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnector } from '../../src/redis/redis-connector.js';
import { loadConfig } from '../../src/shared/config.js';
import { startSentinelSet, type SentinelSet } from '../helpers/redis-topology.js';
import { finalState, resultOf, sendTryOn, startHaStack, uploadsFor, type HaStack } from './ha-flow.js';

/**
 * A real Sentinel set on loopback (Debian's redis-server and redis-sentinel: 1 master, 1 replica, 3 sentinels,
 * quorum 2), one per file. The bot and the worker find the master through REDIS_SENTINELS + REDIS_SENTINEL_NAME.
 */
describe('Redis Sentinel: 1 master, 1 replica, 3 sentinels on loopback', () => {
  let set: SentinelSet;
  let stack: HaStack;
  const prefix = `test-sentinel-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    set = await startSentinelSet();
    stack = await startHaStack({ REDIS_SENTINELS: set.sentinels, REDIS_SENTINEL_NAME: set.name, QUEUE_PREFIX: prefix, REDIS_URL: 'redis://127.0.0.1:1' });
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
    await set?.close();
  }, 30_000);

  it('a /hair try flows from the fake Discord through the bot, the Sentinel-managed master and the worker back to Discord', async () => {
    const sent = await sendTryOn(stack.h);
    const result = await resultOf(stack.h, sent.interactionId);
    expect(stack.h.fake.cdnBytes(result.attachments[0]!.url)!.length).toBeGreaterThan(1000);
    expect(uploadsFor(stack.h, sent.token)).toBe(1);
  }, 60_000);

  it('the master dies while jobs wait: the sentinels promote the replica and every job is answered, exactly once', async () => {
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push(await sendTryOn(stack.h));
    const before = await stack.h.tryOnQueue.getJobCounts('waiting', 'active');
    expect((before.waiting ?? 0) + (before.active ?? 0)).toBeGreaterThan(0);
    const { from, to } = await set.failover();
    expect(await set.masterPort()).toBe(to);
    expect(to).not.toBe(from);
    for (const s of sent) await resultOf(stack.h, s.interactionId);
    for (const s of sent) {
      expect(uploadsFor(stack.h, s.token)).toBe(1);
      expect(await finalState(stack.h, s.jobId)).toBe('completed');
    }
    // Still working on the new master: one more job after the failover.
    const after = await sendTryOn(stack.h);
    await resultOf(stack.h, after.interactionId);
    expect(uploadsFor(stack.h, after.token)).toBe(1);
  }, 60_000);

  it('the start-up check names REDIS_SENTINELS when no sentinel answers', async () => {
    const config = loadConfig({ env: { REDIS_SENTINELS: '127.0.0.1:1', REDIS_SENTINEL_NAME: set.name, QUEUE_PREFIX: prefix } });
    await expect(createRedisConnector(config).assertReachable(500)).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE', message: expect.stringContaining('REDIS_SENTINELS') });
  });
});
