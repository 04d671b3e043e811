import { Client, Events, GatewayIntentBits, type ClientOptions } from 'discord.js';
import { builtinPresets, HairError, redisKeys, type Config, type Logger, type PresetEntry } from '../shared/index.js';
import { redisErrorListener } from '../shared/redis.js';
import { createRedisConnector } from '../redis/redis-connector.js';
import { botKeys } from './bot-keys.js';
import { commands as defaultCommands } from './commands/index.js';
import { components as defaultComponents } from './components/index.js';
import type { BotContext } from './context.js';
import { startBullBoard } from './bull-board.js';
import { createEnqueuer } from './enqueue.js';
import { createInteractionRouter } from './interactions.js';
import { createGuildSettings } from './guild-settings.js';
import { createLimits } from './limits.js';
import { createPresetBuildReplies } from './preset-build-replies.js';
import { createPresetCatalog } from './preset-catalog.js';
import { startInteractionsEndpoint } from './http/interactions-endpoint.js';
import { emitRawInteraction } from './http/raw-interaction.js';
import { createProgressWatcher } from './progress.js';

/**
 * discord.js's internal sharding: one WebSocket per shard in this process, all feeding the same router (every piece
 * of bot state is in Redis, so which shard carries an interaction does not matter). SHARD_COUNT is also the variable
 * discord.js reads itself when its shardCount option is left at its default of 1, where `auto` would become NaN and
 * stop the Client; with shards 'auto' discord.js takes the count from /gateway/bot and ignores shardCount, so any
 * other value keeps it from looking.
 */
export function gatewayShards(count: Config['SHARD_COUNT']): Pick<ClientOptions, 'shards' | 'shardCount'> {
  if (count === 'auto') return { shards: 'auto', shardCount: 2 };
  return { shards: Array.from({ length: count }, (_, id) => id), shardCount: count };
}

/** An interaction token lives 15 minutes; a second delivery of the same interaction is refused that long. */
const INTERACTION_TOKEN_TTL_MS = 15 * 60_000;

/** Local pacing of REST calls (see the Client below). */
const INTERACTION_REQUESTS_PER_SECOND = 500;

export interface BotDeps {
  log: Logger;
  /** Built-in presets; read from STYLES_DIR when not given. */
  builtins?: PresetEntry[];
  fetch?: typeof globalThis.fetch;
}

/**
 * Builds the bot: one Redis connection for its own keys, the Queue holder, the QueueEvents watcher and a
 * discord.js Client (Guilds intent only; REST base from DISCORD_API_URL). Interactions reach the Client's one
 * router from the gateway or, with INTERACTIONS_MODE=http, from the interactions endpoint (no gateway connection
 * then). Nothing connects until start().
 */
export function createBot(config: Readonly<Config>, deps: BotDeps) {
  if (!config.DISCORD_TOKEN || !config.DISCORD_APPLICATION_ID) {
    throw new HairError('CONFIG_INVALID', { problems: 'DISCORD_TOKEN, DISCORD_APPLICATION_ID' });
  }
  const log = deps.log;
  const redis = createRedisConnector(config).client();
  redis.on('error', redisErrorListener(log, 'bot Redis client'));
  const keys = botKeys(config.QUEUE_PREFIX);
  const enqueuer = createEnqueuer(config, { redis, keys, log });
  const limits = createLimits(config, { redis, keys, jobPhase: (id) => enqueuer.jobPhase(id), readyAt: (id) => enqueuer.readyAt(id) });
  const settings = createGuildSettings({ redis, keys });
  const presets = createPresetCatalog(config, { redis, keys, settings, shared: redisKeys(config.QUEUE_PREFIX), builtins: deps.builtins ?? builtinPresets(config.STYLES_DIR) });
  const presetReplies = createPresetBuildReplies({ redis, keys });
  const ctx: BotContext = { config, log, redis, keys, enqueuer, limits, presets, settings, presetReplies, fetch: deps.fetch ?? globalThis.fetch };
  // Nearly all of the bot's REST calls are interaction callbacks and interaction-token webhook edits, which Discord
  // exempts from the 50 req/s global limit; @discordjs/rest would otherwise queue them behind its own global
  // counter under load. A real global 429 is still honoured (retry-after).
  const client = new Client({
    intents: [GatewayIntentBits.Guilds],
    ...gatewayShards(config.SHARD_COUNT),
    rest: { api: config.DISCORD_API_URL ?? 'https://discord.com/api', globalRequestsPerSecond: INTERACTION_REQUESTS_PER_SECOND },
  });
  const progress = createProgressWatcher(config, { ctx, rest: client.rest });
  const route = createInteractionRouter(ctx, defaultCommands, defaultComponents);
  client.on(Events.InteractionCreate, (interaction) => void route(interaction));
  client.on(Events.Error, (err) => log.error({ err }, 'discord client error'));
  let closing: Promise<void> | undefined;
  let board: Awaited<ReturnType<typeof startBullBoard>>;
  let endpoint: Awaited<ReturnType<typeof startInteractionsEndpoint>> | undefined;

  async function connectGateway(): Promise<void> {
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    await client.login(config.DISCORD_TOKEN);
    await ready;
    log.info({ user: client.user?.tag, guilds: client.guilds.cache.size, shards: client.options.shardCount }, 'bot ready');
  }

  async function listenForInteractions(publicKey: string): Promise<void> {
    client.rest.setToken(config.DISCORD_TOKEN!);
    endpoint = await startInteractionsEndpoint({ ...config, DISCORD_PUBLIC_KEY: publicKey }, {
      log,
      receive: (payload) => emitRawInteraction(client, payload),
      firstDelivery: async (id) => (await redis.set(keys.interactionSeen(id), '1', 'PX', INTERACTION_TOKEN_TTL_MS, 'NX')) === 'OK',
    });
    log.info({ url: endpoint.url }, 'bot ready (HTTP interactions)');
  }

  return {
    client,
    ctx,
    /** The Bull Board URL when BULL_BOARD_TOKEN is set and the bot started. */
    get boardUrl(): string | undefined {
      return board?.url;
    },
    /** This replica's interactions endpoint (INTERACTIONS_MODE=http, once started). */
    get interactionsUrl(): string | undefined {
      return endpoint?.url;
    },
    /** Connects Redis, the queue watchers and the gateway (or the interactions endpoint); resolves when ready. */
    async start(): Promise<void> {
      await redis.connect();
      await progress.ready();
      const reconciled = await progress.reconcile();
      if (reconciled) log.info({ presets: reconciled }, 'applied preset builds that finished while the bot was away');
      if (config.INTERACTIONS_MODE === 'http') await listenForInteractions(config.DISCORD_PUBLIC_KEY!);
      else await connectGateway();
      board = await startBullBoard(config, { enqueuer, log });
    },
    /** Safe to call twice; every step runs even if one fails. */
    async close(): Promise<void> {
      closing ??= (async () => {
        const results = await Promise.allSettled([endpoint?.close(), client.destroy(), progress.close(), board?.close(), enqueuer.close()]);
        await redis.quit().catch(() => redis.disconnect());
        for (const r of results) if (r.status === 'rejected') log.warn({ err: r.reason }, 'bot close step failed');
      })();
      await closing;
    },
  };
}
export type Bot = ReturnType<typeof createBot>;
