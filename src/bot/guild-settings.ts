import type { RedisClient } from '../redis/redis-connector.js';
import { snowflake } from '../shared/index.js';
import type { BotKeys } from './bot-keys.js';

/**
 * A server's settings for the bot: its moderator role and whether the built-in presets are offered. Values are
 * checked on the way in and out, so a hand-edited or stale key reads as "not set", never as a bad value.
 */
export function createGuildSettings(deps: { redis: RedisClient; keys: BotKeys }) {
  const { redis, keys } = deps;
  return {
    /** The role (besides Manage Server) whose members may manage presets, if one was set. */
    async moderatorRole(guildId: string): Promise<string | undefined> {
      const parsed = snowflake.safeParse(await redis.get(keys.moderatorRole(guildId)));
      return parsed.success ? parsed.data : undefined;
    },

    async setModeratorRole(guildId: string, roleId: string | undefined): Promise<void> {
      if (roleId === undefined) await redis.del(keys.moderatorRole(guildId));
      else await redis.set(keys.moderatorRole(guildId), snowflake.parse(roleId));
    },

    async builtinsEnabled(guildId: string): Promise<boolean> {
      return (await redis.get(keys.builtinsOff(guildId))) !== '1';
    },

    async setBuiltins(guildId: string, on: boolean): Promise<void> {
      if (on) await redis.del(keys.builtinsOff(guildId));
      else await redis.set(keys.builtinsOff(guildId), '1');
    },
  };
}
export type GuildSettings = ReturnType<typeof createGuildSettings>;
