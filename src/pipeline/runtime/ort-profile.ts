import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * onnxruntime's profile files (SessionOptions.enableProfiling, written by `SessionManager.endProfiling`): a JSON array
 * of trace events. Per run a `model_run` Session event; inside it one `<node>_kernel_time` Node event per node, with
 * the op type and the provider that ran it. Memcpy nodes (MemcpyToHost/MemcpyFromHost, inserted between providers)
 * are the device↔host copies inside a graph; what a run spends outside its nodes (feeding and fetching, executor,
 * fences) is `otherMs`. Node events also carry their run-time input and output shapes, from which the
 * multiply-accumulates of the matrix ops are counted (`nodeMacs`).
 */
/** `[{ "float": [1, 3, 224, 224] }, …]`: one single-key object (element type → dims) per input or output. */
const typeShapes = z.array(z.record(z.string(), z.array(z.number()))).optional();

const eventSchema = z.object({
  cat: z.string(),
  name: z.string(),
  ts: z.number(),
  dur: z.number(),
  args: z.object({
    op_name: z.string().optional(),
    provider: z.string().optional(),
    input_type_shape: typeShapes,
    output_type_shape: typeShapes,
  }).passthrough().optional(),
}).passthrough();

export type OrtProfileEvent = z.infer<typeof eventSchema>;

