import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSessionManager, ortLibraryDir, type ModelContract, type SessionManager } from '../../src/pipeline/runtime/ort.js';
import { BLAZEFACE_FULL, BLAZEFACE_SHORT } from '../../src/pipeline/detect-face.contract.js';
import { loadDetector } from '../../src/pipeline/detect-face.js';
import { faceModelPaths } from '../../src/pipeline/front-end.js';
import { HairError } from '../../src/shared/errors.js';

const resolve = faceModelPaths('models');
const detectorFile = () => resolve('blazeface-full');
const fullContract: ModelContract = {
  inputs: [{ name: 'input', dtype: 'float32', shape: [1, 192, 192, 3] }],
  outputs: [
    { name: 'regressors', dtype: 'float32', shape: [1, 2304, 16] },
    { name: 'classificators', dtype: 'float32', shape: [1, 2304, 1] },
  ],
};

/** onnxruntime-node finds the CUDA provider next to libonnxruntime.so.1; without it `cuda` cannot load. */
const cudaProviderInstalled = existsSync(join(ortLibraryDir(), 'libonnxruntime_providers_cuda.so'));

function recordingLogger() {
  const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  const logger = {
    info: (obj: Record<string, unknown>, msg: string) => void lines.push({ obj, msg }),
    debug: () => undefined,
  };
  return { lines, logger: logger as never };
}

async function caught(promise: Promise<unknown>): Promise<HairError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(HairError);
    return error as HairError;
  }
  throw new Error('expected a HairError');
}

