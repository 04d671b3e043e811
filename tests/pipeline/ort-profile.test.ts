import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BLAZEFACE_FULL } from '../../src/pipeline/detect-face.contract.js';
import { loadDetector } from '../../src/pipeline/detect-face.js';
import { faceModelPaths } from '../../src/pipeline/front-end.js';
import { modelRuns, readOrtProfile, summariseRuns } from '../../src/pipeline/runtime/ort-profile.js';
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
