/**
 * One pipeline thread seen from the caller's side: starts pipeline-thread.ts, forwards requests and their stages,
 * answers the thread's calls back for the caller's stores and sources, and replays its log lines. If the thread dies
 * while serving, it fails the requests it held and tells its owner once; whether to start another is
 * threaded-engine.ts's decision.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import '../runtime/ort-env.js'; // the thread's onnxruntime reads the process environment, set here
import { HairError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { EngineInfo, PipelineStage } from '../engine.js';
import type { TryOnEngineDeps } from '../index.js';
import { deserializeError, serializeError, type FromThread, type RemoteTarget, type ThreadInit, type ThreadRequest, type ToThread } from './protocol.js';

export interface PipelineThread {
  /** The engine's info once loaded and warm; else its load error (e.g. MODEL_MISSING) or why the thread died. */
  readonly ready: Promise<EngineInfo>;
  request<T>(message: ThreadRequest, signal?: AbortSignal, onStage?: (stage: PipelineStage) => void): Promise<T>;
  /** Disposes the engine in the thread, then ends the thread (at once when it is not serving). */
  dispose(): Promise<void>;
  /** Ends the thread at once. */
  terminate(): Promise<void>;
}

/** What the thread calls back for and where its log lines go: the caller's side of the engine's deps. */
export type ThreadCallerDeps = Pick<TryOnEngineDeps, 'logger' | 'presetCache' | 'builtinPresetCache' | 'presetSource'>;

/** Why a thread that was serving is gone: the error its in-flight requests got, and how many there were. */
export type ThreadDeathListener = (error: HairError, inFlight: number) => void;

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

/** The caller-side store or source a thread's `call` names, run here. */
async function callerSide(deps: ThreadCallerDeps, target: RemoteTarget, method: string, args: unknown[]): Promise<unknown> {
  if (target === 'presetSource') return deps.presetSource!(args[0] as string);
  const store = deps[target]!;
  if (method === 'get') return store.get(args[0] as string);
  if (method === 'set') return store.set(args[0] as string, args[1] as Uint8Array);
  return store.delete(args[0] as string);
}

/** How a thread's end reads to the requests it held: OUT_OF_MEMORY when its heap ran out, else INTERNAL. */
function threadError(error: Error & { code?: string }): HairError {
  const code = error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'OUT_OF_MEMORY' : 'INTERNAL';
  return HairError.of(code, { stage: 'pipeline-thread' }, { cause: error, detail: `pipeline thread: ${error.message}` });
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onStage?: (stage: PipelineStage) => void;
}

/** Starts a pipeline thread; `ready` says when (or whether) its engine is loaded. `onDeath` hears of a death once. */
export function spawnPipelineThread(init: ThreadInit, deps: ThreadCallerDeps, onDeath: ThreadDeathListener): PipelineThread {
  const { logger } = deps;
  const entry = threadEntry();
  const thread = new Worker(entry.file, { workerData: init, eval: entry.eval });
  const post = (message: ToThread) => thread.postMessage(message);

  let phase: 'starting' | 'serving' | 'stopping' | 'gone' = 'starting';
  let nextId = 0;
  const pending = new Map<number, Pending>();
  let resolveDisposed: (() => void) | undefined;
  let settleStart!: { resolve: (info: EngineInfo) => void; reject: (error: Error) => void };
  const ready = new Promise<EngineInfo>((resolve, reject) => { settleStart = { resolve, reject }; });

  const answer = async (id: number, target: RemoteTarget, method: string, args: unknown[]) => {
    try {
      post({ type: 'reply', id, value: await callerSide(deps, target, method, args) });
    } catch (error) {
      post({ type: 'reply', id, error: serializeError(error) });
    }
  };
  const settle = (id: number) => {
    const request = pending.get(id);
    pending.delete(id);
    return request;
  };

  thread.on('message', (message: FromThread) => {
    switch (message.type) {
      case 'ready':
        if (phase === 'starting') phase = 'serving';
        return settleStart.resolve(message.info);
      case 'startFailed': return settleStart.reject(deserializeError(message.error));
      case 'stage': return pending.get(message.id)?.onStage?.(message.stage);
      case 'done': return settle(message.id)?.resolve(message.value);
      case 'failed': return settle(message.id)?.reject(deserializeError(message.error));
      case 'call': return void answer(message.id, message.target, message.method, message.args);
      case 'log': return logger ? replayLog(logger, message.line) : undefined;
      case 'disposed': return resolveDisposed?.();
    }
  });
  // 'error' (an uncaught exception, ERR_WORKER_OUT_OF_MEMORY) is followed by 'exit': the first one names the death.
  const die = (error: HairError) => {
    if (phase === 'gone') return;
    const wasServing = phase === 'serving';
    phase = 'gone';
    settleStart.reject(error);
    const inFlight = pending.size;
    for (const request of pending.values()) request.reject(error);
    pending.clear();
    resolveDisposed?.();
    if (wasServing) onDeath(error, inFlight);
  };
  thread.on('error', (error: Error & { code?: string }) => die(threadError(error)));
  thread.on('exit', (exitCode) => die(new HairError('INTERNAL', { stage: 'pipeline-thread' }, { detail: `the pipeline thread exited (code ${exitCode})` })));

  const terminate = async () => {
    if (phase !== 'gone') phase = 'stopping';
    await thread.terminate();
  };

  return {
    ready,
    request<T>(message: ThreadRequest, signal?: AbortSignal, onStage?: (stage: PipelineStage) => void): Promise<T> {
      if (phase !== 'serving') return Promise.reject(new HairError('INTERNAL', { stage: 'pipeline-thread' }, { detail: `the pipeline thread is ${phase}` }));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const onAbort = () => post({ type: 'abort', id });
        pending.set(id, {
          resolve: (value) => { signal?.removeEventListener('abort', onAbort); resolve(value as T); },
          reject: (error) => { signal?.removeEventListener('abort', onAbort); reject(error); },
          ...(onStage ? { onStage } : {}),
        });
        post({ ...message, id });
        if (signal?.aborted) onAbort();
        else signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    async dispose() {
      if (phase !== 'serving') return terminate();
      phase = 'stopping';
      const done = new Promise<void>((resolve) => { resolveDisposed = resolve; });
      post({ type: 'dispose' });
      await done;
      await thread.terminate();
    },
    terminate,
  };
}
