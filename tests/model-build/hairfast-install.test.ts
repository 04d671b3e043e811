import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepareHairfastModels } from '../../src/model-build/hairfast-contract/install-contract-models.js';
import { carryOverInstalled, createStaging } from '../../src/model-build/hairfast-import/install.js';
import { readManifest } from '../../src/pipeline/runtime/manifest.js';
import { sha256 } from '../../src/shared/sha256.js';

/** A partial import (`--only`) keeps the installed graphs it did not export, a composite's weights file with it. */
describe('models import: carrying installed graphs over', () => {
  let modelsDir: string;
  const weights = Buffer.from('swap weights stand-in');

  beforeEach(() => {
    modelsDir = mkdtempSync(join(tmpdir(), 'hairfast-install-'));
    prepareHairfastModels(modelsDir, 'contract');
    // swap as an export over 2 GB lists it: its weights in hairfast/swap.onnx.data
    const path = join(modelsDir, 'hairfast', 'manifest.json');
    const manifest = readManifest(path);
    writeFileSync(join(modelsDir, 'hairfast', 'swap.onnx.data'), weights);
    manifest.models['swap']!.externalData = { file: 'hairfast/swap.onnx.data', sha256: sha256(weights), bytes: weights.length };
    writeFileSync(path, JSON.stringify(manifest));
  });
  afterEach(() => rmSync(modelsDir, { recursive: true, force: true }));

  const stagedWith = (exported: string[]) => {
    const staging = createStaging(modelsDir, 'test');
    const installed = readManifest(join(modelsDir, 'hairfast', 'manifest.json'));
    const models = Object.fromEntries(exported.map((name) => [name, installed.models[name]!]));
    writeFileSync(join(staging.hairfast, 'manifest.json'), JSON.stringify({ version: 1, models }));
    return staging;
  };

  it('a composite none of whose parts was exported is kept with its external weights file', () => {
    const staging = stagedWith(['bisenet']);
    const carried = carryOverInstalled(modelsDir, staging, ['bisenet']);
    expect(carried).toContain('swap');
    expect(readFileSync(join(staging.hairfast, 'swap.onnx.data'))).toEqual(weights);
    expect(existsSync(join(staging.hairfast, 'swap.onnx'))).toBe(true);
    expect(readManifest(join(staging.hairfast, 'manifest.json')).models['swap']?.externalData?.bytes).toBe(weights.length);
  });

  it('a composite one of whose parts was exported again is dropped, weights file and all', () => {
    const staging = stagedWith(['refine']);
    const carried = carryOverInstalled(modelsDir, staging, ['refine']);
    expect(carried).not.toContain('swap');
    expect(carried).toContain('bisenet');
    expect(existsSync(join(staging.hairfast, 'swap.onnx.data'))).toBe(false);
  });
});
