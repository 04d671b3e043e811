import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareHairfastModels } from '../../src/model-build/hairfast-contract/install-contract-models.js';
import { ASTRONAUT, COFFEE, aligned1024 } from '../pipeline/hairfast/fixtures.js';
import { officialSrc, PYTHON } from '../helpers/official-src.js';

/**
 * The CI-sized round trip of #10, through the real `hairstyler models import`: an official-format tree holding only
 * Blending/checkpoint.pth (official_tree.py, seeded random weights) is imported for color_mod, align_f and
 * blend_masks over the contract graphs, then compared with the official code loading the same file
 * (parity.py --tree-loader lines). Failed imports (missing, truncated, renamed key, interrupted) exit 2 and leave
 * the installed models verified. The full round trip (16 graphs, HairFast's own constructor) is
 * docs/parity.md "Round trip".
 */
const SRC = officialSrc();
const CLI = join(process.cwd(), 'bin', 'hairstyler.js');
const GRAPHS = 'color_mod,align_f,blend_masks';

interface Run { code: number | null; stdout: string; stderr: string }

describe.skipIf(!SRC)('hairstyler models import (CI-sized round trip)', () => {
  let work: string;
  let tree: string;
  let modelsDir: string;
  let env: NodeJS.ProcessEnv;
  let face: string;
  let color: string;
  let imported: Run;
  let before: { manifest: string; raw: Buffer; report: { modelKind: string } };

  const cli = (...args: string[]): Run => {
    const r = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', timeout: 240_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const transfer = (name: string) => {
    const raw = join(work, `${name}.f32`);
    const r = cli('transfer', '--aligned', '--face', face, '--shape', face, '--color', color, '-o', join(work, `${name}.png`), '--raw-out', raw, '--json');
    expect(r.code, r.stderr).toBe(0);
    return { raw: readFileSync(raw), report: JSON.parse(r.stdout) as { modelKind: string } };
  };
  const manifestText = () => readFileSync(join(modelsDir, 'hairfast', 'manifest.json'), 'utf8');
  /** A copy of the tree with `change` applied to its pretrained_models/. */
  const treeCopy = (name: string, change: (root: string) => void): string => {
    const copy = join(work, name);
    cpSync(tree, copy, { recursive: true });
    change(join(copy, 'pretrained_models'));
    return join(copy, 'pretrained_models');
  };
  const expectPreviousModelsIntact = () => {
    expect(manifestText()).toBe(before.manifest);
    const verify = cli('models', 'verify', '--models-dir', modelsDir);
    expect(verify.code, verify.stderr).toBe(0);
    // The contract install: 16 split graphs and the swap composite.
    expect(verify.stdout).toMatch(/models OK \(17 of them HairFastGAN graphs/);
    expect(readdirSync(modelsDir).filter((n) => n.startsWith('.hairfast-previous'))).toEqual([]);
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'models-import-'));
    tree = join(work, 'tree');
    const built = spawnSync(PYTHON, ['tools/hairfast-export/official_tree.py', '--src', SRC!, '--out', tree, '--seed', '5', '--files', 'Blending/checkpoint.pth'], { encoding: 'utf8' });
    expect(built.status, built.stderr).toBe(0);
    modelsDir = join(work, 'models');
    // the face models `npm test` prepared (the preset rebuild runs the whole engine) and the contract HairFastGAN graphs
    mkdirSync(modelsDir, { recursive: true });
    copyFileSync(join('models', 'manifest.json'), join(modelsDir, 'manifest.json'));
    cpSync(join('models', 'face'), join(modelsDir, 'face'), { recursive: true });
    prepareHairfastModels(modelsDir, 'contract');
    env = { ...process.env, MODELS_DIR: modelsDir, PRESET_CACHE_DIR: join(work, 'cache'), STYLES_DIR: 'styles', HAIR_EP: 'cpu', LOG_LEVEL: 'warn', ORT_DISABLE_TELEMETRY: '1' };
    face = join(work, 'face.png');
    color = join(work, 'color.png');
    for (const [src, dst] of [[COFFEE, face], [ASTRONAUT, color]] as const) {
      const img = await aligned1024(src);
      await sharp(img.data, { raw: { width: 1024, height: 1024, channels: 3 } }).png().toFile(dst);
    }
    before = { manifest: manifestText(), ...transfer('before') };
  }, 180_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('a missing file: exit 2 listing its path, expected size and source; the installed models stay', () => {
    const checkpoints = treeCopy('missing', (root) => rmSync(join(root, 'Blending', 'checkpoint.pth')));
    const r = cli('models', 'import', '--src', SRC!, '--checkpoints', checkpoints, '--only', GRAPHS);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error\[IMPORT_TREE_INCOMPLETE\]: The checkpoint tree is incomplete: 1 file is missing/);
    expect(r.stderr).toMatch(/Blending\/checkpoint\.pth: missing, expected ≈89\.3 MB — from pretrained_models\/Blending\/checkpoint\.pth .*huggingface\.co\/AIRI-Institute\/HairFastGAN/);
    expectPreviousModelsIntact();
  }, 240_000);

  it('a truncated file: exit 2 naming the size it has and the size expected', () => {
    const checkpoints = treeCopy('truncated', (root) => truncateSync(join(root, 'Blending', 'checkpoint.pth'), 40_000_000));
    const r = cli('models', 'import', '--src', SRC!, '--checkpoints', checkpoints, '--only', GRAPHS);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error\[IMPORT_TREE_INCOMPLETE\]/);
    expect(r.stderr).toMatch(/Blending\/checkpoint\.pth: 40000000 bytes, expected \d+ bytes \(as \.hairstyler-tree\.json recorded it\)/);
    expectPreviousModelsIntact();
  }, 240_000);

  it('a renamed key: exit 2 with the exporter\'s CHECKPOINT_KEYS naming both keys and the fix, no traceback', () => {
    const checkpoints = treeCopy('renamed', (root) => {
      const script = [
        'import json, os, sys, torch',
        'root = sys.argv[1]; rel = "Blending/checkpoint.pth"; path = os.path.join(root, rel)',
        'ck = torch.load(path); sd = ck["model_state_dict"]',
        'sd["modulation_module_list.2.fc.weight_v2"] = sd.pop("modulation_module_list.2.fc.weight")',
        'torch.save(ck, path)',
        'marker = json.load(open(os.path.join(root, ".hairstyler-tree.json")))',
        'marker["files"][rel] = os.path.getsize(path)',
        'json.dump(marker, open(os.path.join(root, ".hairstyler-tree.json"), "w"))',
      ].join('\n');
      const r = spawnSync(PYTHON, ['-c', script, root], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    });
    const r = cli('models', 'import', '--src', SRC!, '--checkpoints', checkpoints, '--only', GRAPHS);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error\[CHECKPOINT_KEYS\]: A checkpoint does not have the keys of the official model\./);
    expect(r.stderr).toContain('1 missing: modulation_module_list.2.fc.weight; 1 unexpected: modulation_module_list.2.fc.weight_v2');
    expect(r.stderr).toMatch(/fix: Blending\/checkpoint\.pth is not the official file/);
    expect(r.stderr).not.toContain('Traceback');
    expectPreviousModelsIntact();
  }, 240_000);

  it('an interrupted import (SIGTERM once the export started) exits 2 and leaves the installed models as they were', async () => {
    const child = spawn(process.execPath, [CLI, 'models', 'import', '--src', SRC!, '--checkpoints', join(tree, 'pretrained_models'), '--only', GRAPHS], { env });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve) => child.stdout.on('data', (d) => {
      stdout += String(d);
      if (stdout.includes('models import: exporting')) resolve();
    }));
    child.kill('SIGTERM');
    expect(await exited).toBe(2);
    expect(stderr).toMatch(/error\[IMPORT_INTERRUPTED\]/);
    expectPreviousModelsIntact();
    // the renamed-key run's staging (other inputs) is gone; this run's stays for the next run to resume from
    expect(stdout).toMatch(/removed .*\.hairfast-import-.* \(staging of an earlier import of other files\)/);
    expect(readdirSync(modelsDir).filter((n) => n.startsWith('.hairfast-import-'))).toHaveLength(1);
  }, 240_000);

  it('imports the tree: tree check, per-graph progress with an ETA, contract check, atomic install, preset caches, summary', () => {
    imported = cli('models', 'import', '--src', SRC!, '--checkpoints', join(tree, 'pretrained_models'), '--only', GRAPHS);
    expect(imported.code, imported.stderr).toBe(0);
    const out = imported.stdout;
    expect(out).toMatch(/1 files checked in .* \(89\.3 MB, random weights in the official formats, seed 5\)/);
    expect(out).toMatch(/\[1\/3\] color_mod +done in [\d.]+ s \(89\.3 MB; elapsed [\d.]+ s, ETA ≈ /);
    expect(out).toMatch(/\[3\/3\] blend_masks +done in/);
    expect(out).toMatch(/kept 13 installed graphs not exported this time/);
    expect(out).toMatch(/resuming from .*\.hairfast-import-/);
    expect(out).toMatch(/installed 16 graph files \(random \+ contract\)/);
    expect(readdirSync(modelsDir).filter((n) => n.startsWith('.hairfast-'))).toEqual([]);
    expect(out).toMatch(/licenses: /);
    expect(out).toMatch(/presets build: random fp32 graphs on cpu/);
    const manifest = JSON.parse(manifestText()) as { models: Record<string, { kind: string; notes?: string }> };
    expect(manifest.models['color_mod']).toMatchObject({ kind: 'random', notes: expect.stringContaining('random weights in the official checkpoint formats') });
    expect(manifest.models['bisenet']?.kind).toBe('contract');
    const verify = cli('models', 'verify', '--models-dir', modelsDir);
    expect(verify.code, verify.stderr).toBe(0);
  }, 240_000);

  it('round trip: the imported graphs match the official code reading the same tree', () => {
    const r = spawnSync(PYTHON, ['tools/hairfast-export/parity.py', '--src', SRC!, '--models', join(modelsDir, 'hairfast'), '--tree', tree,
      '--tree-loader', 'lines', '--only', GRAPHS], { encoding: 'utf8', timeout: 240_000 });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => l.startsWith('{"graph"')).map((l) => JSON.parse(l) as { graph: string; official: string; outputs: Record<string, { max_abs: number; finite: boolean }> });
    expect(rows.map((row) => row.graph)).toEqual(['color_mod', 'align_f', 'blend_masks']);
    for (const row of rows) {
      expect(row.official).toMatch(/loading lines/);
      for (const [name, o] of Object.entries(row.outputs)) {
        expect(o.finite, `${row.graph}.${name}`).toBe(true);
        expect(o.max_abs, `${row.graph}.${name}`).toBeLessThan(1e-4);
      }
    }
  }, 240_000);

  it('after the import, hairstyler transfer runs the imported graphs', () => {
    const after = transfer('after');
    expect(before.report.modelKind).toBe('contract');
    expect(after.report.modelKind).toBe('random');
    expect(after.raw.equals(before.raw)).toBe(false);
  }, 240_000);
});
