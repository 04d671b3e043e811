import { existsSync, readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { isLoopbackHost } from './allowed-hosts.js';
import { HairError } from './errors.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const num = (min: number, max: number) => z.coerce.number().min(min).max(max);
const list = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

export const EXECUTION_PROVIDERS = ['auto', 'cuda', 'webgpu', 'cpu'] as const;
export type ExecutionProviderChoice = (typeof EXECUTION_PROVIDERS)[number];
/** A face front-end stage's provider: `inherit` = HAIR_EP's. */
export const STAGE_EXECUTION_PROVIDERS = ['inherit', ...EXECUTION_PROVIDERS] as const;
export type StageExecutionProviderChoice = (typeof STAGE_EXECUTION_PROVIDERS)[number];
export const HAIRFAST_PRECISIONS = ['auto', 'fp32', 'fp16', 'int8'] as const;
export type HairfastPrecisionChoice = (typeof HAIRFAST_PRECISIONS)[number];
/** The graph variants a worker actually loads. */
export type HairfastPrecision = Exclude<HairfastPrecisionChoice, 'auto'>;
export const HAIR_SWAP_CHOICES = ['auto', 'on', 'off'] as const;
export type HairSwapChoice = (typeof HAIR_SWAP_CHOICES)[number];
export const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * Every setting carries `.describe()`: docs/settings.md and .env.example are generated from these schemas
 * (`npm run settings:generate`; tests/shared/config-doc.test.ts fails when a setting has no description or the files
 * are stale).
 */

/** Everything the pipeline (CLI, worker) needs. Defaults are the production defaults. */
const pipelineSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
    .describe('Least severe log level written.'),
  LOG_FORMAT: z.enum(LOG_FORMATS).default('auto')
    .describe('Log lines: `pretty` (readable, coloured) or `json` (one object per line, for collectors); `auto` is pretty on a terminal and JSON otherwise.'),
  MODELS_DIR: z.string().min(1).default('models').describe('Where `hairstyler models prepare` puts the ONNX models and their manifest.'),
  STYLES_DIR: z.string().min(1).default('styles').describe('The built-in presets: `manifest.json` and their images.'),
  PRESET_CACHE_DIR: z.string().min(1).default('styles/cache')
    .describe('Binary caches of the built-in presets, keyed by preset id and models hash (`hairstyler presets build`).'),
  HAIR_EP: z.enum(EXECUTION_PROVIDERS).default('auto')
    .describe('onnxruntime execution provider; `auto` tries CUDA, then WebGPU, then the CPU (docs/gpu.md).'),
  FACE_DETECT_EP: z.enum(STAGE_EXECUTION_PROVIDERS).default('inherit')
    .describe('Execution provider of the face detector (BlazeFace, a few MFLOPs); `inherit` uses HAIR_EP. Decode, alignment and paste-back run on the CPU (sharp and JS) whatever the providers; per-stage timings per provider: `npm run bench:frontend` with BENCH_STAGE_EPS (docs/performance.md).'),
  FACE_LANDMARKS_EP: z.enum(STAGE_EXECUTION_PROVIDERS).default('inherit')
    .describe('Execution provider of the face mesh (landmarks); `inherit` uses HAIR_EP.'),
  HAIR_PRECISION: z.enum(HAIRFAST_PRECISIONS).default('auto')
    .describe('HairFastGAN graph variants: `auto` loads the fp16 graphs on a GPU when they are exported, fp32 otherwise; `int8` (for CPU hosts, opt-in) loads the int8 variants made by tools/hairfast-export/to_int8.py where they exist and fp32 for the other graphs (docs/performance.md, "int8 on the CPU").'),
  ORT_INTRA_OP_THREADS: int(0, 256).default(0).describe('CPU threads per onnxruntime session; 0 lets onnxruntime decide.'),
  HAIR_SWAP: z.enum(HAIR_SWAP_CHOICES).default('auto')
    .describe('The one-graph-per-request HairFastGAN graph (`swap`) when installed: `auto` uses it in the pipeline thread (PIPELINE_THREAD=on, the default), in `hairstyler transfer` and on a GPU provider, and keeps the split chain for an engine on the worker\'s own thread on the CPU (no clear CPU win either way: docs/performance.md); `on` / `off` force it.'),
  PIPELINE_THREAD: z.enum(['on', 'off']).default('on')
    .describe('Run the try-on engine (sharp, the onnxruntime sessions and the JavaScript work between them) on its own thread in the worker and the in-process studio, so that work never stalls the event loop (job lock renewals, progress edits, /metrics, the studio\'s pages): on the real architecture the longest stall per try-on went from 0.84 s to 0.09 s (npm run bench:engine-thread). `off` runs it on the main thread (the `hairstyler` CLI always does).'),
  HAIR_BATCH_MAX: int(1, 64).default(8)
    .describe('Most try-ons run together in one batch through the per-request HairFastGAN graph (`swap`); 1 turns batching off.'),
  HAIR_BATCH_WAIT_MS: int(0, 1_000).default(10)
    .describe('Longest a try-on waits for others to join its batch; it goes at once when no other running try-on could join (e.g. WORKER_CONCURRENCY=1).'),
  MAX_IMAGE_BYTES: int(1024).default(10 * 1024 * 1024)
    .describe('Largest photo in bytes the worker downloads and decodes (a job may ask for less, never more).'),
  MAX_IMAGE_PIXELS: int(64 * 64).default(40_000_000).describe('Largest photo in decoded pixels (width × height), checked before decoding.'),
  MIN_IMAGE_SIDE: int(16).default(128).describe('Shortest side in pixels a photo must have.'),
  FACE_MIN_SCORE: num(0.05, 0.99).default(0.5).describe('Face detector score a face needs to count.'),
  FACE_MIN_SIZE_PX: int(8).default(64).describe('Smallest face side in pixels (of the working copy) that is used; smaller ones are FACE_TOO_SMALL.'),
  FACE_DOMINANCE_RATIO: num(0, 100).default(2.5)
    .describe('With several faces, one must be this many times larger (by area) than the next to be chosen; 0 refuses every photo with several faces.'),
  FACE_MAX_YAW_DEG: num(5, 90).default(45).describe('How far a face may be turned to the side (degrees) before FACE_TURNED_AWAY.'),
  ALIGN_OUTPUT_SIZE: int(64, 4096).default(1024).describe('Side of the FFHQ-aligned face crop in pixels (HairFastGAN expects 1024).'),
});

