/**
 * The pipeline thread: builds the real engine (sharp + onnxruntime sessions) and serves the caller's
 * requests, so the work around the graphs never stalls the caller's event loop. Started only by spawn-pipeline-thread.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../../shared/log.js';
import type { PresetCacheStore, TryOnEngine } from '../engine.js';
import type { PresetSource } from '../hairfast/preset-library.js';
import { createTryOnEngine, type TryOnEngineDeps } from '../index.js';
import { deserializeError, serializeError, transferable, type FromThread, type RemoteTarget, type ThreadInit, type ToThread } from './protocol.js';

if (!parentPort) throw new Error('pipeline-thread.ts runs as a worker thread (spawn-pipeline-thread.ts starts it)');
const port = parentPort;
const init = workerData as ThreadInit;
const post = (message: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

let nextCallId = 0;
const calls = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
function callRemote<T>(target: RemoteTarget, method: string, args: unknown[]): Promise<T> {
  const id = nextCallId++;
  return new Promise<T>((resolve, reject) => {
    calls.set(id, { resolve: resolve as (value: unknown) => void, reject });
    post({ type: 'call', id, target, method, args });
  });
}
const remoteStore = (target: RemoteTarget): PresetCacheStore => ({
  get: (key) => callRemote<Uint8Array | null>(target, 'get', [key]),
  set: (key, value) => callRemote<void>(target, 'set', [key, value]),
  delete: (key) => callRemote<void>(target, 'delete', [key]),
});

const deps: TryOnEngineDeps = {
  ...(init.logLevel ? { logger: createLogger({ level: init.logLevel, destination: { write: (line: string) => { post({ type: 'log', line }); return true; } } as unknown as NodeJS.WritableStream }) } : {}),
  ...(init.remote.presetCache ? { presetCache: remoteStore('presetCache') } : {}),
  ...(init.remote.builtinPresetCache ? { builtinPresetCache: remoteStore('builtinPresetCache') } : {}),
  ...(init.remote.presetSource ? { presetSource: (presetId: string) => callRemote<PresetSource | null>('presetSource', 'call', [presetId]) } : {}),
  ...(init.warm !== undefined ? { warm: init.warm } : {}),
};

const aborts = new Map<number, AbortController>();
let engine: TryOnEngine | undefined;

async function serve(message: ToThread): Promise<void> {
  switch (message.type) {
    case 'reply': {
      const call = calls.get(message.id);
      calls.delete(message.id);
      if (message.error) call?.reject(deserializeError(message.error));
      else call?.resolve(message.value);
      return;
    }
    case 'abort':
      aborts.get(message.id)?.abort();
      return;
    case 'dispose':
      try {
        await engine?.dispose();
      } finally {
        post({ type: 'disposed' });
        port.close();
      }
      return;
    case 'tryOn':
    case 'buildPreset': {
      const { id } = message;
      const controller = new AbortController();
      aborts.set(id, controller);
      try {
        if (!engine) throw new Error('the pipeline thread has no engine');
        if (message.type === 'tryOn') {
          const result = await engine.tryOn({ ...message.request, signal: controller.signal, onStage: (stage) => post({ type: 'stage', id, stage }) });
          post({ type: 'done', id, value: result }, transferable(result.image.data));
        } else {
          const result = await engine.buildPreset(message.presetId, message.kind, message.image, controller.signal);
          post({ type: 'done', id, value: result });
        }
      } catch (error) {
        post({ type: 'failed', id, error: serializeError(error) });
      } finally {
        aborts.delete(id);
      }
    }
  }
}

port.on('message', (message: ToThread) => void serve(message));
try {
  engine = await createTryOnEngine(init.config, deps);
  post({ type: 'ready', info: engine.info });
} catch (error) {
  post({ type: 'startFailed', error: serializeError(error) });
  port.close();
}
