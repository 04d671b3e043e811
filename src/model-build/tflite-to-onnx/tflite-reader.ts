import * as flatbuffers from 'flatbuffers';

/**
 * Hand-written readers for the parts of the TFLite flatbuffer the converter needs. Field slots follow the order
 * of the tables in TensorFlow Lite's schema.fbs (slot n lives at vtable offset 4 + 2n; a union takes two slots,
 * its type then its value).
 */
export const TENSOR_TYPES = ['float32', 'float16', 'int32', 'uint8', 'int64', 'string', 'bool', 'int16', 'complex64', 'int8'] as const;
export type TfliteType = (typeof TENSOR_TYPES)[number];

/** BuiltinOperator codes of the ops this project's models use. */
export const BUILTIN_OPS: Readonly<Record<number, string>> = {
  0: 'ADD', 1: 'AVERAGE_POOL_2D', 2: 'CONCATENATION', 3: 'CONV_2D', 4: 'DEPTHWISE_CONV_2D', 6: 'DEQUANTIZE',
  9: 'FULLY_CONNECTED', 14: 'LOGISTIC', 17: 'MAX_POOL_2D', 18: 'MUL', 19: 'RELU', 21: 'RELU6', 22: 'RESHAPE',
  23: 'RESIZE_BILINEAR', 25: 'SOFTMAX', 28: 'TANH', 34: 'PAD', 41: 'SUB', 54: 'PRELU', 60: 'PADV2',
};

class Table {
  constructor(readonly bb: flatbuffers.ByteBuffer, readonly pos: number) {}

  private field(slot: number): number {
    return this.bb.__offset(this.pos, 4 + 2 * slot);
  }
  has(slot: number): boolean {
    return this.field(slot) !== 0;
  }
  int8(slot: number, fallback = 0): number {
    const o = this.field(slot);
    return o ? this.bb.readInt8(this.pos + o) : fallback;
  }
  uint8(slot: number, fallback = 0): number {
    const o = this.field(slot);
    return o ? this.bb.readUint8(this.pos + o) : fallback;
  }
  int32(slot: number, fallback = 0): number {
    const o = this.field(slot);
    return o ? this.bb.readInt32(this.pos + o) : fallback;
  }
  uint32(slot: number, fallback = 0): number {
    const o = this.field(slot);
    return o ? this.bb.readUint32(this.pos + o) : fallback;
  }
  string(slot: number): string {
    const o = this.field(slot);
    return o ? (this.bb.__string(this.pos + o, flatbuffers.Encoding.UTF8_BYTES) as Uint8Array).reduce((s, c) => s + String.fromCharCode(c), '') : '';
  }
  table(slot: number): Table | undefined {
    const o = this.field(slot);
    return o ? new Table(this.bb, this.bb.__indirect(this.pos + o)) : undefined;
  }
  tables(slot: number): Table[] {
    const o = this.field(slot);
    if (!o) return [];
    const start = this.bb.__vector(this.pos + o);
    return Array.from({ length: this.bb.__vector_len(this.pos + o) }, (_, i) => new Table(this.bb, this.bb.__indirect(start + 4 * i)));
  }
  int32s(slot: number): number[] {
    const o = this.field(slot);
    if (!o) return [];
    const start = this.bb.__vector(this.pos + o);
    return Array.from({ length: this.bb.__vector_len(this.pos + o) }, (_, i) => this.bb.readInt32(start + 4 * i));
  }
  bytes(slot: number): Uint8Array {
    const o = this.field(slot);
    if (!o) return new Uint8Array(0);
    const start = this.bb.__vector(this.pos + o);
    return this.bb.bytes().subarray(start, start + this.bb.__vector_len(this.pos + o));
  }
}

export interface TfliteTensor {
  index: number;
  name: string;
  shape: number[];
  type: TfliteType;
  /** Constant data (a view into the model bytes), absent for activations. */
  data?: Uint8Array;
}

export interface TfliteOperator {
  op: string;
  inputs: number[];
  outputs: number[];
  /** The builtin options table, read by the converter per op. */
  options?: Table;
}

export interface TfliteModel {
  tensors: TfliteTensor[];
  operators: TfliteOperator[];
  inputs: number[];
  outputs: number[];
}
export type { Table as TfliteTable };

/** Parses the first subgraph of a .tflite file. */
export function readTflite(bytes: Uint8Array): TfliteModel {
  const bb = new flatbuffers.ByteBuffer(bytes);
  if (bytes.length < 8 || !bb.__has_identifier('TFL3')) throw new Error('Expected a TFLite flatbuffer (identifier TFL3)');
  const model = new Table(bb, bb.readInt32(bb.position()) + bb.position());
  // Model: 0 version, 1 operator_codes, 2 subgraphs, 3 description, 4 buffers.
  const opcodes = model.tables(1).map((code) => {
    // OperatorCode: 0 deprecated_builtin_code (byte), 1 custom_code, 2 version, 3 builtin_code (int).
    const builtin = Math.max(code.int8(0), code.int32(3));
    return code.has(1) ? `CUSTOM:${code.string(1)}` : (BUILTIN_OPS[builtin] ?? `BUILTIN_${builtin}`);
  });
  // Buffer: 0 data, 1 offset, 2 size (offset/size are for models over 2 GB, not used here).
  const buffers = model.tables(4).map((buffer) => buffer.bytes(0));
  const subgraphs = model.tables(2);
  const graph = subgraphs[0];
  if (!graph) throw new Error('Expected at least one subgraph in the TFLite model');
  // SubGraph: 0 tensors, 1 inputs, 2 outputs, 3 operators, 4 name.
  const tensors = graph.tables(0).map((t, index): TfliteTensor => {
    // Tensor: 0 shape, 1 type, 2 buffer, 3 name, 4 quantization.
    const type = TENSOR_TYPES[t.int8(1)];
    if (!type) throw new Error(`Unsupported TFLite tensor type ${t.int8(1)} for tensor ${t.string(3)}`);
    const data = buffers[t.uint32(2)];
    return { index, name: t.string(3), shape: t.int32s(0), type, ...(data && data.length > 0 ? { data } : {}) };
  });
  // Operator: 0 opcode_index, 1 inputs, 2 outputs, 3 builtin_options_type, 4 builtin_options.
  const operators = graph.tables(3).map((o): TfliteOperator => {
    const options = o.table(4);
    return { op: opcodes[o.uint32(0)] ?? 'UNKNOWN', inputs: o.int32s(1), outputs: o.int32s(2), ...(options ? { options } : {}) };
  });
  return { tensors, operators, inputs: graph.int32s(1), outputs: graph.int32s(2) };
}
