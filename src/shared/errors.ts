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
  JOB_NOT_FOUND: { retryable: false, userFacing: true },
  JOB_CANCELLED: { retryable: false, userFacing: true },
  JOB_TIMEOUT: { retryable: false, userFacing: false },
  // delivery and infrastructure
  DISCORD_UNAVAILABLE: { retryable: true, userFacing: false },
  /** A worker could not reach the studio that asked (its callback). */
  STUDIO_UNAVAILABLE: { retryable: true, userFacing: false },
  OUT_OF_MEMORY: { retryable: true, userFacing: false },
  MODEL_MISSING: { retryable: false, userFacing: false },
  MODEL_INVALID: { retryable: false, userFacing: false },
  EP_UNAVAILABLE: { retryable: false, userFacing: false },
  CONFIG_INVALID: { retryable: false, userFacing: false },
  INTERNAL: { retryable: false, userFacing: false },
} as const satisfies Record<string, { retryable: boolean; userFacing: boolean }>;

export type ErrorCode = keyof typeof ERROR_TABLE;
export const ERROR_CODES = Object.keys(ERROR_TABLE) as ErrorCode[];

/** Values that fill a message's placeholders. Never pixels, tokens or URLs with secrets. */
export type ErrorParams = Record<string, string | number | boolean | undefined>;

/** The one error type of the project: a stable code plus the values its message needs. */
export class HairError extends Error {
  override readonly name = 'HairError';
  readonly code: ErrorCode;
  readonly params: ErrorParams;

  constructor(code: ErrorCode, params: ErrorParams = {}, options?: { cause?: unknown; detail?: string }) {
    super(options?.detail ? `${code}: ${options.detail}` : code, options?.cause ? { cause: options.cause } : undefined);
    this.code = code;
    this.params = params;
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
