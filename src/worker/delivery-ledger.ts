import type { RedisClient } from '../redis/redis-connector.js';
import { z } from 'zod';
import { JOB_RETENTION_S, QUEUE_NAMES, redisKeys, tryOnResultSchema } from '../shared/job.js';

const DONE = 'done:';
/** What a finished delivery recorded: the job's result, or the failure reason the member was told about. */
const recordSchema = z.object({
  via: z.enum(['interaction', 'channel', 'direct-message', 'studio']),
  messageId: z.string().optional(),
  result: tryOnResultSchema.optional(),
  failure: z.string().optional(),
});
export type DeliveryRecord = z.infer<typeof recordSchema>;

function parseRecord(raw: string | null): DeliveryRecord | undefined {
  if (!raw?.startsWith(DONE)) return undefined;
  try {
    const parsed = recordSchema.safeParse(JSON.parse(raw.slice(DONE.length)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * KEYS: the delivery record, the job's BullMQ lock. ARGV: this run's lock token, the record's TTL (ms).
 * Returns {'done', record} | {'lock-lost', ''} | {'claimed', ''} | {'reclaimed', earlier claim}.
 */
const CLAIM_SCRIPT = `
local record = redis.call('GET', KEYS[1])
if record and string.sub(record, 1, 5) == 'done:' then return {'done', record} end -- DONE
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return {'lock-lost', ''} end
redis.call('SET', KEYS[1], 'claimed:' .. ARGV[1], 'PX', ARGV[2])
if record then return {'reclaimed', record} end
return {'claimed', ''}
`;

export type Claim =
  /** An earlier run delivered it. */
  | { outcome: 'done'; record: DeliveryRecord }
  /** Another worker holds the job now (this run's lock expired, e.g. during a Redis outage): post nothing. */
  | { outcome: 'lock-lost' }
  /** This run may post. */
  | { outcome: 'claimed' }
  /** An earlier run claimed it and stopped before recording the outcome: it may or may not have posted. */
  | { outcome: 'reclaimed' };

const COMMAND = 'hairstylerClaimDelivery';
type ClaimClient = RedisClient & { [COMMAND](delivery: string, lock: string, token: string, ttlMs: number): Promise<[string, string]> };

/** Thrown when this run must not deliver (lock lost, or Redis unreachable to claim): not the job's failure. */
export class DeliveryNotClaimedError extends Error {
  override readonly name = 'DeliveryNotClaimedError';
}

/**
 * At most one answer per try-on, whatever happens to the job's lock: a run claims the delivery in Redis (only while
 * it holds the job's lock, checked in the same script) before posting, and records what it posted. A run that
 * cannot reach Redis cannot claim, so it posts nothing; the job is run again once Redis is back.
 */
export function createDeliveryLedger(redis: RedisClient, prefix: string) {
  const keys = redisKeys(prefix);
  const ttlMs = JOB_RETENTION_S.tryOnFailed * 1000;
  // A command of this connection: the body goes once, then EVALSHA (as the bot's reserve script).
  const client = redis as ClaimClient;
  if (typeof client[COMMAND] !== 'function') redis.defineCommand(COMMAND, { numberOfKeys: 2, lua: CLAIM_SCRIPT });

  return {
    async claim(jobId: string, lockToken: string | undefined): Promise<Claim> {
      let reply: [string, string];
      try {
        reply = await client[COMMAND](keys.delivery(jobId), keys.jobLock(QUEUE_NAMES.tryOn, jobId), lockToken ?? '', ttlMs);
      } catch (error) {
        throw new DeliveryNotClaimedError(`cannot claim the delivery of ${jobId}: ${(error as Error).message}`, { cause: error });
      }
      const [outcome, raw] = reply;
      if (outcome === 'done') {
        const record = parseRecord(raw);
        if (record) return { outcome, record };
        return { outcome: 'reclaimed' };
      }
      return { outcome: outcome as 'lock-lost' | 'claimed' | 'reclaimed' };
    },

    /** The finished delivery of an earlier run, if any (a job run again after its completion was lost). */
    async recorded(jobId: string): Promise<DeliveryRecord | undefined> {
      return parseRecord(await redis.get(keys.delivery(jobId)));
    },

    async done(jobId: string, record: DeliveryRecord): Promise<void> {
      await redis.set(keys.delivery(jobId), DONE + JSON.stringify(record), 'PX', ttlMs);
    },
  };
}
export type DeliveryLedger = ReturnType<typeof createDeliveryLedger>;
