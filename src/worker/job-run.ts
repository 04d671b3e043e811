import { WaitingError, type Job } from 'bullmq';
import type { z } from 'zod';
import { HairError } from '../shared/errors.js';
import type { QueueName } from '../shared/job.js';
import type { Logger } from '../shared/log.js';
import { ABORT_REASONS, classifyFailure, SHUTDOWN_REASON, toBullmqError } from './job-failure.js';
import type { WorkerMetrics } from './worker-metrics.js';

/** One run of a job, as a processor's body sees it: its parsed data and the signal that ends it. */
export interface JobRun<Data> {
  job: Job;
  jobId: string;
  data: Data;
  lockToken: string | undefined;
  log: Logger;
  /** Aborted by BullMQ (cancel, shutdown past SHUTDOWN_TIMEOUT_MS) or by the job timeout. */
  signal: AbortSignal;
}

export interface JobProcessorSpec<Data, Result> {
  queue: QueueName;
  /** Names the job in log lines: 'try-on', 'preset build'. */
  what: string;
  schema: z.ZodType<Data, unknown>;
  timeoutMs: number;
  metrics: Pick<WorkerMetrics, 'failed'>;
  logger: Logger;
  /** Runs before the timeout starts; a result returned here finishes the job at once (an earlier run's answer). */
  before?(run: Omit<JobRun<Data>, 'signal'>): Promise<Result | undefined>;
  run(run: JobRun<Data>): Promise<Result>;
  /** True for failures thrown as they are: neither classified nor counted (this run no longer owns the job). */
  passThrough?(caught: unknown, run: JobRun<Data>): boolean;
  /** Adjusts the classified failure before it is counted (e.g. names the preset as the member saw it). */
  refine?(error: HairError, run: JobRun<Data>): HairError;
  /** What BullMQ records for the failure; may tell the user. Default: logFailure, then toBullmqError. */
  fail?(error: HairError, run: JobRun<Data>, caught: unknown): Promise<Error>;
}

/** The failure's log line: INTERNAL with its stack (a bug), anything else as a warning with its detail. */
export function logFailure(log: Logger, what: string, error: HairError, caught: unknown, fields: Record<string, unknown> = {}): void {
  if (error.code === 'INTERNAL') log.error({ code: error.code, ...fields, err: caught }, `${what} failed`);
  else log.warn({ code: error.code, ...fields, detail: error.message }, `${what} failed`);
}

/**
 * The skeleton both processors share (BullMQ's `(job, token, signal)` processor): parse the job data against the
 * contract (a mismatch fails at once as INTERNAL), run the body under one signal (BullMQ's and JOB_TIMEOUT_MS),
 * hand the job back to the queue when the worker shuts down mid-run, and classify every other failure into one
 * HairError, counted once, which becomes BullMQ's error in one place.
 */
export function createJobProcessor<Data, Result>(spec: JobProcessorSpec<Data, Result>) {
  const fail = spec.fail ?? (async (error: HairError, run: JobRun<Data>, caught: unknown) => {
    logFailure(run.log, spec.what, error, caught);
    return toBullmqError(error);
  });

  return async function processJob(job: Job, lockToken?: string, bullSignal?: AbortSignal): Promise<Result> {
    const jobId = job.id ?? 'unknown';
    const log = spec.logger.child({ jobId, queue: spec.queue, attempt: job.attemptsMade + 1 });
    const parsed = spec.schema.safeParse(job.data);
    if (!parsed.success) {
      log.error({ issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) }, 'job data does not match the contract');
      spec.metrics.failed(spec.queue, 'INTERNAL');
      throw toBullmqError(new HairError('INTERNAL', { jobId }, { detail: 'invalid job data' }));
    }
    const base = { job, jobId, data: parsed.data, lockToken, log };
    const early = await spec.before?.(base);
    if (early !== undefined) return early;

    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(ABORT_REASONS.timeout), spec.timeoutMs);
    const signal = bullSignal ? AbortSignal.any([bullSignal, timeout.signal]) : timeout.signal;
    const run: JobRun<Data> = { ...base, signal };
    try {
      return await spec.run(run);
    } catch (caught) {
      if (spec.passThrough?.(caught, run)) throw caught;
      if (signal.aborted && signal.reason === SHUTDOWN_REASON) {
        log.info(`worker shutting down: ${spec.what} back to the queue`);
        await job.moveToWait(lockToken);
        throw new WaitingError();
      }
      const classified = classifyFailure(caught, signal);
      const error = spec.refine ? spec.refine(classified, run) : classified;
      spec.metrics.failed(spec.queue, error.code);
      throw await fail(error, run, caught);
    } finally {
      clearTimeout(timer);
    }
  };
}
