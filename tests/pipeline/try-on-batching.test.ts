import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TryOnEngine, TryOnRequest } from '../../src/pipeline/engine.js';
import { createTryOnEngine } from '../../src/pipeline/index.js';
import { createSessionManager, type SessionManager } from '../../src/pipeline/runtime/ort.js';
import { ASTRONAUT, COFFEE, contractModelsDir, fixtureBytes, testConfig } from './hairfast/fixtures.js';

/**
 * Concurrent try-ons through one engine (as a worker with WORKER_CONCURRENCY > 1 runs them) share `swap` runs:
 * real sessions over the contract graphs; the swap session's runs are counted by their batch size.
 */
describe('try-on engine batching', () => {
  let modelsDir: string;
  let cacheDir: string;
  let manager: SessionManager;
  let engine: TryOnEngine;
  const swapRows: number[] = [];
  const selfie = fixtureBytes(ASTRONAUT);
  const requests: TryOnRequest[] = [
    { selfie, shape: { presetId: 'builtin:short-layered-mirrored' }, color: { presetId: 'builtin:copper' }, pasteBack: false },
    { selfie, color: { presetId: 'builtin:copper' }, pasteBack: false },
    { selfie, shape: { presetId: 'builtin:short-layered-mirrored' }, pasteBack: true },
  ];
  const sequential: Uint8Array[] = [];

  beforeAll(async () => {
    modelsDir = contractModelsDir();
    cacheDir = mkdtempSync(join(tmpdir(), 'hairfast-batch-presets-'));
    const real = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 1 });
    manager = Object.create(real) as SessionManager;
    manager.runTensors = (session, feeds, fetches) => {
      if (session.name === 'hairfast/swap') swapRows.push(feeds['face_w']!.dims[0]!);
      return real.runTensors(session, feeds, fetches);
    };
    // A long wait: a batch must go because everyone joined, not because the timer fired.
    const config = testConfig({ MODELS_DIR: modelsDir, PRESET_CACHE_DIR: cacheDir, STYLES_DIR: 'styles', HAIR_BATCH_MAX: '4', HAIR_BATCH_WAIT_MS: '1000' });
    engine = await createTryOnEngine(config, { warm: false, manager });
    // One at a time: batch 1 each (and the presets get cached).
    for (const request of requests) sequential.push((await engine.tryOn(request)).image.data);
  });
  afterAll(async () => {
    await engine.dispose();
    await manager.dispose();
    rmSync(cacheDir, { recursive: true, force: true });
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('one try-on at a time runs swap at batch 1, without waiting for others', () => {
    expect(swapRows).toEqual([1, 1, 1]);
  });

  it('concurrent try-ons share one swap run and get the same images as one at a time', async () => {
    swapRows.length = 0;
    const results = await Promise.all(requests.map((r) => engine.tryOn(r)));
    expect(swapRows).toEqual([3]);
    results.forEach((result, i) => {
      expect(result.graphRuns).toEqual({ bisenet: 1, embed: 1, swap: 1 });
      expect(Buffer.from(result.image.data).equals(Buffer.from(sequential[i]!)), `request ${i}`).toBe(true);
    });
  });

  it('a failing try-on among concurrent ones fails alone; the others finish, each once', async () => {
    swapRows.length = 0;
    const noFace: TryOnRequest = { ...requests[1]!, selfie: fixtureBytes(COFFEE) };
    const results = await Promise.allSettled([engine.tryOn(requests[0]!), engine.tryOn(noFace), engine.tryOn(requests[2]!)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'NO_FACE' });
    // The failed one left before swap: the other two did not wait for it.
    expect(swapRows).toEqual([2]);
    const images = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.image.data] : []));
    expect(Buffer.from(images[0]!).equals(Buffer.from(sequential[0]!))).toBe(true);
    expect(Buffer.from(images[1]!).equals(Buffer.from(sequential[2]!))).toBe(true);
  });
});
