import * as flatbuffers from 'flatbuffers';

/**
 * Writes tiny TFLite flatbuffers for converter tests, slot by slot as the reader expects them (schema.fbs order).
 * Only the fields the converter reads are written.
 */
export const OP = { ADD: 0, CONCATENATION: 2, CONV_2D: 3, DEPTHWISE_CONV_2D: 4, DEQUANTIZE: 6, MAX_POOL_2D: 17, RELU: 19, RESHAPE: 22, RESIZE_BILINEAR: 23, PAD: 34, PRELU: 54 } as const;
const TYPE = { float32: 0, float16: 1, int32: 2 } as const;

export interface FixtureTensor {
  name: string;
  shape: number[];
  type: keyof typeof TYPE;
  data?: Uint8Array;
}
export interface FixtureOp {
  op: number;
  inputs: number[];
  outputs: number[];
  /** [slot, kind, value] of the builtin options table. */
  options?: Array<[number, 'int8' | 'int32', number]>;
}
export interface Fixture {
  tensors: FixtureTensor[];
  ops: FixtureOp[];
  inputs: number[];
  outputs: number[];
}

export const f32 = (values: ArrayLike<number>): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);
export const i32 = (values: ArrayLike<number>): Uint8Array => new Uint8Array(Int32Array.from(values).buffer);
/** float → IEEE half bits (round to nearest even), for values that fit a half's normal range. */
export function f16(values: ArrayLike<number>): Uint8Array {
  const out = new Uint16Array(values.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < values.length; i++) {
    f[0] = values[i]!;
    const x = u[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = ((x >>> 23) & 0xff) - 127 + 15;
    let mant = x & 0x7fffff;
    if (exp <= 0) { out[i] = sign; continue; }
    let h = sign | (exp << 10) | (mant >>> 13);
    mant &= 0x1fff;
    if (mant > 0x1000 || (mant === 0x1000 && (h & 1))) h++;
    out[i] = h;
  }
  return new Uint8Array(out.buffer);
}
/** The float a half rounds to (what TFLite's DEQUANTIZE yields). */
export function halfValues(values: ArrayLike<number>): Float32Array {
  const bits = new Uint16Array(f16(values).buffer);
  return Float32Array.from(bits, (h) => {
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    const s = h & 0x8000 ? -1 : 1;
    return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
  });
}

const ints = (b: flatbuffers.Builder, values: number[]): number => {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]!);
  return b.endVector();
};
const offsets = (b: flatbuffers.Builder, values: number[]): number => {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addOffset(values[i]!);
  return b.endVector();
};

export function buildTflite(fixture: Fixture): Uint8Array {
  const b = new flatbuffers.Builder(1024);
  b.forceDefaults(true);
  const opcodes = [...new Set(fixture.ops.map((o) => o.op))];
  const codeTables = opcodes.map((code) => {
    b.startObject(4);
    b.addFieldInt8(0, Math.min(code, 127), 0);
    b.addFieldInt32(2, 1, 1);
    b.addFieldInt32(3, code, 0);
    return b.endObject();
  });
  // Buffer 0 is the empty sentinel, as in real models.
  const bufferTables = [undefined, ...fixture.tensors.map((t) => t.data)].map((data) => {
    const vec = data ? b.createByteVector(data) : 0;
    b.startObject(3);
    if (vec) b.addFieldOffset(0, vec, 0);
    return b.endObject();
  });
  let nextBuffer = 1;
  const tensorTables = fixture.tensors.map((t) => {
    const name = b.createString(t.name);
    const shape = ints(b, t.shape);
    b.startObject(5);
    b.addFieldOffset(0, shape, 0);
    b.addFieldInt8(1, TYPE[t.type], 0);
    b.addFieldInt32(2, nextBuffer++, 0);
    b.addFieldOffset(3, name, 0);
    return b.endObject();
  });
  const opTables = fixture.ops.map((o) => {
    let options = 0;
    if (o.options) {
      b.startObject(8);
      for (const [slot, kind, value] of o.options) {
        if (kind === 'int8') b.addFieldInt8(slot, value, -1);
        else b.addFieldInt32(slot, value, -1);
      }
      options = b.endObject();
    }
    const inputs = ints(b, o.inputs);
    const outputs = ints(b, o.outputs);
    b.startObject(5);
    b.addFieldInt32(0, opcodes.indexOf(o.op), -1);
    b.addFieldOffset(1, inputs, 0);
    b.addFieldOffset(2, outputs, 0);
    if (options) {
      b.addFieldInt8(3, 1, 0);
      b.addFieldOffset(4, options, 0);
    }
    return b.endObject();
  });
  const tensors = offsets(b, tensorTables);
  const inputs = ints(b, fixture.inputs);
  const outputs = ints(b, fixture.outputs);
  const operators = offsets(b, opTables);
  b.startObject(5);
  b.addFieldOffset(0, tensors, 0);
  b.addFieldOffset(1, inputs, 0);
  b.addFieldOffset(2, outputs, 0);
  b.addFieldOffset(3, operators, 0);
  const subgraph = b.endObject();
  const codesVec = offsets(b, codeTables);
  const subgraphsVec = offsets(b, [subgraph]);
  const buffersVec = offsets(b, bufferTables);
  b.startObject(5);
  b.addFieldInt32(0, 3, 0);
  b.addFieldOffset(1, codesVec, 0);
  b.addFieldOffset(2, subgraphsVec, 0);
  b.addFieldOffset(4, buffersVec, 0);
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array().slice();
}
