import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareHairfastModels } from '../../src/model-build/hairfast-contract/install-contract-models.js';
import { ASTRONAUT, COFFEE, aligned1024 } from '../pipeline/hairfast/fixtures.js';
import { runCli } from '../helpers/run-cli.js';

/** `hairstyler transfer --aligned` in-process, on contract HairFastGAN graphs and NO face models. */
describe('hairstyler transfer --aligned', () => {
  let work: string;
  let modelsDir: string;
  let coffee: string;
  let astronaut: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'hairfast-aligned-'));
    // Only hairfast/: a run that touched the face front-end would fail with MODEL_MISSING.
    modelsDir = join(work, 'models');
    prepareHairfastModels(modelsDir, 'contract');
    coffee = join(work, 'coffee-1024.png');
    astronaut = join(work, 'astronaut-1024.png');
    for (const [src, dst] of [[COFFEE, coffee], [ASTRONAUT, astronaut]] as const) {
      const img = await aligned1024(src);
      await sharp(img.data, { raw: { width: 1024, height: 1024, channels: 3 } }).png().toFile(dst);
    }
    Object.assign(process.env, { MODELS_DIR: modelsDir, PRESET_CACHE_DIR: join(work, 'cache'), STYLES_DIR: 'styles', HAIR_EP: 'cpu', LOG_LEVEL: 'silent' });
  });
  afterAll(() => {
    process.env = saved;
    rmSync(work, { recursive: true, force: true });
  });


  it('runs HairFastGAN on the given crops without any face model (a faceless image is fine) and writes PNG + raw floats', async () => {
    const output = join(work, 'out.png');
    const raw = join(work, 'out.f32');
    const r = await runCli('transfer', '--aligned', '--face', coffee, '--shape', astronaut, '--color', astronaut, '-o', output, '--raw-out', raw, '--json');
    expect(r.stderr).toMatch(/hairfast: contract fp32 graphs on cpu .*aligned inputs/);
    expect(r.code).toBe(0);
    expect(existsSync(join(modelsDir, 'face'))).toBe(false);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ aligned: true, width: 1024, height: 1024, modelKind: 'contract' });
    // Two distinct images (shape = colour file): per-image work twice, then the rest of the flow in one swap run
    // (the CLI takes the swap graph on every provider).
    expect(report.graphRuns).toMatchObject({ bisenet: 2, embed: 2, swap: 1 });
    expect(report.graphRuns).not.toHaveProperty('g_f64_to_img');
    const { data, info } = await sharp(output).raw().toBuffer({ resolveWithObject: true });
    expect(info).toMatchObject({ width: 1024, height: 1024, channels: 3 });
    const bytes = readFileSync(raw);
    expect(bytes.length).toBe(3 * 1024 * 1024 * 4);
    const f = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    const plane = 1024 * 1024;
    // The PNG is the float image rounded: check every pixel of channel 0 and 1.
    for (let p = 0; p < plane; p += 1) {
      for (let k = 0; k < 2; k++) {
        const v = f[k * plane + p]!;
        const want = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
        if (data[3 * p + k] !== want) throw new Error(`pixel ${p} channel ${k}: png ${data[3 * p + k]} vs raw ${v}`);
      }
    }
  });

  it('treats identical crops as one image, as the official equal_replacer does', async () => {
    const r = await runCli('transfer', '--aligned', '--face', astronaut, '--color', astronaut, '-o', join(work, 'same.png'), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).graphRuns).toMatchObject({ bisenet: 1, embed: 1 });
  });

  it('refuses bad combinations and bad crops with a clear error, writing nothing', async () => {
    const x = join(work, 'x.png');
    const paste = await runCli('transfer', '--aligned', '--face', astronaut, '--color', coffee, '--paste-back', '-o', x);
    expect(paste.code).toBe(2);
    expect(paste.stderr).toMatch(/--aligned.*cannot be used with.*--paste-back|--paste-back.*cannot be used with.*--aligned/);
    const rawOnly = await runCli('transfer', '--face', ASTRONAUT, '--color', 'copper', '--raw-out', join(work, 'x.f32'), '-o', x);
    expect(rawOnly.code).toBe(2);
    expect(rawOnly.stderr).toMatch(/--raw-out needs --aligned/);
    const preset = await runCli('transfer', '--aligned', '--face', astronaut, '--color', 'copper', '-o', x);
    expect(preset.code).toBe(2);
    expect(preset.stderr).toMatch(/--color copper is not a file/);
    const small = await runCli('transfer', '--aligned', '--face', ASTRONAUT, '--color', astronaut, '-o', x);
    expect(small.code).toBe(2);
    expect(small.stderr).toMatch(/^error\[BAD_IMAGE\]/m);
    expect(small.stderr).toMatch(/1024×1024 aligned crops; .*astronaut\.png is 512×512×3/);
    const none = await runCli('transfer', '--aligned', '--face', astronaut, '-o', x);
    expect(none.stderr).toMatch(/error\[NEED_SHAPE_OR_COLOR\]/);
    expect(existsSync(x)).toBe(false);
    expect(existsSync(join(work, 'x.f32'))).toBe(false);
  });
});
