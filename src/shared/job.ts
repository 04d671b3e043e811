import { z } from 'zod';
import { ERROR_CODES, type ErrorCode, type ErrorParams, isErrorCode } from './errors.js';
import { PRESET_ID, presetKindSchema } from './presets.js';
import { jsonString } from './json-string.js';
import { licenseNoticeSchema } from './model-licenses.js';

/**
 * The queue contract between the bot (producer) and the worker (consumer). Both sides validate with these schemas:
 * the bot on enqueue, the worker on pick-up. Selfie bytes never go into Redis: a job carries the attachment URL and
 * the worker downloads it into memory.
 */

/** BullMQ queue names (BullMQ forbids ':' in them). Keys live under `<QUEUE_PREFIX>:<queue>:…`. */
export const QUEUE_NAMES = Object.freeze({
  tryOn: 'hair-try-on',
  presetBuild: 'hair-preset-build',
});
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

/** BullMQ job names inside those queues. */
export const JOB_NAMES = Object.freeze({ tryOn: 'try-on', presetBuild: 'preset-build' });

/** Version of the job data shape; bump when a field changes meaning. */
export const JOB_DATA_VERSION = 1;

/** An interaction token is valid for 15 minutes after the interaction was created. */
export const INTERACTION_TOKEN_TTL_MS = 15 * 60 * 1000;
export const DEFAULT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024;

export const snowflake = z.string().regex(/^\d{5,25}$/, 'a Discord snowflake');
/**
 * Job ids are chosen by the bot: `tryOnJobId(interaction.id)` deduplicates double submissions. BullMQ refuses
 * custom ids that read as integers, so a bare snowflake is not a valid id (some of them happen to pass).
 */
export const jobIdSchema = z
  .string()
  .regex(/^(?!\d+$)[A-Za-z0-9_-]{1,48}$/, 'a job id: 1–48 of A-Z a-z 0-9 _ -, not all digits');

/** The job id of the try-on an interaction asked for. */
export function tryOnJobId(interactionId: string): string {
  return `i${snowflake.parse(interactionId)}`;
}
/** `builtin:<slug>` or `guild:<guildId>:<slug>`; one definition, in presets.ts. */
export const presetIdSchema = z.string().regex(PRESET_ID, 'a preset id: builtin:<slug> or guild:<id>:<slug>');
export const localeSchema = z.enum(['en', 'ko']);

/** A Discord attachment as the bot saw it. `maxBytes` is the interaction's attachment size limit. */
export const attachmentRefSchema = z.object({
  url: z.string().url().max(2048),
  /** Size Discord reported; the worker still enforces maxBytes while streaming. */
  size: z.number().int().min(0),
  contentType: z.string().max(255).optional(),
  name: z.string().max(1024).optional(),
  maxBytes: z.number().int().min(1).default(DEFAULT_ATTACHMENT_MAX_BYTES),
});
export type AttachmentRef = z.infer<typeof attachmentRefSchema>;
export type AttachmentRefInput = z.input<typeof attachmentRefSchema>;

/**
 * Where the answer goes: the deferred interaction reply, or (token expired) the channel with a mention. The
 * interaction token itself is not job data: it sits in `redisKeys().replyToken(jobId)`, which expires with the token
 * and is deleted once the answer is delivered, so finished jobs (kept for Bull Board and stats) hold no token.
 */
export const replyTargetSchema = z.object({
  applicationId: snowflake,
  /** Epoch ms when the interaction was created; the token dies INTERACTION_TOKEN_TTL_MS later. */
  interactionAt: z.number().int().min(0),
  /** The deferred reply's message: edited or deleted with the bot token once the interaction token is gone. */
  messageId: snowflake.optional(),
});
export type ReplyTarget = z.infer<typeof replyTargetSchema>;

/** How long a reply token key lives: what is left of the token's 15 minutes (at least 1 s). */
export function replyTokenTtlMs(interactionAt: number, now = Date.now()): number {
  return Math.max(1_000, interactionAt + INTERACTION_TOKEN_TTL_MS - now);
}

