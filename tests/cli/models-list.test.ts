import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contractModelsDir, labelAsOfficialExport } from '../pipeline/hairfast/fixtures.js';
import { runCli } from '../helpers/run-cli.js';

/** `hairstyler models list`: the face models, the HairFastGAN graphs and, plainly, their upstream licenses. */
describe('hairstyler models list', () => {
  let modelsDir: string;
  beforeAll(() => {
    modelsDir = contractModelsDir();
  });
  afterAll(() => rmSync(modelsDir, { recursive: true, force: true }));

  it('lists the contract graphs and says nothing alarming about them', async () => {
    const r = await runCli('models', 'list', '--models-dir', modelsDir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^embed\s+contract\s+\d+\s+ok\s+hairfast\/embed\.onnx$/m);
    expect(r.stdout).toMatch(/^blazeface-short\s+converted/m);
    expect(r.stdout).toContain('licenses: every installed part is openly licensed');
    expect(r.stdout).not.toMatch(/NON-COMMERCIAL|EVALUATION ONLY|NO LICENSE/);
  });

  it('names every non-commercial, evaluation-only and unlicensed part of an official export, with its graphs', async () => {
    labelAsOfficialExport(modelsDir);
    const r = await runCli('models', 'list', '--models-dir', modelsDir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('licenses: the installed HairFastGAN graphs include parts whose terms restrict use:');
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('  '));
    expect(lines[0]).toMatch(/^ {2}EVALUATION ONLY \(no service to third parties\): InterDigital FeatureStyleEncoder .*\(feature-style-encoder\) in embed$/);
    expect(lines.find((l) => l.includes('(sean)'))).toMatch(/NON-COMMERCIAL use only: .* in sean_encode, sean_decode(, swap)?$/);
    expect(lines.find((l) => l.includes('(stylegan2-ffhq)'))).toMatch(/NON-COMMERCIAL use only: .* in embed, rotate, e4e, g_f32_to_img, refine, g_f64_to_img(, swap)?$/);
    expect(lines.find((l) => l.includes('(ctrlhair)'))).toMatch(/NO LICENSE granted upstream: .* in ctrl_face_enc, ctrl_hair_enc, ctrl_decode(, swap)?$/);
    expect(r.stdout).not.toContain('(clip)'); // MIT: not a restriction
  });

  it('says when a manifest does not record a graph\'s licenses, rather than calling it open', async () => {
    labelAsOfficialExport(modelsDir, { licensesOf: 'align_f' });
    const r = await runCli('models', 'list', '--models-dir', modelsDir);
    expect(r.stdout).toContain('licenses: not recorded for align_f');
  });
});
