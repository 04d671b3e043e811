import { QueueEvents } from 'bullmq';
import { createRedisConnector } from '../redis/redis-connector.js';
import type { Enqueuer } from '../bot/enqueue.js';
import { HairError } from '../shared/errors.js';
import type { RedisConfig } from '../shared/config.js';
import { jobProgressSchema, parseJobFailure, QUEUE_NAMES, type TryOnJobInput } from '../shared/job.js';
import type { Logger } from '../shared/log.js';
import type { StudioBackend } from './backend.js';
import type { JobBoard } from './job-board.js';
import type { SelfieStore } from './selfie-store.js';

export interface QueueBackendDeps {
  enqueuer: Enqueuer;
  board: JobBoard;
  selfies: SelfieStore;
  /** Where workers reach this studio: `<publicUrl>/worker/selfie/<token>` and `<publicUrl>/worker/callback/<jobId>`. */
  publicUrl: () => string;
  /** The selfie URL's byte limit (the worker enforces it while streaming). */
  maxBytes: number;
  logger: Logger;
}

/** How often waiting jobs' queue positions are read again. */
const POSITION_POLL_MS = 1_000;

/**
 * Redis answered: studio try-ons go through the same BullMQ queue and workers as Discord's. The job carries a
 * one-time URL for the photo (held here in memory) and the callback the worker answers; stages arrive through
 * QueueEvents, positions by polling the waiting list.
 */
export async function createQueueBackend(config: RedisConfig, deps: QueueBackendDeps): Promise<StudioBackend> {
  const connector = createRedisConnector(config);
  const events = new QueueEvents(QUEUE_NAMES.tryOn, { connection: connector.bullmq({ waitForever: true }), prefix: config.QUEUE_PREFIX });
  await events.waitUntilReady();
  const waiting = new Map<string, number>();
  const selfieTokens = new Map<string, string>();

  const guard = (what: string, run: () => Promise<void>) => run().catch((err: unknown) => deps.logger.warn({ err, what }, 'studio queue watch failed'));

  events.on('progress', ({ jobId, data }) => {
    const progress = jobProgressSchema.safeParse(data);
    if (!progress.success || deps.board.isFinished(jobId)) return;
    waiting.delete(jobId);
    deps.board.progress(jobId, { type: 'stage', stage: progress.data.stage });
  });
  events.on('active', ({ jobId }) => {
    waiting.delete(jobId);
  });
  // The callback normally reports first; this covers jobs whose worker could not (invalid data, stalled too often).
  events.on('failed', ({ jobId, failedReason }) => {
    waiting.delete(jobId);
    forgetSelfie(jobId);
    const failure = parseJobFailure(failedReason);
    deps.board.finish(jobId, { error: { type: 'error', code: failure.code, params: failure.code === 'INTERNAL' ? { jobId } : failure.params } });
  });
  events.on('completed', ({ jobId }) => {
    waiting.delete(jobId);
    forgetSelfie(jobId);
  });

  function forgetSelfie(jobId: string): void {
    const token = selfieTokens.get(jobId);
    if (token) deps.selfies.drop(token);
    selfieTokens.delete(jobId);
  }

  const poll = setInterval(() => {
    for (const [jobId, last] of waiting) {
      void guard('position', async () => {
        if (deps.board.isFinished(jobId)) return void waiting.delete(jobId);
        const position = await deps.enqueuer.position(jobId);
        if (position === undefined) return void waiting.delete(jobId);
        if (position === last) return;
        waiting.set(jobId, position);
        deps.board.progress(jobId, { type: 'queued', position, etaAt: await deps.enqueuer.estimate(position) });
      });
    }
  }, POSITION_POLL_MS);
  poll.unref();

  let closing: Promise<void> | undefined;
  return {
    mode: 'queue',
    async submit(order) {
      if (await deps.enqueuer.isPaused()) throw new HairError('QUEUE_PAUSED');
      const token = deps.selfies.hold({ bytes: order.selfie, contentType: order.contentType });
      selfieTokens.set(order.jobId, token);
      const input: TryOnJobInput = {
        via: 'studio',
        locale: order.locale,
        ...(order.guildId ? { guildId: order.guildId } : {}),
        reply: { callbackUrl: `${deps.publicUrl()}/worker/callback/${order.jobId}`, callbackToken: order.callbackToken },
        selfie: { url: `${deps.publicUrl()}/worker/selfie/${token}`, size: order.selfie.length, contentType: order.contentType, maxBytes: deps.maxBytes },
        ...(order.shapePresetId ? { shapePresetId: order.shapePresetId } : {}),
        ...(order.colorPresetId ? { colorPresetId: order.colorPresetId } : {}),
        origin: order.origin,
        requestedAt: Date.now(),
      };
      try {
        const enqueued = await deps.enqueuer.enqueueTryOn(order.jobId, input);
        waiting.set(order.jobId, enqueued.position);
        deps.board.progress(order.jobId, { type: 'queued', position: enqueued.position, etaAt: enqueued.etaAt });
      } catch (error) {
        forgetSelfie(order.jobId);
        throw error;
      }
    },
    async cancel(jobId) {
      const outcome = await deps.enqueuer.cancel(jobId, 'studio');
      if (outcome === 'removed') {
        forgetSelfie(jobId);
        waiting.delete(jobId);
        deps.board.finish(jobId, { error: { type: 'error', code: 'JOB_CANCELLED', params: {} } });
      }
    },
    close() {
      closing ??= (async () => {
        clearInterval(poll);
        await events.close();
        await connector.close();
        for (const jobId of [...selfieTokens.keys()]) forgetSelfie(jobId);
      })();
      return closing;
    },
  };
}
