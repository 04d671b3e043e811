import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/**
 * A small ONNX graph builder on `onnx-proto`. It records inputs, initializers, nodes and outputs in call order
 * and serialises them in that order, so the same calls always produce the same bytes (no timestamps, no maps,
 * no random names). Used by the TFLite converter and by the tiny test graphs under tools/.
 *
 * ```ts
 * const g = new OnnxGraph('tiny');
 * g.input('x', 'float32', ['batch', 3]);
 * g.initializer('w', new Float32Array([1, 2, 3]), [3]);
 * g.node('Mul', ['x', 'w'], ['y']);
 * g.output('y', 'float32', ['batch', 3]);
 * writeFileSync('tiny.onnx', g.toBytes({ opset: 13 }));
 * ```
 */
export type OnnxDtype = 'float32' | 'float16' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';
/** A fixed size, or a symbolic name such as "batch". */
export type Dim = number | string;

const DATA_TYPE: Record<OnnxDtype, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  int8: onnx.TensorProto.DataType.INT8,
  uint8: onnx.TensorProto.DataType.UINT8,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** Typed arrays an initializer accepts. `Uint16Array` holds raw float16 bits and needs `dtype: 'float16'`. */
export type TensorData = Float32Array | Int32Array | BigInt64Array | Int8Array | Uint8Array | Uint16Array;

/** Marks a number as a FLOAT attribute (a plain number is INT when integral, FLOAT otherwise). */
export interface FloatAttr {
  readonly float: number;
}
export const float = (value: number): FloatAttr => ({ float: value });
/** Attribute values: integral number → INT, non-integral → FLOAT, number[] of integers → INTS, FloatAttr, string, {floats}. */
export type AttrValue = number | FloatAttr | number[] | { readonly floats: number[] } | string;

export interface ModelOptions {
  /** Default opset of the ai.onnx domain. */
  opset: number;
  /** IR version; 8 suits opsets 13–17. */
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
}

function inferDtype(data: TensorData): OnnxDtype {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  throw new TypeError('Expected dtype "float16" for a Uint16Array initializer');
}

function valueInfo(name: string, dtype: OnnxDtype, shape: readonly Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DATA_TYPE[dtype],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
  }
  if (Array.isArray(value)) {
    if (!value.every(Number.isInteger)) throw new TypeError(`Expected integers for attribute ${name} but received ${value.join(',')}`);
    return { name, type: T.INTS, ints: value };
  }
  if ('floats' in value) return { name, type: T.FLOATS, floats: value.floats };
  return { name, type: T.FLOAT, f: value.float };
}

export class OnnxGraph {
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly valueInfos: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** A fresh tensor name `<prefix>_<n>`, unique within this graph and deterministic. */
  uniqueName(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.names.has(name));
    return name;
  }

  /** Declares a graph input. Returns its name. */
  input(name: string, dtype: OnnxDtype, shape: readonly Dim[]): string {
    this.claim(name);
    this.inputs.push(valueInfo(name, dtype, shape));
    return name;
  }

  /** Declares a graph output (an existing tensor name). Returns its name. */
  output(name: string, dtype: OnnxDtype, shape: readonly Dim[]): string {
    this.outputs.push(valueInfo(name, dtype, shape));
    return name;
  }

  /** Optional shape annotation of an intermediate tensor. */
  valueInfo(name: string, dtype: OnnxDtype, shape: readonly Dim[]): string {
    this.valueInfos.push(valueInfo(name, dtype, shape));
    return name;
  }

  /** A constant tensor stored as little-endian raw_data. Returns its name. */
  initializer(name: string, data: TensorData, dims: readonly number[], dtype: OnnxDtype = inferDtype(data)): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new RangeError(`Expected ${count} elements for initializer ${name} but received ${data.length}`);
    this.claim(name);
    // Copy: the caller's array may be a view into a larger buffer.
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.initializers.push({ name, dataType: DATA_TYPE[dtype], dims: [...dims], rawData: raw });
    return name;
  }

  /** An int64 1-D initializer, the usual form of shapes, axes and pads. */
  int64s(name: string, values: readonly number[]): string {
    return this.initializer(name, BigInt64Array.from(values, BigInt), [values.length]);
  }

  /**
   * Appends a node. Outputs default to one fresh name; returns the output names.
   * Attributes are written in the key order given.
   */
  node(op: string, inputs: readonly string[], outputs?: readonly string[], attrs: Record<string, AttrValue> = {}, options: { name?: string; domain?: string } = {}): string[] {
    const outs = outputs ? [...outputs] : [this.uniqueName(op.toLowerCase())];
    for (const o of outs) this.names.add(o);
    this.nodes.push({
      name: options.name ?? `${op}_${this.nodes.length}`,
      opType: op,
      domain: options.domain ?? '',
      input: [...inputs],
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** Like `node` with a single output; returns that output's name. */
  op(op: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, output?: string): string {
    return this.node(op, inputs, output ? [output] : undefined, attrs)[0]!;
  }

  /** Serialises the model. The same sequence of calls always yields the same bytes. */
  toBytes(options: ModelOptions): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: options.irVersion ?? 8,
      opsetImport: [{ domain: '', version: options.opset }],
      producerName: options.producerName ?? 'hairstyler',
      producerVersion: options.producerVersion ?? '1',
      docString: options.docString ?? '',
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
        valueInfo: this.valueInfos,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`Expected a new tensor name but received ${name}, which is already used`);
    this.names.add(name);
  }
}

/**
 * The dims of every node's weight (its second input, when that is an initializer), by node name, read from a
 * serialised model. onnxruntime's profile leaves out the weights it prepacked (ConvTranspose's, for one), so the
 * profile's MAC count takes them from here. Decoding keeps raw_data as views into `bytes` (no copies).
 */
export function nodeWeightDims(bytes: Uint8Array): Map<string, number[]> {
  const graph = onnx.ModelProto.decode(bytes).graph;
  const dims = new Map<string, number[]>();
  if (!graph) return dims;
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', (t.dims ?? []).map(Number)]));
  for (const node of graph.node ?? []) {
    const weight = node.input?.[1];
    const shape = weight === undefined ? undefined : initializers.get(weight);
    if (node.name && shape) dims.set(node.name, shape);
  }
  return dims;
}
