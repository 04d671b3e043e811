import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colorEmbedding } from '../../../src/pipeline/hairfast/blend.js';
import { embedImage, seanCodes, type ImageEmbedding } from '../../../src/pipeline/hairfast/embed.js';
import { graphContext, loadHairfastGraphs, type Feeds, type HairfastGraphs } from '../../../src/pipeline/hairfast/graphs.js';
import { createRowBatcher } from '../../../src/pipeline/hairfast/row-batcher.js';
import { swapFeeds } from '../../../src/pipeline/hairfast/swap.js';
import { createSessionManager, type SessionManager } from '../../../src/pipeline/runtime/ort.js';
import { aligned1024, ASTRONAUT, contractModelsDir } from './fixtures.js';

/** Batched `swap` runs on real ORT sessions (contract graphs, symbolic batch dimension) against batch-1 runs. */
describe('row batcher over the swap graph', () => {
  let manager: SessionManager;
  let graphs: HairfastGraphs;
  /** Swap feeds of five different requests (modes × images), and each one's batch-1 output. */
  const requests: Feeds[] = [];
  const solo: Feeds[] = [];

  beforeAll(async () => {
    manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 1 });
    graphs = await loadHairfastGraphs({ modelsDir: contractModelsDir(), warm: false }, { manager });
    const ctx = graphContext(graphs);
    const embed = async (key: string, options: Parameters<typeof aligned1024>[1] = {}): Promise<ImageEmbedding> => {
      const e = await embedImage(ctx, key, await aligned1024(ASTRONAUT, options));
      await seanCodes(ctx, e);
      await colorEmbedding(ctx, e);
      return e;
    };
    const face = await embed('face');
    const other = await embed('face-2', { tint: [0.8, 1, 1.2] });
    const shape = await embed('builtin:shape', { flop: true });
    const color = await embed('builtin:color', { tint: [1.3, 0.7, 0.4] });
    for (const roles of [
      { face, shape, color: face }, { face, shape: face, color }, { face, shape, color },
      { face: other, shape, color }, { face: other, shape: other, color: other },
    ]) {
      const feeds = await swapFeeds(ctx, roles);
      requests.push(feeds);
      solo.push(await graphs.run('swap', feeds));
    }
  });
  afterAll(() => manager.dispose());

  const maxAbs = (a: Feeds, b: Feeds) => {
    let m = 0;
    for (const name of ['image', 'target_mask_color']) {
      const x = a[name]!.data as ArrayLike<number | bigint>;
      const y = b[name]!.data as ArrayLike<number | bigint>;
      expect(a[name]!.dims).toEqual(b[name]!.dims);
      for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(Number(x[i]!) - Number(y[i]!)));
    }
    return m;
  };
  const counting = () => {
    const sizes: number[] = [];
    return { sizes, run: async (feeds: Feeds) => (sizes.push(feeds['face_w']!.dims[0]!), graphs.run('swap', feeds)) };
  };

  it('calls arriving within the wait share one run, and each gets its own batch-1 result', async () => {
    const graph = counting();
    const batcher = createRowBatcher(graph.run, graphs.tensor, { maxBatch: 8, maxWaitMs: 200 });
    const outs = await Promise.all(requests.map((feeds) => batcher.run(feeds)));
    expect(graph.sizes).toEqual([5]);
    outs.forEach((out, i) => {
      expect(out['image']!.dims).toEqual([1, 3, 1024, 1024]);
      expect(maxAbs(out, solo[i]!), `request ${i}`).toBeLessThanOrEqual(1e-5);
    });
    // The rows are the requests' own (not one repeated): the five results differ.
    expect(maxAbs(outs[0]!, outs[1]!)).toBeGreaterThan(1e-6);
  });

  it('a full batch goes at once; the rest waits for the next; a late call starts a new batch', async () => {
    const graph = counting();
    const batcher = createRowBatcher(graph.run, graphs.tensor, { maxBatch: 2, maxWaitMs: 50 });
    const first = requests.slice(0, 3).map((feeds) => batcher.run(feeds));
    await Promise.all(first);
    const late = await batcher.run(requests[3]!);
    expect(graph.sizes).toEqual([2, 1, 1]);
    expect(maxAbs(late, solo[3]!)).toBeLessThanOrEqual(1e-5);
    expect(maxAbs((await first[2])!, solo[2]!)).toBeLessThanOrEqual(1e-5);
  });

  it('goes without waiting when no other request could join', async () => {
    const graph = counting();
    let coming = 2;
    const batcher = createRowBatcher(graph.run, graphs.tensor, { maxBatch: 8, maxWaitMs: 60_000, stillComing: () => coming });
    const a = batcher.run(requests[0]!);
    coming = 1;
    const b = batcher.run(requests[1]!);
    coming = 0;
    // The last expected request ended without calling: the waiting pair goes now, not after a minute.
    batcher.recheck();
    await Promise.all([a, b]);
    expect(graph.sizes).toEqual([2]);
  });

  it('a bad call in a batch fails alone with a typed error; the others get their results, each exactly once', async () => {
    const graph = counting();
    const batcher = createRowBatcher(graph.run, graphs.tensor, { maxBatch: 8, maxWaitMs: 200 });
    // A call missing an input never joins the others' run (other feeds); the session refuses it alone.
    const bad: Feeds = { ...requests[1]! };
    delete bad['color_clip'];
    const settled: string[] = [];
    const calls = [requests[0]!, bad, requests[2]!].map((feeds, i) =>
      batcher.run(feeds).then((out) => (settled.push(`ok${i}`), out), (error: unknown) => (settled.push(`err${i}`), Promise.reject(error))));
    const results = await Promise.allSettled(calls);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'INTERNAL' });
    expect(maxAbs((results[0] as PromiseFulfilledResult<Feeds>).value, solo[0]!)).toBeLessThanOrEqual(1e-5);
    expect(maxAbs((results[2] as PromiseFulfilledResult<Feeds>).value, solo[2]!)).toBeLessThanOrEqual(1e-5);
    expect(settled.sort()).toEqual(['err1', 'ok0', 'ok2']);
    expect(graph.sizes.sort()).toEqual([1, 2]);
  });

  it('a batch whose run fails is re-run call by call, so one poisoned row fails only its own call', async () => {
    let poisoned = 0;
    const sizes: number[] = [];
    const batcher = createRowBatcher(async (feeds) => {
      sizes.push(feeds['face_w']!.dims[0]!);
      // A run containing the poisoned request fails (as a kernel error on its data would).
      const flags = feeds['color_is_face']!.data as Uint8Array;
      const w = feeds['face_w']!.data as Float32Array;
      const rows = feeds['face_w']!.dims[0]!;
      for (let r = 0; r < rows; r++) {
        if (Number.isNaN(w[(r * w.length) / rows]!)) {
          poisoned++;
          throw new Error(`row ${r} is NaN (${flags.length} flags)`);
        }
      }
      return graphs.run('swap', feeds);
    }, graphs.tensor, { maxBatch: 8, maxWaitMs: 200 });
    const nanFace = new Float32Array(requests[2]!['face_w']!.data as Float32Array);
    nanFace[0] = Number.NaN;
    const poison: Feeds = { ...requests[2]!, face_w: graphs.tensor({ dtype: 'float32', data: nanFace, dims: [1, 18, 512] }) };
    const results = await Promise.allSettled([batcher.run(requests[0]!), batcher.run(poison), batcher.run(requests[1]!)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(sizes).toEqual([3, 1, 1, 1]);
    expect(poisoned).toBe(2);
    expect(maxAbs((results[2] as PromiseFulfilledResult<Feeds>).value, solo[1]!)).toBeLessThanOrEqual(1e-5);
  });
});
