import type { RedisClient } from '../redis/redis-connector.js';
import { z } from 'zod';
import { jsonString, localeSchema, snowflake } from '../shared/index.js';
import type { BotKeys } from './bot-keys.js';

/** Where a preset build reports back: the moderator's interaction (its token lives 15 minutes). */
const presetBuildReplySchema = z.object({
  token: z.string().min(1),
  applicationId: snowflake,
  locale: localeSchema,
  /** The preset's name as the moderator typed it. */
  name: z.string().min(1),
});
export type PresetBuildReply = z.infer<typeof presetBuildReplySchema>;
const storedReplySchema = jsonString(presetBuildReplySchema);

/** As long as the interaction token it holds. */
export const PRESET_BUILD_REPLY_TTL_S = 15 * 60;

/**
 * The moderator's reply target of each preset build, in Redis until the build ends. `take` reads and deletes it in
 * one command: the token is used once, by one bot process, and never kept after.
 */
export function createPresetBuildReplies(deps: { redis: RedisClient; keys: BotKeys }) {
  const { redis, keys } = deps;
  return {
    async save(jobId: string, reply: PresetBuildReply): Promise<void> {
      await redis.set(keys.presetReply(jobId), JSON.stringify(presetBuildReplySchema.parse(reply)), 'EX', PRESET_BUILD_REPLY_TTL_S);
    },

    /** The reply target, removed from Redis; undefined when none is left (expired, or another bot took it). */
    async take(jobId: string): Promise<PresetBuildReply | undefined> {
      const parsed = storedReplySchema.safeParse(await redis.getdel(keys.presetReply(jobId)));
      return parsed.success ? parsed.data : undefined;
    },
  };
}
export type PresetBuildReplies = ReturnType<typeof createPresetBuildReplies>;
