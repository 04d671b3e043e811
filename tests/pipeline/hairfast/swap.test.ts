import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../../src/pipeline/engine.js';
import { colorEmbedding } from '../../../src/pipeline/hairfast/blend.js';
import { embedImage, seanCodes, type ImageEmbedding } from '../../../src/pipeline/hairfast/embed.js';
import { graphContext, loadHairfastGraphs, useComposites, type HairfastGraphs } from '../../../src/pipeline/hairfast/graphs.js';
import { hairFast, hairFastMerged, hairFastSplit } from '../../../src/pipeline/hairfast/hair-fast.js';
import { createSessionManager, type SessionManager } from '../../../src/pipeline/runtime/ort.js';
import { aligned1024, ASTRONAUT, contractModelsDir } from './fixtures.js';

/**
 * The `swap` composite against the split chain it replaces, on real ORT sessions over the contract models: every
 * mode gives the same image (≤ 1e-4 max-abs) and the same paste-back alpha, in one graph run.
 */
describe('swap graph (merged) = split chain', () => {
  let manager: SessionManager;
  /** The installed set as the engine loads it (swap + the split graphs it does not replace). */
  let graphs: HairfastGraphs;
  /** The split chain alone. */
  let split: HairfastGraphs;
  const images: Record<'face' | 'shape' | 'color', RgbImage> = {} as never;

  beforeAll(async () => {
    manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 1 });
    const modelsDir = contractModelsDir();
    graphs = await loadHairfastGraphs({ modelsDir, warm: false, composites: 'on' }, { manager });
    split = await loadHairfastGraphs({ modelsDir, warm: false, composites: 'off' }, { manager });
    images.face = await aligned1024(ASTRONAUT);
    images.shape = await aligned1024(ASTRONAUT, { flop: true });
    images.color = await aligned1024(ASTRONAUT, { tint: [1.3, 0.7, 0.4] });
  });
  afterAll(() => manager.dispose());

  type Embeddings = { face: ImageEmbedding; shape: ImageEmbedding; color: ImageEmbedding };
  /** Embeddings as a request sees them: the references as cached presets (SEAN codes, CLIP embedding filled). */
  async function embeddings(): Promise<Embeddings> {
    const ctx = graphContext(graphs);
    const e = {
      face: await embedImage(ctx, 'face', images.face),
      shape: await embedImage(ctx, 'builtin:shape', images.shape),
      color: await embedImage(ctx, 'builtin:color', images.color),
    };
    await seanCodes(ctx, e.shape);
    await seanCodes(ctx, e.color);
    await colorEmbedding(ctx, e.color);
    await colorEmbedding(ctx, e.shape);
    return e;
  }

  const maxAbs = (a: Float32Array, b: Float32Array) => {
    expect(a.length).toBe(b.length);
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
    return m;
  };

  const MODES: [string, (e: Embeddings) => { shape: ImageEmbedding; color: ImageEmbedding }][] = [
    ['shape only', (e) => ({ shape: e.shape, color: e.face })],
    ['colour only', (e) => ({ shape: e.face, color: e.color })],
    ['shape and colour', (e) => ({ shape: e.shape, color: e.color })],
    ['one reference for both', (e) => ({ shape: e.shape, color: e.shape })],
    ['face = shape = colour', (e) => ({ shape: e.face, color: e.face })],
  ];

  let e: Embeddings;
  const outputs = new Map<string, Float32Array>();
  beforeAll(async () => {
    e = await embeddings();
  });

  it('the engine\'s set loads swap instead of the split graphs it replaces', () => {
    expect(graphs.has('swap') && !graphs.has('rotate') && !graphs.has('g_f64_to_img')).toBe(true);
    expect(['bisenet', 'embed', 'sean_encode', 'blend_masks', 'clip_visual'].every((g) => graphs.has(g))).toBe(true);
    expect(split.has('swap') || !split.has('rotate')).toBe(false);
  });

  it('auto on the caller\'s thread: the CPU provider runs the split chain, a GPU provider swap', async () => {
    const own = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 1 });
    try {
      const cpu = await loadHairfastGraphs({ modelsDir: contractModelsDir(), warm: false }, { manager: own });
      expect([cpu.executionProvider, cpu.has('swap'), cpu.has('rotate')]).toEqual(['cpu', false, true]);
    } finally {
      await own.dispose();
    }
    expect(useComposites('auto', 'cuda')).toBe(true);
    expect(useComposites('auto', 'webgpu')).toBe(true);
    expect(useComposites('auto', 'cpu')).toBe(false);
    expect(useComposites('on', 'cpu')).toBe(true);
    expect(useComposites('off', 'cuda')).toBe(false);
  });

  it.each(MODES)('%s: the same image and alpha, in one graph run', async (mode, roles) => {
    const chain = await hairFastSplit(graphContext(split), { face: e.face, ...roles(e), withAlpha: true });
    const ctx = graphContext(graphs);
    expect(ctx.has('swap')).toBe(true);
    const merged = await hairFast(ctx, { face: e.face, ...roles(e), withAlpha: true });
    expect(Object.fromEntries(ctx.runs)).toEqual({ swap: 1 });
    const image = merged.image01.data as Float32Array;
    // Measured: 0 (the composite runs the split graphs' own nodes).
    expect(maxAbs(image, chain.image01.data as Float32Array), mode).toBeLessThanOrEqual(1e-4);
    expect(Buffer.from(merged.alpha!.data).equals(Buffer.from(chain.alpha!.data))).toBe(true);
    outputs.set(mode, image);
  });

  it('the role flags reach the output: every mode gives a different image', () => {
    const all = [...outputs.values()];
    expect(all).toHaveLength(MODES.length);
    // Contract graphs mix every input a little, so a changed role moves the image by ≥ 3e-5, well above float noise.
    for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) expect(maxAbs(all[i]!, all[j]!)).toBeGreaterThan(1e-6);
  });

  it('a reference that is not a cached preset gets its SEAN codes and CLIP embedding from the split graphs first', async () => {
    const ctx = graphContext(graphs);
    const face = await embedImage(ctx, 'face', images.face);
    const photo = await embedImage(ctx, 'image:photo', images.shape);
    const before = Object.fromEntries(ctx.runs);
    const merged = await hairFastMerged(ctx, { face, shape: photo, color: photo, withAlpha: false });
    const runs = Object.fromEntries([...ctx.runs].map(([k, v]) => [k, v - (before[k] ?? 0)]));
    expect(runs).toEqual({ bisenet: 0, embed: 0, sean_encode: 1, blend_masks: 1, clip_visual: 1, swap: 1 });
    const chain = await hairFastSplit(graphContext(split), { face: e.face, shape: e.shape, color: e.shape, withAlpha: false });
    expect(maxAbs(merged.image01.data as Float32Array, chain.image01.data as Float32Array)).toBeLessThanOrEqual(1e-4);
  });
});
