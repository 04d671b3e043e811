import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { PresetCacheStore } from '../../../src/pipeline/engine.js';
import { graphContext, type Feeds, type HairfastGraphs } from '../../../src/pipeline/hairfast/graphs.js';
import { createPresetLibrary } from '../../../src/pipeline/hairfast/preset-library.js';
import type { TensorData } from '../../../src/pipeline/runtime/ort.js';
import { graphContract } from '../../../src/pipeline/hairfast/contract.js';
import { HairError } from '../../../src/shared/errors.js';

const contract = graphContract();
const tensor = (v: TensorData) => new ort.Tensor(v.dtype as 'float32', v.data as Float32Array, v.dims);

/** Graphs that answer every run with zero tensors of the contract's output shapes, counting runs. */
function fakeGraphs(): HairfastGraphs & { count: number } {
  const g = {
    kind: 'contract' as const, precision: 'fp32' as const, modelsHash: 'c'.repeat(64), executionProvider: 'cpu', loadMs: 0, contract, licenses: [], count: 0, tensor, has: () => false,
    async run(graph: string): Promise<Feeds> {
      g.count++;
      const out: Feeds = {};
      for (const spec of contract.graphs[graph]!.outputs) {
        const dims = spec.shape as number[];
        const n = dims.reduce((a, b) => a * b, 1);
        out[spec.name] = spec.dtype === 'int64' ? new ort.Tensor('int64', new BigInt64Array(n), dims) : new ort.Tensor('float32', new Float32Array(n), dims);
      }
      return out;
    },
  };
  return g;
}

describe('preset library', () => {
  it('shares one build between concurrent requests, and rebuilds for a request whose partner was cancelled', async () => {
    const graphs = fakeGraphs();
    const stored = new Map<string, Uint8Array>();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let gets = 0;
    const store: PresetCacheStore = {
      get: async (k) => {
        if (gets++ === 0) await gate;
        return stored.get(k) ?? null;
      },
      set: async (k, v) => void stored.set(k, v),
      delete: async (k) => void stored.delete(k),
    };
    const aligned = { data: new Uint8Array(1024 * 1024 * 3), width: 1024, height: 1024 };
    const library = createPresetLibrary({
      graphs,
      storeFor: () => store,
      source: async () => ({ kind: 'color', image: new Uint8Array([1]) }),
      alignPreset: async (_image, signal) => {
        if (signal?.aborted) throw new HairError('JOB_CANCELLED', { stage: 'detecting' });
        return aligned;
      },
    });
    const a = new AbortController();
    const first = library.get(graphContext(graphs, a.signal), 'guild:123456:red', 'color', a.signal);
    const second = library.get(graphContext(graphs), 'guild:123456:red', 'color');
    a.abort();
    release();
    await expect(first).rejects.toMatchObject({ code: 'JOB_CANCELLED' });
    const built = await second;
    expect(built).toMatchObject({ kind: 'color', built: true });
    expect(stored.size).toBe(1);
    // Now cached: no graph runs, and a colour preset cannot serve as a shape.
    const before = graphs.count;
    expect(await library.get(graphContext(graphs), 'guild:123456:red', 'color')).toMatchObject({ built: false });
    expect(graphs.count).toBe(before);
    await expect(library.get(graphContext(graphs), 'guild:123456:red', 'shape')).rejects.toMatchObject({ code: 'PRESET_KIND_MISMATCH' });
  });
});