/** Display names the bot resolved for the user's language (built-in or moderator presets), for the result. */
export const presetLabelsSchema = z.object({
  shape: z.string().min(1).max(100).optional(),
  color: z.string().min(1).max(100).optional(),
});

/**
 * A studio's answer address: the worker POSTs the result (or the error) to `callbackUrl` with
 * `authorization: Bearer <callbackToken>`. The token is random per job and the studio accepts it once, so what
 * stays behind in Redis after the job opens nothing. The URL must pass the worker's DOWNLOAD_ALLOWED_HOSTS.
 */
export const studioReplyTargetSchema = z.object({
  callbackUrl: z.string().url().max(2048),
  callbackToken: z.string().regex(/^[A-Za-z0-9_-]{32,128}$/, 'a random callback token (32–128 of A-Z a-z 0-9 _ -)'),
});
export type StudioReplyTarget = z.infer<typeof studioReplyTargetSchema>;

/**
 * `paste-back`: the result is the user's whole photo with new hair (the default).
 * `aligned`: the 1024² aligned face as HairFastGAN produced it.
 */
export const tryOnModeSchema = z.enum(['paste-back', 'aligned']);
export type TryOnMode = z.infer<typeof tryOnModeSchema>;

/** How the user started it; only shown in logs and stats. */
export const tryOnOriginSchema = z.enum(['command', 'context-menu', 'retry', 'recolor', 'studio', 'studio-recolor']);

/** What every try-on carries, whoever asked for it. */
const tryOnCommon = {
  v: z.literal(JOB_DATA_VERSION).default(JOB_DATA_VERSION),
  locale: localeSchema,
  selfie: attachmentRefSchema,
  shapePresetId: presetIdSchema.optional(),
  colorPresetId: presetIdSchema.optional(),
  /** The presets' display names in the member's language (the result shows them rather than slugs). */
  labels: presetLabelsSchema.default({}),
  mode: tryOnModeSchema.default('paste-back'),
  origin: tryOnOriginSchema.default('command'),
  /** Epoch ms when the producer enqueued it; end-to-end latency is measured from here. */
  requestedAt: z.number().int().min(0),
};

/** A member's try-on from Discord (`via` is optional: jobs from before the studio have none). */
export const discordTryOnJobSchema = z.object({
  via: z.literal('discord').default('discord'),
  guildId: snowflake,
  channelId: snowflake,
  userId: snowflake,
  reply: replyTargetSchema,
  ...tryOnCommon,
});
export type DiscordTryOnJobData = z.infer<typeof discordTryOnJobSchema>;

/**
 * A try-on from the web studio. `selfie.url` is the studio's one-time, expiring URL for the photo it holds in
 * memory; `guildId` is set when the studio was opened with a server's presets.
 */
export const studioTryOnJobSchema = z.object({
  via: z.literal('studio'),
  guildId: snowflake.optional(),
  reply: studioReplyTargetSchema,
  ...tryOnCommon,
});
export type StudioTryOnJobData = z.infer<typeof studioTryOnJobSchema>;

export const tryOnJobSchema = z
  .union([studioTryOnJobSchema, discordTryOnJobSchema])
  .refine((job) => job.shapePresetId !== undefined || job.colorPresetId !== undefined, {
    message: 'a try-on needs shapePresetId, colorPresetId or both',
    path: ['shapePresetId'],
  });
export type TryOnJobData = z.infer<typeof tryOnJobSchema>;
/** What a producer passes to parseTryOnJob before enqueueing (defaults not yet applied). */
export type TryOnJobInput = z.input<typeof tryOnJobSchema>;
export type DiscordTryOnJobInput = z.input<typeof discordTryOnJobSchema>;

export const presetBuildJobSchema = z.object({
  v: z.literal(JOB_DATA_VERSION).default(JOB_DATA_VERSION),
  guildId: snowflake,
  presetId: presetIdSchema,
  name: z.string().min(1).max(32),
  kind: presetKindSchema,
  image: attachmentRefSchema,
  moderatorId: snowflake,
  locale: localeSchema.default('en'),
  requestedAt: z.number().int().min(0),
});
export type PresetBuildJobData = z.infer<typeof presetBuildJobSchema>;
export type PresetBuildJobInput = z.input<typeof presetBuildJobSchema>;

