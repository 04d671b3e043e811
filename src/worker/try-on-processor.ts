import type { Job } from 'bullmq';
import type { HairReference, PipelineStage, TryOnEngine } from '../pipeline/engine.js';
import { HairError } from '../shared/errors.js';
import {
  QUEUE_NAMES,
  tryOnJobSchema,
  type JobProgress,
  type JobStage,
  type TryOnJobData,
  type TryOnResultPayload,
} from '../shared/job.js';
import type { Logger } from '../shared/log.js';
import type { Delivery } from './deliver.js';
import type { DownloadOptions } from './download.js';
import { encodeResult } from './encode-result.js';
import { ABORT_REASONS, classifyFailure, toBullmqError } from './job-failure.js';
import type { WorkerMetrics } from './worker-metrics.js';

export interface TryOnProcessorConfig {
  DOWNLOAD_ALLOWED_HOSTS: readonly string[];
  DOWNLOAD_CONNECT_TIMEOUT_MS: number;
  DOWNLOAD_READ_TIMEOUT_MS: number;
  JOB_TIMEOUT_MS: number;
  RESULT_MAX_BYTES: number;
}

export interface TryOnProcessorDeps {
  engine: TryOnEngine;
  delivery: Delivery;
  download: (url: string, options: DownloadOptions) => Promise<Uint8Array>;
  /** Throws JOB_CANCELLED when the owner cancelled the job before a worker took it. */
  checkCancelled: (jobId: string) => Promise<void>;
  metrics: WorkerMetrics;
  logger: Logger;
  workerId: string;
}

/** The job stage a pipeline stage reports as (the studio's in-process runs report the same). */
export const PIPELINE_TO_JOB_STAGE: Record<PipelineStage, JobStage> = {
  detecting: 'detecting',
  aligning: 'aligning',
  transferring: 'transferring',
  pasting: 'transferring',
};

/** Measures stage boundaries: each `enter` closes the previous stage. */
function stageClock() {
  const timings: Record<string, number> = {};
  let current: { stage: string; at: number } | undefined;
  return {
    timings,
    enter(stage: string): boolean {
      const now = performance.now();
      if (current?.stage === stage) return false;
      if (current) timings[current.stage] = (timings[current.stage] ?? 0) + (now - current.at);
      current = { stage, at: now };
      return true;
    },
    stop() {
      if (current) timings[current.stage] = (timings[current.stage] ?? 0) + (performance.now() - current.at);
      current = undefined;
    },
  };
}

