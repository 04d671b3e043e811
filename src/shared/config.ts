import { existsSync, readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { HairError } from './errors.js';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const num = (min: number, max: number) => z.coerce.number().min(min).max(max);
const list = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

export const EXECUTION_PROVIDERS = ['auto', 'cuda', 'webgpu', 'cpu'] as const;
export type ExecutionProviderChoice = (typeof EXECUTION_PROVIDERS)[number];
export const HAIRFAST_PRECISIONS = ['auto', 'fp32', 'fp16'] as const;
export type HairfastPrecisionChoice = (typeof HAIRFAST_PRECISIONS)[number];
/** The graph variants a worker actually loads. */
export type HairfastPrecision = Exclude<HairfastPrecisionChoice, 'auto'>;

/** Everything the pipeline (CLI, worker) needs. Defaults are the production defaults. */
const pipelineSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MODELS_DIR: z.string().min(1).default('models'),
  STYLES_DIR: z.string().min(1).default('styles'),
  /** Where preset caches live (binary, keyed by preset id + models hash). */
  PRESET_CACHE_DIR: z.string().min(1).default('styles/cache'),
  HAIR_EP: z.enum(EXECUTION_PROVIDERS).default('auto'),
  /** HairFastGAN graph variants: fp16 on a GPU when exported (auto), or forced. */
  HAIR_PRECISION: z.enum(HAIRFAST_PRECISIONS).default('auto'),
  /** CPU threads per session; 0 lets onnxruntime decide. */
  ORT_INTRA_OP_THREADS: int(0, 256).default(0),
  /** Upload limits: bytes of the file, decoded pixels, shortest side. */
  MAX_IMAGE_BYTES: int(1024).default(10 * 1024 * 1024),
  MAX_IMAGE_PIXELS: int(64 * 64).default(40_000_000),
  MIN_IMAGE_SIDE: int(16).default(128),
  /** Face front-end. */
  FACE_MIN_SCORE: num(0.05, 0.99).default(0.5),
  FACE_MIN_SIZE_PX: int(8).default(64),
  /** With several faces, one must be this many times larger (by area) than the next to be chosen. 0 = refuse always. */
  FACE_DOMINANCE_RATIO: num(0, 100).default(2.5),
  FACE_MAX_YAW_DEG: num(5, 90).default(45),
  ALIGN_OUTPUT_SIZE: int(64, 4096).default(1024),
});

const redisSchema = z.object({
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** Key prefix for every queue; tests use a random one. */
  QUEUE_PREFIX: z.string().min(1).default('hairstyler'),
});

const workerSchema = z.object({
  WORKER_CONCURRENCY: int(1, 64).default(1),
  WORKER_ID: z.string().min(1).optional(),
  /** Hosts the selfie may be downloaded from (exact names or `*.suffix`). */
  DOWNLOAD_ALLOWED_HOSTS: list.default(['cdn.discordapp.com', 'media.discordapp.net']),
  DOWNLOAD_CONNECT_TIMEOUT_MS: int(100).default(5_000),
  DOWNLOAD_READ_TIMEOUT_MS: int(100).default(15_000),
  JOB_TIMEOUT_MS: int(1_000).default(120_000),
  SHUTDOWN_TIMEOUT_MS: int(0).default(60_000),
  /** A job's lock lives this long without renewal; a dead worker's job is taken over after it (+ a stalled check). */
  WORKER_LOCK_DURATION_MS: int(1_000).default(30_000),
  /** How often each worker looks for jobs whose lock expired (stalled) and puts them back in the queue. */
  WORKER_STALLED_INTERVAL_MS: int(500).default(15_000),
  METRICS_PORT: int(0, 65535).default(9464),
  METRICS_HOST: z.string().default('127.0.0.1'),
  /** Bytes the result image may take in a Discord upload. */
  RESULT_MAX_BYTES: int(64 * 1024).default(8 * 1024 * 1024),
});

const discordSchema = z.object({
  DISCORD_TOKEN: z.string().min(1, 'the bot token from the Discord developer portal'),
  DISCORD_APPLICATION_ID: z.string().regex(/^\d{5,25}$/, 'the application id (a snowflake)'),
  /** REST base for Discord (tests point it at the local fake). */
  DISCORD_API_URL: z.string().url().default('https://discord.com/api'),
  DISCORD_CDN_URL: z.string().url().default('https://cdn.discordapp.com'),
});

const botSchema = z.object({
  USER_MAX_ACTIVE_JOBS: int(1, 100).default(1),
  USER_HOURLY_QUOTA: int(0).default(20),
  GUILD_HOURLY_QUOTA: int(0).default(500),
  GUILD_PRESET_LIMIT: int(1, 500).default(50),
  ATTACHMENT_MAX_BYTES: int(1024).default(10 * 1024 * 1024),
  PROGRESS_EDIT_INTERVAL_MS: int(0).default(1_500),
  BULL_BOARD_TOKEN: z.string().min(16).optional(),
  BULL_BOARD_PORT: int(0, 65535).default(3030),
});

const sections = {
  pipeline: pipelineSchema,
  redis: redisSchema,
  worker: workerSchema,
  discord: discordSchema,
  bot: botSchema,
} as const;
export type ConfigSection = keyof typeof sections;

/**
 * Sections whose every setting has a default: validated in every process, so a bad value fails at start wherever
 * it is read. The others hold settings without a default and are validated only where a process names them in
 * `need`.
 */
const ALWAYS_VALIDATED = ['pipeline', 'redis', 'worker', 'bot'] as const satisfies readonly ConfigSection[];
export type OnDemandSection = Exclude<ConfigSection, (typeof ALWAYS_VALIDATED)[number]>;

export type PipelineConfig = z.infer<typeof pipelineSchema>;
export type RedisConfig = z.infer<typeof redisSchema>;
export type WorkerConfig = z.infer<typeof workerSchema>;
export type DiscordConfig = z.infer<typeof discordSchema>;
export type BotConfig = z.infer<typeof botSchema>;
/** The whole configuration: the on-demand sections are present only when a process named them in `need`. */
export type Config = PipelineConfig & RedisConfig & WorkerConfig & Partial<DiscordConfig> & BotConfig;

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
