import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASTRONAUT, COFFEE, contractModelsDir } from '../pipeline/hairfast/fixtures.js';
import { runCli } from '../helpers/run-cli.js';

/** `hairstyler transfer` and `hairstyler presets build` in-process, on contract models. */
describe('hairstyler transfer / presets build', () => {
  let work: string;
  let modelsDir: string;
  const saved = { ...process.env };

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'hairfast-cli-'));
    modelsDir = contractModelsDir();
    Object.assign(process.env, { MODELS_DIR: modelsDir, PRESET_CACHE_DIR: join(work, 'cache'), STYLES_DIR: 'styles', HAIR_EP: 'cpu', LOG_LEVEL: 'silent' });
  });
  afterAll(() => {
    process.env = saved;
    rmSync(work, { recursive: true, force: true });
    rmSync(modelsDir, { recursive: true, force: true });
  });


  it('transfers shape and colour presets and pastes back at the photo\'s size, saying which graphs ran', async () => {
    const output = join(work, 'out.png');
    const r = await runCli('transfer', '--face', ASTRONAUT, '--shape', 'short-layered-mirrored', '--color', 'builtin:copper', '-o', output, '--paste-back', '--json');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/hairfast: contract fp32 graphs on cpu/);
    expect(JSON.parse(r.stdout)).toMatchObject({ modelKind: 'contract', width: 512, height: 512 });
    expect(await sharp(output).metadata()).toMatchObject({ width: 512, height: 512, format: 'png' });
    // The presets are cached now: the CLI takes the swap graph on every provider (HAIR_SWAP=auto), so the face's
    // bisenet and embed, then one swap run.
    const cached = await runCli('transfer', '--face', ASTRONAUT, '--shape', 'short-layered-mirrored', '--color', 'builtin:copper', '-o', output, '--paste-back', '--json');
    expect(JSON.parse(cached.stdout).graphRuns).toEqual({ bisenet: 1, embed: 1, swap: 1 });
    // HAIR_SWAP=off: the split chain, same request
    process.env['HAIR_SWAP'] = 'off';
    const split = await runCli('transfer', '--face', ASTRONAUT, '--shape', 'short-layered-mirrored', '--color', 'builtin:copper', '-o', output, '--paste-back', '--json');
    delete process.env['HAIR_SWAP'];
    const splitRuns: Record<string, number> = JSON.parse(split.stdout).graphRuns;
    expect(splitRuns).not.toHaveProperty('swap');
    expect(Object.values(splitRuns).reduce((a, b) => a + b, 0)).toBeGreaterThan(3);
  });

  it('writes the aligned 1024² result without --paste-back, with a photo as the shape reference', async () => {
    const output = join(work, 'aligned.png');
    const r = await runCli('transfer', '--face', ASTRONAUT, '--shape', 'styles/astronaut-mirrored.png', '-o', output);
    expect(r.code).toBe(0);
    expect(await sharp(output).metadata()).toMatchObject({ width: 1024, height: 1024 });
  });

  it('exits 2 with error[CODE] on bad input, like align', async () => {
    const noFace = await runCli('transfer', '--face', COFFEE, '--color', 'copper', '-o', join(work, 'x.png'));
    expect(noFace.code).toBe(2);
    expect(noFace.stderr).toMatch(/^error\[NO_FACE\]/m);
    const none = await runCli('transfer', '--face', ASTRONAUT, '-o', join(work, 'x.png'));
    expect(none).toMatchObject({ code: 2 });
    expect(none.stderr).toMatch(/error\[NEED_SHAPE_OR_COLOR\]/);
    const unknown = await runCli('transfer', '--face', ASTRONAUT, '--color', 'no/such/file.png', '-o', join(work, 'x.png'));
    expect(unknown.stderr).toMatch(/error\[PRESET_NOT_FOUND\]/);
    const unreadable = await runCli('transfer', '--face', join(work, 'missing.png'), '--color', 'copper', '-o', join(work, 'x.png'));
    expect(unreadable.stderr).toMatch(/error\[BAD_IMAGE\]/);
    expect(existsSync(join(work, 'x.png'))).toBe(false);
  });

  it('presets build writes each built-in preset\'s cache', async () => {
    const r = await runCli('presets', 'build', '--only', 'rose');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/builtin:rose\s+color\s+\d+ bytes/);
    expect(readdirSync(join(work, 'cache')).some((f) => f.includes('rose') && f.endsWith('.hfpc'))).toBe(true);
  });
});
