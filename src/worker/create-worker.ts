import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { Agent } from 'undici';
import type { REST } from '@discordjs/rest';
import type { PresetCacheStore, TryOnEngine } from '../pipeline/engine.js';
import type { PipelineThreadEvent } from '../pipeline/engine-thread/index.js';
import type { Config } from '../shared/config.js';
import { HairError } from '../shared/errors.js';
import { DEFAULT_JOB_OPTIONS, QUEUE_NAMES, redisKeys, withoutAttachmentUrl } from '../shared/job.js';
import type { Logger } from '../shared/log.js';
import { redisErrorListener } from '../shared/redis.js';
import { createRedisConnector } from '../redis/redis-connector.js';
import { createDelivery, routeDelivery } from './deliver.js';
import { createStudioDelivery } from './deliver-studio.js';
import { createDeliveryLedger } from './delivery-ledger.js';
import { SHUTDOWN_REASON } from './job-failure.js';
import { TolerantWorker } from './tolerant-worker.js';
import { download, type DownloadOptions } from './download.js';
import { gpuName } from './gpu-name.js';
import { startHealthServer, type HealthServer } from './health-server.js';
import { createPresetBuildProcessor } from './preset-build-processor.js';
import { createRedisPresetCache } from './redis-preset-cache.js';
import { createRedisPresetSources, type PresetSource } from './redis-preset-sources.js';
import { createTryOnProcessor } from './try-on-processor.js';
import { createWorkerMetrics } from './worker-metrics.js';
import { createWorkerRegistry } from './worker-registry.js';
import { licenseNoticeLines, licenseNoticeSummary } from '../shared/model-licenses.js';

export interface EngineDeps {
  presetCache: PresetCacheStore;
  /** A moderator's preset photo, to rebuild its cache after a model change. */
  presetSource: (presetId: string) => Promise<PresetSource | null>;
  logger: Logger;
  /** Hears when a threaded engine's thread dies, is back, or stays down (readiness and metrics follow it). */
  onThreadEvent: (event: PipelineThreadEvent) => void;
}
export type EngineFactory = (config: Readonly<Config>, deps: EngineDeps) => Promise<TryOnEngine>;

export interface HairWorkerDeps {
  logger: Logger;
  /** Builds the engine (all sessions + warm-up) once Redis is up; the worker owns and disposes it. */
  createEngine: EngineFactory;
  /** A prepared @discordjs/rest client (tests); one is made from DISCORD_API_URL + DISCORD_TOKEN otherwise. */
  rest?: REST;
  /** Clock for the interaction-token age (tests make a token look old). */
  now?: () => number;
}

export interface HairWorker {
  readonly id: string;
  readonly executionProvider: string;
  readonly gpu: string;
  readonly loadMs: number;
  /** `http://host:port` of /metrics, /healthz, /readyz. */
  readonly httpUrl: string;
  /** True once warm and taking jobs; false while the pipeline thread restarts or stays down, and once close() starts. */
  isReady(): boolean;
  /**
   * Stops taking jobs, lets active ones finish within SHUTDOWN_TIMEOUT_MS (after that their locks lapse and another
   * worker takes them over), then releases Redis, sessions and the HTTP server. Safe to call twice; every step runs.
   */
  close(): Promise<void>;
}

/**
 * The GPU worker: Redis → engine (every session loaded and warmed) → BullMQ workers on the try-on and preset-build
 * queues → registry entry and ready line. Nothing is taken from the queue before the engine is warm.
 */
