import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../../src/shared/config.js';
import type { RgbImage } from '../../../src/pipeline/engine.js';
import { prepareHairfastModels } from '../../../src/model-build/hairfast-contract/install-contract-models.js';

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
