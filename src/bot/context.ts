import type {
  AutocompleteInteraction, ChatInputCommandInteraction, MessageComponentInteraction, MessageContextMenuCommandInteraction,
  RESTPostAPIApplicationCommandsJSONBody,
} from 'discord.js';
import type { RedisClient } from '../redis/redis-connector.js';
import type { Config, Logger } from '../shared/index.js';
import type { BotKeys } from './bot-keys.js';
import type { Enqueuer } from './enqueue.js';
import type { GuildSettings } from './guild-settings.js';
import type { Limits } from './limits.js';
import type { PresetBuildReplies } from './preset-build-replies.js';
import type { PresetCatalog } from './preset-catalog.js';

/** What every handler gets: configuration and the bot's Redis-backed services. No per-user state lives here. */
export interface BotContext {
  config: Readonly<Config>;
  log: Logger;
  redis: RedisClient;
  keys: BotKeys;
  enqueuer: Enqueuer;
  limits: Limits;
  presets: PresetCatalog;
  settings: GuildSettings;
  presetReplies: PresetBuildReplies;
  /** Bytes fetch for sniffing attachments (undici's fetch by default). */
  fetch: typeof globalThis.fetch;
}

interface CommandData {
  readonly name: string;
  toJSON(): RESTPostAPIApplicationCommandsJSONBody;
}

export interface SlashCommand {
  kind: 'slash';
  data: CommandData;
  execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void>;
  autocomplete?(interaction: AutocompleteInteraction, ctx: BotContext): Promise<void>;
}

export interface MessageMenuCommand {
  kind: 'message';
  data: CommandData;
  execute(interaction: MessageContextMenuCommandInteraction, ctx: BotContext): Promise<void>;
}

export type BotCommand = SlashCommand | MessageMenuCommand;

/** A handler for every component whose customId starts with `<prefix>:`. */
export interface ComponentHandler {
  prefix: string;
  handle(interaction: MessageComponentInteraction, ctx: BotContext): Promise<void>;
}
