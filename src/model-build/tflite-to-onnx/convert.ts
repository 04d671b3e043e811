import { OnnxGraph, type OnnxDtype } from '../onnx-graph.js';
import { readTflite, type TfliteModel, type TfliteOperator, type TfliteTable, type TfliteTensor } from './tflite-reader.js';

/**
 * TFLite → ONNX for the float models this project uses (BlazeFace, face mesh).
 *
 * Layout: the ONNX graph keeps the TFLite contract at its edges — an NHWC float32 input and outputs in their TFLite
 * shapes — and runs NCHW inside: one Transpose after the input, one before each NHWC consumer (RESHAPE, a 4-D graph
 * output). fp16 weights (DEQUANTIZE of a constant) are widened to float32 at conversion time, which is exact, so the
 * ONNX graph computes in float32 with the very values TFLite's reference kernels use.
 */
export const SUPPORTED_OPS = [
  'ADD', 'CONCATENATION', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'DEQUANTIZE', 'MAX_POOL_2D', 'PAD', 'PRELU', 'RELU',
  'RESHAPE', 'RESIZE_BILINEAR',
] as const;

export interface ConvertOptions {
  /** Graph name written into the model. */
  name: string;
  /** ONNX names for the TFLite inputs/outputs, by TFLite tensor name; unnamed ones keep their TFLite name. */
  rename?: Readonly<Record<string, string>>;
  /** @defaultValue 13 */
  opset?: number;
}

const NHWC_TO_NCHW = [0, 3, 1, 2];
const NCHW_TO_NHWC = [0, 2, 3, 1];
const ACTIVATIONS = ['NONE', 'RELU', 'RELU_N1_TO_1', 'RELU6', 'TANH'] as const;

interface Value {
  name: string;
  /** True when a 4-D tensor is held as NCHW (its TFLite shape is NHWC). */
  nchw: boolean;
}

/** IEEE half → float, exact. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function float32Data(tensor: TfliteTensor): Float32Array {
  const bytes = tensor.data;
  if (!bytes) throw new Error(`Expected constant data for tensor ${tensor.name}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (tensor.type === 'float32') return Float32Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(4 * i, true));
  if (tensor.type === 'float16') return Float32Array.from({ length: bytes.length / 2 }, (_, i) => halfToFloat(view.getUint16(2 * i, true)));
  throw new Error(`Expected float weights for tensor ${tensor.name} but received ${tensor.type}`);
}

function int32Data(tensor: TfliteTensor): number[] {
  const bytes = tensor.data;
  if (!bytes || tensor.type !== 'int32') throw new Error(`Expected constant int32 data for tensor ${tensor.name}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 4 }, (_, i) => view.getInt32(4 * i, true));
}

/** Moves axes of a row-major array: out[...] = data[perm-indexed]. */
function transposeData(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(data.length);
  const index = new Array<number>(outShape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < perm.length; d++) src += index[d]! * inStrides[perm[d]!]!;
    out[o] = data[src]!;
    for (let d = outShape.length - 1; d >= 0 && ++index[d]! === outShape[d]!; d--) index[d] = 0;
  }
  return out;
}

/** TensorFlow SAME padding for one spatial axis: [begin, end]. */
function samePads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

class Converter {
  private readonly values = new Map<number, Value>();
  private readonly used = new Set<string>();
  readonly graph: OnnxGraph;

  constructor(private readonly model: TfliteModel, private readonly options: ConvertOptions) {
    this.graph = new OnnxGraph(options.name);
  }

  private tensor(index: number): TfliteTensor {
    const t = this.model.tensors[index];
    if (!t) throw new Error(`TFLite tensor ${index} does not exist`);
    return t;
  }

  private nameFor(index: number): string {
    const t = this.tensor(index);
    let name = t.name || `t${index}`;
    if (this.used.has(name)) name = `${name}__${index}`;
    this.used.add(name);
    return name;
  }

