import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { faceModelPaths, faceStageProviders, loadFaceSessions } from '../../src/pipeline/front-end.js';
import { createSessionManager, ortLibraryDir, type SessionManager } from '../../src/pipeline/runtime/ort.js';
import { loadConfig } from '../../src/shared/config.js';
import { HairError } from '../../src/shared/errors.js';

const cudaProviderInstalled = existsSync(join(ortLibraryDir(), 'libonnxruntime_providers_cuda.so'));
const config = (env: Record<string, string>) => loadConfig({ env: { LOG_LEVEL: 'silent', ...env } });

/** FACE_DETECT_EP / FACE_LANDMARKS_EP: each face model on its own provider, on real sessions. */
describe('per-stage execution providers of the face front-end', () => {
  let manager: SessionManager | undefined;
  afterEach(() => manager?.dispose());

  it('default to HAIR_EP (inherit): no session gets a provider of its own', () => {
    const c = config({});
    expect([c.FACE_DETECT_EP, c.FACE_LANDMARKS_EP]).toEqual(['inherit', 'inherit']);
    expect(faceStageProviders(c)).toEqual({});
    expect(faceStageProviders(config({ FACE_DETECT_EP: 'cpu' }))).toEqual({ detect: { choice: 'cpu', setting: 'FACE_DETECT_EP' } });
  });

  it('reject a provider that does not exist, naming the setting', () => {
    expect(() => config({ FACE_LANDMARKS_EP: 'tpu' })).toThrow(/FACE_LANDMARKS_EP/);
  });

  it.skipIf(cudaProviderInstalled)('run a stage on the CPU while HAIR_EP=cuda, without settling the manager on it', async () => {
    manager = createSessionManager({ HAIR_EP: 'cuda', ORT_INTRA_OP_THREADS: 1 });
    const providers = faceStageProviders(config({ FACE_DETECT_EP: 'cpu', FACE_LANDMARKS_EP: 'cpu' }));
    const sessions = await loadFaceSessions(manager, faceModelPaths('models'), providers);
    expect([sessions.detector.ep, sessions.mesh.ep]).toEqual(['cpu', 'cpu']);
    // HairFastGAN's sessions still follow HAIR_EP: the stage settings did not decide the manager's provider
    expect(manager.ep).toBeUndefined();
    const out = await manager.run(sessions.detector, { input: { dtype: 'float32', data: new Float32Array(192 * 192 * 3), dims: [1, 192, 192, 3] } });
    expect(out['regressors']!.dims).toEqual([1, 2304, 16]);
  });

  it.skipIf(cudaProviderInstalled)('a stage on a provider that cannot load is EP_UNAVAILABLE naming that stage\'s setting', async () => {
    manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 1 });
    const providers = faceStageProviders(config({ FACE_LANDMARKS_EP: 'cuda' }));
    const error = await loadFaceSessions(manager, faceModelPaths('models'), providers).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(HairError);
    expect((error as HairError).code).toBe('EP_UNAVAILABLE');
    expect((error as HairError).message).toContain('(FACE_LANDMARKS_EP=cuda)');
    expect((error as HairError).message).toContain('face-mesh');
    expect(manager.ep).toBe('cpu');
  });
});
