/**
 * The seam between the worker and the pipeline: what the worker calls, what the pipeline returns.
 * Types only; `createTryOnEngine` (src/pipeline/index.ts) builds the real one from warm sessions.
 */
import type { HairfastPrecision } from '../shared/config.js';
import type { PresetKind } from '../shared/presets.js';
import type { LicenseNotice } from '../shared/model-licenses.js';

/** Pipeline stages reported to the caller while a request runs (the worker adds downloading/uploading). */
export type PipelineStage = 'detecting' | 'aligning' | 'transferring' | 'pasting';

/**
 * A preset is named by a stable id: `builtin:<slug>` for styles/, `guild:<guildId>:<slug>` for moderators' presets.
 * Either side of a request may instead be an image the user gave (raw photo bytes).
 */
export type HairReference = { presetId: string } | { image: Uint8Array };

export interface TryOnRequest {
  /** The selfie, raw bytes as uploaded. Never written to disk or logged. */
  selfie: Uint8Array;
  shape?: HairReference;
  color?: HairReference;
  /** Paste the 1024² result back into the original photo (the bot's default). */
  pasteBack: boolean;
  signal?: AbortSignal;
  onStage?: (stage: PipelineStage) => void;
}

export interface RgbImage {
  /** Packed 8-bit RGB, row-major, no padding. */
  data: Uint8Array;
  width: number;
  height: number;
}

export interface TryOnResult {
  image: RgbImage;
  /** Milliseconds per stage and 'total'. */
  timings: Record<string, number>;
  /** Which HairFastGAN graphs ran: 'contract' | 'random' | 'official'. */
  modelKind: string;
  /** How many times each HairFastGAN graph ran for this request (shows cache hits and deduplication). */
  graphRuns?: Record<string, number>;
}

export interface PresetBuildResult {
  presetId: string;
  kind: PresetKind;
  /** A small JPEG of the aligned preset face, for galleries. */
  thumbnail: Uint8Array;
  /** Bytes of the stored cache entry. */
  cacheBytes: number;
}

/** Binary storage for preset caches: files for built-ins, Redis for moderators' presets on many hosts. */
export interface PresetCacheStore {
  get(key: string): Promise<Uint8Array | null>;
  set(key: string, value: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface EngineInfo {
  executionProvider: string;
  modelKind: string;
  /** Which variants of the HairFastGAN graphs are loaded. */
  precision: HairfastPrecision;
  /** ms to create and warm every session. */
  loadMs: number;
  /** Restricted upstream licenses of the loaded HairFastGAN graphs (none for contract graphs); absent = none. */
  licenses?: readonly LicenseNotice[];
}

export interface TryOnEngine {
  readonly info: EngineInfo;
  tryOn(request: TryOnRequest): Promise<TryOnResult>;
  /** Checks the image has exactly one usable face, then computes and stores everything the preset alone decides. */
  buildPreset(presetId: string, kind: PresetKind, image: Uint8Array, signal?: AbortSignal): Promise<PresetBuildResult>;
  dispose(): Promise<void>;
}
