import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HairError } from '../shared/index.js';
import { presetCatalogSchema } from '../shared/presets.js';
import type { PresetEntry } from './preset-catalog.js';

/**
 * The built-in presets of `<STYLES_DIR>/manifest.json`, validated with the shared catalog schema (the bot reads
 * the same file as the worker, without importing the pipeline). A missing manifest means no built-ins.
 */
export function builtinPresets(stylesDir: string): PresetEntry[] {
  const path = join(stylesDir, 'manifest.json');
  if (!existsSync(path)) return [];
  const parsed = presetCatalogSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    throw new HairError('CONFIG_INVALID', { file: path }, { detail: `${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
  }
  return parsed.data.presets.map((p) => ({
    id: p.id, name: p.name.en, nameKo: p.name.ko, kind: p.kind, source: 'builtin' as const, status: 'ready' as const,
    imagePath: join(stylesDir, p.image),
  }));
}
