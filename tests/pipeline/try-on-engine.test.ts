import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineStage, TryOnEngine } from '../../src/pipeline/engine.js';
import { hairfastManifestPath } from '../../src/pipeline/hairfast/graphs.js';
import { createTryOnEngine } from '../../src/pipeline/index.js';
import { ASTRONAUT, COFFEE, contractModelsDir, fixtureBytes, memoryPresetStore, testConfig } from './hairfast/fixtures.js';

/** The whole engine on real sessions: face models from `models prepare`, contract HairFastGAN graphs, styles/. */
describe('createTryOnEngine', () => {
  let modelsDir: string;
  let cacheDir: string;
  let engine: TryOnEngine;
  const selfie = fixtureBytes(ASTRONAUT);
  /**
   * Graph runs of a request with two distinct references once its presets are built: a shape module per
   * reference (the face code once), alignment, blending, post-process. Tests override what differs.
   */
  const FLOW = {
    rotate: 2, ctrl_face_enc: 1, ctrl_hair_enc: 2, ctrl_decode: 2, sean_decode: 1, e4e: 1, align_f: 1,
    blend_masks: 1, color_mod: 1, g_f32_to_img: 1, refine: 1, g_f64_to_img: 1,
  };
  const config = () => testConfig({ MODELS_DIR: modelsDir, PRESET_CACHE_DIR: cacheDir, STYLES_DIR: 'styles' });

  beforeAll(async () => {
    modelsDir = contractModelsDir();
    cacheDir = mkdtempSync(join(tmpdir(), 'hairfast-presets-'));
    engine = await createTryOnEngine(config(), { warm: false });
  });
  afterAll(async () => {
    await engine.dispose();
    rmSync(cacheDir, { recursive: true, force: true });
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('reports the execution provider, the model kind and the load time', () => {
    expect(engine.info).toMatchObject({ executionProvider: 'cpu', modelKind: 'contract' });
    expect(engine.info.loadMs).toBeGreaterThan(0);
  });

  it('builds a built-in preset on first use, then serves it from the cache with no preset work', async () => {
    const request = { selfie, shape: { presetId: 'builtin:short-layered-mirrored' }, color: { presetId: 'builtin:copper' }, pasteBack: false };
    const first = await engine.tryOn(request);
    expect(first.modelKind).toBe('contract');
    expect([first.image.width, first.image.height]).toEqual([1024, 1024]);
    // The selfie plus two presets went through the per-image graphs; building the colour preset ran its own
    // blend_masks + clip_visual, building the shape preset its SEAN codes.
    expect(first.graphRuns).toEqual({ ...FLOW, bisenet: 3, embed: 3, sean_encode: 2, blend_masks: 2, clip_visual: 2 });
    const second = await engine.tryOn(request);
    // Only the selfie now: the shape preset's SEAN codes and the colour preset's CLIP embedding come from the cache.
    expect(second.graphRuns).toEqual({ ...FLOW, bisenet: 1, embed: 1, sean_encode: 1, clip_visual: 1 });
    expect(Buffer.from(second.image.data).equals(Buffer.from(first.image.data))).toBe(true);
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('.hfpc'))).toHaveLength(2);
  });

  it('pastes back into the original photo at its size, reporting stages in order', async () => {
    const stages: PipelineStage[] = [];
    const result = await engine.tryOn({ selfie, color: { presetId: 'builtin:platinum' }, pasteBack: true, onStage: (s) => stages.push(s) });
    expect([result.image.width, result.image.height]).toEqual([512, 512]);
    expect(stages).toEqual(['detecting', 'aligning', 'transferring', 'pasting']);
    expect(result.timings['pasteBack']).toBeGreaterThan(0);
    // Far from the face the photo is unchanged.
    const photo = await sharp(ASTRONAUT).removeAlpha().raw().toBuffer();
    const i = (500 * 512 + 5) * 3;
    expect(Array.from(result.image.data.subarray(i, i + 3))).toEqual(Array.from(photo.subarray(i, i + 3)));
  });

  it('takes a photo as a reference, and the selfie itself as a reference is deduplicated', async () => {
    const byPhoto = await engine.tryOn({ selfie, shape: { image: fixtureBytes('styles/astronaut-mirrored.png') }, pasteBack: false });
    // Shape only: shape modules for (face, photo) and (face, face); the colour's CLIP embedding is the face's.
    expect(byPhoto.graphRuns).toEqual({ ...FLOW, bisenet: 2, embed: 2, sean_encode: 2, clip_visual: 2 });
    const self = await engine.tryOn({ selfie, shape: { image: selfie }, color: { image: selfie }, pasteBack: false });
    // One distinct image: its per-image graphs run once, the shape module once (reused for the colour), and
    // alignment and blending still run in full (the official flow has no shortcut for identical images).
    expect(self.graphRuns).toEqual({
      ...FLOW, bisenet: 1, embed: 1, sean_encode: 1, rotate: 1, ctrl_hair_enc: 1, ctrl_decode: 1, clip_visual: 2,
    });
  });

  it('rejects requests with typed errors', async () => {
    await expect(engine.tryOn({ selfie, pasteBack: false })).rejects.toMatchObject({ code: 'NEED_SHAPE_OR_COLOR' });
    await expect(engine.tryOn({ selfie, color: { presetId: 'builtin:no-such-style' }, pasteBack: false })).rejects.toMatchObject({ code: 'PRESET_NOT_FOUND' });
    await expect(engine.tryOn({ selfie, color: { presetId: '../../etc/passwd' }, pasteBack: false })).rejects.toMatchObject({ code: 'PRESET_NOT_FOUND' });
    await expect(engine.tryOn({ selfie, shape: { presetId: 'builtin:rose' }, pasteBack: false })).rejects.toMatchObject({ code: 'PRESET_KIND_MISMATCH' });
    const shapeOnly = { presetId: 'builtin:short-layered-mirrored' };
    await expect(engine.tryOn({ selfie, shape: shapeOnly, color: shapeOnly, pasteBack: false })).rejects.toMatchObject({ code: 'PRESET_KIND_MISMATCH', params: { role: 'color' } });
    await expect(engine.tryOn({ selfie: fixtureBytes(COFFEE), color: { presetId: 'builtin:rose' }, pasteBack: false })).rejects.toMatchObject({ code: 'NO_FACE' });
    await expect(engine.tryOn({ selfie, shape: { image: fixtureBytes(COFFEE) }, pasteBack: false }))
      .rejects.toMatchObject({ code: 'NO_FACE', params: { role: 'shape' } });
    await expect(engine.tryOn({ selfie: new TextEncoder().encode('not an image'), color: { presetId: 'builtin:rose' }, pasteBack: false }))
      .rejects.toMatchObject({ code: expect.stringMatching(/UNSUPPORTED_FORMAT|BAD_IMAGE/) });
    const controller = new AbortController();
    controller.abort();
    await expect(engine.tryOn({ selfie, color: { presetId: 'builtin:rose' }, pasteBack: false, signal: controller.signal }))
      .rejects.toMatchObject({ code: 'JOB_CANCELLED' });
  });

  it('buildPreset needs exactly one usable face and stores the cache a later request uses', async () => {
    const store = memoryPresetStore();
    const guild = await createTryOnEngine(config(), { warm: false, presetCache: store });
    try {
      await expect(guild.buildPreset('guild:123456:coffee', 'color', fixtureBytes(COFFEE))).rejects.toMatchObject({ code: 'NO_FACE' });
      const pair = await sharp({ create: { width: 1024, height: 512, channels: 3, background: '#888' } })
        .composite([{ input: ASTRONAUT, left: 0, top: 0 }, { input: ASTRONAUT, left: 512, top: 0 }]).png().toBuffer();
      await expect(guild.buildPreset('guild:123456:pair', 'color', new Uint8Array(pair))).rejects.toMatchObject({ code: 'MULTIPLE_FACES' });
      await expect(guild.buildPreset('not an id', 'color', selfie)).rejects.toMatchObject({ code: 'PRESET_NAME_INVALID' });
      const built = await guild.buildPreset('guild:123456:bob', 'both', fixtureBytes('styles/astronaut-mirrored.png'));
      expect(built).toMatchObject({ presetId: 'guild:123456:bob', kind: 'both' });
      expect(built.cacheBytes).toBeGreaterThan(1_000_000);
      expect((await sharp(built.thumbnail).metadata()).format).toBe('jpeg');
      expect(store.entries.size).toBe(1);
      const result = await guild.tryOn({ selfie, shape: { presetId: 'guild:123456:bob' }, color: { presetId: 'guild:123456:bob' }, pasteBack: false });
      // One preset for both roles: one shape module, its SEAN codes and CLIP embedding from the store.
      expect(result.graphRuns).toEqual({
        ...FLOW, bisenet: 1, embed: 1, sean_encode: 1, rotate: 1, ctrl_hair_enc: 1, ctrl_decode: 1, clip_visual: 1,
      });
      // A guild preset the store does not have, and no source to build it from.
      await expect(guild.tryOn({ selfie, shape: { presetId: 'guild:123456:gone' }, pasteBack: false })).rejects.toMatchObject({ code: 'PRESET_NOT_FOUND' });
    } finally {
      await guild.dispose();
      await guild.dispose();
    }
  });

  it('rebuilds a cached preset when the models change (new models hash), replacing the old entry', async () => {
    const changedDir = mkdtempSync(join(tmpdir(), 'hairfast-models-changed-'));
    cpSync(modelsDir, changedDir, { recursive: true });
    // A changed graph file changes its sha256 in the manifest; that is all the cache key sees.
    const path = hairfastManifestPath(changedDir);
    const manifest = JSON.parse(readFileSync(path, 'utf8'));
    manifest.models.embed.sha256 = 'f'.repeat(64);
    writeFileSync(path, JSON.stringify(manifest));
    const request = { selfie, color: { presetId: 'builtin:jet-black' }, pasteBack: false };
    expect((await engine.tryOn(request)).graphRuns).toMatchObject({ embed: 2 });
    expect((await engine.tryOn(request)).graphRuns).toMatchObject({ embed: 1 });
    const before = readdirSync(cacheDir).filter((f) => f.includes('jet-black'));
    const changed = await createTryOnEngine(testConfig({ MODELS_DIR: changedDir, PRESET_CACHE_DIR: cacheDir, STYLES_DIR: 'styles' }), { warm: false });
    try {
      expect((await changed.tryOn(request)).graphRuns).toMatchObject({ embed: 2 });
      expect((await changed.tryOn(request)).graphRuns).toMatchObject({ embed: 1 });
      const after = readdirSync(cacheDir).filter((f) => f.includes('jet-black'));
      expect(before).toHaveLength(1);
      expect(after).toHaveLength(1);
      expect(after[0]).not.toBe(before[0]);
    } finally {
      await changed.dispose();
      rmSync(changedDir, { recursive: true, force: true });
    }
  });

  it('fails to start with MODEL_MISSING naming the command when no hairfast graphs are installed', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'hairfast-empty-'));
    cpSync(join(modelsDir, 'face'), join(empty, 'face'), { recursive: true });
    cpSync(join(modelsDir, 'manifest.json'), join(empty, 'manifest.json'));
    await expect(createTryOnEngine(testConfig({ MODELS_DIR: empty, PRESET_CACHE_DIR: cacheDir }), { warm: false }))
      .rejects.toThrow(/models prepare --hairfast=contract/);
    rmSync(empty, { recursive: true, force: true });
  });
});
