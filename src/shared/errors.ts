import type { en } from './i18n/en.js';

/**
 * Stable error codes. They are logged, tested and shown to users; never rename one.
 * `retryable`: a transient failure the worker may retry. `userFacing`: the user caused it and can fix it.
 */
export const ERROR_TABLE = {
  // intake
  UNSUPPORTED_FORMAT: { retryable: false, userFacing: true },
  BAD_IMAGE: { retryable: false, userFacing: true },
  IMAGE_TOO_LARGE: { retryable: false, userFacing: true },
  IMAGE_TOO_SMALL: { retryable: false, userFacing: true },
  // face front-end
  NO_FACE: { retryable: false, userFacing: true },
  MULTIPLE_FACES: { retryable: false, userFacing: true },
  FACE_TOO_SMALL: { retryable: false, userFacing: true },
  FACE_TURNED_AWAY: { retryable: false, userFacing: true },
  // selfie download
  DOWNLOAD_HOST_NOT_ALLOWED: { retryable: false, userFacing: true },
  DOWNLOAD_TOO_LARGE: { retryable: false, userFacing: true },
  DOWNLOAD_TIMEOUT: { retryable: true, userFacing: false },
  DOWNLOAD_FAILED: { retryable: true, userFacing: false },
  // presets
  PRESET_NOT_FOUND: { retryable: false, userFacing: true },
  PRESET_NAME_INVALID: { retryable: false, userFacing: true },
  PRESET_EXISTS: { retryable: false, userFacing: true },
  PRESET_LIMIT_REACHED: { retryable: false, userFacing: true },
  PRESET_KIND_MISMATCH: { retryable: false, userFacing: true },
  // requests and limits
  NEED_SHAPE_OR_COLOR: { retryable: false, userFacing: true },
  QUOTA_EXCEEDED: { retryable: false, userFacing: true },
  GUILD_QUOTA_EXCEEDED: { retryable: false, userFacing: true },
  TOO_MANY_JOBS: { retryable: false, userFacing: true },
  USER_BLOCKED: { retryable: false, userFacing: true },
  QUEUE_PAUSED: { retryable: false, userFacing: true },
  /** Too many requests from one address in a minute (the studio's per-IP limit). */
  RATE_LIMITED: { retryable: false, userFacing: true },
  NOT_OWNER: { retryable: false, userFacing: true },
  NOT_MODERATOR: { retryable: false, userFacing: true },
  NOT_ADMIN: { retryable: false, userFacing: true },
  JOB_NOT_FOUND: { retryable: false, userFacing: true },
  JOB_CANCELLED: { retryable: false, userFacing: true },
  JOB_TIMEOUT: { retryable: false, userFacing: false },
  // delivery and infrastructure
  DISCORD_UNAVAILABLE: { retryable: true, userFacing: false },
  REDIS_UNAVAILABLE: { retryable: true, userFacing: false },
  /** A worker could not reach the studio that asked (its callback). */
  STUDIO_UNAVAILABLE: { retryable: true, userFacing: false },
  OUT_OF_MEMORY: { retryable: true, userFacing: false },
  MODEL_MISSING: { retryable: false, userFacing: false },
  MODEL_INVALID: { retryable: false, userFacing: false },
  EP_UNAVAILABLE: { retryable: false, userFacing: false },
  CONFIG_INVALID: { retryable: false, userFacing: false },
  // `hairstyler models import` (operator-facing: exit 2). The CHECKPOINT_*, CLIP_*, SRC_INVALID, CONTRACT_MISMATCH and
  // EXPORT_FAILED codes are the exporter's (tools/hairfast-export/hairfast_export/errors.py), passed through.
  IMPORT_TREE_INCOMPLETE: { retryable: false, userFacing: true },
  IMPORT_INTERRUPTED: { retryable: false, userFacing: true },
  IMPORT_INSTALL_FAILED: { retryable: false, userFacing: true },
  CHECKPOINT_MISSING: { retryable: false, userFacing: true },
  CHECKPOINT_UNREADABLE: { retryable: false, userFacing: true },
  CHECKPOINT_UNSAFE: { retryable: false, userFacing: true },
  CHECKPOINT_KEYS: { retryable: false, userFacing: true },
  CHECKPOINT_SHAPES: { retryable: false, userFacing: true },
  CLIP_MISSING: { retryable: false, userFacing: true },
  CLIP_UNSUPPORTED: { retryable: false, userFacing: true },
  SRC_INVALID: { retryable: false, userFacing: true },
  CONTRACT_MISMATCH: { retryable: false, userFacing: true },
  EXPORT_FAILED: { retryable: false, userFacing: true },
  // `hairstyler models download` (the operator is the user: exit 2 with the fix)
  MODEL_DOWNLOAD_NOT_FOUND: { retryable: false, userFacing: true },
  MODEL_DOWNLOAD_MISMATCH: { retryable: false, userFacing: true },
  MODEL_DOWNLOAD_FAILED: { retryable: false, userFacing: true },
  INTERNAL: { retryable: false, userFacing: false },
} as const satisfies Record<string, { retryable: boolean; userFacing: boolean }>;

