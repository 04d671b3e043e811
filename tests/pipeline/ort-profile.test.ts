import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeWeightDims, OnnxGraph } from '../../src/model-build/onnx-graph.js';
import { BLAZEFACE_FULL } from '../../src/pipeline/detect-face.contract.js';
import { loadDetector } from '../../src/pipeline/detect-face.js';
import { faceModelPaths } from '../../src/pipeline/front-end.js';
import { modelRuns, nodeMacs, readOrtProfile, summariseRuns } from '../../src/pipeline/runtime/ort-profile.js';
import { createSessionManager, type SessionManager } from '../../src/pipeline/runtime/ort.js';

/** onnxruntime profiling through the session manager, on the real BlazeFace session. */
describe('session profiling', () => {
  let manager: SessionManager | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await manager?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const input = () => ({ input: { dtype: 'float32' as const, data: new Float32Array(192 * 192 * 3).fill(0.5), dims: [1, 192, 192, 3] } });

  it('writes one profile per session; its runs split into kernel, copy and other time', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ort-profile-'));
    manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 1 }, { profileDir: dir });
    const detector = await loadDetector(manager, faceModelPaths('models')(BLAZEFACE_FULL.model), BLAZEFACE_FULL);
    for (let i = 0; i < 3; i++) await manager.run(detector, input());
    const files = await manager.endProfiling();
    expect(files.map((f) => f.session)).toEqual([detector.name]);
    const events = readOrtProfile(files[0]!.file);
    // the load-time warm-up plus three runs
    expect(modelRuns(events)).toHaveLength(4);
    const all = summariseRuns(events);
    const measured = summariseRuns(events, 1);
    expect(measured.runs).toBe(3);
    expect(measured.runMs).toBeLessThan(all.runMs);
    expect(measured.kernelMs).toBeGreaterThan(0);
    expect(measured.copyMs).toBe(0); // CPU only: no provider boundary, no Memcpy nodes
    expect(measured.kernelMs + measured.copyMs + measured.otherMs).toBeCloseTo(measured.runMs, 6);
    expect(measured.otherMs).toBeGreaterThanOrEqual(0);
    const conv = measured.byOp.find((o) => o.op === 'Conv');
    expect(conv?.provider).toBe('CPU');
    // every node runs once per run
    expect(conv!.count % 3).toBe(0);
    expect(measured.byNode[0]!.ms).toBeGreaterThanOrEqual(measured.byNode.at(-1)!.ms);
  });

  it('counts the matrix ops\' multiply-accumulates from the shapes the profile records', async () => {
    // Known work per run: 3×3 conv 16→32 at 32² (4,718,592), 2×2 stride-2 transposed conv 32→16 (2,097,152),
    // [16, 4096] × [4096, 8] (524,288), Gemm [16, 8] × [4, 8]ᵀ (512); the Einsum cannot be sized from shapes.
    dir = mkdtempSync(join(tmpdir(), 'ort-profile-'));
    const g = new OnnxGraph('macs');
    g.input('x', 'float32', [1, 16, 32, 32]);
    const weight = (name: string, dims: number[]) => g.initializer(name, new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.01), dims);
    const conv = g.op('Conv', ['x', weight('w1', [32, 16, 3, 3])], { pads: [1, 1, 1, 1] });
    const relu = g.op('Relu', [conv]);
    const up = g.op('ConvTranspose', [relu, weight('w2', [32, 16, 2, 2])], { strides: [2, 2] });
    const flat = g.op('Reshape', [up, g.int64s('flat', [16, 4096])]);
    const mm = g.op('MatMul', [flat, weight('b', [4096, 8])]);
    const gemm = g.op('Gemm', [mm, weight('c', [4, 8])], { transB: 1 });
    g.node('Einsum', [gemm, weight('e', [4, 2])], ['y'], { equation: 'ij,jk->ik' });
    g.output('y', 'float32', [16, 2]);
    const file = join(dir, 'macs.onnx');
    writeFileSync(file, g.toBytes({ opset: 17 }));
    manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 1 }, { profileDir: dir });
    const session = await manager.load('macs', file, {
      inputs: [{ name: 'x', dtype: 'float32', shape: [1, 16, 32, 32] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [16, 2] }],
    });
    for (let i = 0; i < 2; i++) await manager.run(session, { x: { dtype: 'float32', data: new Float32Array(16 * 32 * 32).fill(1), dims: [1, 16, 32, 32] } });
    const [profile] = await manager.endProfiling();
    const events = readOrtProfile(profile!.file);
    // onnxruntime prepacks the transposed convolution's weight and leaves it out of the profile: uncounted alone
    const alone = summariseRuns(events, 1);
    expect(alone.macs).toBe(2 * (4_718_592 + 524_288 + 512));
    expect(alone.uncountedMacNodes).toBe(4);
    const measured = summariseRuns(events, 1, undefined, nodeWeightDims(readFileSync(file)));
    expect(measured.runs).toBe(2);
    expect(measured.macs).toBe(2 * (4_718_592 + 2_097_152 + 524_288 + 512));
    expect(measured.uncountedMacNodes).toBe(2);
    // whatever onnxruntime fused the convolution into (NCHWc Conv with its Relu here), it is counted as one
    const byMacs = [...measured.byOp].sort((a, b) => b.macs - a.macs);
    expect(byMacs[0]!.macs).toBe(2 * 4_718_592);
    expect(measured.byOp.find((o) => o.op === 'ConvTranspose')?.macs).toBe(2 * 2_097_152);
    expect(measured.byNode.reduce((sum, n) => sum + n.macs, 0)).toBe(measured.macs);
  });

  it('sizes matrix products in either orientation and leaves other ops at zero', () => {
    expect(nodeMacs('FusedMatMul', [[2, 64, 16], [2, 64, 8]], [[2, 16, 8]])).toBe(2 * 16 * 8 * 64); // Aᵀ: [K, M]
    expect(nodeMacs('MatMul', [[2, 16, 64], [64, 8]], [[2, 16, 8]])).toBe(2 * 16 * 8 * 64);
    expect(nodeMacs('Gemm', [[8, 16], [8, 4]], [[16, 4]])).toBe(16 * 4 * 8); // transA
    expect(nodeMacs('FusedConv', [[1, 8, 10, 10], [4, 2, 3, 3]], [[1, 4, 8, 8]])).toBe(4 * 64 * 2 * 9); // groups: Cin/g = 2
    expect(nodeMacs('Add', [[1, 4], [1, 4]], [[1, 4]])).toBe(0);
    expect(nodeMacs('Einsum', [[2, 3], [3, 4]], [[2, 4]])).toBeUndefined();
    expect(nodeMacs('Conv', [], [])).toBeUndefined();
  });

  it('records nothing without a profile directory', async () => {
    manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 1 });
    const detector = await loadDetector(manager, faceModelPaths('models')(BLAZEFACE_FULL.model), BLAZEFACE_FULL);
    await manager.run(detector, input());
    expect(await manager.endProfiling()).toEqual([]);
  });

  it('rejects a file that is not a profile', () => {
    dir = mkdtempSync(join(tmpdir(), 'ort-profile-'));
    const file = join(dir, 'x.json');
    writeFileSync(file, JSON.stringify({ not: 'a profile' }));
    expect(() => readOrtProfile(file)).toThrow(/not an onnxruntime profile/);
  });
});
