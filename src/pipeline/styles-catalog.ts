import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile } from '../shared/read-json-file.js';
import { presetCatalogSchema, type PresetCatalog } from '../shared/presets.js';

/** `<stylesDir>/manifest.json`, parsed once; an absent file is an empty catalog. */
export function readStylesCatalog(stylesDir: string): PresetCatalog | undefined {
  const path = join(stylesDir, 'manifest.json');
  if (!existsSync(path)) return undefined;
  return readJsonFile(path, presetCatalogSchema, 'CONFIG_INVALID', 'styles catalog');
}
