import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { PresetEntry } from './preset-catalog.js';

/**
 * Reads the built-in presets from `<STYLES_DIR>/manifest.json`. Only the fields the bot shows are read (id/slug,
 * names, kind, image); the pipeline's own schema checks the rest. A missing manifest means no built-ins.
 */
const entrySchema = z.object({
  id: z.string().min(1),
  kind: z.enum(['shape', 'color', 'both']),
  name: z.union([z.string(), z.object({ en: z.string(), ko: z.string().optional() })]).optional(),
  names: z.object({ en: z.string(), ko: z.string().optional() }).optional(),
  image: z.string().optional(),
  file: z.string().optional(),
}).passthrough();
const manifestSchema = z.union([z.object({ presets: z.array(entrySchema) }).passthrough(), z.array(entrySchema)]);

export function builtinPresets(stylesDir: string): PresetEntry[] {
  const path = join(stylesDir, 'manifest.json');
  if (!existsSync(path)) return [];
  const parsed = manifestSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  const entries = Array.isArray(parsed) ? parsed : parsed.presets;
  return entries.map((e) => {
    const names = e.names ?? (typeof e.name === 'object' ? e.name : { en: e.name ?? e.id });
    const slug = e.id.replace(/^builtin:/, '');
    const image = e.image ?? e.file;
    return {
      id: `builtin:${slug}`,
      name: names.en,
      ...(names.ko ? { nameKo: names.ko } : {}),
      kind: e.kind,
      source: 'builtin' as const,
      status: 'ready' as const,
      ...(image ? { imagePath: join(stylesDir, image) } : {}),
    };
  });
}
