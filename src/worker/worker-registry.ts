import type { RedisClient } from '../redis/redis-connector.js';
import { redisKeys, WORKER_HEARTBEAT_TTL_S, type WorkerRegistration } from '../shared/job.js';

export type WorkerIdentity = Omit<WorkerRegistration, 'heartbeatAt' | 'jobsDone' | 'jobsFailed'>;

export interface WorkerRegistry {
  start(): Promise<void>;
  jobDone(ok: boolean): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The worker's entry in Redis for the admin stats: a hash that expires unless the heartbeat renews it, and a sorted
 * set of ids by last heartbeat. A worker killed with -9 disappears after WORKER_HEARTBEAT_TTL_S.
 */
export function createWorkerRegistry(redis: RedisClient, prefix: string, identity: WorkerIdentity, onError: (error: unknown) => void): WorkerRegistry {
  const keys = redisKeys(prefix);
  const key = keys.worker(identity.id);
  let timer: NodeJS.Timeout | undefined;

  async function beat(): Promise<void> {
    const now = Date.now();
    await redis
      .multi()
      .hset(key, { heartbeatAt: now })
      .expire(key, WORKER_HEARTBEAT_TTL_S)
      .zadd(keys.workers, now, identity.id)
      .zremrangebyscore(keys.workers, 0, now - WORKER_HEARTBEAT_TTL_S * 1000)
      .exec();
  }

  return {
    async start() {
      const now = Date.now();
      const fields: Record<string, string | number> = { ...identity, heartbeatAt: now, jobsDone: 0, jobsFailed: 0 };
      await redis.multi().del(key).hset(key, fields).expire(key, WORKER_HEARTBEAT_TTL_S).zadd(keys.workers, now, identity.id).exec();
      timer = setInterval(() => beat().catch(onError), (WORKER_HEARTBEAT_TTL_S * 1000) / 3);
      timer.unref();
    },
    async jobDone(ok) {
      await redis.multi().hincrby(key, ok ? 'jobsDone' : 'jobsFailed', 1).expire(key, WORKER_HEARTBEAT_TTL_S).exec();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await redis.multi().del(key).zrem(keys.workers, identity.id).exec();
    },
  };
}
