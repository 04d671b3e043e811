import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../../src/shared/config.js';
import type { PresetCacheStore, RgbImage } from '../../../src/pipeline/engine.js';
import { prepareHairfastModels } from '../../../src/model-build/hairfast-contract/install-contract-models.js';
import { graphLicenses } from '../../../src/model-build/official-files.js';
import type { Manifest } from '../../../src/pipeline/runtime/manifest.js';
import type { ContractGraph } from '../../../src/pipeline/hairfast/graphs.contract.js';
import { graphOfKey } from '../../../src/pipeline/hairfast/graphs.js';

/**
 * A models directory for tests: the face models built by `hairstyler models prepare` (models/face + models/manifest.json) and freshly
 * installed contract models, in a temporary directory so an installed export never slows the tests down.
 */
export function contractModelsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hairfast-models-'));
  if (!existsSync('models/face')) throw new Error('models/face is missing: run `hairstyler models prepare` first');
  cpSync('models/face', join(dir, 'face'), { recursive: true });
  cpSync('models/manifest.json', join(dir, 'manifest.json'));
  prepareHairfastModels(dir, 'contract');
  return dir;
}

export function testConfig(env: Record<string, string>) {
  return loadConfig({ env: { LOG_LEVEL: 'silent', HAIR_EP: 'cpu', ...env } });
}

export const ASTRONAUT = 'tests/fixtures/astronaut.png';
export const COFFEE = 'tests/fixtures/coffee.png';

/** A preset cache store over a Map, recording which calls it got. */
export function memoryPresetStore(): PresetCacheStore & { readonly entries: Map<string, Uint8Array>; readonly calls: string[] } {
  const entries = new Map<string, Uint8Array>();
  const calls: string[] = [];
  return {
    entries,
    calls,
    get: async (k) => (calls.push('get'), entries.get(k) ?? null),
    set: async (k, v) => void (calls.push('set'), entries.set(k, v)),
    delete: async (k) => void (calls.push('delete'), entries.delete(k)),
  };
}

export function fixtureBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

/** A 1024² RGB image from a file, optionally mirrored or tinted: stand-ins for aligned faces. */
export async function aligned1024(path: string, options: { flop?: boolean; tint?: [number, number, number] } = {}): Promise<RgbImage> {
  let img = sharp(path).removeAlpha().resize(1024, 1024);
  if (options.flop) img = img.flop();
  if (options.tint) img = img.linear([options.tint[0], options.tint[1], options.tint[2]], [0, 0, 0]);
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

/**
 * Relabels the contract graphs in `modelsDir` as an official export carrying the upstream licenses the exporter
 * writes (the files stay the contract's, so they still load): how restricted parts look once installed.
 */
export function labelAsOfficialExport(modelsDir: string, drop: { licensesOf?: string } = {}): void {
  const path = join(modelsDir, 'hairfast', 'manifest.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  for (const [name, entry] of Object.entries(manifest.models)) {
    entry.kind = 'official';
    if (name === drop.licensesOf) delete entry.licenses;
    else entry.licenses = graphLicenses(graphOfKey(name) as ContractGraph);
  }
  writeFileSync(path, JSON.stringify(manifest, null, 2));
}
