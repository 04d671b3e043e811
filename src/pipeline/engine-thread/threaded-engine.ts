/**
 * The try-on engine on its own thread. onnxruntime-node runs the graphs themselves off the JavaScript thread, but the
 * work between them — feeds and outputs copied into JS arrays, tensor packing, masks, paste-back arithmetic — runs on
 * it, and on the real architecture that stalled the worker's event loop (BullMQ's lock renewals, progress edits,
 * /metrics, the studio's pages) up to 0.84 s per try-on, 0.96 s in all (2-core CPU, `npm run bench:engine-thread`).
 * Here the engine lives in a worker thread (0.09 s / 0.12 s) and only bytes cross: the request's photos in, the
 * result's pixels out (moved, not copied). Preset caches and sources stay on this side; the thread calls back for them.
 * A thread that dies is replaced (spawn-pipeline-thread.ts is one thread; the restart policy is here).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HairError, toHairError } from '../../shared/errors.js';
import type { PresetKind } from '../../shared/presets.js';
import type { EngineInfo, PipelineStage, PresetBuildResult, TryOnEngine, TryOnRequest, TryOnResult } from '../engine.js';
import { preferSwap } from '../hairfast/graphs.js';
import type { EngineConfig, TryOnEngineDeps } from '../index.js';
import type { ThreadInit, ThreadRequest } from './protocol.js';
import { spawnPipelineThread, type PipelineThread } from './spawn-pipeline-thread.js';

/** How a pipeline thread that died is replaced. */
export interface RestartPolicy {
  /** Consecutive restarts that fail to load after which the engine stays down. @defaultValue 5 */
  maxFailures: number;
  /** The wait after the first failed restart; it doubles after each further one. @defaultValue 1000 */
  backoffMs: number;
  /** The longest wait between two restarts. @defaultValue 30000 */
  maxBackoffMs: number;
}

export const DEFAULT_RESTART_POLICY: Readonly<RestartPolicy> = Object.freeze({ maxFailures: 5, backoffMs: 1_000, maxBackoffMs: 30_000 });

/** What the engine tells its owner about its thread after the first start (readiness, metrics). */
export type PipelineThreadEvent =
  /** The thread died; its in-flight requests failed with `error`, and a new one is loading. */
  | { state: 'restarting'; error: HairError }
  /** A restarted thread has its engine loaded and warm. */
  | { state: 'up'; info: EngineInfo }
  /** Every restart failed to load (`error` is the last load error): requests fail with it until the process restarts. */
  | { state: 'down'; error: HairError };

export interface ThreadedEngineDeps extends Omit<TryOnEngineDeps, 'manager'> {
  /** @defaultValue {@link DEFAULT_RESTART_POLICY} */
  restart?: Partial<RestartPolicy>;
  /** Told when the thread dies, is back, or stays down; never for the first start or for dispose(). */
  onThreadEvent?: (event: PipelineThreadEvent) => void;
}

type EngineState =
  | { kind: 'up'; thread: PipelineThread }
  /** `next` is the thread that will serve: resolves once loaded, rejects with that attempt's load error. */
  | { kind: 'restarting'; next: Promise<PipelineThread> }
  | { kind: 'down'; error: HairError }
  | { kind: 'disposed' };

const disposedError = () => new HairError('INTERNAL', { stage: 'pipeline-thread' }, { detail: 'the engine was disposed' });

/** `promise`, or JOB_CANCELLED as soon as `signal` aborts (a request waiting for a restarted thread). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(new HairError('JOB_CANCELLED', { stage: 'pipeline-thread' }));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new HairError('JOB_CANCELLED', { stage: 'pipeline-thread' }));
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The wait before the restart after `failures` failed ones. */
function restartBackoffMs(policy: RestartPolicy, failures: number): number {
  return failures <= 0 ? 0 : Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** (failures - 1));
}

/**
 * Starts the pipeline thread and resolves once its engine is loaded and warm (or rejects with its load error, e.g.
 * MODEL_MISSING, as `createTryOnEngine` would). If the thread dies later, the requests it held fail with the reason
 * (OUT_OF_MEMORY when its heap ran out, else INTERNAL) and a new thread loads with the same settings; requests made
 * meanwhile wait for it. A restart that fails to load fails the requests waiting for it with its load error and is
 * tried again after a backoff, up to `restart.maxFailures` in a row; then the engine stays down.
 */
