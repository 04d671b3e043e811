import { UnrecoverableError } from 'bullmq';
import { HairError, toHairError } from '../shared/errors.js';
import { formatJobFailure } from '../shared/job.js';

const OUT_OF_MEMORY = /out of memory|bad_alloc|CUDA_ERROR_OUT_OF_MEMORY|Failed to allocate memory|Array buffer allocation failed/i;

export type AbortKind = 'cancelled' | 'timeout';

/**
 * The reason `closeWorkers` aborts active jobs with once SHUTDOWN_TIMEOUT_MS is over: processors put the job back in
 * the queue (another worker takes it) instead of failing it.
 */
export const SHUTDOWN_REASON = 'worker shutting down';

/** Reasons the worker passes when it aborts a job's signal. */
export const ABORT_REASONS = Object.freeze({
  cancelled: new HairError('JOB_CANCELLED'),
  timeout: new HairError('JOB_TIMEOUT'),
});

/**
 * Anything a processor caught → the HairError it stands for. An aborted signal wins over whatever the abort made the
 * pipeline throw; allocation failures (CPU or GPU) read as OUT_OF_MEMORY so they are retried.
 */
export function classifyFailure(error: unknown, signal?: AbortSignal): HairError {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof HairError) return reason;
    // BullMQ's worker.cancelJob() aborts with a string or its own error.
    return new HairError('JOB_CANCELLED', {}, { cause: reason });
  }
  if (error instanceof HairError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (OUT_OF_MEMORY.test(message)) return new HairError('OUT_OF_MEMORY', {}, { cause: error, detail: message });
  return toHairError(error);
}

/**
 * The one place a HairError becomes what BullMQ understands: retryable → a plain Error (BullMQ retries with the
 * job's backoff), everything else (or `final`: the user was already told) → UnrecoverableError, failed now. The message carries the code and
 * params for the bot (parseJobFailure), never a URL or token.
 */
export function toBullmqError(error: HairError, final = false): Error {
  const reason = formatJobFailure(error.code, error.params, error.retryable);
  return error.retryable && !final ? new Error(reason) : new UnrecoverableError(reason);
}
