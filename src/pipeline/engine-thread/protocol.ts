/**
 * Messages between a threaded engine (spawn-pipeline-thread.ts, on the caller's thread) and its pipeline thread
 * (pipeline-thread.ts). Plain structured-cloneable values only: requests carry bytes, never callbacks; the thread asks
 * back for what the caller's side owns (preset caches, preset sources) with `call`, and its log lines come back as
 * JSON for the caller's logger.
 */
import { HairError, isErrorCode, toHairError, type ErrorParams } from '../../shared/errors.js';
import type { PresetKind } from '../../shared/presets.js';
import type { EngineConfig } from '../index.js';
import type { EngineInfo, HairReference, PipelineStage, PresetBuildResult, TryOnResult } from '../engine.js';

/** What the thread is started with (`workerData`). */
export interface ThreadInit {
  config: EngineConfig;
  /** The caller's log level; absent = the caller passed no logger, the thread logs nothing. */
  logLevel?: string;
  /** Which stores and sources the caller owns; the thread uses its own defaults for the others. */
  remote: { presetCache: boolean; builtinPresetCache: boolean; presetSource: boolean };
  warm?: boolean;
}

/** The caller-side objects the thread may call. */
export type RemoteTarget = 'presetCache' | 'builtinPresetCache' | 'presetSource';

export interface SerializedError {
  code: string;
  params: ErrorParams;
  detail?: string;
}

/** The work a thread is asked for; the caller's side numbers each one (`id`) per thread. */
export type ThreadRequest =
  | { type: 'tryOn'; request: { selfie: Uint8Array; shape?: HairReference; color?: HairReference; pasteBack: boolean } }
  | { type: 'buildPreset'; presetId: string; kind: PresetKind; image: Uint8Array };

export type ToThread =
  | (ThreadRequest & { id: number })
  | { type: 'abort'; id: number }
  | { type: 'reply'; id: number; value?: unknown; error?: SerializedError }
  | { type: 'dispose' };

export type FromThread =
  | { type: 'ready'; info: EngineInfo }
  | { type: 'startFailed'; error: SerializedError }
  | { type: 'stage'; id: number; stage: PipelineStage }
  | { type: 'done'; id: number; value: TryOnResult | PresetBuildResult }
  | { type: 'failed'; id: number; error: SerializedError }
  | { type: 'call'; id: number; target: RemoteTarget; method: string; args: unknown[] }
  | { type: 'log'; line: string }
  | { type: 'disposed' };

/** A thrown value as a message: HairErrors keep code, params and detail; anything else becomes INTERNAL. */
export function serializeError(value: unknown): SerializedError {
  const error = toHairError(value);
  const { detail } = error;
  return { code: error.code, params: { ...error.params }, ...(detail ? { detail } : {}) };
}

export function deserializeError(error: SerializedError): HairError {
  const code = isErrorCode(error.code) ? error.code : 'INTERNAL';
  return HairError.of(code, { ...error.params } as Parameters<typeof HairError.of>[1], error.detail ? { detail: error.detail } : undefined);
}

/**
 * The buffers of a typed array that can move to the other thread without a copy: only one that owns its whole
 * ArrayBuffer (a view into a pooled or shared buffer would take its neighbours along).
 */
export function transferable(data: Uint8Array): ArrayBuffer[] {
  const { buffer } = data;
  return buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === buffer.byteLength ? [buffer] : [];
}
