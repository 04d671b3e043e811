import type { TryOnEngine } from '../pipeline/engine.js';
import { HairError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { userVisibleFailure } from '../worker/deliver.js';
import { encodeResult } from '../worker/encode-result.js';
import { ABORT_REASONS, classifyFailure } from '../worker/job-failure.js';
import { PIPELINE_TO_JOB_STAGE } from '../worker/try-on-processor.js';
import type { StudioBackend, TryOnOrder } from './backend.js';
import type { JobBoard } from './job-board.js';

export interface InProcessConfig {
  WORKER_CONCURRENCY: number;
  JOB_TIMEOUT_MS: number;
  RESULT_MAX_BYTES: number;
}

/** Finished runs the ETA averages over. */
const ETA_WINDOW = 10;

/**
 * No Redis: the engine runs here, one job at a time per WORKER_CONCURRENCY, first come first served, with the
 * worker's stages, timeout, encoding and error rules. The photo lives in the order until its run starts.
 */
export function createInProcessBackend(config: InProcessConfig, deps: { engine: TryOnEngine; board: JobBoard; logger: Logger }): StudioBackend {
  const waiting: TryOnOrder[] = [];
  const running = new Map<string, AbortController>();
  const recentMs: number[] = [];
  let closed = false;

  const etaAt = (position: number): number | undefined => {
    if (recentMs.length === 0) return undefined;
    const mean = recentMs.reduce((a, b) => a + b, 0) / recentMs.length;
    return Date.now() + Math.ceil(position / config.WORKER_CONCURRENCY) * mean;
  };

  const announcePositions = () => {
    waiting.forEach((order, i) => {
      const at = etaAt(i + 1 + running.size);
      deps.board.progress(order.jobId, { type: 'queued', position: i + 1, ...(at ? { etaAt: at } : {}) });
    });
  };

  async function run(order: TryOnOrder): Promise<void> {
    const cancel = new AbortController();
    running.set(order.jobId, cancel);
    const signal = AbortSignal.any([cancel.signal, AbortSignal.timeout(config.JOB_TIMEOUT_MS)]);
    const started = Date.now();
    const log = deps.logger.child({ jobId: order.jobId });
    let selfie: Uint8Array | undefined = order.selfie;
    order.selfie = new Uint8Array(0);
    try {
      const result = await deps.engine.tryOn({
        selfie,
        ...(order.shapePresetId ? { shape: { presetId: order.shapePresetId } } : {}),
        ...(order.colorPresetId ? { color: { presetId: order.colorPresetId } } : {}),
        pasteBack: true,
        signal,
        onStage: (stage) => deps.board.progress(order.jobId, { type: 'stage', stage: PIPELINE_TO_JOB_STAGE[stage] }),
      });
      selfie = undefined;
      signal.throwIfAborted();
      deps.board.progress(order.jobId, { type: 'stage', stage: 'uploading' });
      const encoded = await encodeResult(result.image, config.RESULT_MAX_BYTES);
      const totalMs = Date.now() - started;
      recentMs.push(totalMs);
      if (recentMs.length > ETA_WINDOW) recentMs.shift();
      deps.board.finish(order.jobId, { result: { bytes: encoded.data, format: encoded.format, width: encoded.width, height: encoded.height, totalMs } });
      log.info({ totalMs, bytes: encoded.data.length }, 'studio try-on done in process');
    } catch (caught) {
      const reason = signal.aborted && !cancel.signal.aborted ? ABORT_REASONS.timeout : undefined;
      const error = reason ?? classifyFailure(caught, signal);
      if (error.code === 'INTERNAL') log.error({ err: caught }, 'studio try-on failed');
      else log.info({ code: error.code }, 'studio try-on refused');
      const { code, params } = userVisibleFailure(error, order.jobId);
      const clean = Object.fromEntries(Object.entries(params).filter((e): e is [string, string | number | boolean] => e[1] !== undefined));
      deps.board.finish(order.jobId, { error: { type: 'error', code, params: clean } });
    } finally {
      selfie = undefined;
      running.delete(order.jobId);
      pump();
    }
  }

  function pump(): void {
    while (!closed && running.size < config.WORKER_CONCURRENCY && waiting.length > 0) void run(waiting.shift()!);
    announcePositions();
  }

  return {
    mode: 'in-process',
    async submit(order) {
      if (closed) throw new HairError('QUEUE_PAUSED');
      waiting.push(order);
      deps.board.progress(order.jobId, { type: 'queued', position: waiting.length });
      pump();
    },
    async cancel(jobId) {
      const index = waiting.findIndex((o) => o.jobId === jobId);
      if (index >= 0) {
        waiting.splice(index, 1);
        deps.board.finish(jobId, { error: { type: 'error', code: 'JOB_CANCELLED', params: {} } });
        announcePositions();
      }
      running.get(jobId)?.abort(ABORT_REASONS.cancelled);
    },
    async close() {
      closed = true;
      waiting.length = 0;
      for (const controller of running.values()) controller.abort(ABORT_REASONS.cancelled);
    },
  };
}
