/**
 * The try-on engine on its own thread. onnxruntime-node runs the graphs themselves off the JavaScript thread, but the
 * work between them — feeds and outputs copied into JS arrays, tensor packing, masks, paste-back arithmetic — runs on
 * it, and on the real architecture that stalled the worker's event loop (BullMQ's lock renewals, progress edits,
 * /metrics, the studio's pages) up to 0.84 s per try-on, 0.96 s in all (2-core CPU, `npm run bench:engine-thread`).
 * Here the engine lives in a worker thread (0.09 s / 0.12 s) and only bytes cross: the request's photos in, the
 * result's pixels out (moved, not copied). Preset caches and sources stay on this side; the thread calls back for them.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import '../runtime/ort-env.js'; // the thread's onnxruntime reads the process environment, set here
import { HairError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { PresetKind } from '../../shared/presets.js';
import type { EngineInfo, PresetBuildResult, PipelineStage, TryOnEngine, TryOnRequest, TryOnResult } from '../engine.js';
import { preferSwap } from '../hairfast/graphs.js';
import type { EngineConfig, TryOnEngineDeps } from '../index.js';
import { deserializeError, serializeError, type FromThread, type RemoteTarget, type ThreadInit, type ToThread } from './protocol.js';

export type ThreadedEngineDeps = Omit<TryOnEngineDeps, 'manager'>;

/**
 * The built thread entry beside this module. From sources (vitest, tsx) the .ts one, through a bootstrap that
 * registers tsx's loader in the new thread first (Node 20 does not apply `--import` hooks to worker threads).
 */
function threadEntry(): { file: string | URL; eval: boolean } {
  const self = fileURLToPath(import.meta.url);
  if (!self.endsWith('.ts')) return { file: new URL('./pipeline-thread.js', import.meta.url), eval: false };
  const entry = new URL('./pipeline-thread.ts', import.meta.url).href;
  return { file: `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`, eval: true };
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onStage?: (stage: PipelineStage) => void;
}

/** pino's numeric levels, for replaying the thread's lines on this side's logger. */
const LEVEL_NAMES: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal',
};

function replayLog(logger: Logger, line: string): void {
  try {
    const { level, msg, time: _time, pid: _pid, hostname: _hostname, name: _name, ...fields } = JSON.parse(line) as Record<string, unknown>;
    const method = LEVEL_NAMES[Number(level)] ?? 'info';
    logger[method](fields, typeof msg === 'string' ? msg : '');
  } catch {
    logger.warn('pipeline thread wrote a log line that is not JSON');
  }
}

/**
 * Starts the pipeline thread and resolves once its engine is loaded and warm (or rejects with its load error, e.g.
 * MODEL_MISSING, as `createTryOnEngine` would). If the thread dies, the requests it held and every later one fail
 * with the reason (OUT_OF_MEMORY when its heap ran out, else INTERNAL), logged once as an error.
 */
