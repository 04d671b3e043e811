import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { readTflite, tfliteToOnnx } from '../../src/model-build/tflite-to-onnx/index.js';
import { buildTflite, f16, f32, halfValues, i32, OP, type Fixture } from './tflite-fixture.js';

/** Reference kernels on NHWC arrays, written from TFLite's op definitions (SAME = TensorFlow's padding). */
type Nhwc = { data: Float32Array; shape: [number, number, number, number] };

let seed = 12345;
const rand = (n: number, scale = 1): Float32Array => Float32Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 2 * scale);

function samePad(size: number, k: number, s: number): { out: number; before: number } {
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + k - size, 0);
  return { out, before: Math.floor(total / 2) };
}

/** Conv with TFLite weights: regular [O, kh, kw, I] or depthwise [1, kh, kw, C] (depthwise = true). */
function conv(x: Nhwc, w: Float32Array, wShape: number[], bias: Float32Array, stride: number, depthwise: boolean): Nhwc {
  const [, H, W, C] = x.shape;
  const [kh, kw] = [wShape[1]!, wShape[2]!];
  const O = depthwise ? C : wShape[0]!;
  const py = samePad(H, kh, stride);
  const px = samePad(W, kw, stride);
  const out = new Float32Array(py.out * px.out * O);
  for (let oy = 0; oy < py.out; oy++) for (let ox = 0; ox < px.out; ox++) for (let o = 0; o < O; o++) {
    let acc = bias[o]!;
    for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
      const iy = oy * stride + ky - py.before;
      const ix = ox * stride + kx - px.before;
      if (iy < 0 || ix < 0 || iy >= H || ix >= W) continue;
      if (depthwise) acc += x.data[(iy * W + ix) * C + o]! * w[(ky * kw + kx) * C + o]!;
      else for (let c = 0; c < C; c++) acc += x.data[(iy * W + ix) * C + c]! * w[((o * kh + ky) * kw + kx) * C + c]!;
    }
    out[(oy * px.out + ox) * O + o] = acc;
  }
  return { data: out, shape: [1, py.out, px.out, O] };
}

function maxPool(x: Nhwc, k: number, stride: number): Nhwc {
  const [, H, W, C] = x.shape;
  const py = samePad(H, k, stride);
  const px = samePad(W, k, stride);
  const out = new Float32Array(py.out * px.out * C).fill(-Infinity);
  for (let oy = 0; oy < py.out; oy++) for (let ox = 0; ox < px.out; ox++) for (let c = 0; c < C; c++)
    for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) {
      const iy = oy * stride + ky - py.before;
      const ix = ox * stride + kx - px.before;
      if (iy >= 0 && ix >= 0 && iy < H && ix < W) out[(oy * px.out + ox) * C + c] = Math.max(out[(oy * px.out + ox) * C + c]!, x.data[(iy * W + ix) * C + c]!);
    }
  return { data: out, shape: [1, py.out, px.out, C] };
}