/** `host:port` of a Sentinel or Cluster node. */
const hostPort = z.string().regex(/^[^\s:,]+:\d{1,5}$/, 'host:port');
const hostPorts = list.pipe(z.array(hostPort).min(1, 'at least one host:port'));

/**
 * Where a hash tag (`{…}`) sits in a key prefix: Redis Cluster hashes only the text between the key's first `{` and
 * the first `}` after it, so with a non-empty tag inside QUEUE_PREFIX every key of the deployment shares one slot
 * (BullMQ's scripts and ours touch several keys at once). Undefined when the prefix has no usable tag.
 */
export function prefixHashTag(prefix: string): string | undefined {
  const open = prefix.indexOf('{');
  const close = open < 0 ? -1 : prefix.indexOf('}', open + 1);
  return close > open + 1 ? prefix.slice(open + 1, close) : undefined;
}

const redisSchema = z
  .object({
    REDIS_URL: z.string().url().default('redis://127.0.0.1:6379')
      .describe('The Redis server of the queues, limits and presets (`redis://[:password@]host:port[/db]`, `rediss://` for TLS). Unused with REDIS_SENTINELS or REDIS_CLUSTER_NODES.'),
    REDIS_SENTINELS: hostPorts.optional()
      .describe('Comma-separated `host:port` of Redis Sentinels: the processes ask them for the current master and follow failovers. Needs REDIS_SENTINEL_NAME.'),
    REDIS_SENTINEL_NAME: z.string().min(1).optional().describe('The master name the Sentinels monitor (`sentinel monitor <name> …`).'),
    REDIS_SENTINEL_PASSWORD: z.string().min(1).optional().describe('Password of the Sentinels themselves (`requirepass` in sentinel.conf), if any.'),
    REDIS_CLUSTER_NODES: hostPorts.optional()
      .describe('Comma-separated `host:port` of some Redis Cluster nodes (the rest are discovered). QUEUE_PREFIX must then carry a hash tag, e.g. `{hairstyler}`.'),
    REDIS_PASSWORD: z.string().min(1).optional()
      .describe('Password of the Redis data nodes with REDIS_SENTINELS or REDIS_CLUSTER_NODES (with REDIS_URL it goes in the URL).'),
    QUEUE_PREFIX: z.string().min(1).default('hairstyler')
      .describe('Prefix of every Redis key; several deployments (or tests) can share one Redis with different prefixes. On a Redis Cluster it must contain a hash tag (`{hairstyler}`) so each job\'s keys share a slot.'),
  })
  .superRefine((redis, ctx) => {
    if (redis.REDIS_SENTINELS && redis.REDIS_CLUSTER_NODES) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_CLUSTER_NODES'], message: 'set either REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both' });
    }
    if (redis.REDIS_SENTINELS && !redis.REDIS_SENTINEL_NAME) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_SENTINEL_NAME'], message: 'required with REDIS_SENTINELS (the name in `sentinel monitor <name> …`)' });
    }
    if (redis.REDIS_CLUSTER_NODES && !prefixHashTag(redis.QUEUE_PREFIX)) {
      ctx.addIssue({ code: 'custom', path: ['QUEUE_PREFIX'], message: `on a Redis Cluster it needs a hash tag so every key of a job shares one slot, e.g. {${redis.QUEUE_PREFIX}}` });
    }
  });

