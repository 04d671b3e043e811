import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { botKeys } from '../../src/bot/bot-keys.js';
import { createRedisConnector, scanKeys } from '../../src/redis/redis-connector.js';
import { QUEUE_NAMES, redisKeys } from '../../src/shared/job.js';
import { command, startRedisCluster, type RedisClusterSet } from '../helpers/redis-topology.js';
import { finalState, resultOf, sendTryOn, startHaStack, uploadsFor, type HaStack } from './ha-flow.js';

/**
 * A real Redis Cluster on loopback (3 masters, 1 replica each; Debian's redis-server + `redis-cli --cluster
 * create`), one per file. The bot and the worker reach it through REDIS_CLUSTER_NODES with a hash-tagged prefix.
 */
describe('Redis Cluster: 3 masters + 3 replicas on loopback', () => {
  let cluster: RedisClusterSet;
  let stack: HaStack;
  const prefix = `{hair-${randomBytes(4).toString('hex')}}`;

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicas: 1 });
    stack = await startHaStack({ REDIS_CLUSTER_NODES: cluster.seeds, QUEUE_PREFIX: prefix });
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
    await cluster?.close();
  }, 30_000);

  it('every key of ours and of BullMQ under a hash-tagged prefix hashes to one slot (scripts and MULTIs never span slots)', async () => {
    const shared = redisKeys(prefix);
    const bot = botKeys(prefix);
    const samples = [
      shared.workers, shared.worker('w1'), shared.replyToken('j1'), shared.delivery('j1'), shared.jobLock(QUEUE_NAMES.tryOn, 'j1'),
      shared.cancel('j1'), shared.presetCache('abc:guild:1:x'), shared.presetSource('guild:1:x'),
      ...Object.values(bot).map((key) => (typeof key === 'function' ? (key as (...parts: string[]) => string)('123', 'transferring') : key)),
      ...Object.values(stack.h.tryOnQueue.keys as Record<string, string>), ...Object.values(stack.h.presetQueue.keys as Record<string, string>),
    ];
    const slots = new Set(await Promise.all(samples.map((key) => command(cluster.ports[0]!, 'CLUSTER', 'KEYSLOT', key))));
    expect(samples.length).toBeGreaterThan(25);
    expect([...slots]).toHaveLength(1);
  });

  it('a /hair try flows from the fake Discord through the bot, the Cluster and the worker back to Discord', async () => {
    const sent = await sendTryOn(stack.h);
    const result = await resultOf(stack.h, sent.interactionId);
    expect(stack.h.fake.cdnBytes(result.attachments[0]!.url)!.length).toBeGreaterThan(1000);
    expect(uploadsFor(stack.h, sent.token)).toBe(1);
    // The job's keys are all on the master of the prefix's slot; SCAN over the cluster finds them there.
    const found: string[] = [];
    for await (const keys of scanKeys(stack.h.redis, `${prefix}:${QUEUE_NAMES.tryOn}:${sent.jobId}*`)) found.push(...keys);
    expect(found).toContain(`${prefix}:${QUEUE_NAMES.tryOn}:${sent.jobId}`);
  }, 60_000);

  it('CLUSTER FAILOVER of the master holding the queue while jobs wait: every job is answered, exactly once', async () => {
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push(await sendTryOn(stack.h));
    const before = await stack.h.tryOnQueue.getJobCounts('waiting', 'active', 'completed');
    expect((before.waiting ?? 0) + (before.active ?? 0)).toBeGreaterThan(0);
    const moved = await cluster.failoverSlotOf(`${prefix}:x`);
    expect(moved.to).not.toBe(moved.from);
    for (const s of sent) await resultOf(stack.h, s.interactionId);
    for (const s of sent) {
      expect(uploadsFor(stack.h, s.token)).toBe(1);
      expect(await finalState(stack.h, s.jobId)).toBe('completed');
    }
  }, 60_000);

  it('the start-up check names REDIS_CLUSTER_NODES when no node answers, and passes on the live cluster', async () => {
    await expect(createRedisConnector({ REDIS_URL: 'redis://unused', QUEUE_PREFIX: prefix, REDIS_CLUSTER_NODES: cluster.seeds.split(',') }).assertReachable()).resolves.toBeUndefined();
    const dead = createRedisConnector({ REDIS_URL: 'redis://unused', QUEUE_PREFIX: prefix, REDIS_CLUSTER_NODES: ['127.0.0.1:1'] });
    await expect(dead.assertReachable(500)).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE', message: expect.stringContaining('REDIS_CLUSTER_NODES') });
  });
});
