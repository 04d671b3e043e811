import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * onnxruntime's profile files (SessionOptions.enableProfiling, written by `SessionManager.endProfiling`): a JSON array
 * of trace events. Per run a `model_run` Session event; inside it one `<node>_kernel_time` Node event per node, with
 * the op type and the provider that ran it. Memcpy nodes (MemcpyToHost/MemcpyFromHost, inserted between providers)
 * are the device↔host copies inside a graph; what a run spends outside its nodes (feeding and fetching, executor,
 * fences) is `otherMs`.
 */
const eventSchema = z.object({
  cat: z.string(),
  name: z.string(),
  ts: z.number(),
  dur: z.number(),
  args: z.object({ op_name: z.string().optional(), provider: z.string().optional() }).passthrough().optional(),
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
}

export interface NodeTime {
  node: string;
  op: string;
  provider: string;
  ms: number;
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
  /** Kernel time by op type and provider, largest first. */
  byOp: OpTime[];
  /** Kernel time by node, largest first. */
  byNode: NodeTime[];
}

const COPY_OPS = new Set(['MemcpyToHost', 'MemcpyFromHost']);
const KERNEL_SUFFIX = '_kernel_time';
const ms = (us: number) => us / 1000;
const shortProvider = (p: string | undefined) => (p ?? '?').replace(/ExecutionProvider$/, '');

/** The model_run events of a profile in start order (a session's runs never overlap: onnxruntime-node runs them one by one). */
export function modelRuns(events: readonly OrtProfileEvent[]): OrtProfileEvent[] {
  return events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
}

/**
 * Sums the runs `from` … `to` (indices into `modelRuns`, end exclusive; default all) and the nodes that ran inside
 * them, e.g. to leave out the load-time warm-up and the warm-up requests.
 */
export function summariseRuns(events: readonly OrtProfileEvent[], from = 0, to?: number): RunsProfile {
  const runs = modelRuns(events).slice(from, to);
  const nodes = events.filter((e) => e.cat === 'Node' && e.name.endsWith(KERNEL_SUFFIX)).sort((a, b) => a.ts - b.ts);
  const byOp = new Map<string, OpTime>();
  const byNode = new Map<string, NodeTime>();
  let kernelUs = 0;
  let copyUs = 0;
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
      const opKey = `${op}\u0000${provider}`;
      const o = byOp.get(opKey) ?? { op, provider, ms: 0, count: 0 };
      o.ms += ms(node.dur);
      o.count += 1;
      byOp.set(opKey, o);
      const name = node.name.slice(0, -KERNEL_SUFFIX.length);
      const n = byNode.get(name) ?? { node: name, op, provider, ms: 0 };
      n.ms += ms(node.dur);
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
    byOp: [...byOp.values()].sort((a, b) => b.ms - a.ms),
    byNode: [...byNode.values()].sort((a, b) => b.ms - a.ms),
  };
}