const workerSchema = z.object({
  WORKER_CONCURRENCY: int(1, 64).default(1).describe('Try-ons one worker process runs at once.'),
  WORKER_ID: z.string().min(1).optional().describe('Name of this worker in logs, metrics and `/hair-admin stats`; default `<host>-<pid>-<random>`.'),
  DOWNLOAD_ALLOWED_HOSTS: list.default(['cdn.discordapp.com', 'media.discordapp.net'])
    .describe('Comma-separated hosts photos may be downloaded from (exact names or `*.suffix`); anything else is refused before connecting.'),
  DOWNLOAD_CONNECT_TIMEOUT_MS: int(100).default(5_000).describe('Longest wait to connect to the attachment host.'),
  DOWNLOAD_READ_TIMEOUT_MS: int(100).default(15_000).describe('Longest wait for headers and between two chunks of a download.'),
  JOB_TIMEOUT_MS: int(1_000).default(120_000).describe('A try-on running longer is stopped (JOB_TIMEOUT) and the member told.'),
  SHUTDOWN_TIMEOUT_MS: int(0).default(60_000)
    .describe('On SIGTERM the worker lets running try-ons finish this long; after that they go back to the queue for another worker.'),
  WORKER_LOCK_DURATION_MS: int(1_000).default(30_000)
    .describe('A job\'s lock lives this long without renewal; a dead worker\'s job is taken over after it (plus a stalled check). Renewals wait while the worker\'s event loop is busy: with PIPELINE_THREAD=off the JavaScript work around the graphs held it up to 0.84 s per try-on on the real architecture (npm run bench:engine-thread), with the pipeline thread 0.09 s.'),
  WORKER_STALLED_INTERVAL_MS: int(500).default(15_000)
    .describe('How often each worker looks for jobs whose lock expired (stalled) and puts them back in the queue.'),
  METRICS_PORT: int(0, 65535).default(9464).describe('Port of the worker\'s /metrics, /healthz and /readyz; 0 picks a free one.'),
  METRICS_HOST: z.string().default('127.0.0.1').describe('Address the metrics server listens on.'),
  RESULT_MAX_BYTES: int(64 * 1024).default(8 * 1024 * 1024).describe('Largest result image in bytes (re-encoded smaller to fit a Discord upload).'),
});

const discordSchema = z.object({
  DISCORD_TOKEN: z.string().min(1, 'the bot token from the Discord developer portal')
    .describe('The bot token (Discord developer portal → Bot). Never logged.'),
  DISCORD_APPLICATION_ID: z.string().regex(/^\d{5,25}$/, 'the application id (a snowflake)')
    .describe('The application id (developer portal → General Information).'),
  DISCORD_API_URL: z.string().url().default('https://discord.com/api').describe('REST base for Discord; tests point it at the local fake Discord.'),
});

export const INTERACTIONS_MODES = ['gateway', 'http'] as const;
export type InteractionsMode = (typeof INTERACTIONS_MODES)[number];

