import type { ConnectionOptions } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import type { RedisConfig } from '../shared/config.js';
import { assertRedisReachable, redactRedisUrl, REDIS_PREFLIGHT_OPTIONS, type RedisTarget } from '../shared/redis.js';

/** A client of our own keys: one server (standalone or Sentinel-managed) or a Cluster. */
export type RedisClient = Redis | Cluster;
export type RedisMode = 'standalone' | 'sentinel' | 'cluster';

/** The settings a connection is made from (docs/settings.md, section redis). */
export type RedisConnectionConfig = Pick<RedisConfig, 'REDIS_URL' | 'QUEUE_PREFIX'> &
  Partial<Pick<RedisConfig, 'REDIS_SENTINELS' | 'REDIS_SENTINEL_NAME' | 'REDIS_SENTINEL_PASSWORD' | 'REDIS_CLUSTER_NODES' | 'REDIS_PASSWORD'>>;

export interface ClientOptions {
  /** Commands wait for a reconnect instead of failing after 3 retries: blocking readers and subscribers. */
  waitForever?: boolean;
  /** Connect on the first command or connect() (the default), not at once. */
  lazyConnect?: boolean;
}

export function redisMode(config: RedisConnectionConfig): RedisMode {
  if (config.REDIS_CLUSTER_NODES?.length) return 'cluster';
  if (config.REDIS_SENTINELS?.length) return 'sentinel';
  return 'standalone';
}

const hostAndPort = (node: string) => {
  const at = node.lastIndexOf(':');
  return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
};

/**
 * After a Sentinel failover, a write that still reaches the demoted master gets READONLY: reconnect (the Sentinels
 * name the new master) and send the command again.
 */
const reconnectOnReadonly = (error: Error) => (error.message.startsWith('READONLY') ? 2 : false);

/**
 * The one place Redis connections are made, for the bot, the worker and the studio: REDIS_URL (one server),
 * REDIS_SENTINELS (+ REDIS_SENTINEL_NAME: the current master, followed across failovers) or REDIS_CLUSTER_NODES
 * (a Cluster; QUEUE_PREFIX carries a hash tag, so every key of one deployment lives in one slot and every script and
 * transaction of ours and of BullMQ stays in it). Making a connector connects nothing.
 *
 * BullMQ gets its own connection per Queue, Worker and QueueEvents: options it connects and closes itself for one
 * server or Sentinels; for a Cluster (which BullMQ cannot build from options) a Cluster client of its own, which
 * the connector closes in close() after its owner closed the BullMQ object.
 */
