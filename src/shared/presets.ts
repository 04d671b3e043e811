import { z } from 'zod';

/**
 * The preset catalog. Built-ins live in `styles/manifest.json` (ids `builtin:<slug>`); moderators' presets are
 * `guild:<guildId>:<slug>`. Every built-in image names its source and license.
 */
export const PRESET_SLUG = /^[a-z0-9][a-z0-9-]{0,39}$/;
export const PRESET_ID = /^(builtin|guild:\d{5,25}):[a-z0-9][a-z0-9-]{0,39}$/;
export const PRESET_KINDS = ['shape', 'color', 'both'] as const;

/** `builtin:short-layered` → `short-layered`: what a message shows when no display name is known. */
export function presetSlug(presetId: string): string {
  return presetId.split(':').at(-1) ?? presetId;
}

export const presetEntrySchema = z.object({
  id: z.string().regex(/^builtin:[a-z0-9][a-z0-9-]{0,39}$/),
  name: z.object({ en: z.string().min(1).max(100), ko: z.string().min(1).max(100) }),
  kind: z.enum(PRESET_KINDS),
  /** Path relative to the styles directory. */
  image: z.string().regex(/^[a-z0-9][a-z0-9._-]*\.(png|jpg|jpeg|webp)$/),
  /** Where the image comes from, precise enough to check. */
  source: z.string().min(1),
  license: z.string().min(1),
  /** Set for images the project generated (e.g. recoloured hair). */
  synthetic: z.boolean().default(false),
});
export type PresetEntry = z.infer<typeof presetEntrySchema>;

export const presetCatalogSchema = z.object({
  version: z.literal(1),
  presets: z.array(presetEntrySchema).min(1),
}).superRefine((catalog, ctx) => {
  const seen = new Set<string>();
  for (const [i, p] of catalog.presets.entries()) {
    if (seen.has(p.id)) ctx.addIssue({ code: 'custom', path: ['presets', i, 'id'], message: `duplicate preset id ${p.id}` });
    seen.add(p.id);
  }
});
export type PresetCatalog = z.infer<typeof presetCatalogSchema>;

export function isPresetId(value: string): boolean {
  return PRESET_ID.test(value);
}

/** True when a preset of `kind` can serve as the shape (or colour) reference. */
export function presetServes(kind: PresetEntry['kind'], role: 'shape' | 'color'): boolean {
  return kind === 'both' || kind === role;
}