/** Stages in the order a try-on goes through them ('pasting' is folded into 'transferring'). */
export const JOB_STAGES = ['queued', 'downloading', 'detecting', 'aligning', 'transferring', 'uploading'] as const;
export type JobStage = (typeof JOB_STAGES)[number];

/** `job.updateProgress(payload)`; the bot reads it from QueueEvents 'progress' to edit the reply (throttled). */
export const jobProgressSchema = z.object({
  stage: z.enum(JOB_STAGES),
  /** Epoch ms when the stage started. */
  at: z.number().int().min(0),
  attempt: z.number().int().min(1).default(1),
  workerId: z.string().optional(),
});
export type JobProgress = z.infer<typeof jobProgressSchema>;

export const tryOnResultSchema = z.object({
  jobId: jobIdSchema,
  /** Where the result went: the interaction reply, a channel message after the token expired, or a studio. */
  deliveredVia: z.enum(['interaction', 'channel', 'studio']),
  messageId: z.string().optional(),
  format: z.enum(['jpeg', 'webp', 'png']),
  bytes: z.number().int().min(0),
  width: z.number().int().min(1),
  height: z.number().int().min(1),
  /** ms per stage (downloading, detecting, aligning, transferring, uploading, pipeline total, queued, total). */
  timings: z.record(z.string(), z.number()),
  modelKind: z.string(),
  executionProvider: z.string(),
  workerId: z.string(),
  finishedAt: z.number().int().min(0),
});
export type TryOnResultPayload = z.infer<typeof tryOnResultSchema>;

export const presetBuildResultSchema = z.object({
  presetId: presetIdSchema,
  kind: presetKindSchema,
  /** Small JPEG of the aligned preset face (not a selfie: a moderator's preset image), base64. */
  thumbnailBase64: z.string(),
  cacheBytes: z.number().int().min(0),
  modelKind: z.string(),
  workerId: z.string(),
  finishedAt: z.number().int().min(0),
});
export type PresetBuildResultPayload = z.infer<typeof presetBuildResultSchema>;

/**
 * How a worker answers a studio: `POST reply.callbackUrl` with `authorization: Bearer <reply.callbackToken>`.
 * A result is the image itself (`content-type: image/<format>`) with its description as JSON in the
 * STUDIO_RESULT_HEADER header; a failure is `application/json` matching studioErrorCallbackSchema.
 */
export const STUDIO_RESULT_HEADER = 'x-hairstyler-result';
export const studioResultMetaSchema = z.object({
  jobId: jobIdSchema,
  format: z.enum(['jpeg', 'webp', 'png']),
  width: z.number().int().min(1),
  height: z.number().int().min(1),
  /** ms: total (request → delivery), queued, pipeline. */
  totalMs: z.number().min(0),
  queuedMs: z.number().min(0),
  pipelineMs: z.number().min(0),
});
export type StudioResultMeta = z.infer<typeof studioResultMetaSchema>;

/** A job failure as the bot reads it from `job.failedReason` (see formatJobFailure / parseJobFailure). */
export const jobErrorSchema = z.object({
  code: z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  retryable: z.boolean(),
});
export type JobErrorPayload = z.infer<typeof jobErrorSchema>;

/** The body of a studio callback that reports a failure. */
export const studioErrorCallbackSchema = z.object({ jobId: jobIdSchema, error: jobErrorSchema });
export type StudioErrorCallback = z.infer<typeof studioErrorCallbackSchema>;

const FAILURE_MARK = 'HAIR_ERROR ';

/** The text the worker puts in the error it throws, so `failedReason` carries the code and params. */
export function formatJobFailure(code: ErrorCode, params: ErrorParams = {}, retryable = false): string {
  const clean = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
  return FAILURE_MARK + JSON.stringify({ code, params: clean, retryable });
}

