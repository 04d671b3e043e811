import { OnnxGraph } from '../onnx-graph.js';
import { buildSwapGraph } from './build-swap-graph.js';
import { CONTRACT_OPSET, type GraphContract, type GraphSpec, type GraphTensorSpec } from '../../pipeline/hairfast/contract.js';

/**
 * Contract models: tiny graphs with exactly the production names, dtypes and shapes of graphs.contract.json, doing
 * cheap but input-dependent math. Every output is a convex mix of every input mapped onto the output's shape
 * (channels picked round-robin, spatial sizes resized linearly), so a swapped or missing wire changes the result,
 * and image structure survives the chain (the final image is a blurred face). Each graph also adds a small
 * graph-specific offset. Deterministic: the same contract always gives the same bytes.
 */
const PRIMARY_WEIGHT = 0.7;

function count(spec: GraphTensorSpec): number {
  return spec.shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);
}

function dims(spec: GraphTensorSpec): number[] {
  return spec.shape.map((d) => (typeof d === 'number' ? d : 1));
}

/** NCHW dims a tensor is treated as: 4-D as is, [B,A,C] → [B,A,C,1], [B,N] → [B,N,1,1]. */
function asNchw(spec: GraphTensorSpec): [number, number, number, number] {
  const d = dims(spec);
  if (d.length === 4) return [d[0]!, d[1]!, d[2]!, d[3]!];
  if (d.length === 3) return [d[0]!, d[1]!, d[2]!, 1];
  if (d.length === 2) return [d[0]!, d[1]!, 1, 1];
  throw new RangeError(`Expected a 2-D to 4-D tensor for ${spec.name} but received rank ${d.length}`);
}

function graphOffset(name: string): number {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) % 1000;
  return (h / 1000 - 0.5) * 0.1;
}

/** The input to a float NCHW tensor in about [-1, 1] (any leading batch: reshapes copy dim 0). */
function normalisedInput(g: OnnxGraph, spec: GraphTensorSpec, tensor: string): string {
  let x = tensor;
  if (spec.dtype !== 'float32') x = g.op('Cast', [x], { to: 1 });
  if (spec.dtype === 'uint8') {
    x = g.op('Sub', [g.op('Div', [x, scalar(g, 127.5)]), scalar(g, 1)]);
  } else if (spec.dtype === 'int64' || spec.dtype === 'int32') {
    x = g.op('Sub', [g.op('Div', [x, scalar(g, 9)]), scalar(g, 1)]);
  }
  const rank = spec.shape.length;
  if (rank !== 4) x = g.op('Reshape', [x, g.int64s(g.uniqueName('shape'), [0, ...asNchw(spec).slice(1)])]);
  return x;
}

function scalar(g: OnnxGraph, value: number): string {
  return g.initializer(g.uniqueName('c'), new Float32Array([value]), []);
}

/**
 * Maps a float NCHW tensor onto the output's NCHW dims: channels picked round-robin and a linear spatial resize,
 * in whichever order touches fewer elements. A batch-2 tensor is a (face, other) pair: pair → one is the pair's mean,
 * one → pair repeats it. Every op works on any number of pairs or rows stacked on dim 0, so the composite (`swap`,
 * batched) runs the very same nodes as the split graphs.
 */
function mapOnto(g: OnnxGraph, input: string, from: number[], to: number[]): string {
  let x = input;
  const [, c, h, w] = from as [number, number, number, number];
  if (from[0] === 2 && to[0] === 1) {
    x = g.op('Reshape', [x, g.int64s(g.uniqueName('pairs'), [-1, 2, c, h, w])]);
    x = g.op('ReduceMean', [x], { axes: [1], keepdims: 0 });
  } else if (from[0] === 1 && to[0] === 2) {
    const one = g.op('Unsqueeze', [x, g.int64s(g.uniqueName('axes'), [1])]);
    x = g.op('Reshape', [g.op('Concat', [one, one], { axis: 1 }), g.int64s(g.uniqueName('rows'), [-1, c, h, w])]);
  } else if (from[0] !== to[0]) {
    throw new RangeError(`Expected batch 1 or 2 on both sides but received ${from[0]} → ${to[0]}`);
  }
  from = [to[0]!, c, h, w];
  const pick = (y: string) => {
    if (from[1] === to[1]) return y;
    const idx = BigInt64Array.from({ length: to[1]! }, (_, o) => BigInt(o % from[1]!));
    return g.op('Gather', [y, g.initializer(g.uniqueName('channels'), idx, [to[1]!])], { axis: 1 });
  };
  const resize = (y: string, channels: number) => {
    if (from[2] === to[2] && from[3] === to[3]) return y;
    // Sizes with the input's own batch (any number of rows).
    const rows = g.op('Shape', [y], { start: 0, end: 1 });
    const sizes = g.op('Concat', [rows, g.int64s(g.uniqueName('sizes'), [channels, to[2]!, to[3]!])], { axis: 0 });
    return g.op('Resize', [y, '', '', sizes], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });
  };
  return to[1]! < from[1]! ? resize(pick(x), to[1]!) : pick(resize(x, from[1]!));
}