export type ErrorCode = keyof typeof ERROR_TABLE;
export const ERROR_CODES = Object.keys(ERROR_TABLE) as ErrorCode[];

/** A value a message or a log line may carry. Never pixels, tokens or URLs with secrets. */
export type ErrorParamValue = string | number | boolean;
/** Params as read back (from a job's failedReason, a HairError of any code): loose on purpose. */
export type ErrorParams = Record<string, ErrorParamValue | undefined>;

/** `{a} and {b}` → 'a' | 'b'. */
type Placeholders<Template extends string> = Template extends `${string}{${infer Name}}${infer Rest}` ? Name | Placeholders<Rest> : never;
/** Placeholders the edge fills itself (the bot and the worker add the job id). */
type EdgeParam = 'jobId';
/**
 * Values throw sites may add for logs and for logic, never shown unless a template names them. A name that is
 * neither a placeholder of the code's message nor one of these does not compile.
 */
interface ErrorContext {
  name?: string;
  model?: string;
  file?: string;
  package?: string;
  ep?: string;
  stage?: string;
  role?: string;
  reason?: string;
  format?: string;
  contentType?: string;
  host?: string;
  status?: number;
  size?: number;
  min?: number;
  tensor?: string;
  kind?: string;
  preset?: string;
  problems?: string;
  limit?: ErrorParamValue;
  jobId?: string;
}
/** A template's placeholders; for a plural message, those of every form plus the count it is chosen by. */
type MessageParams<M> = M extends string
  ? Placeholders<M>
  : M extends { count: infer Count extends string }
    ? Count | Placeholders<Extract<M[Exclude<keyof M, 'count'>], string>>
    : never;
type MessagePlaceholders<C extends ErrorCode> = MessageParams<(typeof en.errors)[C]>;

/**
 * What `new HairError(code, params)` takes for one code: every placeholder of its English message (ko.ts uses the
 * same ones; tests/shared/errors.test.ts checks), plus optional context. Typed from the message templates, so a
 * misspelt or missing placeholder is a compile error at the throw site.
 */
export type ErrorParamsOf<C extends ErrorCode> = C extends ErrorCode
  ? { [K in Exclude<MessagePlaceholders<C>, EdgeParam>]: ErrorParamValue } & ErrorContext
  : never;

export interface HairErrorOptions {
  cause?: unknown;
  /** Operator-facing detail for logs (never shown to users). */
  detail?: string;
}

type HairErrorArgs<C extends ErrorCode> = {} extends ErrorParamsOf<C>
  ? [params?: ErrorParamsOf<C>, options?: HairErrorOptions]
  : [params: ErrorParamsOf<C>, options?: HairErrorOptions];

/** The one error type of the project: a stable code plus the values its message needs. */
export class HairError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name = 'HairError';
  readonly code: C;
  readonly params: Readonly<ErrorParams>;

  constructor(code: C, ...[params, options]: HairErrorArgs<C>) {
    super(options?.detail ? `${code}: ${options.detail}` : code, options?.cause ? { cause: options.cause } : undefined);
    this.code = code;
    this.params = { ...params };
  }

  /** The operator-facing detail it was made with (`options.detail`), if any. */
  get detail(): string | undefined {
    const prefix = `${this.code}: `;
    return this.message.startsWith(prefix) ? this.message.slice(prefix.length) : undefined;
  }

  /** The same error with more context (a stage adding its role, say); the original becomes the cause. */
  withParams(extra: ErrorContext): HairError<C> {
    const { detail } = this;
    const make = HairError as new (code: C, params: ErrorParams, options: HairErrorOptions) => HairError<C>;
    return new make(this.code, { ...this.params, ...extra }, { cause: this, ...(detail ? { detail } : {}) });
  }

  /** A HairError of a code known only at run time (a verification result, a caller's choice) with context params. */
  static of(code: ErrorCode, context: ErrorContext, options?: HairErrorOptions): HairError {
    return new (HairError as new (code: ErrorCode, params: ErrorParams, options?: HairErrorOptions) => HairError)(code, { ...context }, options);
  }

  get retryable(): boolean {
    return ERROR_TABLE[this.code].retryable;
  }

  get userFacing(): boolean {
    return ERROR_TABLE[this.code].userFacing;
  }
}

export function isHairError(value: unknown): value is HairError {
  return value instanceof HairError;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_TABLE, value);
}

/** Anything thrown becomes a HairError; unknown failures are INTERNAL with the original as cause. */
export function toHairError(value: unknown): HairError {
  if (value instanceof HairError) return value;
  return new HairError('INTERNAL', {}, { cause: value, detail: value instanceof Error ? value.message : String(value) });
}