/** Any failedReason → a typed payload; reasons the worker did not write (stalled, crashed…) read as INTERNAL. */
export function parseJobFailure(reason: string | undefined | null): JobErrorPayload {
  if (reason?.startsWith(FAILURE_MARK)) {
    try {
      const parsed = jobErrorSchema.safeParse(JSON.parse(reason.slice(FAILURE_MARK.length)));
      if (parsed.success) return parsed.data;
    } catch {
      // fall through
    }
  }
  if (reason && isErrorCode(reason)) return { code: reason, params: {}, retryable: false };
  return { code: 'INTERNAL', params: {}, retryable: false };
}

/**
 * What a job keeps once it is finished (also what `/hair privacy` tells members, from these numbers):
 * - the interaction token is never job data (replyToken key, ≤ 15 min, deleted on delivery);
 * - a completed try-on keeps the selfie's attachment URL for `tryOnCompleted` seconds, so the result's Retry /
 *   Another color / Another shape buttons can run it again; after that the whole job is removed;
 * - a failed try-on has no buttons: its URL is removed at once (withoutAttachmentUrl) and the rest (ids, presets,
 *   error code) is kept `tryOnFailed` seconds for stats and Bull Board;
 * - a preset build's image URL is removed when the build ends (the worker keeps the image as the preset's source).
 */
export const JOB_RETENTION_S = Object.freeze({
  tryOnCompleted: 60 * 60,
  tryOnFailed: 24 * 60 * 60,
  presetBuildCompleted: 24 * 60 * 60,
  presetBuildFailed: 7 * 24 * 60 * 60,
});

/**
 * Enqueue options the bot uses (attempts/backoff for transient failures, retention by age and count). The worker
 * turns user errors into UnrecoverableError, so only transient failures use the attempts.
 */
export const DEFAULT_JOB_OPTIONS = Object.freeze({
  tryOn: {
    attempts: 3,
    backoff: { type: 'exponential' as const, delay: 2_000 },
    removeOnComplete: { age: JOB_RETENTION_S.tryOnCompleted, count: 1_000 },
    removeOnFail: { age: JOB_RETENTION_S.tryOnFailed, count: 5_000 },
  },
  presetBuild: {
    attempts: 3,
    backoff: { type: 'exponential' as const, delay: 2_000 },
    removeOnComplete: { age: JOB_RETENTION_S.presetBuildCompleted, count: 1_000 },
    removeOnFail: { age: JOB_RETENTION_S.presetBuildFailed, count: 1_000 },
  },
});

/** A finished job's data without the signed attachment URL (selfie or preset image); everything else stays. */
export function withoutAttachmentUrl<T extends { selfie?: object; image?: object }>(data: T): T {
  const strip = (ref: object | undefined) => (ref ? Object.fromEntries(Object.entries(ref).filter(([key]) => key !== 'url')) : ref);
  return { ...data, ...(data.selfie ? { selfie: strip(data.selfie) } : {}), ...(data.image ? { image: strip(data.image) } : {}) };
}

/** Parse + apply defaults; throws a ZodError naming every bad field. */
export function parseTryOnJob(data: unknown): TryOnJobData {
  return tryOnJobSchema.parse(data);
}

export function parsePresetBuildJob(data: unknown): PresetBuildJobData {
  return presetBuildJobSchema.parse(data);
}

// ---------------------------------------------------------------------------------------------------------------
// Result buttons: `hair:<action>:<jobId>:<ownerId>`. The bot routes by prefix, checks the owner, and needs no memory.

export const CUSTOM_ID_PREFIX = 'hair';
export const BUTTON_ACTIONS = ['retry', 'recolor', 'reshape', 'delete', 'cancel'] as const;
export type ButtonAction = (typeof BUTTON_ACTIONS)[number];
export const CUSTOM_ID_MAX_LENGTH = 100;

export interface ButtonCustomId {
  action: ButtonAction;
  jobId: string;
  ownerId: string;
}

export function buildCustomId({ action, jobId, ownerId }: ButtonCustomId): string {
  jobIdSchema.parse(jobId);
  snowflake.parse(ownerId);
  const id = `${CUSTOM_ID_PREFIX}:${action}:${jobId}:${ownerId}`;
  if (id.length > CUSTOM_ID_MAX_LENGTH) throw new RangeError(`customId longer than ${CUSTOM_ID_MAX_LENGTH}: ${id.length}`);
  return id;
}