const botSchema = z.object({
  INTERACTIONS_MODE: z.enum(INTERACTIONS_MODES).default('gateway')
    .describe('How interactions reach the bot: `gateway` (a WebSocket per shard) or `http` (Discord POSTs them to the Interactions Endpoint URL; no gateway connection, stateless, any number of replicas behind a load balancer — docs/discord-setup.md).'),
  DISCORD_PUBLIC_KEY: z.string().regex(/^[0-9a-fA-F]{64}$/, 'the application\'s public key (64 hex characters)').optional()
    .describe('The application\'s public key (developer portal → General Information), used to check the Ed25519 signature of every HTTP interaction. Required with INTERACTIONS_MODE=http.'),
  INTERACTIONS_PORT: int(0, 65535).default(8080).describe('Port of the HTTP interactions endpoint `POST /interactions` (INTERACTIONS_MODE=http); 0 picks a free one.'),
  INTERACTIONS_HOST: z.string().min(1).default('0.0.0.0').describe('Address the HTTP interactions endpoint listens on (INTERACTIONS_MODE=http); put TLS in front of it (a load balancer or reverse proxy).'),
  SHARD_COUNT: z.union([z.literal('auto'), int(1, 65_535)]).default('auto')
    .describe('Gateway shards this bot process runs (discord.js internal sharding; gateway mode only): `auto` takes Discord\'s recommendation from /gateway/bot; Discord requires sharding past 2,500 servers.'),
  USER_MAX_ACTIVE_JOBS: int(1, 100).default(1).describe('Try-ons one member may have waiting or running at once.'),
  USER_HOURLY_QUOTA: int(0).default(20).describe('Try-ons per member per hour (sliding window); admins can change it per server.'),
  GUILD_HOURLY_QUOTA: int(0).default(500).describe('Try-ons per server per hour (sliding window); admins can change it per server.'),
  GUILD_PRESET_LIMIT: int(1, 500).default(50).describe('Presets a server\'s moderators may add.'),
  ATTACHMENT_MAX_BYTES: int(1024).default(10 * 1024 * 1024).describe('Largest upload the bot accepts (also capped by the interaction\'s own limit).'),
  PROGRESS_EDIT_INTERVAL_MS: int(0).default(1_500).describe('At most one progress edit of a member\'s reply per this many ms.'),
  BULL_BOARD_TOKEN: z.string().min(16).optional().describe('Turns on Bull Board (queue dashboard) behind this token (16+ characters); unset: no dashboard.'),
  BULL_BOARD_PORT: int(0, 65535).default(3030).describe('Port of Bull Board on 127.0.0.1.'),
}).superRefine((bot, ctx) => {
  if (bot.INTERACTIONS_MODE === 'http' && !bot.DISCORD_PUBLIC_KEY) {
    ctx.addIssue({ code: 'custom', path: ['DISCORD_PUBLIC_KEY'], message: 'required when INTERACTIONS_MODE is http (developer portal → General Information → Public Key)' });
  }
});

/** The studio's port when `npm start` runs without DISCORD_TOKEN and STUDIO_PORT is unset (Streamlit's, as in the report). */
export const STUDIO_DEFAULT_PORT = 8501;

/** The web studio (upload/webcam page). */
const studioSchema = z
  .object({
    STUDIO_PORT: int(0, 65535).optional()
      .describe('Port of the studio. Without DISCORD_TOKEN, `npm start` serves the studio here (8501 when unset); with a token, only when this is set.'),
    STUDIO_HOST: z.string().min(1).default('127.0.0.1').describe('Address the studio binds to. Anything but loopback needs STUDIO_TOKEN.'),
    STUDIO_TOKEN: z.string().min(16).optional()
      .describe('Secret for a studio bound beyond loopback: open `/?token=<it>` once (HttpOnly cookie) or send `Authorization: Bearer`.'),
    STUDIO_PUBLIC_URL: z.string().url().optional()
      .describe('How workers on other hosts reach this studio (the one-time selfie URL and the result callback), e.g. https://studio.example.com; its host must be in those workers\' DOWNLOAD_ALLOWED_HOSTS. Default: the bound address.'),
    STUDIO_SELFIE_TTL_MS: int(5_000).default(10 * 60_000).describe('How long a worker has to fetch a selfie before its one-time URL expires.'),
    STUDIO_RESULT_TTL_MS: int(5_000).default(5 * 60_000).describe('How long a finished result waits to be fetched by the page (it is dropped once fetched).'),
    STUDIO_MAX_PENDING: int(1, 1000).default(20).describe('Try-ons the studio holds at once (photos waiting for a worker, results waiting for the page).'),
    STUDIO_RATE_LIMIT_PER_MIN: int(1).default(120).describe('Studio requests per minute and client IP.'),
    STUDIO_LOCAL_WORKER: bool.default(true).describe('With Redis and no DISCORD_TOKEN, `npm start` also runs a worker in the same process.'),
    STUDIO_WEB_DIR: z.string().min(1).default('web').describe('The studio page\'s files (index.html, studio.css, the compiled dist/).'),
  })
  .superRefine((studio, ctx) => {
    if (!isLoopbackHost(studio.STUDIO_HOST) && !studio.STUDIO_TOKEN) {
      ctx.addIssue({ code: 'custom', path: ['STUDIO_TOKEN'], message: `required when STUDIO_HOST (${studio.STUDIO_HOST}) is not loopback (at least 16 characters)` });
    }
  });