export function createRedisConnector(config: RedisConnectionConfig) {
  const mode = redisMode(config);
  const handedToBullmq = new Set<Cluster>();
  let closing: Promise<void> | undefined;

  const sentinelOptions = () => ({
    sentinels: (config.REDIS_SENTINELS ?? []).map(hostAndPort),
    name: config.REDIS_SENTINEL_NAME ?? '',
    ...(config.REDIS_PASSWORD ? { password: config.REDIS_PASSWORD } : {}),
    ...(config.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: config.REDIS_SENTINEL_PASSWORD } : {}),
    // Subscribes to the Sentinels' +switch-master: clients leave a demoted master at once, not at their next error.
    failoverDetector: true,
    reconnectOnError: reconnectOnReadonly,
  });
  const clusterNodes = () => (config.REDIS_CLUSTER_NODES ?? []).map(hostAndPort);
  const password = config.REDIS_PASSWORD ? { password: config.REDIS_PASSWORD } : {};

  /** For messages and logs: never a password. */
  const target: RedisTarget =
    mode === 'cluster'
      ? { setting: 'REDIS_CLUSTER_NODES', where: `the Redis Cluster at ${config.REDIS_CLUSTER_NODES!.join(',')}` }
      : mode === 'sentinel'
        ? { setting: 'REDIS_SENTINELS', where: `master "${config.REDIS_SENTINEL_NAME}" of the Sentinels at ${config.REDIS_SENTINELS!.join(',')}` }
        : { setting: 'REDIS_URL', where: `Redis at ${redactRedisUrl(config.REDIS_URL)}` };

  function client(options: ClientOptions = {}): RedisClient {
    const lazyConnect = options.lazyConnect ?? true;
    const maxRetriesPerRequest = options.waitForever ? null : 3;
    if (mode === 'cluster') return new Cluster(clusterNodes(), { lazyConnect, redisOptions: { ...password, maxRetriesPerRequest } });
    if (mode === 'sentinel') return new Redis({ ...sentinelOptions(), lazyConnect, maxRetriesPerRequest });
    return new Redis(config.REDIS_URL, { lazyConnect, maxRetriesPerRequest });
  }

  /** One-shot client of the start-up check: no retries, no offline queue (REDIS_PREFLIGHT_OPTIONS). */
  function preflightClient(connectTimeoutMs: number): RedisClient {
    const once = { ...REDIS_PREFLIGHT_OPTIONS, connectTimeout: connectTimeoutMs };
    if (mode === 'cluster') {
      const perNode = { ...password, connectTimeout: connectTimeoutMs, maxRetriesPerRequest: once.maxRetriesPerRequest };
      return new Cluster(clusterNodes(), { lazyConnect: true, enableOfflineQueue: false, clusterRetryStrategy: () => null, redisOptions: perNode });
    }
    if (mode === 'sentinel') return new Redis({ ...sentinelOptions(), ...once, sentinelRetryStrategy: () => null, failoverDetector: false });
    return new Redis(config.REDIS_URL, once);
  }

  return {
    mode,
    /** The setting to blame and a password-free description of the target. */
    target,
    /** Where keys live: QUEUE_PREFIX. */
    prefix: config.QUEUE_PREFIX,
    client,

    /**
     * A connection for one BullMQ object. `waitForever` for Workers and QueueEvents (blocking reads) and for queues
     * whose commands should wait out an outage; a bot's Queue fails a command after ioredis' retries instead.
     */
    bullmq(options: { waitForever?: boolean } = {}): ConnectionOptions {
      const retries = options.waitForever ? { maxRetriesPerRequest: null } : {};
      if (mode === 'cluster') {
        const cluster = new Cluster(clusterNodes(), { redisOptions: { ...password, ...retries } });
        handedToBullmq.add(cluster);
        return cluster;
      }
      if (mode === 'sentinel') return { ...sentinelOptions(), ...retries };
      return { url: config.REDIS_URL, ...retries };
    },

    /** Connects once and pings; throws REDIS_UNAVAILABLE naming the setting. For a process's start. */
    async assertReachable(connectTimeoutMs = 3_000): Promise<void> {
      await assertRedisReachable(preflightClient(connectTimeoutMs), target);
    },

    /** Whether Redis answers within `timeoutMs` (one try). */
    async answers(timeoutMs = 1_500): Promise<boolean> {
      return await assertRedisReachable(preflightClient(timeoutMs), target).then(() => true, () => false);
    },

    /** Closes the Cluster clients handed to BullMQ (their Queue/Worker/QueueEvents closed first). Safe twice. */
    close(): Promise<void> {
      closing ??= Promise.allSettled([...handedToBullmq].map((cluster) => cluster.quit().catch(() => cluster.disconnect()))).then(() => undefined);
      return closing;
    },
  };
}
export type RedisConnector = ReturnType<typeof createRedisConnector>;

/**
 * Every key matching `pattern` (SCAN … MATCH), page by page. On a Cluster SCAN walks one node, so each master is
 * walked in turn.
 */
export async function* scanKeys(client: RedisClient, pattern: string, count = 200): AsyncGenerator<string[]> {
  const nodes: Redis[] = client instanceof Cluster ? client.nodes('master') : [client];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}
