import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DETECT_FACE_CONTRACTS } from '../../src/pipeline/detect-face.contract.js';
import { FACE_MESH } from '../../src/pipeline/landmarks.contract.js';
import { createModelRegistry } from '../../src/pipeline/runtime/model-registry.js';

const registry = createModelRegistry({ modelsDir: 'models' });
type Spec = { name: string; dtype: string; shape: readonly (number | string)[] };
const contracts: Array<{ model: string; inputs: Spec[]; outputs: Spec[] }> = [
  ...Object.values(DETECT_FACE_CONTRACTS).map((c) => ({ model: c.model, inputs: [c.input], outputs: [c.outputs.regressors, c.outputs.classificators] })),
  { model: FACE_MESH.model, inputs: [FACE_MESH.input], outputs: [FACE_MESH.outputs.landmarks, FACE_MESH.outputs.faceFlag] },
];
const plain = (specs: Spec[]) => specs.map((s) => ({ name: s.name, dtype: s.dtype, shape: [...s.shape] }));

describe('face model contracts', () => {
  it.each(contracts.map((c) => [c.model, c] as const))('%s: contract file, manifest entry and the ONNX graph agree', async (name, contract) => {
    const entry = registry.entry(name);
    expect(plain(entry.inputs)).toEqual(plain(contract.inputs));
    expect(plain(entry.outputs)).toEqual(plain(contract.outputs));
    const session = await ort.InferenceSession.create(registry.resolve(name), { executionProviders: ['cpu'] });
    try {
      const meta = (m: readonly ort.InferenceSession.ValueMetadata[]) =>
        m.map((v) => ({ name: v.name, dtype: v.isTensor ? v.type : 'non-tensor', shape: v.isTensor ? [...v.shape] : [] }));
      expect(meta(session.inputMetadata)).toEqual(plain(contract.inputs));
      expect(meta(session.outputMetadata)).toEqual(plain(contract.outputs));
      const input = contract.inputs[0]!;
      const result = await session.run({ [input.name]: new ort.Tensor('float32', new Float32Array((input.shape as number[]).reduce((a, b) => a * b, 1)), input.shape as number[]) });
      for (const output of contract.outputs) expect(result[output.name]!.dims).toEqual(output.shape);
    } finally {
      await session.release();
    }
  });
});