export function readOrtProfile(file: string): OrtProfileEvent[] {
  const parsed = z.array(eventSchema).safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file} is not an onnxruntime profile: ${parsed.error.issues[0]?.message ?? 'bad JSON'}`);
  return parsed.data;
}

export interface OpTime {
  op: string;
  provider: string;
  ms: number;
  /** Node executions summed (nodes × runs). */
  count: number;
  /** Multiply-accumulates summed over those executions (0 for ops that are not matrix ops; see `nodeMacs`). */
  macs: number;
}

export interface NodeTime {
  node: string;
  op: string;
  provider: string;
  ms: number;
  macs: number;
}

export interface RunsProfile {
  /** model_run events summed. */
  runs: number;
  /** Σ model_run durations, ms. */
  runMs: number;
  /** Σ compute-node kernel times (every node but the copies), ms. */
  kernelMs: number;
  /** Σ Memcpy node kernel times: device↔host copies inside the graph, ms. */
  copyMs: number;
  /** runMs − kernelMs − copyMs: the run's time outside its nodes (feeds, fetches, executor, fences), ms. */
  otherMs: number;
  /** Σ multiply-accumulates of the matrix ops (`nodeMacs`) over the runs. */
  macs: number;
  /** Executions of matrix ops whose MACs could not be counted (Einsum, or no shapes in the profile). */
  uncountedMacNodes: number;
  /** Kernel time by op type and provider, largest first. */
  byOp: OpTime[];
  /** Kernel time by node, largest first. */
  byNode: NodeTime[];
}

const COPY_OPS = new Set(['MemcpyToHost', 'MemcpyFromHost']);
const KERNEL_SUFFIX = '_kernel_time';
const ms = (us: number) => us / 1000;
const shortProvider = (p: string | undefined) => (p ?? '?').replace(/ExecutionProvider$/, '');

const prod = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
const dimsOf = (shapes: z.infer<typeof typeShapes>): number[][] => shapes?.map((entry) => Object.values(entry)[0] ?? []) ?? [];

/** Ops whose kernels are convolutions or matrix products, as onnxruntime names them after its graph fusions. */
const CONV_OPS = new Set(['Conv', 'FusedConv', 'NhwcFusedConv']);
const MATMUL_OPS = new Set(['MatMul', 'FusedMatMul', 'Gemm', 'FusedGemm']);
const UNSIZED_MAC_OPS = new Set(['Einsum', 'ConvInteger', 'MatMulInteger', 'QLinearConv', 'QLinearMatMul', 'Attention']);

/**
 * Multiply-accumulates of one node execution from its run-time shapes: 0 for an op that is not a matrix op,
 * undefined for one that is but cannot be sized from shapes alone (Einsum, quantized ops). Convolutions count
 * output elements × (input channels per group × kernel window): the weight is [Cout, Cin/group, kh, kw] (for
 * onnxruntime's NCHWc convolutions, with channels padded to its block). A transposed convolution's weight is
 * [Cin, Cout/group, kh, kw], each input element meeting Cout/group × window weights. Matrix products count output
 * elements × K, where K is what A's last two dims hold beyond M (either orientation: Gemm's transA, FusedMatMul's).
 */
export function nodeMacs(op: string, inputs: readonly (readonly number[])[], outputs: readonly (readonly number[])[]): number | undefined {
  const [x, w] = inputs;
  const [y] = outputs;
  if (CONV_OPS.has(op)) return y && w && w.length >= 3 ? prod(y) * prod(w.slice(1)) : undefined;
  if (op === 'ConvTranspose') return x && w && w.length >= 3 ? prod(x) * prod(w.slice(1)) : undefined;
  if (MATMUL_OPS.has(op)) {
    if (!x || !y || y.length === 0) return undefined;
    if (x.length === 1) return prod(y) * x[0]!;
    const m = y.length >= 2 ? y[y.length - 2]! : 1;
    return m === 0 ? 0 : prod(y) * ((x[x.length - 1]! * x[x.length - 2]!) / m);
  }
  return UNSIZED_MAC_OPS.has(op) ? undefined : 0;
}

/** The model_run events of a profile in start order (a session's runs never overlap: onnxruntime-node runs them one by one). */
export function modelRuns(events: readonly OrtProfileEvent[]): OrtProfileEvent[] {
  return events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
}

/**
 * Sums the runs `from` … `to` (indices into `modelRuns`, end exclusive; default all) and the nodes that ran inside
 * them, e.g. to leave out the load-time warm-up and the warm-up requests. `weightDims` (node name → its weight's
 * dims, `nodeWeightDims` of the graph file) supplies the weights onnxruntime prepacked, which the profile omits.
 */
export function summariseRuns(events: readonly OrtProfileEvent[], from = 0, to?: number, weightDims?: ReadonlyMap<string, readonly number[]>): RunsProfile {
  const runs = modelRuns(events).slice(from, to);
  const nodes = events.filter((e) => e.cat === 'Node' && e.name.endsWith(KERNEL_SUFFIX)).sort((a, b) => a.ts - b.ts);
  const byOp = new Map<string, OpTime>();
  const byNode = new Map<string, NodeTime>();
  let kernelUs = 0;
  let copyUs = 0;
  let macs = 0;
  let uncountedMacNodes = 0;
  let i = 0;
  for (const run of runs) {
    const end = run.ts + run.dur;
    while (i < nodes.length && nodes[i]!.ts < run.ts) i++;
    for (; i < nodes.length && nodes[i]!.ts <= end; i++) {
      const node = nodes[i]!;
      const op = node.args?.op_name ?? '?';
      const provider = shortProvider(node.args?.provider);
      if (COPY_OPS.has(op)) copyUs += node.dur;
      else kernelUs += node.dur;
      const name = node.name.slice(0, -KERNEL_SUFFIX.length);
      const inputs = dimsOf(node.args?.input_type_shape);
      const prepacked = inputs.length === 1 ? weightDims?.get(name) : undefined;
      const counted = nodeMacs(op, prepacked ? [inputs[0]!, prepacked] : inputs, dimsOf(node.args?.output_type_shape));
      if (counted === undefined) uncountedMacNodes += 1;
      const nodeMacCount = counted ?? 0;
      macs += nodeMacCount;
      const opKey = `${op}\u0000${provider}`;
      const o = byOp.get(opKey) ?? { op, provider, ms: 0, count: 0, macs: 0 };
      o.ms += ms(node.dur);
      o.count += 1;
      o.macs += nodeMacCount;
      byOp.set(opKey, o);
      const n = byNode.get(name) ?? { node: name, op, provider, ms: 0, macs: 0 };
      n.ms += ms(node.dur);
      n.macs += nodeMacCount;
      byNode.set(name, n);
    }
  }
  const runUs = runs.reduce((sum, r) => sum + r.dur, 0);
  return {
    runs: runs.length,
    runMs: ms(runUs),
    kernelMs: ms(kernelUs),
    copyMs: ms(copyUs),
    otherMs: ms(runUs - kernelUs - copyUs),
    macs,
    uncountedMacNodes,
    byOp: [...byOp.values()].sort((a, b) => b.ms - a.ms),
    byNode: [...byNode.values()].sort((a, b) => b.ms - a.ms),
  };
}