  /** The ONNX value of a TFLite tensor; constants become initializers on first use. */
  private value(index: number): Value {
    const known = this.values.get(index);
    if (known) return known;
    const t = this.tensor(index);
    if (!t.data) throw new Error(`Tensor ${t.name} is used before an operator produces it`);
    const nchw = t.shape.length === 4;
    const data = float32Data(t);
    const v = { name: this.graph.initializer(this.nameFor(index), nchw ? transposeData(data, t.shape, NHWC_TO_NCHW) : data, nchw ? NHWC_TO_NCHW.map((p) => t.shape[p]!) : t.shape), nchw };
    this.values.set(index, v);
    return v;
  }

  private weight(index: number, perm: readonly number[], shape?: readonly number[]): string {
    const t = this.tensor(index);
    const src = shape ?? t.shape;
    return this.graph.initializer(this.nameFor(index), transposeData(float32Data(t), src, perm), perm.map((p) => src[p]!));
  }

  private bias(index: number | undefined, channels: number): string {
    if (index !== undefined && index >= 0) return this.graph.initializer(this.nameFor(index), float32Data(this.tensor(index)), [channels]);
    return this.graph.initializer(this.graph.uniqueName('zero_bias'), new Float32Array(channels), [channels]);
  }

  private nhwc(index: number): string {
    const v = this.value(index);
    return v.nchw ? this.graph.op('Transpose', [v.name], { perm: NCHW_TO_NHWC }) : v.name;
  }

  /** Emits the op's last node with TFLite's fused activation and binds the TFLite output. */
  private finish(op: TfliteOperator, node: (output: string) => void, activation: number, nchw: boolean): void {
    const out = op.outputs[0]!;
    const name = this.nameFor(out);
    const kind = ACTIVATIONS[activation];
    if (kind === 'NONE') node(name);
    else {
      const pre = this.graph.uniqueName(`${name}_pre`);
      node(pre);
      if (kind === 'RELU') this.graph.op('Relu', [pre], {}, name);
      else if (kind === 'RELU6') this.graph.op('Clip', [pre, this.scalar(0), this.scalar(6)], {}, name);
      else if (kind === 'RELU_N1_TO_1') this.graph.op('Clip', [pre, this.scalar(-1), this.scalar(1)], {}, name);
      else if (kind === 'TANH') this.graph.op('Tanh', [pre], {}, name);
      else throw new Error(`Unsupported fused activation ${activation}`);
    }
    this.values.set(out, { name, nchw });
  }

  private scalar(value: number): string {
    return this.graph.initializer(this.graph.uniqueName('const'), new Float32Array([value]), []);
  }

  private spatialPads(input: number, kernel: [number, number], stride: [number, number], dilation: [number, number], padding: number): number[] {
    if (padding === 1) return [0, 0, 0, 0]; // VALID
    const [, h, w] = this.tensor(input).shape;
    const [top, bottom] = samePads(h!, kernel[0], stride[0], dilation[0]);
    const [left, right] = samePads(w!, kernel[1], stride[1], dilation[1]);
    return [top, left, bottom, right];
  }

