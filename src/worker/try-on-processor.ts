import { UnrecoverableError } from 'bullmq';
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
import type { DeliveredMessage, Delivery } from './deliver.js';
import { DeliveryNotClaimedError, type DeliveryLedger, type DeliveryRecord } from './delivery-ledger.js';
import type { DownloadOptions } from './download.js';
import { encodeResult } from './encode-result.js';
import { classifyFailure, toBullmqError } from './job-failure.js';
import { createJobProcessor, logFailure, type JobRun } from './job-run.js';
import type { WorkerMetrics } from './worker-metrics.js';

export interface TryOnProcessorConfig {
  DOWNLOAD_ALLOWED_HOSTS: readonly string[];
  DOWNLOAD_CONNECT_TIMEOUT_MS: number;
  DOWNLOAD_READ_TIMEOUT_MS: number;
  JOB_TIMEOUT_MS: number;
  RESULT_MAX_BYTES: number;
  /** The worker's own byte limit: a job may ask for less, never for more. */
  MAX_IMAGE_BYTES: number;
}

export interface ReplyTokens {
  /** The job's interaction token while it lives (the bot stored it at enqueue). */
  get(jobId: string): Promise<string | undefined>;
  /** Deleted once the answer is delivered: nothing needs it after that (a button press brings a new one). */
  drop(jobId: string): Promise<void>;
}

export interface TryOnProcessorDeps {
  engine: TryOnEngine;
  delivery: Delivery;
  ledger: DeliveryLedger;
  replyTokens: ReplyTokens;
  download: (url: string, options: DownloadOptions) => Promise<Uint8Array>;
  /** Throws JOB_CANCELLED when the owner cancelled the job before a worker took it. */
  checkCancelled: (jobId: string) => Promise<void>;
  metrics: WorkerMetrics;
  logger: Logger;
  workerId: string;
}