export async function createThreadedTryOnEngine(config: EngineConfig, deps: ThreadedEngineDeps = {}): Promise<TryOnEngine> {
  const { logger, onThreadEvent } = deps;
  const policy: RestartPolicy = { ...DEFAULT_RESTART_POLICY, ...deps.restart };
  const init: ThreadInit = {
    config: preferSwap(config),
    ...(logger ? { logLevel: logger.level } : {}),
    remote: { presetCache: !!deps.presetCache, builtinPresetCache: !!deps.builtinPresetCache, presetSource: !!deps.presetSource },
    ...(deps.warm !== undefined ? { warm: deps.warm } : {}),
  };
  const stopRestarts = new AbortController();
  let starting: PipelineThread | undefined;
  let info!: EngineInfo;
  let state: EngineState;

  /** A new thread, resolved once its engine is loaded; ended again if it fails to load. */
  async function startThread(): Promise<PipelineThread> {
    const thread: PipelineThread = spawnPipelineThread(init, deps, (error, inFlight) => died(thread, error, inFlight));
    starting = thread;
    try {
      info = Object.freeze(await thread.ready);
      return thread;
    } catch (error) {
      await thread.terminate();
      throw error;
    } finally {
      if (starting === thread) starting = undefined;
    }
  }

  function died(thread: PipelineThread, error: HairError, inFlight: number): void {
    if (state.kind !== 'up' || state.thread !== thread) return;
    logger?.error({ code: error.code, inFlight, err: error }, `the pipeline thread died (${error.code}); ${inFlight} request(s) failed with it, restarting it`);
    onThreadEvent?.({ state: 'restarting', error });
    restart(performance.now(), 0);
  }

  function restart(since: number, failures: number): void {
    const next = (async () => {
      if (failures > 0) await sleep(restartBackoffMs(policy, failures), undefined, { signal: stopRestarts.signal });
      return startThread();
    })();
    state = { kind: 'restarting', next };
    next.then(
      (thread) => {
        if (state.kind === 'disposed') return void thread.terminate();
        state = { kind: 'up', thread };
        logger?.info({ attempts: failures + 1, restartMs: Math.round(performance.now() - since) }, 'the pipeline thread is back: restarted and warm');
        onThreadEvent?.({ state: 'up', info });
      },
      (error: unknown) => {
        if (state.kind === 'disposed') return;
        const loadError = toHairError(error);
        const attempts = failures + 1;
        if (attempts < policy.maxFailures) {
          logger?.warn({ code: loadError.code, attempts, retryInMs: restartBackoffMs(policy, attempts) }, `the pipeline thread did not restart: ${loadError.message}`);
          return restart(since, attempts);
        }
        state = { kind: 'down', error: loadError };
        logger?.error({ code: loadError.code, attempts }, `the pipeline thread did not restart in ${attempts} attempts and stays down: ${loadError.message}; fix that, then restart the process`);
        onThreadEvent?.({ state: 'down', error: loadError });
      },
    );
  }

  /** The thread that serves a request now, or once it is back. */
  async function serving(signal: AbortSignal | undefined): Promise<PipelineThread> {
    const now = state;
    if (now.kind === 'up') return now.thread;
    if (now.kind === 'down') throw now.error;
    if (now.kind === 'disposed') throw disposedError();
    try {
      return await untilAborted(now.next, signal);
    } catch (error) {
      throw state.kind === 'disposed' ? disposedError() : error;
    }
  }

  const request = async <T>(message: ThreadRequest, signal?: AbortSignal, onStage?: (stage: PipelineStage) => void): Promise<T> =>
    (await serving(signal)).request<T>(message, signal, onStage);

  state = { kind: 'up', thread: await startThread() };
  let disposing: Promise<void> | undefined;
  return {
    get info() {
      return info;
    },
    tryOn(tryOn: TryOnRequest): Promise<TryOnResult> {
      const { selfie, shape, color, pasteBack, signal, onStage } = tryOn;
      return request<TryOnResult>({ type: 'tryOn', request: { selfie, ...(shape ? { shape } : {}), ...(color ? { color } : {}), pasteBack } }, signal, onStage);
    },
    buildPreset(presetId: string, kind: PresetKind, image: Uint8Array, signal?: AbortSignal): Promise<PresetBuildResult> {
      return request<PresetBuildResult>({ type: 'buildPreset', presetId, kind, image }, signal);
    },
    dispose(): Promise<void> {
      disposing ??= (async () => {
        const last = state;
        state = { kind: 'disposed' };
        stopRestarts.abort();
        await starting?.terminate();
        if (last.kind === 'up') await last.thread.dispose();
      })();
      return disposing;
    },
  };
}