  private convert(op: TfliteOperator): void {
    const o = op.options as TfliteTable | undefined;
    const [a, b, c] = op.inputs;
    switch (op.op) {
      case 'DEQUANTIZE': {
        // fp16 constant → float32 constant; the consumer reads it through value()/weight().
        const src = this.tensor(a!);
        if (!src.data) throw new Error(`DEQUANTIZE of a non-constant tensor ${src.name} is not supported`);
        const out = this.tensor(op.outputs[0]!);
        out.data = src.data;
        out.type = src.type;
        return;
      }
      case 'CONV_2D': {
        // Conv2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 activation, 4 dilation_w, 5 dilation_h.
        const [outC, kh, kw] = this.tensor(b!).shape as [number, number, number, number];
        const stride: [number, number] = [o?.int32(2) ?? 1, o?.int32(1) ?? 1];
        const dilation: [number, number] = [o?.int32(5, 1) ?? 1, o?.int32(4, 1) ?? 1];
        const attrs = { kernel_shape: [kh, kw], strides: stride, dilations: dilation, pads: this.spatialPads(a!, [kh, kw], stride, dilation, o?.int8(0) ?? 0), group: 1 };
        const inputs = [this.value(a!).name, this.weight(b!, [0, 3, 1, 2]), this.bias(c, outC)];
        return this.finish(op, (out) => this.graph.op('Conv', inputs, attrs, out), o?.int8(3) ?? 0, true);
      }
      case 'DEPTHWISE_CONV_2D': {
        // DepthwiseConv2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 depth_multiplier, 4 activation, 5/6 dilation w/h.
        const [, kh, kw, channels] = this.tensor(b!).shape as [number, number, number, number];
        const group = this.tensor(a!).shape[3]!;
        const stride: [number, number] = [o?.int32(2) ?? 1, o?.int32(1) ?? 1];
        const dilation: [number, number] = [o?.int32(6, 1) ?? 1, o?.int32(5, 1) ?? 1];
        const attrs = { kernel_shape: [kh, kw], strides: stride, dilations: dilation, pads: this.spatialPads(a!, [kh, kw], stride, dilation, o?.int8(0) ?? 0), group };
        const inputs = [this.value(a!).name, this.weight(b!, [3, 0, 1, 2]), this.bias(c, channels)];
        return this.finish(op, (out) => this.graph.op('Conv', inputs, attrs, out), o?.int8(4) ?? 0, true);
      }
      case 'MAX_POOL_2D': {
        // Pool2DOptions: 0 padding, 1 stride_w, 2 stride_h, 3 filter_width, 4 filter_height, 5 activation.
        const kernel: [number, number] = [o!.int32(4), o!.int32(3)];
        const stride: [number, number] = [o!.int32(2), o!.int32(1)];
        const attrs = { kernel_shape: kernel, strides: stride, pads: this.spatialPads(a!, kernel, stride, [1, 1], o!.int8(0)) };
        const input = this.value(a!).name;
        return this.finish(op, (out) => this.graph.op('MaxPool', [input], attrs, out), o!.int8(5), true);
      }
      case 'ADD': {
        // AddOptions: 0 activation. Both operands must share a layout.
        const [x, y] = [this.value(a!), this.value(b!)];
        if (x.nchw !== y.nchw) throw new Error(`ADD of tensors in different layouts (${x.name}, ${y.name}) is not supported`);
        return this.finish(op, (out) => this.graph.op('Add', [x.name, y.name], {}, out), o?.int8(0) ?? 0, x.nchw);
      }
      case 'RELU': {
        const x = this.value(a!);
        return this.finish(op, (out) => this.graph.op('Relu', [x.name], {}, out), 0, x.nchw);
      }
      case 'PRELU': {
        // TFLite alpha broadcasts over NHWC ([1, 1, C] or [C]); ONNX PRelu over NCHW wants [C, 1, 1].
        const x = this.value(a!);
        const alpha = float32Data(this.tensor(b!));
        const slope = this.graph.initializer(this.nameFor(b!), alpha, [alpha.length, 1, 1]);
        return this.finish(op, (out) => this.graph.op('PRelu', [x.name, slope], {}, out), 0, x.nchw);
      }
      case 'PAD': {
        const x = this.value(a!);
        const pads = int32Data(this.tensor(b!)); // [[before, after] per NHWC axis]
        const axes = x.nchw ? NHWC_TO_NCHW : [...Array(pads.length / 2).keys()];
        const onnxPads = [...axes.map((ax) => pads[2 * ax]!), ...axes.map((ax) => pads[2 * ax + 1]!)];
        const padsName = this.graph.int64s(this.graph.uniqueName('pads'), onnxPads);
        return this.finish(op, (out) => this.graph.op('Pad', [x.name, padsName], { mode: 'constant' }, out), 0, x.nchw);
      }
      case 'RESHAPE': {
        const input = this.nhwc(a!);
        const outShape = this.tensor(op.outputs[0]!).shape;
        const shape = this.graph.int64s(this.graph.uniqueName('shape'), outShape);
        if (outShape.length !== 4) return this.finish(op, (out) => this.graph.op('Reshape', [input, shape], {}, out), 0, false);
        const flat = this.graph.op('Reshape', [input, shape]);
        return this.finish(op, (out) => this.graph.op('Transpose', [flat], { perm: NHWC_TO_NCHW }, out), 0, true);
      }
      case 'CONCATENATION': {
        // ConcatenationOptions: 0 axis, 1 activation.
        const xs = op.inputs.map((i) => this.value(i));
        const nchw = xs[0]!.nchw;
        if (xs.some((x) => x.nchw !== nchw)) throw new Error('CONCATENATION of tensors in different layouts is not supported');
        const rank = this.tensor(op.outputs[0]!).shape.length;
        const axis = (o!.int32(0) + rank) % rank;
        const attrs = { axis: nchw ? NHWC_TO_NCHW.indexOf(axis) : axis };
        return this.finish(op, (out) => this.graph.op('Concat', xs.map((x) => x.name), attrs, out), o!.int8(1), nchw);
      }
      case 'RESIZE_BILINEAR': {
        // ResizeBilinearOptions: 0/1 deprecated sizes, 2 align_corners, 3 half_pixel_centers.
        const x = this.value(a!);
        const [n, h, w, ch] = this.tensor(op.outputs[0]!).shape as [number, number, number, number];
        const sizes = this.graph.int64s(this.graph.uniqueName('sizes'), [n, ch, h, w]);
        const mode = o?.uint8(2) ? 'align_corners' : o?.uint8(3) ? 'half_pixel' : 'asymmetric';
        const attrs = { mode: 'linear', coordinate_transformation_mode: mode };
        return this.finish(op, (out) => this.graph.op('Resize', [x.name, '', '', sizes], attrs, out), 0, true);
      }
      default:
        throw new Error(`Unsupported TFLite operator ${op.op}; supported: ${SUPPORTED_OPS.join(', ')}`);
    }
  }

