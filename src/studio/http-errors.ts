import { ERROR_TABLE, HairError, toHairError, type ErrorCode, type ErrorParams } from '../shared/errors.js';
import { errorMessage, type Locale } from '../shared/i18n/index.js';

/** What the page receives for a refusal: the stable code, its params and the message in the page's language. */
export interface ErrorBody {
  error: { code: ErrorCode; params: Record<string, string | number | boolean>; message: string };
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  IMAGE_TOO_LARGE: 413,
  DOWNLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  TOO_MANY_JOBS: 429,
  QUEUE_PAUSED: 503,
  OUT_OF_MEMORY: 503,
  STUDIO_UNAVAILABLE: 503,
  JOB_NOT_FOUND: 404,
  PRESET_NOT_FOUND: 404,
};

/** Multipart's own limits, mapped to the codes the bot uses for the same refusal. */
const MULTIPART: Record<string, ErrorCode> = {
  FST_REQ_FILE_TOO_LARGE: 'IMAGE_TOO_LARGE',
  FST_FILES_LIMIT: 'BAD_IMAGE',
  FST_PARTS_LIMIT: 'BAD_IMAGE',
  FST_FIELDS_LIMIT: 'BAD_IMAGE',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'BAD_IMAGE',
  FST_PROTO_VIOLATION: 'BAD_IMAGE',
  FST_ERR_CTP_BODY_TOO_LARGE: 'IMAGE_TOO_LARGE',
};

export function toStudioError(error: unknown, uploadLimit: string): HairError {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && MULTIPART[code]) {
    const mapped = MULTIPART[code]!;
    return new HairError(mapped, mapped === 'IMAGE_TOO_LARGE' ? { limit: uploadLimit } : { reason: code }, { cause: error });
  }
  return toHairError(error);
}

export function errorStatus(error: HairError): number {
  return STATUS[error.code] ?? (ERROR_TABLE[error.code].userFacing ? 422 : 500);
}

/** User errors keep their code; setup and unknown failures read as INTERNAL with a reference. */
export function errorBody(error: HairError, locale: Locale, reference: string): ErrorBody {
  const shown = error.userFacing || error.retryable ? error : new HairError('INTERNAL', { jobId: reference });
  const params = Object.fromEntries(Object.entries(shown.params as ErrorParams).filter((e): e is [string, string | number | boolean] => e[1] !== undefined));
  return { error: { code: shown.code, params, message: errorMessage(locale, shown.code, params) } };
}