describe('session manager', () => {
  let manager: SessionManager | undefined;
  afterEach(async () => {
    await manager?.dispose();
    manager = undefined;
  });

  it('loads once on cpu, logs one line naming the EP, and reuses the session', async () => {
    const { lines, logger } = recordingLogger();
    manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 1 }, { logger });
    const a = await manager.load('blazeface-full', detectorFile(), fullContract);
    const b = await manager.load('blazeface-full', detectorFile(), fullContract);
    expect(b).toBe(a);
    expect(a.ep).toBe('cpu');
    expect(manager.ep).toBe('cpu');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toBe('onnx session blazeface-full runs on cpu');
    expect(lines[0]!.obj).toMatchObject({ model: 'blazeface-full', ep: 'cpu' });
    expect(a.warmupMs).toBeGreaterThan(0);
  });

  it('auto takes the first provider that loads and says which', async () => {
    const { lines, logger } = recordingLogger();
    manager = createSessionManager({ HAIR_EP: 'auto', ORT_INTRA_OP_THREADS: 0 }, { logger });
    const session = await loadDetector(manager, detectorFile());
    expect(['cuda', 'webgpu', 'cpu']).toContain(session.ep);
    if (!cudaProviderInstalled) expect(session.ep).not.toBe('cuda');
    expect(lines[0]!.msg).toBe(`onnx session blazeface-full runs on ${session.ep}`);
    if (session.ep !== 'cuda') expect(lines[0]!.obj['skipped']).toContain('cuda');
    const out = await manager.run(session, { input: { dtype: 'float32', data: new Float32Array(192 * 192 * 3), dims: [1, 192, 192, 3] } });
    expect(out['regressors']!.dims).toEqual([1, 2304, 16]);
  });

  it.skipIf(cudaProviderInstalled)('HAIR_EP=cuda without the CUDA provider is EP_UNAVAILABLE with every attempt and the solutions', async () => {
    manager = createSessionManager({ HAIR_EP: 'cuda', ORT_INTRA_OP_THREADS: 0 });
    const error = await caught(manager.load('blazeface-full', detectorFile(), fullContract));
    expect(error.code).toBe('EP_UNAVAILABLE');
    expect(error.params).toEqual({ ep: 'cuda' });
    expect(error.message).toContain('Attempts:');
    expect(error.message).toMatch(/- cuda: .+/);
    expect(error.message).toContain(`missing: ${join(ortLibraryDir(), 'libonnxruntime_providers_shared.so')}`);
    expect(error.message).toContain('Possible solutions:');
    expect(error.message).toContain('npm run gpu:cuda13');
    expect(error.message).toContain('com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9');
    expect(error.message).toContain('libonnxruntime.so.1');
    expect(error.message).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
    expect(error.message).toContain(detectorFile());
  });

  it('a model that does not match its contract fails at load, naming the file and the value', async () => {
    manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 0 });
    // The full-range file checked against the short-range contract: 192² input where 128² is expected.
    const error = await caught(loadDetector(manager, detectorFile(), BLAZEFACE_SHORT));
    expect(error.code).toBe('MODEL_INVALID');
    expect(error.params).toMatchObject({ model: 'blazeface-short', file: detectorFile() });
    expect(error.message).toContain('input "input" has shape [1, 192, 192, 3], expected [1, 128, 128, 3]');
    expect(error.message).toContain('output "regressors" has shape [1, 2304, 16], expected [1, 896, 16]');
    const renamed = await caught(
      manager.load('renamed', detectorFile(), { ...fullContract, inputs: [{ name: 'image', dtype: 'float32', shape: [1, 192, 192, 3] }] }),
    );
    expect(renamed.message).toContain('input "image" is missing (model has "input")');
    expect(renamed.message).toContain('input "input" is not in the contract');
  });

  it('a failing warm-up run is MODEL_INVALID naming the EP and feeds, and is not cached', async () => {
    manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 0 });
    const error = await caught(manager.load('blazeface-full', detectorFile(), fullContract, { warmupDims: { input: [1, 100, 100, 3] } }));
    expect(error.code).toBe('MODEL_INVALID');
    expect(error.message).toContain('failed its warm-up run on cpu with zeros (input: float32 [1, 100, 100, 3])');
    const retry = await manager.load('blazeface-full', detectorFile(), fullContract);
    expect(retry.ep).toBe('cpu');
  });

  it('a missing model file is MODEL_MISSING naming the command that builds it', async () => {
    manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 0 });
    const error = await caught(manager.load('nope', 'models/face/nope.onnx', fullContract));
    expect(error.code).toBe('MODEL_MISSING');
    expect(error.message).toContain('hairstyler models prepare');
    expect(() => faceModelPaths('/nonexistent')('face-mesh')).toThrow(/MODEL_MISSING.*hairstyler models prepare/);
  });

  it('run checks feeds: names, dtypes, dims and length are named', async () => {
    manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 0 });
    const session = await loadDetector(manager, detectorFile(), BLAZEFACE_FULL);
    const missing = await caught(manager.run(session, {}));
    expect(missing.message).toContain('missing input "input" (float32 [1, 192, 192, 3])');
    const wrong = await caught(
      manager.run(session, {
        input: { dtype: 'int32', data: new Int32Array(128 * 128 * 3), dims: [1, 128, 128, 3] },
        extra: { dtype: 'float32', data: new Float32Array(1), dims: [1] },
      }),
    );
    expect(wrong.message).toContain('unexpected input "extra"');
    expect(wrong.message).toContain('input "input" has dtype int32, expected float32');
    expect(wrong.message).toContain('input "input" has dims [1, 128, 128, 3], expected [1, 192, 192, 3]');
    const short = await caught(manager.run(session, { input: { dtype: 'float32', data: new Float32Array(10), dims: [1, 192, 192, 3] } }));
    expect(short.message).toContain('has 10 values, dims [1, 192, 192, 3] need 110592');
  });

  it('release frees one session: it cannot run any more, and loading its name again creates a new one', async () => {
    manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 1 });
    const first = await manager.load('blazeface-full', detectorFile(), fullContract, { skipWarmup: true });
    await manager.release(first);
    const feeds = { input: { dtype: 'float32' as const, data: new Float32Array(192 * 192 * 3), dims: [1, 192, 192, 3] } };
    await expect(manager.run(first, feeds)).rejects.toThrow(/not created by this manager/);
    const second = await manager.load('blazeface-full', detectorFile(), fullContract, { skipWarmup: true });
    expect(second).not.toBe(first);
    expect(Object.keys(await manager.run(second, feeds)).sort()).toEqual(['classificators', 'regressors']);
  });

  it('runTensors keeps ORT tensors in and out; dispose is safe twice and ends the manager', async () => {
    manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 0 });
    const session = await loadDetector(manager, detectorFile());
    const input = manager.tensor({ dtype: 'float32', data: new Float32Array(192 * 192 * 3).fill(0.5), dims: [1, 192, 192, 3] });
    const out = await manager.runTensors(session, { input }, ['classificators']);
    expect(Object.keys(out)).toEqual(['classificators']);
    expect(out['classificators']!.dims).toEqual([1, 2304, 1]);
    expect(out['classificators']!.type).toBe('float32');
    await manager.dispose();
    await manager.dispose();
    await expect(manager.run(session, { input: { dtype: 'float32', data: new Float32Array(192 * 192 * 3), dims: [1, 192, 192, 3] } })).rejects.toThrow(/after dispose/);
    await expect(manager.load('x', detectorFile(), fullContract)).rejects.toThrow(/after dispose/);
  });
});