/** The configuration's sections, in the order docs/settings.md lists them. */
export const CONFIG_SECTIONS = {
  pipeline: pipelineSchema,
  redis: redisSchema,
  worker: workerSchema,
  discord: discordSchema,
  bot: botSchema,
  studio: studioSchema,
} as const;
export type ConfigSection = keyof typeof CONFIG_SECTIONS;
const sections = CONFIG_SECTIONS;

/**
 * Sections whose every setting has a default: validated in every process, so a bad value fails at start wherever
 * it is read. The others hold settings without a default and are validated only where a process names them in
 * `need`.
 */
const ALWAYS_VALIDATED = ['pipeline', 'redis', 'worker', 'bot', 'studio'] as const satisfies readonly ConfigSection[];
export type OnDemandSection = Exclude<ConfigSection, (typeof ALWAYS_VALIDATED)[number]>;

export type PipelineConfig = z.infer<typeof pipelineSchema>;
export type RedisConfig = z.infer<typeof redisSchema>;
export type WorkerConfig = z.infer<typeof workerSchema>;
export type DiscordConfig = z.infer<typeof discordSchema>;
export type BotConfig = z.infer<typeof botSchema>;
export type StudioConfig = z.infer<typeof studioSchema>;
/** The whole configuration: the on-demand sections are present only when a process named them in `need`. */
export type Config = PipelineConfig & RedisConfig & WorkerConfig & Partial<DiscordConfig> & BotConfig & StudioConfig;

export interface LoadConfigOptions {
  /** On-demand sections this process cannot run without, e.g. ['discord'] for the bot (the rest always validate). */
  need?: OnDemandSection[];
  /** Variables to read instead of process.env + .env (tests). */
  env?: Record<string, string | undefined>;
  /** The .env file to merge under process.env. */
  dotenvPath?: string;
}

function readEnvironment(options: LoadConfigOptions): Record<string, string | undefined> {
  if (options.env) return options.env;
  const path = options.dotenvPath ?? '.env';
  const fromFile = existsSync(path) ? parseDotenv(readFileSync(path)) : {};
  return { ...fromFile, ...process.env };
}

/** Whether a Discord bot token is configured: `npm start` runs the bot then, and the studio alone otherwise. */
export function hasDiscordToken(options: LoadConfigOptions = {}): boolean {
  return Boolean(readEnvironment(options)['DISCORD_TOKEN']);
}

/**
 * Reads and validates configuration once. Every missing or invalid setting is named in one CONFIG_INVALID error,
 * so an operator fixes them all in one go. Empty strings count as unset.
 */
export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
  const raw = Object.fromEntries(
    Object.entries(readEnvironment(options)).filter(([, v]) => v !== undefined && v !== ''),
  );
  const wanted = new Set<ConfigSection>([...ALWAYS_VALIDATED, ...(options.need ?? [])]);
  const problems: string[] = [];
  const merged: Record<string, unknown> = {};
  for (const name of wanted) {
    const result = sections[name].safeParse(raw);
    if (result.success) Object.assign(merged, result.data);
    else {
      for (const issue of result.error.issues) {
        const key = issue.path.join('.') || name;
        const given = raw[key] === undefined ? 'missing' : `got ${JSON.stringify(raw[key])}`;
        problems.push(`${key} (${given}): ${issue.message}`);
      }
    }
  }
  if (problems.length > 0) {
    throw new HairError('CONFIG_INVALID', { problems: problems.join('; ') }, {
      detail: `invalid configuration:\n  - ${problems.join('\n  - ')}`,
    });
  }
  return Object.freeze(merged) as Readonly<Config>;
}
