/**
 * The engine the worker tests run. STAND-IN until `createTryOnEngine` (src/pipeline/index.ts, issue 4) is on this
 * branch: it decodes the selfie with sharp for real (so wrong types fail as UNSUPPORTED_FORMAT), reports every
 * stage, honours the AbortSignal and returns an image derived from the input — but runs no face model.
 * Switching to the real engine is this one file (see createTestEngine).
 */
import sharp from 'sharp';
import type { EngineFactory } from '../../src/worker/create-worker.js';
import type { PipelineStage, TryOnEngine } from '../../src/pipeline/engine.js';
import { HairError } from '../../src/shared/errors.js';

export const TEST_ENGINE_KIND = 'sharp-stand-in';

async function decode(bytes: Uint8Array, size: number) {
  try {
    return await sharp(bytes).rotate().resize(size, size, { fit: 'cover' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new HairError('UNSUPPORTED_FORMAT', {}, { cause: error });
  }
}

export const createTestEngine: EngineFactory = async (_config, deps) => {
  const started = performance.now();
  await decode(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } }).png().toBuffer(), 8);
  const engine: TryOnEngine = {
    info: { executionProvider: 'cpu', modelKind: TEST_ENGINE_KIND, loadMs: performance.now() - started },
    async tryOn(request) {
      const timings: Record<string, number> = {};
      const t0 = performance.now();
      const stage = (name: PipelineStage) => {
        request.signal?.throwIfAborted();
        request.onStage?.(name);
      };
      stage('detecting');
      const { data, info } = await decode(request.selfie, 256);
      stage('aligning');
      stage('transferring');
      const shifted = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
        .modulate({ hue: 90 })
        .raw()
        .toBuffer();
      if (request.pasteBack) stage('pasting');
      timings.total = performance.now() - t0;
      return { image: { data: new Uint8Array(shifted), width: info.width, height: info.height }, timings, modelKind: TEST_ENGINE_KIND };
    },
    async buildPreset(presetId, kind, image, signal) {
      signal?.throwIfAborted();
      const { data, info } = await decode(image, 64);
      const thumbnail = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).jpeg().toBuffer();
      const entry = new Uint8Array(data);
      await deps.presetCache.set(`${presetId}:${TEST_ENGINE_KIND}`, entry);
      return { presetId, kind, thumbnail: new Uint8Array(thumbnail), cacheBytes: entry.byteLength };
    },
    async dispose() {},
  };
  return engine;
};
