import type { TryOnEngine } from '../pipeline/engine.js';
import { presetBuildJobSchema, QUEUE_NAMES, type PresetBuildJobData, type PresetBuildResultPayload } from '../shared/job.js';
import type { Logger } from '../shared/log.js';
import type { DownloadOptions } from './download.js';
import type { PresetSources } from './redis-preset-sources.js';
import { createJobProcessor } from './job-run.js';
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
  return createJobProcessor<PresetBuildJobData, PresetBuildResultPayload>({
    queue: QUEUE_NAMES.presetBuild,
    what: 'preset build',
    schema: presetBuildJobSchema,
    timeoutMs: config.JOB_TIMEOUT_MS,
    metrics: deps.metrics,
    logger: deps.logger,
    async run({ data, signal, log }) {
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
        deps.metrics.observeJob(QUEUE_NAMES.presetBuild, Date.now() - data.requestedAt);
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
      } finally {
        image = undefined;
      }
    },
  });
}
