import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { float, OnnxGraph } from '../../src/model-build/onnx-graph.js';

function tinyGraph(): Uint8Array {
  const g = new OnnxGraph('tiny');
  g.input('x', 'float32', ['batch', 3]);
  const w = g.initializer('w', new Float32Array([1, -2, 3]), [3]);
  const shape = g.int64s('shape', [-1, 3, 1]);
  const y = g.op('Mul', ['x', w]);
  const l = g.op('LeakyRelu', [y], { alpha: float(0.5) });
  g.node('Reshape', [l, shape], ['out']);
  g.output('out', 'float32', ['batch', 3, 1]);
  return g.toBytes({ opset: 13 });
}

describe('OnnxGraph', () => {
  it('builds a graph onnxruntime runs, with the attributes and initializers given', async () => {
    const session = await ort.InferenceSession.create(tinyGraph(), { executionProviders: ['cpu'] });
    const x = new ort.Tensor('float32', new Float32Array([1, 1, 1, 2, 2, -2]), [2, 3]);
    const { out } = await session.run({ x });
    expect(out!.dims).toEqual([2, 3, 1]);
    expect(Array.from(out!.data as Float32Array)).toEqual([1, -1, 3, 2, -2, -3]);
    await session.release();
  });

  it('serialises the same calls to the same bytes', () => {
    const a = createHash('sha256').update(tinyGraph()).digest('hex');
    const b = createHash('sha256').update(tinyGraph()).digest('hex');
    expect(a).toBe(b);
  });

  it('rejects a reused name and a wrong element count', () => {
    const g = new OnnxGraph('bad');
    g.input('x', 'float32', [1]);
    expect(() => g.initializer('x', new Float32Array(1), [1])).toThrow(/already used/);
    expect(() => g.initializer('w', new Float32Array(2), [3])).toThrow(/Expected 3 elements/);
  });
});
