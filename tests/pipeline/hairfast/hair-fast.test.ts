import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../../src/pipeline/engine.js';
import { embedImage, type ImageEmbedding } from '../../../src/pipeline/hairfast/embed.js';
import { graphContext, loadHairfastGraphs, type HairfastGraphs } from '../../../src/pipeline/hairfast/graphs.js';
import { hairFast } from '../../../src/pipeline/hairfast/hair-fast.js';
import { createSessionManager, type SessionManager } from '../../../src/pipeline/runtime/ort.js';
import { aligned1024, ASTRONAUT, contractModelsDir } from './fixtures.js';

/** The swap flow on real ORT sessions over the contract models, from aligned 1024² images. */
describe('hairFast flow', () => {
  let manager: SessionManager;
  let graphs: HairfastGraphs;
  let faceImage: RgbImage;
  let shapeImage: RgbImage;
  let colorImage: RgbImage;

  beforeAll(async () => {
    manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 1 });
    graphs = await loadHairfastGraphs({ modelsDir: contractModelsDir(), warm: false }, { manager });
    faceImage = await aligned1024(ASTRONAUT);
    shapeImage = await aligned1024(ASTRONAUT, { flop: true });
    colorImage = await aligned1024(ASTRONAUT, { tint: [1.3, 0.7, 0.4] });
  });
  afterAll(() => manager.dispose());

  /** Fresh embeddings (their lazily added tensors are per request), computed outside the counted context. */
  async function embeddings() {
    const ctx = graphContext(graphs);
    return {
      face: await embedImage(ctx, 'face', faceImage),
      shape: await embedImage(ctx, 'builtin:shape', shapeImage),
      color: await embedImage(ctx, 'builtin:color', colorImage),
    };
  }

  async function swap(pick: (e: { face: ImageEmbedding; shape: ImageEmbedding; color: ImageEmbedding }) => { shape: ImageEmbedding; color: ImageEmbedding }) {
    const e = await embeddings();
    const ctx = graphContext(graphs);
    const out = await hairFast(ctx, { face: e.face, ...pick(e), withAlpha: true });
    return { out, runs: Object.fromEntries(ctx.runs) as Record<string, number> };
  }

  const total = (runs: Record<string, number>) => Object.values(runs).reduce((a, b) => a + b, 0);

  it('shape only (color = face): shape module and alignment once, the colour is the face\'s', async () => {
    const { out, runs } = await swap((e) => ({ shape: e.shape, color: e.face }));
    expect([out.image.width, out.image.height, out.image.data.length]).toEqual([1024, 1024, 1024 * 1024 * 3]);
    expect(runs).toMatchObject({ rotate: 1, ctrl_face_enc: 1, ctrl_hair_enc: 1, ctrl_decode: 1, sean_encode: 2, sean_decode: 1, e4e: 1, align_f: 1 });
    expect(runs).toMatchObject({ blend_masks: 1, clip_visual: 2, color_mod: 1, g_f32_to_img: 1, refine: 1, g_f64_to_img: 1 });
    expect(out.alpha).toMatchObject({ width: 256, height: 256 });
  });

  it('color only (shape = face): no SEAN or alignment, one shape module for the colour', async () => {
    const { runs } = await swap((e) => ({ shape: e.face, color: e.color }));
    expect(runs['sean_encode'] ?? 0).toBe(0);
    expect(runs['sean_decode'] ?? 0).toBe(0);
    expect(runs['align_f'] ?? 0).toBe(0);
    expect(runs).toMatchObject({ rotate: 1, ctrl_decode: 1, blend_masks: 1, clip_visual: 2, color_mod: 1, g_f64_to_img: 1 });
  });

  it('both: a shape module per reference, the face code computed once', async () => {
    const { runs } = await swap((e) => ({ shape: e.shape, color: e.color }));
    expect(runs).toMatchObject({ rotate: 2, ctrl_face_enc: 1, ctrl_hair_enc: 2, ctrl_decode: 2, sean_decode: 1, align_f: 1 });
  });

  it('identical shape and colour references run the shared work once (fewer graph runs than two references)', async () => {
    const two = await swap((e) => ({ shape: e.shape, color: e.color }));
    const one = await swap((e) => ({ shape: e.shape, color: e.shape }));
    expect(one.runs).toMatchObject({ rotate: 1, ctrl_hair_enc: 1, ctrl_decode: 1 });
    expect(total(one.runs)).toBeLessThan(total(two.runs));
  });

  it('face = shape = colour: no shape module, no blending (S is the face\'s)', async () => {
    const { runs } = await swap((e) => ({ shape: e.face, color: e.face }));
    expect(runs).toEqual({ g_f32_to_img: 1, refine: 1, g_f64_to_img: 1 });
  });

  it('each reference changes the result (the wiring reaches the output)', async () => {
    const bytes = async (pick: Parameters<typeof swap>[0]) => (await swap(pick)).out.image.data;
    const shapeOnly = await bytes((e) => ({ shape: e.shape, color: e.face }));
    const colorOnly = await bytes((e) => ({ shape: e.face, color: e.color }));
    const both = await bytes((e) => ({ shape: e.shape, color: e.color }));
    const again = await bytes((e) => ({ shape: e.shape, color: e.color }));
    const differ = (a: Uint8Array, b: Uint8Array) => a.some((v, i) => v !== b[i]);
    expect(differ(shapeOnly, colorOnly)).toBe(true);
    expect(differ(shapeOnly, both)).toBe(true);
    expect(differ(colorOnly, both)).toBe(true);
    expect(differ(both, again)).toBe(false);
  });

  it('stops between graphs when the request is aborted', async () => {
    const e = await embeddings();
    const controller = new AbortController();
    controller.abort();
    await expect(hairFast(graphContext(graphs, controller.signal), { face: e.face, shape: e.shape, color: e.color, withAlpha: false }))
      .rejects.toMatchObject({ code: 'JOB_CANCELLED' });
  });
});