export async function createWorker(config: Readonly<Config>, deps: HairWorkerDeps): Promise<HairWorker> {
  const id = config.WORKER_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const logger = deps.logger.child({ workerId: id });
  const prefix = config.QUEUE_PREFIX;
  const keys = redisKeys(prefix);
  const connector = createRedisConnector(config);
  await connector.assertReachable();
  const redis = connector.client();
  const subscriber = connector.client({ waitForever: true });
  // Later outages are logged once per distinct error and retried by the clients.
  redis.on('error', redisErrorListener(logger, 'worker Redis client'));
  subscriber.on('error', redisErrorListener(logger, 'cancel subscriber'));
  const cleanups: Array<[string, () => Promise<unknown> | unknown]> = [];
  let ready = false;
  let health: HealthServer | undefined;

  const queues = {
    tryOn: new Queue(QUEUE_NAMES.tryOn, { connection: connector.bullmq({ waitForever: true }), prefix }),
    presetBuild: new Queue(QUEUE_NAMES.presetBuild, { connection: connector.bullmq({ waitForever: true }), prefix }),
  };
  for (const [name, queue] of Object.entries(queues)) queue.on('error', redisErrorListener(logger, `${name} queue`));
  const metrics = createWorkerMetrics({
    [QUEUE_NAMES.tryOn]: () => queues.tryOn.getJobCounts(),
    [QUEUE_NAMES.presetBuild]: () => queues.presetBuild.getJobCounts(),
  });
  // The engine is up from its creation on; a threaded engine says when its thread dies and when it is back.
  let engineUp = true;
  const onThreadEvent = (event: PipelineThreadEvent) => {
    engineUp = event.state === 'up';
    if (event.state === 'restarting') metrics.threadRestarted(event.error.code);
  };

  const agent = new Agent({
    connect: { timeout: config.DOWNLOAD_CONNECT_TIMEOUT_MS },
    headersTimeout: config.DOWNLOAD_READ_TIMEOUT_MS,
    bodyTimeout: config.DOWNLOAD_READ_TIMEOUT_MS,
    connections: 8,
  });
  const downloadWithAgent = (url: string, options: DownloadOptions) => download(url, { ...options, dispatcher: agent });

  let engine: TryOnEngine | undefined;
  const workers: Worker[] = [];
  try {
    await Promise.all([redis.connect(), subscriber.connect()]);
    health = await startHealthServer(config.METRICS_HOST, config.METRICS_PORT, metrics.registry, {
      live: async () => (await redis.ping()) === 'PONG',
      ready: () => ready && engineUp,
    });

    const started = performance.now();
    const presetSources = createRedisPresetSources(redis, prefix);
    engine = await deps.createEngine(config, { presetCache: createRedisPresetCache(redis, prefix), presetSource: presetSources.get, logger, onThreadEvent });
    const loadMs = engine.info.loadMs || performance.now() - started;
    const gpu = await gpuName(engine.info.executionProvider);
    metrics.setInfo({ workerId: id, executionProvider: engine.info.executionProvider, modelKind: engine.info.modelKind, precision: engine.info.precision, gpu, loadMs });

    const discord = { DISCORD_API_URL: config.DISCORD_API_URL ?? 'https://discord.com/api', DISCORD_TOKEN: config.DISCORD_TOKEN };
    const delivery = routeDelivery({
      discord: createDelivery(discord, { logger, ...(deps.rest ? { rest: deps.rest } : {}), ...(deps.now ? { now: deps.now } : {}) }),
      studio: createStudioDelivery(config, { logger, dispatcher: agent }),
    });
    const checkCancelled = async (jobId: string) => {
      if ((await redis.exists(keys.cancel(jobId))) === 1) throw new HairError('JOB_CANCELLED');
    };
    const replyTokens = {
      get: async (jobId: string) => (await redis.get(keys.replyToken(jobId))) ?? undefined,
      drop: async (jobId: string) => void (await redis.del(keys.replyToken(jobId))),
    };
    const ledger = createDeliveryLedger(redis, prefix);
    const tryOn = createTryOnProcessor(config, { engine, delivery, ledger, replyTokens, download: downloadWithAgent, checkCancelled, metrics, logger, workerId: id });
    const presetBuild = createPresetBuildProcessor(config, { engine, presetSources, download: downloadWithAgent, metrics, logger, workerId: id });

    const registry = createWorkerRegistry(
      redis,
      prefix,
      {
        id,
        host: hostname(),
        pid: process.pid,
        executionProvider: engine.info.executionProvider,
        gpu,
        modelKind: engine.info.modelKind,
        precision: engine.info.precision,
        loadMs: Math.round(loadMs),
        concurrency: config.WORKER_CONCURRENCY,
        startedAt: Date.now(),
        licenses: [...(engine.info.licenses ?? [])],
      },
      (error) => logger.warn({ err: error }, 'heartbeat failed'),
    );

    // BullMQ wants its own connections (one blocks): each Worker gets one of its own, never a shared client.
    const workerOptions = {
      prefix,
      name: id,
      // A crashed worker's job is taken over after its lock lapses (lockDuration) and the next stalled check
      // (stalledInterval) of any live worker; twice at most, then it fails instead of crash-looping workers.
      lockDuration: config.WORKER_LOCK_DURATION_MS,
      stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
      maxStalledCount: 2,
      autorun: false,
    };
    const onCorruptJob = (jobId: string, fields: string[]) => logger.error({ jobId, fields }, 'stored job fields are not valid JSON; failing the job');
    const tryOnWorker = new TolerantWorker(QUEUE_NAMES.tryOn, tryOn, { ...workerOptions, connection: connector.bullmq({ waitForever: true }), concurrency: config.WORKER_CONCURRENCY, ...retention('tryOn') }, onCorruptJob);
    const presetWorker = new TolerantWorker(QUEUE_NAMES.presetBuild, presetBuild, { ...workerOptions, connection: connector.bullmq({ waitForever: true }), concurrency: 1, ...retention('presetBuild') }, onCorruptJob);
    workers.push(tryOnWorker, presetWorker);
    // A finished job keeps no signed attachment URL it no longer needs (JOB_RETENTION_S in the job contract).
    const scrub = (job: Job) => {
      if ((job.data as { selfie?: { url?: string }; image?: { url?: string } })?.selfie?.url === undefined && job.data?.image?.url === undefined) return;
      job.updateData(withoutAttachmentUrl(job.data)).catch((error: unknown) => logger.warn({ err: error, jobId: job.id }, 'could not drop the attachment URL of a finished job'));
    };
    tryOnWorker.on('failed', (job) => {
      if (job?.finishedOn) scrub(job);
    });
    presetWorker.on('completed', scrub);
    presetWorker.on('failed', (job) => {
      if (job?.finishedOn) scrub(job);
    });
    for (const worker of workers) {
      worker.on('completed', () => void registry.jobDone(true).catch(() => undefined));
      worker.on('failed', (job) => {
        if (job && job.finishedOn) void registry.jobDone(false).catch(() => undefined);
      });
      worker.on('error', redisErrorListener(logger, `BullMQ worker ${worker.name}`));
    }

    // Owner cancellation: the bot sets the flag (a job not yet taken) and publishes (a job running somewhere).
    await subscriber.subscribe(keys.cancelChannel);
    subscriber.on('message', (channel: string, jobId: string) => {
      if (channel !== keys.cancelChannel) return;
      for (const worker of workers) {
        if (worker.cancelJob(jobId, 'cancelled by its owner')) logger.info({ jobId }, 'job cancelled by its owner');
      }
    });

    await registry.start();
    cleanups.push(['registry', () => registry.stop()]);
    for (const worker of workers) void worker.run().catch((error: unknown) => logger.error({ err: error }, 'worker loop stopped'));
    await Promise.all(workers.map((worker) => worker.waitUntilReady()));
    ready = true;
    const licenseSummary = licenseNoticeSummary(engine.info.licenses ?? []);
    logger.info(
      {
        executionProvider: engine.info.executionProvider,
        gpu: gpu || undefined,
        modelKind: engine.info.modelKind,
        precision: engine.info.precision,
        loadMs: Math.round(loadMs),
        concurrency: config.WORKER_CONCURRENCY,
        http: health.url,
        ...(licenseSummary ? { restrictedLicenses: licenseNoticeLines(engine.info.licenses ?? []) } : {}),
      },
      `worker ready: ${engine.info.executionProvider}${gpu ? ` on ${gpu}` : ''}, ${engine.info.precision} graphs, sessions warm in ${Math.round(loadMs)} ms${licenseSummary ? `; ${licenseSummary}` : ''}`,
    );

    let closing: Promise<void> | undefined;
    const ownedEngine = engine;
    const httpServer = health;
    return {
      id,
      executionProvider: engine.info.executionProvider,
      gpu,
      loadMs,
      httpUrl: health.url,
      isReady: () => ready && engineUp,
      close() {
        closing ??= shutdown();
        return closing;
      },
    };

    async function shutdown(): Promise<void> {
      ready = false;
      const failures: unknown[] = [];
      const step = async (name: string, run: () => Promise<unknown> | unknown) => {
        try {
          await run();
        } catch (error) {
          failures.push(error);
          logger.warn({ err: error, step: name }, 'shutdown step failed');
        }
      };
      logger.info({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutting down: no new jobs, finishing active ones');
      // Cancellation stays subscribed while the active jobs finish: their owners can still stop them.
      await step('workers', () => closeWorkers(workers, config.SHUTDOWN_TIMEOUT_MS, logger));
      await step('unsubscribe', () => subscriber.unsubscribe());
      for (const [name, run] of cleanups) await step(name, run);
      await step('queues', () => Promise.all([queues.tryOn.close(), queues.presetBuild.close()]));
      await step('http', () => httpServer.close());
      await step('engine', () => ownedEngine.dispose());
      await step('download agent', () => agent.close());
      await step('redis', () => Promise.all([redis.quit(), subscriber.quit(), connector.close()]));
      logger.info({ failedSteps: failures.length }, 'worker stopped');
      if (failures.length > 0) throw new AggregateError(failures, `worker shutdown: ${failures.length} step(s) failed`);
    }
  } catch (error) {
    // Startup failed: release what was made, keep the original error.
    ready = false;
    for (const worker of workers) await worker.close(true).catch(() => undefined);
    await Promise.allSettled([queues.tryOn.close(), queues.presetBuild.close(), agent.close()]);
    await health?.close().catch(() => undefined);
    await engine?.dispose().catch(() => undefined);
    redis.disconnect();
    subscriber.disconnect();
    await connector.close();
    throw error;
  }
}

function retention(kind: keyof typeof DEFAULT_JOB_OPTIONS) {
  const { removeOnComplete, removeOnFail } = DEFAULT_JOB_OPTIONS[kind];
  return { removeOnComplete, removeOnFail };
}

/** After the shutdown timeout, how long aborted jobs get to hand themselves back before the worker stops waiting. */
const ABORT_GRACE_MS = 5_000;

const delay = (ms: number) => new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref());

/**
 * Graceful close within SHUTDOWN_TIMEOUT_MS. Past it, active jobs are aborted with SHUTDOWN_REASON: each goes back
 * to the queue unchanged (no attempt used) for another worker. One that cannot stop (a native inference call) is
 * left behind after ABORT_GRACE_MS: its lock lapses and another worker takes it over. BullMQ keeps one close
 * promise per worker, so a second close(true) would only wait for the first: the timeout never relies on it.
 */
async function closeWorkers(workers: Worker[], timeoutMs: number, logger: Logger): Promise<void> {
  const graceful = Promise.all(workers.map((worker) => worker.close())).then(() => 'closed' as const);
  if ((await Promise.race([graceful, delay(timeoutMs)])) === 'closed') return;
  logger.warn({ timeoutMs }, 'active jobs did not finish in time; handing them back to the queue');
  for (const worker of workers) worker.cancelAllJobs(SHUTDOWN_REASON);
  if ((await Promise.race([graceful, delay(ABORT_GRACE_MS)])) === 'closed') return;
  logger.warn({ graceMs: ABORT_GRACE_MS }, 'an active job did not stop; its lock will lapse and another worker will take it');
}
