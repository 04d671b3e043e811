import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlignedTransfer } from '../../../src/pipeline/aligned-transfer.js';
import type { RgbImage } from '../../../src/pipeline/engine.js';
import { hairfastManifestPath, loadHairfastGraphs } from '../../../src/pipeline/hairfast/graphs.js';
import { createSessionManager } from '../../../src/pipeline/runtime/ort.js';
import { createLogger } from '../../../src/shared/log.js';
import { prepareHairfastModels } from '../../../src/model-build/hairfast-contract/install-contract-models.js';
import { ASTRONAUT, COFFEE, aligned1024 } from './fixtures.js';

/**
 * HAIR_PRECISION: the runtime loads `<graph>_fp16` variants made by the exporter's converter
 * (tools/hairfast-export/to_fp16.py, run here on the contract graphs) and feeds them exactly as the fp32 graphs.
 */
describe('hairfast graph precision', () => {
  let work: string;
  let modelsDir: string;
  let face: RgbImage;
  let other: RgbImage;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'hairfast-precision-'));
    modelsDir = join(work, 'models');
    prepareHairfastModels(modelsDir, 'contract');
    execFileSync('/usr/bin/python3', ['tools/hairfast-export/to_fp16.py', '--models', join(modelsDir, 'hairfast'), '--no-check'], { stdio: 'pipe' });
    execFileSync('/usr/bin/python3', ['tools/hairfast-export/to_int8.py', '--models', join(modelsDir, 'hairfast'), '--only', 'embed,refine', '--no-check'], { stdio: 'pipe' });
    [face, other] = await Promise.all([aligned1024(ASTRONAUT), aligned1024(COFFEE)]);
  }, 120_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const transferWith = async (precision: 'fp32' | 'fp16' | 'int8' | 'auto', dir = modelsDir) => {
    const lines: string[] = [];
    const destination = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    const logger = createLogger({ level: 'info', destination });
    const transfer = await createAlignedTransfer({ MODELS_DIR: dir, HAIR_EP: 'cpu', HAIR_PRECISION: precision, ORT_INTRA_OP_THREADS: 1 }, { logger });
    try {
      const result = await transfer.run({ face, shape: other });
      return { info: transfer.info, result, log: lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
    } finally {
      await transfer.dispose();
    }
  };

  it('HAIR_PRECISION=fp16 runs the fp16 variants; the result is the fp32 result within half precision', async () => {
    const half = await transferWith('fp16');
    const full = await transferWith('fp32');
    expect(half.info.precision).toBe('fp16');
    expect(full.info.precision).toBe('fp32');
    const sessions = (run: typeof half) => run.log.filter((l) => typeof l['model'] === 'string').map((l) => l['model']);
    expect(sessions(half)).toContain('hairfast/embed_fp16');
    expect(sessions(half)).not.toContain('hairfast/embed');
    expect(sessions(full)).toContain('hairfast/embed');
    let maxAbs = 0;
    let sq = 0;
    for (let i = 0; i < full.result.image01.length; i++) {
      const d = half.result.image01[i]! - full.result.image01[i]!;
      maxAbs = Math.max(maxAbs, Math.abs(d));
      sq += d * d;
    }
    const psnr = 10 * Math.log10(1 / (sq / full.result.image01.length));
    expect(maxAbs).toBeGreaterThan(0); // different graphs really ran
    expect(psnr).toBeGreaterThan(30);
  }, 120_000);

  // The contract graphs have no convolutions, so their int8 variants compute what fp32 does: this checks which files
  // load and how they key the caches; the quantization itself is tested in tools/hairfast-export/tests/test_int8.py.
  it('HAIR_PRECISION=int8 runs the int8 variants where there are some and fp32 for the other graphs', async () => {
    const int8 = await transferWith('int8');
    const full = await transferWith('fp32');
    expect(int8.info.precision).toBe('int8');
    const sessions = int8.log.filter((l) => typeof l['model'] === 'string').map((l) => l['model']);
    expect(sessions).toEqual(expect.arrayContaining(['hairfast/embed_int8', 'hairfast/refine_int8', 'hairfast/bisenet', 'hairfast/sean_decode']));
    expect(sessions).not.toContain('hairfast/embed');
    expect(sessions.filter((name) => String(name).endsWith('_fp16'))).toEqual([]);
    const loaded = int8.log.find((l) => String(l['msg']).startsWith('hairfast graphs loaded'));
    expect(loaded).toMatchObject({ precision: 'int8', int8Graphs: ['embed', 'refine'] });
    expect(Buffer.from(int8.result.image01.buffer).equals(Buffer.from(full.result.image01.buffer))).toBe(true);
  }, 120_000);

  it('int8 without any int8 variant fails with MODEL_MISSING naming the converter', async () => {
    const none = join(work, 'no-int8');
    cpSync(modelsDir, none, { recursive: true });
    const manifestPath = hairfastManifestPath(none);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    for (const key of Object.keys(manifest.models)) if (key.endsWith('_int8')) delete manifest.models[key];
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 1 });
    try {
      await expect(loadHairfastGraphs({ modelsDir: none, warm: false, precision: 'int8' }, { manager }))
        .rejects.toMatchObject({ code: 'MODEL_MISSING', message: expect.stringContaining('to_int8.py') });
    } finally {
      await manager.dispose();
    }
  }, 120_000);

  it('auto takes fp32 on the CPU provider, and fp16 and int8 graphs key the preset cache apart from fp32 ones', async () => {
    const auto = await transferWith('auto');
    expect(auto.info.precision).toBe('fp32');
    const loaded = auto.log.find((l) => String(l['msg']).startsWith('hairfast graphs loaded'));
    expect(loaded).toMatchObject({ precision: 'fp32', executionProvider: 'cpu' });

    const hashes: Record<string, string> = {};
    for (const precision of ['fp32', 'fp16', 'int8'] as const) {
      const manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 1 });
      try {
        hashes[precision] = (await loadHairfastGraphs({ modelsDir, warm: false, precision }, { manager })).modelsHash;
      } finally {
        await manager.dispose();
      }
    }
    expect(new Set(Object.values(hashes)).size).toBe(3);
  }, 120_000);

  it('fp16 without every variant fails with MODEL_MISSING naming the graphs; auto then stays on fp32', async () => {
    const partial = join(work, 'partial');
    cpSync(modelsDir, partial, { recursive: true });
    const manifestPath = hairfastManifestPath(partial);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    delete manifest.models['refine_fp16'];
    writeFileSync(manifestPath, JSON.stringify(manifest));
    const manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 1 });
    try {
      await expect(loadHairfastGraphs({ modelsDir: partial, warm: false, precision: 'fp16' }, { manager }))
        .rejects.toMatchObject({ code: 'MODEL_MISSING', message: expect.stringContaining('refine') });
    } finally {
      await manager.dispose();
    }
    expect((await transferWith('auto', partial)).info.precision).toBe('fp32');
  }, 120_000);
});
