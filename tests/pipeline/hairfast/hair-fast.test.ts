import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../../src/pipeline/engine.js';
import { embedImage, type ImageEmbedding } from '../../../src/pipeline/hairfast/embed.js';
import { graphContext, loadHairfastGraphs, type Feeds, type HairfastGraphs } from '../../../src/pipeline/hairfast/graphs.js';
import { hairFast } from '../../../src/pipeline/hairfast/hair-fast.js';
import { fromImage01 } from '../../../src/pipeline/hairfast/image-tensor.js';
import { createSessionManager, type SessionManager } from '../../../src/pipeline/runtime/ort.js';
import { aligned1024, ASTRONAUT, contractModelsDir } from './fixtures.js';

/** The split chain's wiring on real ORT sessions over the contract models, from aligned 1024² images. */
describe('hairFast flow (split chain)', () => {
  let manager: SessionManager;
  let graphs: HairfastGraphs;
  let faceImage: RgbImage;
  let shapeImage: RgbImage;
  let colorImage: RgbImage;

  beforeAll(async () => {
    manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 1 });
    graphs = await loadHairfastGraphs({ modelsDir: contractModelsDir(), warm: false, composites: false }, { manager });
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

  type Embeddings = { face: ImageEmbedding; shape: ImageEmbedding; color: ImageEmbedding };
  type Call = { graph: string; feeds: Feeds; outputs: Feeds };

  /** One swap in a counted context; every graph call is recorded (its feeds and outputs) to check the wiring. */
  async function swap(pick: (e: Embeddings) => { shape: ImageEmbedding; color: ImageEmbedding }) {
    const e = await embeddings();
    const calls: Call[] = [];
    const recording = {
      tensor: graphs.tensor,
      async run(graph: string, feeds: Feeds) {
        const outputs = await graphs.run(graph, feeds);
        calls.push({ graph, feeds, outputs });
        return outputs;
      },
    };
    const ctx = graphContext(recording);
    const out = await hairFast(ctx, { face: e.face, ...pick(e), withAlpha: true });
    const of = (graph: string) => calls.filter((c) => c.graph === graph);
    return { e, out, calls: of, runs: Object.fromEntries(ctx.runs) as Record<string, number> };
  }

  const total = (runs: Record<string, number>) => Object.values(runs).reduce((a, b) => a + b, 0);
  /** Runs every request has: the face code once, alignment, blending (two CLIP passes), post-process. */
  const ALWAYS = {
    ctrl_face_enc: 1, sean_decode: 1, e4e: 1, align_f: 1,
    blend_masks: 1, clip_visual: 2, color_mod: 1, g_f32_to_img: 1, refine: 1, g_f64_to_img: 1,
  };
  /** The call was fed exactly these tensor objects (identity, not equal values). */
  const fed = (call: Call | undefined, expected: Record<string, unknown>) => {
    for (const [name, tensor] of Object.entries(expected)) expect(call?.feeds[name], `${call?.graph}.${name}`).toBe(tensor);
  };

  it('shape only (color = face): shape modules for (face, shape) and (face, face), alignment on the shape\'s mask', async () => {
    const { e, out, runs, calls } = await swap((e) => ({ shape: e.shape, color: e.face }));
    expect([out.image.width, out.image.height, out.image.data.length]).toEqual([1024, 1024, 1024 * 1024 * 3]);
    expect(runs).toEqual({ ...ALWAYS, rotate: 2, ctrl_hair_enc: 2, ctrl_decode: 2, sean_encode: 2 });
    fed(calls('rotate')[0], { w_face: e.face.w, w_other: e.shape.w });
    fed(calls('rotate')[1], { w_face: e.face.w, w_other: e.face.w });
    const [targetShape, targetColor] = calls('ctrl_decode').map((c) => c.outputs['target_mask']);
    fed(calls('sean_decode')[0], { target_mask: targetShape });
    fed(calls('blend_masks')[0], { target_mask: targetColor });
    // Two distinct images: F is the mixed one.
    fed(calls('align_f')[0], { f_face: e.face.f_mix, f_shape: e.shape.f_mix, target_mask: targetShape });
    expect(out.alpha).toMatchObject({ width: 256, height: 256 });
  });

  it('color only (shape = face): alignment runs on the (face, face) shape module, one more for the colour', async () => {
    const { e, runs, calls } = await swap((e) => ({ shape: e.face, color: e.color }));
    // The face's SEAN codes are computed once for both halves of the batch; the colour's CLIP embedding is its own
    // (blend_masks on the colour's tensors, as for a preset cache).
    expect(runs).toEqual({ ...ALWAYS, rotate: 2, ctrl_hair_enc: 2, ctrl_decode: 2, sean_encode: 1, blend_masks: 2 });
    fed(calls('rotate')[0], { w_face: e.face.w, w_other: e.face.w });
    fed(calls('rotate')[1], { w_face: e.face.w, w_other: e.color.w });
    const [targetShape, targetColor] = calls('ctrl_decode').map((c) => c.outputs['target_mask']);
    fed(calls('align_f')[0], { target_mask: targetShape, f_face: e.face.f_mix, f_shape: e.face.f_mix });
    fed(calls('blend_masks')[0], { target_mask: targetColor, image_norm_color: e.color.image_norm_256 });
  });

  it('both: a shape module per reference, the face code computed once', async () => {
    const { runs } = await swap((e) => ({ shape: e.shape, color: e.color }));
    expect(runs).toEqual({ ...ALWAYS, rotate: 2, ctrl_hair_enc: 2, ctrl_decode: 2, sean_encode: 2, blend_masks: 2 });
  });

  it('identical shape and colour references share one shape module (fewer graph runs than two references)', async () => {
    const two = await swap((e) => ({ shape: e.shape, color: e.color }));
    const one = await swap((e) => ({ shape: e.shape, color: e.shape }));
    expect(one.runs).toEqual({ ...ALWAYS, rotate: 1, ctrl_hair_enc: 1, ctrl_decode: 1, sean_encode: 2, blend_masks: 2 });
    fed(one.calls('blend_masks')[0], { target_mask: one.calls('ctrl_decode')[0]!.outputs['target_mask'] });
    expect(total(one.runs)).toBeLessThan(total(two.runs));
  });

  it('face = shape = colour: per-image work once, shape module, alignment and blending in full, F unmixed', async () => {
    const { e, runs, calls, out } = await swap((e) => ({ shape: e.face, color: e.face }));
    expect(runs).toEqual({ ...ALWAYS, rotate: 1, ctrl_hair_enc: 1, ctrl_decode: 1, sean_encode: 1 });
    fed(calls('rotate')[0], { w_face: e.face.w, w_other: e.face.w });
    const target = calls('ctrl_decode')[0]!.outputs['target_mask'];
    // The shape module's target, not the face's own mask (the official shortcut, which never fires).
    fed(calls('sean_decode')[0], { target_mask: target });
    fed(calls('align_f')[0], { f_face: e.face.f, f_shape: e.face.f, target_mask: target });
    fed(calls('blend_masks')[0], { target_mask: target });
    fed(calls('color_mod')[0], { s_face: e.face.s, s_color: e.face.s });
    fed(calls('g_f32_to_img')[0], { s: calls('color_mod')[0]!.outputs['s_blend'], f: calls('align_f')[0]!.outputs['f_align'] });
    // The shortcut flow (S_face, F_face straight to the generator) gives another image: the full flow reaches the output.
    const ctx = graphContext(graphs);
    const blend256 = (await ctx.run('g_f32_to_img', { s: e.face.s!, f: e.face.f! }))['image_256']!;
    const refined = await ctx.run('refine', { image_norm_face: e.face.image_norm_256!, blend_256: blend256 });
    const shortcut = await ctx.run('g_f64_to_img', { s: refined['s_final']!, f: refined['f_final']! });
    const full = fromImage01(calls('g_f64_to_img')[0]!.outputs['image']!);
    expect(Buffer.from(fromImage01(shortcut['image']!).data).equals(Buffer.from(full.data))).toBe(false);
    expect(Buffer.from(out.image.data).equals(Buffer.from(full.data))).toBe(true);
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
