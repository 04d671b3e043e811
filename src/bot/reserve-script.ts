import type { RedisClient } from '../redis/redis-connector.js';

/**
 * The admission check and the counting in one Redis script, so two requests can never both take the last slot
 * (a check followed by a separate write lets them). Redis runs a script without interleaving other commands.
 *
 * KEYS: user's active jobs, user's hourly window, guild's hourly window (sorted sets scored by time).
 * ARGV: now (ms), window (ms), max active jobs, user quota, guild quota, job id, active-set TTL (s).
 * Returns ['ok'] or [which limit: 'active' | 'user' | 'guild', score of the window's oldest entry].
 */
export const RESERVE_SCRIPT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return {'active', '0'} end
local limits = { {KEYS[2], tonumber(ARGV[4]), 'user'}, {KEYS[3], tonumber(ARGV[5]), 'guild'} }
for _, l in ipairs(limits) do
  redis.call('ZREMRANGEBYSCORE', l[1], 0, now - window)
  if redis.call('ZCARD', l[1]) >= l[2] then
    local oldest = redis.call('ZRANGE', l[1], 0, 0, 'WITHSCORES')
    return {l[3], oldest[2] or ARGV[1]}
  end
end
redis.call('ZADD', KEYS[1], now, ARGV[6])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[7]))
for _, l in ipairs(limits) do
  redis.call('ZADD', l[1], now, ARGV[6])
  redis.call('PEXPIRE', l[1], window)
end
return {'ok'}
`;

export type ReserveOutcome = ['ok'] | ['active' | 'user' | 'guild', string];

/** The script's arguments after its three keys (see above). */
export type ReserveArgs = [now: number, windowMs: number, maxActive: number, userQuota: number, guildQuota: number, jobId: string, activeTtlS: number];

const COMMAND = 'hairstylerReserve';
type ReserveClient = RedisClient & { [COMMAND](...keysAndArgs: Array<string | number>): Promise<ReserveOutcome> };

/**
 * The script as a command of this connection (ioredis `defineCommand`): its body goes to Redis once per connection,
 * every later call is an EVALSHA (and the body is sent again only if Redis answers NOSCRIPT).
 */
export function reserveCommand(redis: RedisClient): (keys: [userActive: string, userHour: string, guildHour: string], args: ReserveArgs) => Promise<ReserveOutcome> {
  const client = redis as ReserveClient;
  if (typeof client[COMMAND] !== 'function') redis.defineCommand(COMMAND, { numberOfKeys: 3, lua: RESERVE_SCRIPT });
  return (keys, args) => client[COMMAND](...keys, ...args);
}
