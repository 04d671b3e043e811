import { HairError } from './errors.js';
import type { Logger } from './log.js';

/** How long a process waits for Redis at start before it gives up. */
const CONNECT_TIMEOUT_MS = 3_000;

/** REDIS_URL for messages and logs: the password, if any, replaced by `***`. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
}

/** Options of the one-shot client `assertRedisReachable` checks with: no retries, no offline queue. */
export const REDIS_PREFLIGHT_OPTIONS = Object.freeze({
  lazyConnect: true,
  connectTimeout: CONNECT_TIMEOUT_MS,
  maxRetriesPerRequest: 0,
  enableOfflineQueue: false,
  retryStrategy: () => null,
});

/** What the check needs of an ioredis client (src/shared does not import ioredis). */
export interface PreflightClient {
  connect(): Promise<unknown>;
  ping(): Promise<unknown>;
  disconnect(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** What a start-up check names when Redis does not answer: the setting to fix and the target, password-free. */
export interface RedisTarget {
  setting: 'REDIS_URL' | 'REDIS_SENTINELS' | 'REDIS_CLUSTER_NODES';
  /** e.g. `Redis at redis://127.0.0.1:6379`, `the Redis Cluster at …`. */
  where: string;
}

/**
 * Connects once, pings, disconnects: a process checks Redis before it builds queues and workers, so an
 * unreachable server is one REDIS_UNAVAILABLE naming the setting, not a stream of client errors and retries.
 * `client` is the redis connector's one-shot client (src/redis/redis-connector.ts).
 */
export async function assertRedisReachable(client: PreflightClient, target: RedisTarget): Promise<void> {
  let lastError: unknown;
  client.on('error', (error: unknown) => {
    lastError = error;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const reason = ((lastError ?? error) as Error)?.message ?? String(error);
    throw new HairError('REDIS_UNAVAILABLE', {}, { cause: error, detail: `cannot reach ${target.where} (set ${target.setting}): ${reason}` });
  } finally {
    client.disconnect();
  }
}

const CONNECTION_ERROR = /^(ECONN|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE)/;
const CONNECTION_MESSAGE = /Connection is closed|connect ECONNREFUSED|Stream isn't writeable|Reached the max retries/;

/**
 * An 'error' listener for Redis clients and BullMQ objects once they run: one warning per distinct connection error
 * (ioredis repeats it on every retry; the clients reconnect by themselves), anything else logged with its stack.
 * Without a listener, ioredis prints "Unhandled error event" dumps.
 */
export function redisErrorListener(logger: Pick<Logger, 'warn' | 'error'>, what: string): (error: Error) => void {
  let last = '';
  return (error: Error) => {
    const code = (error as { code?: string }).code ?? '';
    if (!CONNECTION_ERROR.test(code) && !CONNECTION_MESSAGE.test(error.message)) {
      logger.error({ err: error }, `${what} error`);
      return;
    }
    if (error.message === last) return;
    last = error.message;
    logger.warn({ err: { message: error.message, code } }, `${what}: Redis connection error; retrying`);
  };
}
