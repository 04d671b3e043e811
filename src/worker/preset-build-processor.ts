import { WaitingError, type Job } from 'bullmq';
import type { TryOnEngine } from '../pipeline/engine.js';
import { HairError } from '../shared/errors.js';
import { presetBuildJobSchema, QUEUE_NAMES, type PresetBuildResultPayload } from '../shared/job.js';
import type { Logger } from '../shared/log.js';
import type { DownloadOptions } from './download.js';
import type { PresetSources } from './redis-preset-sources.js';
import { ABORT_REASONS, classifyFailure, SHUTDOWN_REASON, toBullmqError } from './job-failure.js';
import { downloadLimit, type TryOnProcessorConfig } from './try-on-processor.js';
import type { WorkerMetrics } from './worker-metrics.js';

export interface PresetBuildProcessorDeps {
  engine: TryOnEngine;
  presetSources: PresetSources;
  download: (url: string, options: DownloadOptions) => Promise<Uint8Array>;
  metrics: WorkerMetrics;
  logger: Logger;
  workerId: string;
}

/**
 * A moderator's new preset: download the image, let the engine check it has one usable face and store its cache
 * (through the Redis PresetCacheStore it was built with), and keep the photo for rebuilds after a model change.
 * The bot waits for the result and answers the moderator;
 * the failure reason carries the stable code (parseJobFailure).
 */
export function createPresetBuildProcessor(config: TryOnProcessorConfig, deps: PresetBuildProcessorDeps) {
  const queue = QUEUE_NAMES.presetBuild;

  return async function processPresetBuild(job: Job, lockToken?: string, bullSignal?: AbortSignal): Promise<PresetBuildResultPayload> {
    const log = deps.logger.child({ jobId: job.id, queue, attempt: job.attemptsMade + 1 });
    const parsed = presetBuildJobSchema.safeParse(job.data);
    if (!parsed.success) {
      log.error({ issues: parsed.error.issues.map((i) => i.path.join('.') + ': ' + i.message) }, 'job data does not match the contract');
      deps.metrics.failed(queue, 'INTERNAL');
      throw toBullmqError(new HairError('INTERNAL', { jobId: job.id ?? 'unknown' }, { detail: 'invalid job data' }));
    }
    const data = parsed.data;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(ABORT_REASONS.timeout), config.JOB_TIMEOUT_MS);
    const signal = bullSignal ? AbortSignal.any([bullSignal, timeout.signal]) : timeout.signal;
    let image: Uint8Array | undefined;
    try {
      log.info({ presetId: data.presetId, kind: data.kind }, 'preset build started');
      image = await deps.download(data.image.url, {
        allowedHosts: config.DOWNLOAD_ALLOWED_HOSTS,
        maxBytes: downloadLimit(data.image.maxBytes, config.MAX_IMAGE_BYTES),
        connectTimeoutMs: config.DOWNLOAD_CONNECT_TIMEOUT_MS,
        readTimeoutMs: config.DOWNLOAD_READ_TIMEOUT_MS,
        signal,
      });
      const built = await deps.engine.buildPreset(data.presetId, data.kind, image, signal);
      await deps.presetSources.set(data.presetId, { kind: data.kind, image });
      deps.metrics.observeJob(queue, Date.now() - data.requestedAt);
      log.info({ presetId: built.presetId, cacheBytes: built.cacheBytes }, 'preset built');
      return {
        presetId: built.presetId,
        kind: built.kind,
        thumbnailBase64: Buffer.from(built.thumbnail).toString('base64'),
        cacheBytes: built.cacheBytes,
        modelKind: deps.engine.info.modelKind,
        workerId: deps.workerId,
        finishedAt: Date.now(),
      };
    } catch (caught) {
      if (signal.aborted && signal.reason === SHUTDOWN_REASON) {
        log.info('worker shutting down: preset build back to the queue');
        await job.moveToWait(lockToken);
        throw new WaitingError();
      }
      const error = classifyFailure(caught, signal);
      deps.metrics.failed(queue, error.code);
      if (error.code === 'INTERNAL') log.error({ code: error.code, err: caught }, 'preset build failed');
      else log.warn({ code: error.code, detail: error.message }, 'preset build failed');
      throw toBullmqError(error);
    } finally {
      clearTimeout(timer);
      image = undefined;
    }
  };
}