async function run(tflite: Uint8Array, input: Float32Array, shape: number[]): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(tfliteToOnnx(tflite, { name: 'fixture' }), { executionProviders: ['cpu'] });
  try {
    return await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', input, shape) });
  } finally {
    await session.release();
  }
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('tfliteToOnnx', () => {
  it('CONV_2D: SAME padding on an odd size, stride 2, fp16 weights through DEQUANTIZE, fused RELU6', async () => {
    const x = rand(7 * 7 * 3, 2);
    const w = rand(4 * 3 * 3 * 3, 3);
    const bias = rand(4);
    const fixture: Fixture = {
      tensors: [
        { name: 'x', shape: [1, 7, 7, 3], type: 'float32' },
        { name: 'w16', shape: [4, 3, 3, 3], type: 'float16', data: f16(w) },
        { name: 'w', shape: [4, 3, 3, 3], type: 'float32' },
        { name: 'b', shape: [4], type: 'float32', data: f32(bias) },
        { name: 'y', shape: [1, 4, 4, 4], type: 'float32' },
      ],
      ops: [
        { op: OP.DEQUANTIZE, inputs: [1], outputs: [2] },
        // Conv2DOptions: padding SAME(0), stride_w, stride_h, activation RELU6(3)
        { op: OP.CONV_2D, inputs: [0, 2, 3], outputs: [4], options: [[0, 'int8', 0], [1, 'int32', 2], [2, 'int32', 2], [3, 'int8', 3]] },
      ],
      inputs: [0],
      outputs: [4],
    };
    const { y } = await run(buildTflite(fixture), x, [1, 7, 7, 3]);
    const ref = conv({ data: x, shape: [1, 7, 7, 3] }, halfValues(w), [4, 3, 3, 3], bias, 2, false);
    expect(y!.dims).toEqual([1, 4, 4, 4]);
    const relu6 = ref.data.map((v) => Math.min(Math.max(v, 0), 6));
    expect(relu6.some((v) => v === 6) && relu6.some((v) => v === 0)).toBe(true); // the activation is exercised
    expect(maxAbs(y!.data as Float32Array, relu6)).toBeLessThan(1e-5);
  });

  it('DEPTHWISE_CONV_2D + PRELU + MAX_POOL_2D keep NHWC semantics at the edges', async () => {
    const x = rand(5 * 5 * 4);
    const w = rand(3 * 3 * 4);
    const bias = rand(4);
    const alpha = Float32Array.from([0.1, 0.2, 0.3, 0.4]);
    const fixture: Fixture = {
      tensors: [
        { name: 'x', shape: [1, 5, 5, 4], type: 'float32' },
        { name: 'w', shape: [1, 3, 3, 4], type: 'float32', data: f32(w) },
        { name: 'b', shape: [4], type: 'float32', data: f32(bias) },
        { name: 'd', shape: [1, 5, 5, 4], type: 'float32' },
        { name: 'alpha', shape: [1, 1, 4], type: 'float32', data: f32(alpha) },
        { name: 'p', shape: [1, 5, 5, 4], type: 'float32' },
        { name: 'y', shape: [1, 3, 3, 4], type: 'float32' },
      ],
      ops: [
        // DepthwiseConv2DOptions: padding, stride_w, stride_h, depth_multiplier, activation
        { op: OP.DEPTHWISE_CONV_2D, inputs: [0, 1, 2], outputs: [3], options: [[0, 'int8', 0], [1, 'int32', 1], [2, 'int32', 1], [3, 'int32', 1], [4, 'int8', 0]] },
        { op: OP.PRELU, inputs: [3, 4], outputs: [5] },
        // Pool2DOptions: padding SAME, stride_w, stride_h, filter_width, filter_height, activation
        { op: OP.MAX_POOL_2D, inputs: [5], outputs: [6], options: [[0, 'int8', 0], [1, 'int32', 2], [2, 'int32', 2], [3, 'int32', 2], [4, 'int32', 2], [5, 'int8', 0]] },
      ],
      inputs: [0],
      outputs: [6],
    };
    const { y } = await run(buildTflite(fixture), x, [1, 5, 5, 4]);
    const d = conv({ data: x, shape: [1, 5, 5, 4] }, w, [1, 3, 3, 4], bias, 1, true);
    const p = { data: d.data.map((v, i) => (v < 0 ? v * alpha[i % 4]! : v)), shape: d.shape };
    const ref = maxPool(p, 2, 2);
    expect(y!.dims).toEqual([1, 3, 3, 4]);
    expect(maxAbs(y!.data as Float32Array, ref.data)).toBeLessThan(1e-6);
  });

  it('PAD (channels, as BlazeFace does) + ADD + RELU + CONCATENATION on the channel axis + RESHAPE to [1, N, k]', async () => {
    const x = rand(2 * 2 * 2);
    const y0 = rand(2 * 2 * 4);
    const fixture: Fixture = {
      tensors: [
        { name: 'x', shape: [1, 2, 2, 2], type: 'float32' },
        { name: 'pads', shape: [4, 2], type: 'int32', data: i32([0, 0, 0, 0, 0, 0, 0, 2]) },
        { name: 'xp', shape: [1, 2, 2, 4], type: 'float32' },
        { name: 'k', shape: [1, 2, 2, 4], type: 'float32', data: f32(y0) },
        { name: 's', shape: [1, 2, 2, 4], type: 'float32' },
        { name: 'r', shape: [1, 2, 2, 4], type: 'float32' },
        { name: 'c', shape: [1, 2, 2, 8], type: 'float32' },
        { name: 'out', shape: [1, 16, 2], type: 'float32' },
      ],
      ops: [
        { op: OP.PAD, inputs: [0, 1], outputs: [2] },
        { op: OP.ADD, inputs: [2, 3], outputs: [4], options: [[0, 'int8', 0]] },
        { op: OP.RELU, inputs: [4], outputs: [5] },
        // ConcatenationOptions: axis -1, activation NONE
        { op: OP.CONCATENATION, inputs: [5, 2], outputs: [6], options: [[0, 'int32', -1], [1, 'int8', 0]] },
        { op: OP.RESHAPE, inputs: [6], outputs: [7] },
      ],
      inputs: [0],
      outputs: [7],
    };
    const { out } = await run(buildTflite(fixture), x, [1, 2, 2, 2]);
    const ref: number[] = [];
    for (let p = 0; p < 4; p++) {
      const xp = [x[p * 2]!, x[p * 2 + 1]!, 0, 0];
      const r = xp.map((v, c) => Math.max(v + y0[p * 4 + c]!, 0));
      ref.push(...r, ...xp);
    }
    expect(out!.dims).toEqual([1, 16, 2]);
    expect(maxAbs(out!.data as Float32Array, ref)).toBeLessThan(1e-6);
  });

  it('RESIZE_BILINEAR with half_pixel_centers matches TensorFlow\'s half-pixel sampling (edges clamped)', async () => {
    const [H, W, C, OH, OW] = [3, 4, 2, 6, 8];
    const x = rand(H * W * C);
    const fixture: Fixture = {
      tensors: [
        { name: 'x', shape: [1, H, W, C], type: 'float32' },
        { name: 'size', shape: [2], type: 'int32', data: i32([OH, OW]) },
        { name: 'y', shape: [1, OH, OW, C], type: 'float32' },
      ],
      // ResizeBilinearOptions: 2 align_corners = false, 3 half_pixel_centers = true
      ops: [{ op: OP.RESIZE_BILINEAR, inputs: [0, 1], outputs: [2], options: [[2, 'int8', 0], [3, 'int8', 1]] }],
      inputs: [0],
      outputs: [2],
    };
    const { y } = await run(buildTflite(fixture), x, [1, H, W, C]);
    const sample = (out: number, inSize: number, outSize: number): [number, number, number] => {
      const pos = (out + 0.5) * (inSize / outSize) - 0.5;
      const lo = Math.floor(pos);
      return [Math.max(lo, 0), Math.min(Math.ceil(pos), inSize - 1), pos - lo];
    };
    const ref = new Float32Array(OH * OW * C);
    for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) for (let c = 0; c < C; c++) {
      const [y0, y1, fy] = sample(oy, H, OH);
      const [x0, x1, fx] = sample(ox, W, OW);
      const v = (yy: number, xx: number): number => x[(yy * W + xx) * C + c]!;
      const top = v(y0, x0) + (v(y0, x1) - v(y0, x0)) * fx;
      const bottom = v(y1, x0) + (v(y1, x1) - v(y1, x0)) * fx;
      ref[(oy * OW + ox) * C + c] = top + (bottom - top) * fy;
    }
    expect(y!.dims).toEqual([1, OH, OW, C]);
    expect(maxAbs(y!.data as Float32Array, ref)).toBeLessThan(1e-6);
  });

  it('names an unsupported operator and rejects bytes that are not TFLite', () => {
    const fixture: Fixture = {
      tensors: [{ name: 'x', shape: [1, 4], type: 'float32' }, { name: 'y', shape: [1, 4], type: 'float32' }],
      ops: [{ op: 25 /* SOFTMAX */, inputs: [0], outputs: [1] }],
      inputs: [0],
      outputs: [1],
    };
    expect(readTflite(buildTflite(fixture)).operators[0]!.op).toBe('SOFTMAX');
    expect(() => tfliteToOnnx(buildTflite(fixture), { name: 'x' })).toThrow(/Unsupported TFLite operator SOFTMAX/);
    expect(() => tfliteToOnnx(new Uint8Array(64), { name: 'x' })).toThrow(/TFL3/);
  });
});