function finishOutput(g: OnnxGraph, mixed: string, spec: GraphTensorSpec): string {
  let y = mixed;
  if (spec.dtype === 'uint8') {
    y = g.op('Clip', [g.op('Round', [g.op('Add', [g.op('Mul', [y, scalar(g, 127.5)]), scalar(g, 127.5)])]), scalar(g, 0), scalar(g, 255)]);
  } else if (spec.dtype === 'int64') {
    y = g.op('Clip', [g.op('Floor', [g.op('Mul', [g.op('Add', [y, scalar(g, 1)]), scalar(g, 9.5)])]), scalar(g, 0), scalar(g, 18)]);
  }
  if (spec.shape.length !== 4) y = g.op('Reshape', [y, g.int64s(g.uniqueName('shape'), [0, ...dims(spec).slice(1)])]);
  const to = { float32: 1, uint8: 2, int64: 7, int32: 6, float16: 10, bool: 9 }[spec.dtype];
  if (spec.dtype !== 'float32') y = g.op('Cast', [y], { to });
  return y;
}

/**
 * One contract graph's nodes, appended to `g`, reading its inputs from the given tensors (by contract input name);
 * returns its outputs' tensors by name. Split graphs are one call; composites chain several.
 */
export function emitContractGraph(g: OnnxGraph, name: string, spec: GraphSpec, feeds: Readonly<Record<string, string>>): Record<string, string> {
  const tensorOf = (s: GraphTensorSpec) => {
    const t = feeds[s.name];
    if (!t) throw new RangeError(`Expected a tensor for input ${s.name} of ${name} but received none`);
    return t;
  };
  const rankOk = spec.inputs.filter((s) => s.shape.length >= 3);
  const primary = (rankOk.length ? rankOk : spec.inputs).reduce((a, b) => (count(b) > count(a) ? b : a));
  const others = spec.inputs.filter((s) => s !== primary);
  const normalised = new Map(spec.inputs.map((s) => [s.name, normalisedInput(g, s, tensorOf(s))]));
  const outputs: Record<string, string> = {};
  for (const [k, out] of spec.outputs.entries()) {
    const to = asNchw(out);
    const terms: string[] = [];
    const weightOf = (s: GraphTensorSpec) => (s === primary ? (others.length ? PRIMARY_WEIGHT : 1) : (1 - PRIMARY_WEIGHT) / others.length);
    for (const input of spec.inputs) {
      const mapped = mapOnto(g, normalised.get(input.name)!, asNchw(input), to);
      terms.push(g.op('Mul', [mapped, scalar(g, weightOf(input))]));
    }
    let sum = terms[0]!;
    for (const t of terms.slice(1)) sum = g.op('Add', [sum, t]);
    // Outputs of one graph differ from each other (and graphs from graphs) by a small offset.
    sum = g.op('Add', [sum, scalar(g, graphOffset(name) + k * 0.01)]);
    outputs[out.name] = finishOutput(g, sum, out);
  }
  return outputs;
}

export function buildContractGraph(name: string, spec: GraphSpec, opset = CONTRACT_OPSET): Uint8Array {
  const g = new OnnxGraph(`hairfast_contract_${name}`);
  for (const input of spec.inputs) g.input(input.name, input.dtype, input.shape);
  const outputs = emitContractGraph(g, name, spec, Object.fromEntries(spec.inputs.map((s) => [s.name, s.name])));
  for (const out of spec.outputs) {
    g.node('Identity', [outputs[out.name]!], [out.name]);
    g.output(out.name, out.dtype, out.shape);
  }
  return g.toBytes({ opset, docString: `hairstyler contract model for ${name}: names and shapes of graphs.contract.json, not a trained network` });
}

/** Every graph of the contract, in contract order, then the composites. */
export function buildContractModels(contract: GraphContract): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [name, spec] of Object.entries(contract.graphs)) out.set(name, buildContractGraph(name, spec));
  const composites: Record<string, (c: GraphContract) => Uint8Array> = { swap: buildSwapGraph };
  for (const name of Object.keys(contract.composites)) {
    const build = composites[name];
    if (!build) throw new RangeError(`Expected a contract builder for composite ${name} but there is none`);
    out.set(name, build(contract));
  }
  return out;
}
