import type { OrtTensor, TensorArray, TensorData } from '../runtime/ort.js';
import type { Feeds } from './graphs.js';

/**
 * Micro-batching for a graph whose first dimension is a batch of independent rows (`swap`): concurrent calls with
 * batch-1 feeds are stacked into one run and each caller gets its own row back. A batch goes when it is full
 * (`maxBatch`), when no other request could still join (`stillComing()` is 0), or `maxWaitMs` after its first
 * call. Calls whose feeds differ in names, dtypes or row shapes never share a run. If a batched run fails, each of its
 * calls runs again alone, so a bad call fails only itself; every call settles exactly once.
 */
export interface RowBatcherOptions {
  /** Most calls in one run. @defaultValue 8 */
  maxBatch: number;
  /** Longest a call waits for others after the first of its batch arrived. @defaultValue 10 */
  maxWaitMs: number;
  /** How many requests may still call and have not yet; at 0 the batch goes at once. @defaultValue () => Infinity */
  stillComing?: () => number;
}

export interface RowBatcher {
  run(feeds: Feeds): Promise<Feeds>;
  /** Call when `stillComing()` dropped without a call (a request ended early): a waiting batch may go now. */
  recheck(): void;
  /** Sizes of the runs made so far, in order (batched runs and single re-runs). */
  readonly runSizes: readonly number[];
}

interface Pending {
  feeds: Feeds;
  signature: string;
  resolve(out: Feeds): void;
  reject(error: unknown): void;
}

const signatureOf = (feeds: Feeds): string =>
  Object.keys(feeds).sort().map((k) => `${k}:${feeds[k]!.type}[${feeds[k]!.dims.join(',')}]`).join(';');

function concatRows(tensors: OrtTensor[], tensor: (value: TensorData) => OrtTensor): OrtTensor {
  const first = tensors[0]!;
  if (tensors.length === 1) return first;
  const rowLength = first.data.length;
  const Ctor = (first.data as TensorArray).constructor as new (n: number) => TensorArray;
  const data = new Ctor(rowLength * tensors.length);
  tensors.forEach((t, i) => (data as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(t.data as ArrayLike<unknown>, i * rowLength));
  return tensor({ dtype: first.type as TensorData['dtype'], data, dims: [first.dims[0]! * tensors.length, ...first.dims.slice(1)] });
}

function row(out: OrtTensor, i: number, rows: number, tensor: (value: TensorData) => OrtTensor): OrtTensor {
  if (rows === 1) return out;
  const length = out.data.length / rows;
  const data = (out.data as TensorArray).subarray(i * length, (i + 1) * length) as TensorArray;
  return tensor({ dtype: out.type as TensorData['dtype'], data, dims: [out.dims[0]! / rows, ...out.dims.slice(1)] });
}

export function createRowBatcher(
  runGraph: (feeds: Feeds) => Promise<Feeds>, tensor: (value: TensorData) => OrtTensor, options: RowBatcherOptions,
): RowBatcher {
  const maxBatch = Math.max(1, options.maxBatch);
  const stillComing = options.stillComing ?? (() => Number.POSITIVE_INFINITY);
  const runSizes: number[] = [];
  let queue: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;

  const runAlone = (p: Pending) => {
    runSizes.push(1);
    runGraph(p.feeds).then(p.resolve, p.reject);
  };

  const runGroup = async (group: Pending[]) => {
    if (group.length === 1) return runAlone(group[0]!);
    const names = Object.keys(group[0]!.feeds);
    let out: Feeds;
    try {
      const feeds: Feeds = {};
      for (const name of names) feeds[name] = concatRows(group.map((p) => p.feeds[name]!), tensor);
      runSizes.push(group.length);
      out = await runGraph(feeds);
    } catch {
      // Which call broke the run is unknown: each runs alone and gets its own result or error.
      for (const p of group) runAlone(p);
      return;
    }
    group.forEach((p, i) => {
      const mine: Feeds = {};
      for (const [name, value] of Object.entries(out)) mine[name] = row(value, i, group.length, tensor);
      p.resolve(mine);
    });
  };

  const dispatch = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const taken = queue.slice(0, maxBatch);
    queue = queue.slice(maxBatch);
    const groups = new Map<string, Pending[]>();
    for (const p of taken) groups.set(p.signature, [...(groups.get(p.signature) ?? []), p]);
    for (const group of groups.values()) void runGroup(group);
    if (queue.length > 0) schedule();
  };

  const schedule = () => {
    if (queue.length >= maxBatch || stillComing() <= 0) return dispatch();
    timer ??= setTimeout(dispatch, options.maxWaitMs);
  };

  return {
    runSizes,
    recheck() {
      if (queue.length > 0) schedule();
    },
    run(feeds) {
      const rows = Object.values(feeds)[0]?.dims[0];
      // Only batch-1 calls are stacked; anything else runs as given.
      if (maxBatch === 1 || rows !== 1) {
        runSizes.push(rows ?? 0);
        return runGraph(feeds);
      }
      return new Promise<Feeds>((resolve, reject) => {
        queue.push({ feeds, signature: signatureOf(feeds), resolve, reject });
        schedule();
      });
    },
  };
}