export async function createThreadedTryOnEngine(config: EngineConfig, deps: ThreadedEngineDeps = {}): Promise<TryOnEngine> {
  const { logger } = deps;
  const init: ThreadInit = {
    config: preferSwap(config),
    ...(logger ? { logLevel: logger.level } : {}),
    remote: { presetCache: !!deps.presetCache, builtinPresetCache: !!deps.builtinPresetCache, presetSource: !!deps.presetSource },
    ...(deps.warm !== undefined ? { warm: deps.warm } : {}),
  };
  const entry = threadEntry();
  const thread = new Worker(entry.file, { workerData: init, eval: entry.eval });
  const post = (message: ToThread) => thread.postMessage(message);

  let nextId = 0;
  const pending = new Map<number, Pending>();
  let dead: HairError | undefined;
  let disposed: Promise<void> | undefined;
  let resolveDisposed: (() => void) | undefined;
  let settleStart: { resolve: (info: EngineInfo) => void; reject: (error: Error) => void } | undefined;
  const started = new Promise<EngineInfo>((resolve, reject) => { settleStart = { resolve, reject }; });

  const answer = async (id: number, target: RemoteTarget, method: string, args: unknown[]) => {
    try {
      let value: unknown;
      if (target === 'presetSource') value = await deps.presetSource!(args[0] as string);
      else {
        const store = deps[target]!;
        if (method === 'get') value = await store.get(args[0] as string);
        else if (method === 'set') value = await store.set(args[0] as string, args[1] as Uint8Array);
        else value = await store.delete(args[0] as string);
      }
      post({ type: 'reply', id, value });
    } catch (error) {
      post({ type: 'reply', id, error: serializeError(error) });
    }
  };

  thread.on('message', (message: FromThread) => {
    switch (message.type) {
      case 'ready': return settleStart?.resolve(message.info);
      case 'startFailed': return settleStart?.reject(deserializeError(message.error));
      case 'stage': return pending.get(message.id)?.onStage?.(message.stage);
      case 'done': {
        const request = pending.get(message.id);
        pending.delete(message.id);
        return request?.resolve(message.value);
      }
      case 'failed': {
        const request = pending.get(message.id);
        pending.delete(message.id);
        return request?.reject(deserializeError(message.error));
      }
      case 'call': return void answer(message.id, message.target, message.method, message.args);
      case 'log': return logger ? replayLog(logger, message.line) : undefined;
      case 'disposed': return resolveDisposed?.();
    }
  });
  const die = (error: HairError) => {
    if (dead) return;
    dead = error;
    settleStart?.reject(error);
    for (const request of pending.values()) request.reject(error);
    pending.clear();
    resolveDisposed?.();
  };
  thread.on('error', (error: Error & { code?: string }) => {
    const code = error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'OUT_OF_MEMORY' : 'INTERNAL';
    if (!disposed) logger?.error({ err: error }, 'the pipeline thread failed');
    die(HairError.of(code, { stage: 'pipeline-thread' }, { cause: error, detail: `pipeline thread: ${error.message}` }));
  });
  thread.on('exit', (exitCode) => {
    if (!disposed && !dead) logger?.error({ exitCode }, 'the pipeline thread exited');
    die(new HairError('INTERNAL', { stage: 'pipeline-thread' }, { detail: `the pipeline thread exited (code ${exitCode})` }));
  });

  let info: EngineInfo;
  try {
    info = await started;
  } catch (error) {
    await thread.terminate();
    throw error;
  }

  const request = <T>(message: ToThread & { id: number }, signal?: AbortSignal, onStage?: (stage: PipelineStage) => void): Promise<T> => {
    if (dead) return Promise.reject(dead);
    if (disposed) return Promise.reject(new HairError('INTERNAL', { stage: 'pipeline-thread' }, { detail: 'the engine was disposed' }));
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => post({ type: 'abort', id: message.id });
      pending.set(message.id, {
        resolve: (value) => { signal?.removeEventListener('abort', onAbort); resolve(value as T); },
        reject: (error) => { signal?.removeEventListener('abort', onAbort); reject(error); },
        ...(onStage ? { onStage } : {}),
      });
      post(message);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  };

  return {
    info: Object.freeze(info),
    tryOn(tryOn: TryOnRequest): Promise<TryOnResult> {
      const { selfie, shape, color, pasteBack, signal, onStage } = tryOn;
      const message: ToThread & { id: number } = {
        type: 'tryOn', id: nextId++, request: { selfie, ...(shape ? { shape } : {}), ...(color ? { color } : {}), pasteBack },
      };
      return request<TryOnResult>(message, signal, onStage);
    },
    buildPreset(presetId: string, kind: PresetKind, image: Uint8Array, signal?: AbortSignal): Promise<PresetBuildResult> {
      return request<PresetBuildResult>({ type: 'buildPreset', id: nextId++, presetId, kind, image }, signal);
    },
    dispose(): Promise<void> {
      disposed ??= (async () => {
        if (!dead) {
          const done = new Promise<void>((resolve) => { resolveDisposed = resolve; });
          post({ type: 'dispose' });
          await done;
        }
        await thread.terminate();
      })();
      return disposed;
    },
  };
}

