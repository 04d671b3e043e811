import { botKeys } from '../bot/bot-keys.js';
import { createEnqueuer } from '../bot/enqueue.js';
import { createGuildSettings } from '../bot/guild-settings.js';
import { createPresetCatalog } from '../bot/preset-catalog.js';
import type { TryOnEngine } from '../pipeline/engine.js';
import { STUDIO_DEFAULT_PORT, type Config } from '../shared/config.js';
import { HairError } from '../shared/errors.js';
import { redisKeys } from '../shared/job.js';
import { builtinPresets } from '../shared/presets.js';
import type { Logger } from '../shared/log.js';
import { createRedisConnector, type RedisConnectionConfig } from '../redis/redis-connector.js';
import type { StudioBackend } from './backend.js';
import { createStudioApp } from './create-studio.js';
import { createFacePreview, type FacePreview } from './face-preview.js';
import { createInProcessBackend } from './in-process-backend.js';
import { createJobBoard } from './job-board.js';
import { createQueueBackend } from './queue-backend.js';
import { createSelfieStore } from './selfie-store.js';
import { createStudioPresets } from './studio-presets.js';

export interface RunningStudio {
  /** Where a browser opens it. */
  readonly url: string;
  /** Where workers reach it (STUDIO_PUBLIC_URL, else the bound address). */
  readonly publicUrl: string;
  readonly mode: 'queue' | 'in-process';
  close(): Promise<void>;
}

export type StudioEngine = { kind: 'queue' } | { kind: 'in-process'; engine: TryOnEngine };

/** Whether the configured Redis answers within `timeoutMs` (one try, no retries). */
export async function redisAnswers(config: RedisConnectionConfig, timeoutMs = 1_500): Promise<boolean> {
  return await createRedisConnector(config).answers(timeoutMs);
}

const browserHost = (host: string) => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host);

/**
 * The studio: face preview, gallery, job board, the chosen engine (queue or in-process) and the HTTP app, listening
 * on STUDIO_HOST:STUDIO_PORT (8501 when unset). Every part is released by close(), safe to call twice.
 */
export async function startStudio(config: Readonly<Config>, deps: { logger: Logger; engine: StudioEngine }): Promise<RunningStudio> {
  const logger = deps.logger;
  const cleanups: Array<() => Promise<unknown>> = [];
  const release = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err: unknown) => logger.warn({ err }, 'studio cleanup step failed'));
  };
  try {
    const selfies = createSelfieStore({ ttlMs: config.STUDIO_SELFIE_TTL_MS, max: config.STUDIO_MAX_PENDING });
    cleanups.push(async () => selfies.clear());
    const board = createJobBoard({
      max: config.STUDIO_MAX_PENDING,
      pendingTtlMs: config.STUDIO_SELFIE_TTL_MS + config.JOB_TIMEOUT_MS + config.STUDIO_RESULT_TTL_MS,
      resultTtlMs: config.STUDIO_RESULT_TTL_MS,
    });
    cleanups.push(async () => board.clear());
    const faces: FacePreview = await createFacePreview(config);
    cleanups.push(() => faces.dispose());

    let publicUrl = config.STUDIO_PUBLIC_URL?.replace(/\/+$/, '') ?? '';
    let backend: StudioBackend;
    let catalog;
    if (deps.engine.kind === 'queue') {
      const redis = createRedisConnector(config).client({ lazyConnect: false });
      cleanups.push(async () => redis.quit());
      const keys = botKeys(config.QUEUE_PREFIX);
      const enqueuer = createEnqueuer(config, { redis, keys, log: logger });
      cleanups.push(() => enqueuer.close());
      catalog = createPresetCatalog(config, { redis, keys, settings: createGuildSettings({ redis, keys }), shared: redisKeys(config.QUEUE_PREFIX), builtins: builtinPresets(config.STYLES_DIR) });
      backend = await createQueueBackend(config, {
        enqueuer, board, selfies, logger, publicUrl: () => publicUrl,
        maxBytes: Math.min(config.ATTACHMENT_MAX_BYTES, config.MAX_IMAGE_BYTES),
      });
    } else {
      backend = createInProcessBackend(config, { engine: deps.engine.engine, board, logger });
    }
    cleanups.push(() => backend.close());
    const presets = createStudioPresets(config, catalog ? { catalog } : {});
    const app = await createStudioApp(config, { backend, board, selfies, faces, presets, logger });
    cleanups.push(() => app.close());
    const port = config.STUDIO_PORT ?? STUDIO_DEFAULT_PORT;
    try {
      await app.listen({ host: config.STUDIO_HOST, port });
    } catch (error) {
      const code = (error as { code?: string }).code ?? String(error);
      throw new HairError('CONFIG_INVALID', { problems: 'STUDIO_PORT' }, {
        detail: `the studio cannot listen on ${config.STUDIO_HOST}:${port} (${code}): set STUDIO_PORT (or STUDIO_HOST) to a free one`,
        cause: error,
      });
    }
    const address = app.server.address();
    const boundPort = typeof address === 'object' && address ? address.port : port;
    const url = `http://${browserHost(config.STUDIO_HOST)}:${boundPort}/`;
    publicUrl ||= url.replace(/\/$/, '');
    let closing: Promise<void> | undefined;
    return {
      url,
      publicUrl,
      mode: backend.mode,
      close() {
        closing ??= release();
        return closing;
      },
    };
  } catch (error) {
    await release();
    throw error;
  }
}