/** null for anything that is not one of our button ids (other bots' or malformed ids never throw). */
export function parseCustomId(customId: string): ButtonCustomId | null {
  if (customId.length > CUSTOM_ID_MAX_LENGTH) return null;
  const parts = customId.split(':');
  if (parts.length !== 4 || parts[0] !== CUSTOM_ID_PREFIX) return null;
  const [, action, jobId, ownerId] = parts as [string, string, string, string];
  if (!(BUTTON_ACTIONS as readonly string[]).includes(action)) return null;
  if (!jobIdSchema.safeParse(jobId).success || !snowflake.safeParse(ownerId).success) return null;
  return { action: action as ButtonAction, jobId, ownerId };
}

// ---------------------------------------------------------------------------------------------------------------
// Redis keys outside BullMQ's own, all under QUEUE_PREFIX. Key names live only here.

/** Seconds a worker's registry entry lives without a heartbeat; workers beat every third of it. */
export const WORKER_HEARTBEAT_TTL_S = 30;
/** Cancellation flags live this long (longer than any job). */
export const CANCEL_TTL_S = 60 * 60;

export function redisKeys(prefix: string) {
  return Object.freeze({
    /** Sorted set of worker ids, score = last heartbeat (epoch ms). Entries older than the TTL are dead. */
    workers: `${prefix}:workers`,
    /** Hash: WorkerRegistration fields, expires WORKER_HEARTBEAT_TTL_S after the last heartbeat. */
    worker: (workerId: string) => `${prefix}:worker:${workerId}`,
    /** A try-on's interaction token (string), PX = what is left of its 15 minutes; deleted once the answer is delivered. */
    replyToken: (jobId: string) => `${prefix}:reply-token:${jobId}`,
    /**
     * A try-on's delivery record: `claimed:<lock token>` while a worker is posting the answer, then `done:<via>:<id>`.
     * A job run again after its lock was lost (a Redis outage, a stall) finds it and does not post twice.
     */
    delivery: (jobId: string) => `${prefix}:delivery:${jobId}`,
    /** BullMQ's lock of a job (`<prefix>:<queue>:<jobId>:lock`): the delivery claim checks the worker still holds it. */
    jobLock: (queue: QueueName, jobId: string) => `${prefix}:${queue}:${jobId}:lock`,
    /** `SET <key> <userId> EX CANCEL_TTL_S` then `PUBLISH cancelChannel <jobId>`: the worker aborts that job. */
    cancel: (jobId: string) => `${prefix}:cancel:${jobId}`,
    cancelChannel: `${prefix}:cancel`,
    /** Binary preset cache entries for moderators' presets (shared by every worker host); the engine names them. */
    presetCache: (cacheKey: string) => `${prefix}:preset-cache:${cacheKey}`,
    /**
     * Hash {kind, image}: a moderator's preset photo, kept so its cache can be rebuilt when the models change (the
     * Discord attachment URL expires). Removing a preset deletes this key and `presetCache('*:<presetId>')` keys.
     */
    presetSource: (presetId: string) => `${prefix}:preset-source:${presetId}`,
  });
}
export type RedisKeys = ReturnType<typeof redisKeys>;

/** What a worker writes into its registry hash (all strings in Redis; parse with this). */
export const workerRegistrationSchema = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.coerce.number().int(),
  executionProvider: z.string(),
  gpu: z.string().default(''),
  modelKind: z.string(),
  /** Which variants of the HairFastGAN graphs the worker loaded (HAIR_PRECISION). */
  precision: z.string().default('fp32'),
  loadMs: z.coerce.number(),
  concurrency: z.coerce.number().int(),
  startedAt: z.coerce.number().int(),
  heartbeatAt: z.coerce.number().int(),
  jobsDone: z.coerce.number().int().default(0),
  jobsFailed: z.coerce.number().int().default(0),
  /** Restricted upstream licenses of its graphs (JSON of LicenseNotice[] in the hash; garbled or absent = none known). */
  licenses: z.string().default('[]').pipe(jsonString(z.array(licenseNoticeSchema))).catch([]),
});
export type WorkerRegistration = z.infer<typeof workerRegistrationSchema>;