  private edgeName(index: number): string {
    const t = this.tensor(index);
    return this.options.rename?.[t.name] ?? t.name;
  }

  run(): Uint8Array {
    // Reserve the edge names so that no inner tensor takes one.
    for (const index of [...this.model.inputs, ...this.model.outputs]) this.used.add(this.edgeName(index));
    for (const index of this.model.inputs) {
      const t = this.tensor(index);
      const name = this.graph.input(this.edgeName(index), onnxType(t), t.shape);
      const nchw = t.shape.length === 4;
      this.values.set(index, { name: nchw ? this.graph.op('Transpose', [name], { perm: NHWC_TO_NCHW }) : name, nchw });
    }
    for (const op of this.model.operators) this.convert(op);
    for (const index of this.model.outputs) {
      const t = this.tensor(index);
      const v = this.value(index);
      const name = this.edgeName(index);
      this.graph.op(v.nchw ? 'Transpose' : 'Identity', [v.name], v.nchw ? { perm: NCHW_TO_NHWC } : {}, name);
      this.graph.output(name, onnxType(t), t.shape);
    }
    return this.graph.toBytes({ opset: this.options.opset ?? 13, producerName: 'hairstyler tflite-to-onnx' });
  }
}

function onnxType(t: TfliteTensor): OnnxDtype {
  if (t.type === 'float32' || t.type === 'int32' || t.type === 'int64' || t.type === 'uint8' || t.type === 'int8' || t.type === 'bool') return t.type;
  throw new Error(`Unsupported graph input/output type ${t.type} for ${t.name}`);
}

/** Converts a .tflite flatbuffer to ONNX bytes. Deterministic: the same input always gives the same bytes. */
export function tfliteToOnnx(tflite: Uint8Array, options: ConvertOptions): Uint8Array {
  return new Converter(readTflite(tflite), options).run();
}