/** The download limit of a job: what the bot saw as the member's limit, capped at the worker's own. */
export function downloadLimit(jobMaxBytes: number, workerMaxBytes: number): number {
  return Math.min(jobMaxBytes, workerMaxBytes);
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

/** A preset the member picked, named as they saw it (the bot's label) rather than by its slug. */
function withPresetLabel(error: HairError, data: TryOnJobData): HairError {
  const role = error.params['role'];
  if ((error.code !== 'PRESET_NOT_FOUND' && error.code !== 'PRESET_KIND_MISMATCH') || (role !== 'shape' && role !== 'color')) return error;
  const label = data.labels[role];
  return label ? error.withParams({ name: label }) : error;
}

/**
 * job → download → engine.tryOn → encode → deliver. Progress goes to `job.updateProgress`, failures reach the user
 * privately in their language, and user errors never retry. Every answer goes through the delivery ledger, so a
 * job run twice (its lock lost in a Redis outage) answers once. The selfie lives only in `selfie` and is dropped in
 * `finally`. A worker shutting down past SHUTDOWN_TIMEOUT_MS aborts with SHUTDOWN_REASON: the job goes back to the
 * queue as it was, without using an attempt.
 */
export function createTryOnProcessor(config: TryOnProcessorConfig, deps: TryOnProcessorDeps) {
  const queue = QUEUE_NAMES.tryOn;

  /** Claims the one answer of this job, posts it, records it; DeliveryNotClaimedError when this run may not post. */
  async function deliverOnce(
    { jobId, data, lockToken, log }: JobRun<TryOnJobData>, kind: 'result' | 'error',
    post: (token: string | undefined) => Promise<DeliveredMessage>, outcome: (d: DeliveredMessage) => { result?: TryOnResultPayload; failure?: string },
  ) {
    const claim = await deps.ledger.claim(jobId, lockToken);
    if (claim.outcome === 'lock-lost') throw new DeliveryNotClaimedError(`the lock of ${jobId} moved to another worker`);
    if (claim.outcome === 'done') return { delivered: claim.record, record: claim.record };
    const token = await deps.replyTokens.get(jobId).catch(() => undefined);
    const seen = claim.outcome === 'reclaimed' ? await deps.delivery.findEarlierDelivery(data, token, jobId, kind) : undefined;
    const delivered = seen ?? (await post(token));
    const record: DeliveryRecord = { via: delivered.via, ...(delivered.messageId ? { messageId: delivered.messageId } : {}), ...outcome(delivered) };
    await deps.ledger.done(jobId, record).catch((error: unknown) => log.warn({ err: error }, 'could not record the delivery'));
    await deps.replyTokens.drop(jobId).catch(() => undefined);
    return { delivered, record };
  }

  return createJobProcessor<TryOnJobData, TryOnResultPayload>({
    queue,
    what: 'try-on',
    schema: tryOnJobSchema,
    timeoutMs: config.JOB_TIMEOUT_MS,
    metrics: deps.metrics,
    logger: deps.logger,

    // Run again after its completion was lost (a Redis outage): the member already has the answer.
    async before({ jobId, log }) {
      const earlier = await deps.ledger.recorded(jobId);
      return earlier ? replay(earlier, log) : undefined;
    },

    async run(run) {
      const { job, jobId, data, signal, log } = run;
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
          maxBytes: downloadLimit(data.selfie.maxBytes, config.MAX_IMAGE_BYTES),
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
        const summary = { jobId, totalMs: Date.now() - data.requestedAt, queuedMs, pipelineMs };
        const { delivered, record } = await deliverOnce(
          run,
          'result',
          (token) => deps.delivery.deliverResult(data, token, encoded, summary, signal),
          (sent) => {
            clock.stop();
            const finishedAt = Date.now();
            const timings: Record<string, number> = { ...clock.timings, queued: queuedMs, pipeline: pipelineMs, total: finishedAt - data.requestedAt };
            for (const [name, ms] of Object.entries(result.timings)) timings[`engine.${name}`] = ms;
            return {
              result: {
                jobId,
                deliveredVia: sent.via === 'direct-message' ? 'interaction' : sent.via,
                ...(sent.messageId ? { messageId: sent.messageId } : {}),
                format: encoded.format,
                bytes: encoded.data.length,
                width: encoded.width,
                height: encoded.height,
                timings,
                modelKind: result.modelKind,
                executionProvider: deps.engine.info.executionProvider,
                workerId: deps.workerId,
                finishedAt,
              },
            };
          },
        );
        if (!record.result) return replay(record, log);
        for (const [stage, ms] of Object.entries(clock.timings)) deps.metrics.observeStage(stage, ms);
        deps.metrics.observeJob(queue, record.result.finishedAt - data.requestedAt);
        log.info({ deliveredVia: delivered.via, bytes: record.result.bytes, format: record.result.format, timings: record.result.timings }, 'try-on delivered');
        return record.result;
      } finally {
        selfie = undefined;
      }
    },

    passThrough(caught, { log }) {
      if (!(caught instanceof DeliveryNotClaimedError)) return false;
      log.warn({ reason: caught.message }, 'not delivering: this run no longer owns the job');
      return true;
    },

    refine: (error, { data }) => withPresetLabel(error, data),

    async fail(error, run, caught) {
      const { job, jobId, data, log } = run;
      const attemptsLeft = (job.opts.attempts ?? 1) - (job.attemptsMade + 1);
      const final = !error.retryable || attemptsLeft <= 0 || isPermanentDownloadFailure(error);
      logFailure(log, 'try-on', error, caught, { retryable: error.retryable, attemptsLeft: final ? 0 : attemptsLeft });
      const failure = toBullmqError(error, final);
      if (final) {
        // The user hears about it once, on the last attempt; a failed notice must not hide the original error.
        await deliverOnce(run, 'error', (token) => deps.delivery.deliverError(data, token, jobId, error), () => ({ failure: failure.message })).catch((deliveryError: unknown) => {
          if (deliveryError instanceof DeliveryNotClaimedError) throw deliveryError;
          log.warn({ code: classifyFailure(deliveryError).code }, 'could not tell the user about the failure');
        });
      }
      return failure;
    },
  });
}

/** An earlier run's recorded outcome, returned (or thrown) again without running or posting anything. */
function replay(record: DeliveryRecord, log: Logger): TryOnResultPayload {
  log.info({ deliveredVia: record.via }, 'already delivered by an earlier run');
  if (record.result) return record.result;
  throw new UnrecoverableError(record.failure ?? 'HAIR_ERROR {"code":"INTERNAL","params":{},"retryable":false}');
}