/** The CDN said the file is gone or forbidden (a deleted message, an expired link): retrying cannot help. */
function isPermanentDownloadFailure(error: HairError): boolean {
  const status = error.params['status'];
  return error.code === 'DOWNLOAD_FAILED' && typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

const reference = (presetId: string | undefined): HairReference | undefined => (presetId ? { presetId } : undefined);

/**
 * job → download → engine.tryOn → encode → deliver. Progress goes to `job.updateProgress`, failures reach the user
 * in their language, and user errors never retry. The selfie lives only in `selfie` and is dropped in `finally`.
 */
export function createTryOnProcessor(config: TryOnProcessorConfig, deps: TryOnProcessorDeps) {
  const queue = QUEUE_NAMES.tryOn;

  return async function processTryOn(job: Job, _token?: string, bullSignal?: AbortSignal): Promise<TryOnResultPayload> {
    const jobId = job.id ?? 'unknown';
    const log = deps.logger.child({ jobId, queue, attempt: job.attemptsMade + 1 });
    const parsed = tryOnJobSchema.safeParse(job.data);
    if (!parsed.success) {
      log.error({ issues: parsed.error.issues.map((i) => i.path.join('.') + ': ' + i.message) }, 'job data does not match the contract');
      deps.metrics.failed(queue, 'INTERNAL');
      throw toBullmqError(new HairError('INTERNAL', { jobId }, { detail: 'invalid job data' }));
    }
    const data: TryOnJobData = parsed.data;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(ABORT_REASONS.timeout), config.JOB_TIMEOUT_MS);
    const signal = bullSignal ? AbortSignal.any([bullSignal, timeout.signal]) : timeout.signal;
    const clock = stageClock();
    const pickedAt = Date.now();
    let selfie: Uint8Array | undefined;

    const progress = (stage: JobStage) => {
      if (!clock.enter(stage)) return;
      const payload: JobProgress = { stage, at: Date.now(), attempt: job.attemptsMade + 1, workerId: deps.workerId };
      job.updateProgress(payload).catch((error: unknown) => log.warn({ err: error }, 'progress update failed'));
    };

    try {
      log.info({ mode: data.mode, origin: data.origin, shape: data.shapePresetId, color: data.colorPresetId }, 'try-on started');
      await deps.checkCancelled(jobId);
      progress('downloading');
      selfie = await deps.download(data.selfie.url, {
        allowedHosts: config.DOWNLOAD_ALLOWED_HOSTS,
        maxBytes: data.selfie.maxBytes,
        connectTimeoutMs: config.DOWNLOAD_CONNECT_TIMEOUT_MS,
        readTimeoutMs: config.DOWNLOAD_READ_TIMEOUT_MS,
        signal,
      });
      const pipelineStart = performance.now();
      const shape = reference(data.shapePresetId);
      const color = reference(data.colorPresetId);
      const result = await deps.engine.tryOn({
        selfie,
        ...(shape ? { shape } : {}),
        ...(color ? { color } : {}),
        pasteBack: data.mode === 'paste-back',
        signal,
        onStage: (stage) => progress(PIPELINE_TO_JOB_STAGE[stage]),
      });
      const pipelineMs = performance.now() - pipelineStart;
      selfie = undefined;
      signal.throwIfAborted();

      progress('uploading');
      const encoded = await encodeResult(result.image, config.RESULT_MAX_BYTES);
      const queuedMs = Math.max(0, pickedAt - data.requestedAt);
      const delivered = await deps.delivery.deliverResult(
        data,
        encoded,
        { jobId, totalMs: Date.now() - data.requestedAt, queuedMs, pipelineMs },
        signal,
      );
      clock.stop();

      const finishedAt = Date.now();
      for (const [stage, ms] of Object.entries(clock.timings)) deps.metrics.observeStage(stage, ms);
      deps.metrics.observeJob(queue, finishedAt - data.requestedAt);
      const timings: Record<string, number> = { ...clock.timings, queued: queuedMs, pipeline: pipelineMs, total: finishedAt - data.requestedAt };
      for (const [name, ms] of Object.entries(result.timings)) timings[`engine.${name}`] = ms;
      log.info({ deliveredVia: delivered.via, bytes: encoded.data.length, format: encoded.format, timings }, 'try-on delivered');
      return {
        jobId,
        deliveredVia: delivered.via,
        ...(delivered.messageId ? { messageId: delivered.messageId } : {}),
        format: encoded.format,
        bytes: encoded.data.length,
        width: encoded.width,
        height: encoded.height,
        timings,
        modelKind: result.modelKind,
        executionProvider: deps.engine.info.executionProvider,
        workerId: deps.workerId,
        finishedAt,
      };
    } catch (caught) {
      const error = classifyFailure(caught, signal);
      deps.metrics.failed(queue, error.code);
      const attemptsLeft = (job.opts.attempts ?? 1) - (job.attemptsMade + 1);
      const final = !error.retryable || attemptsLeft <= 0 || isPermanentDownloadFailure(error);
      const logFields = { code: error.code, retryable: error.retryable, attemptsLeft: final ? 0 : attemptsLeft };
      if (error.code === 'INTERNAL') log.error({ ...logFields, err: caught }, 'try-on failed');
      else log.warn({ ...logFields, detail: error.message }, 'try-on failed');
      if (final) {
        // The user hears about it once, on the last attempt; a failed notice must not hide the original error.
        await deps.delivery.deliverError(data, jobId, error).catch((deliveryError: unknown) => {
          log.warn({ code: classifyFailure(deliveryError).code }, 'could not tell the user about the failure');
        });
      }
      throw toBullmqError(error, final);
    } finally {
      clearTimeout(timer);
      selfie = undefined;
    }
  };
}
