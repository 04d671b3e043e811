import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HairError } from '../shared/errors.js';
import { presetCatalogSchema, type PresetCatalog } from '../shared/presets.js';

/** `<stylesDir>/manifest.json`, parsed once; an absent file is an empty catalog. */
export function readStylesCatalog(stylesDir: string): PresetCatalog | undefined {
  const path = join(stylesDir, 'manifest.json');
  if (!existsSync(path)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new HairError('CONFIG_INVALID', { file: path }, { cause, detail: `${path} is not valid JSON` });
  }
  const parsed = presetCatalogSchema.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new HairError('CONFIG_INVALID', { file: path }, { detail: `${path}: ${where}` });
  }
  return parsed.data;
}
