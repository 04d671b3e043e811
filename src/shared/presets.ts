import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Locale } from './i18n/index.js';
import { readJsonFile } from './read-json-file.js';

/**
 * Presets: the one home of their kinds, ids, the styles manifest and the rule for a typed name.
 * Built-ins live in `<STYLES_DIR>/manifest.json` (ids `builtin:<slug>`); moderators' presets are
 * `guild:<guildId>:<slug>`. Every built-in image names its source and license.
 */

/** What a preset gives: the hair shape, the hair colour, or both. */
export const PRESET_KINDS = ['shape', 'color', 'both'] as const;
export const presetKindSchema = z.enum(PRESET_KINDS);
export type PresetKind = z.infer<typeof presetKindSchema>;

/** The side of a try-on a preset is used for: a `both` preset serves either. */
export type PresetSlot = Exclude<PresetKind, 'both'>;

/** True when a preset of `kind` can serve as the shape (or colour) reference. */
export function presetServes(kind: PresetKind, slot: PresetSlot): boolean {
  return kind === 'both' || kind === slot;
}

const SLUG = '[a-z0-9][a-z0-9-]{0,39}';
export const PRESET_SLUG = new RegExp(`^${SLUG}$`);
export const PRESET_ID = new RegExp(`^(builtin|guild:\\d{5,25}):${SLUG}$`);
const BUILTIN_ID = new RegExp(`^builtin:${SLUG}$`);

export type PresetId =
  | { source: 'builtin'; slug: string }
  | { source: 'guild'; guildId: string; slug: string };

export function isPresetId(value: string): boolean {
  return PRESET_ID.test(value);
}

/** `builtin:short-layered` → `short-layered`: what a message shows when no display name is known (other keys as they are). */
export function presetSlug(value: string): string {
  return parsePresetId(value)?.slug ?? value;
}

/** The parts of a preset id, or undefined for anything that is not one. */
export function parsePresetId(value: string): PresetId | undefined {
  if (!isPresetId(value)) return undefined;
  const parts = value.split(':');
  return parts[0] === 'builtin' ? { source: 'builtin', slug: parts[1]! } : { source: 'guild', guildId: parts[1]!, slug: parts[2]! };
}

export const builtinPresetId = (slug: string): string => `builtin:${slug}`;
export const guildPresetId = (guildId: string, slug: string): string => `guild:${guildId}:${slug}`;

/** One built-in of the styles manifest. */
export const stylesManifestEntrySchema = z.object({
  id: z.string().regex(BUILTIN_ID),
  name: z.object({ en: z.string().min(1).max(100), ko: z.string().min(1).max(100) }),
  kind: presetKindSchema,
  /** Path relative to the styles directory. */
  image: z.string().regex(/^[a-z0-9][a-z0-9._-]*\.(png|jpg|jpeg|webp)$/),
  /** Where the image comes from, precise enough to check. */
  source: z.string().min(1),
  license: z.string().min(1),
  /** Set for images the project generated (e.g. recoloured hair). */
  synthetic: z.boolean().default(false),
});
export type StylesManifestEntry = z.infer<typeof stylesManifestEntrySchema>;

export const stylesManifestSchema = z.object({
  version: z.literal(1),
  presets: z.array(stylesManifestEntrySchema).min(1),
}).superRefine((manifest, ctx) => {
  const seen = new Set<string>();
  for (const [i, p] of manifest.presets.entries()) {
    if (seen.has(p.id)) ctx.addIssue({ code: 'custom', path: ['presets', i, 'id'], message: `duplicate preset id ${p.id}` });
    seen.add(p.id);
  }
});
export type StylesManifest = z.infer<typeof stylesManifestSchema>;

export const stylesManifestPath = (stylesDir: string): string => join(stylesDir, 'manifest.json');

/** `<stylesDir>/manifest.json`, validated; undefined when there is none (no built-ins). A bad file is CONFIG_INVALID. */
export function readStylesManifest(stylesDir: string): StylesManifest | undefined {
  const path = stylesManifestPath(stylesDir);
  if (!existsSync(path)) return undefined;
  return readJsonFile(path, stylesManifestSchema, 'CONFIG_INVALID', 'styles manifest');
}

/** A preset as members see it: a built-in, or a guild's own (in Redis, with who added it and when). */
export interface PresetEntry {
  id: string;
  name: string;
  nameKo?: string;
  kind: PresetKind;
  source: 'builtin' | 'guild';
  status: 'building' | 'ready' | 'failed';
  /** Built-ins: the image file under styles/ (used as the gallery thumbnail). */
  imagePath?: string;
  addedBy?: string;
  addedAt?: number;
  failure?: string;
}

/** The built-ins of `<stylesDir>/manifest.json` as preset entries (none without a manifest). */
export function builtinPresets(stylesDir: string): PresetEntry[] {
  return (readStylesManifest(stylesDir)?.presets ?? []).map((p) => ({
    id: p.id, name: p.name.en, nameKo: p.name.ko, kind: p.kind, source: 'builtin', status: 'ready', imagePath: join(stylesDir, p.image),
  }));
}

export function presetName(entry: PresetEntry, locale: Locale): string {
  return locale === 'ko' && entry.nameKo ? entry.nameKo : entry.name;
}

/** What a member typed, compared the way every lookup compares it: trimmed, NFC, case-insensitive. */
export function normalizeTyped(text: string): string {
  return text.normalize('NFC').trim().toLowerCase();
}

/** The words a preset answers to: its id, its slug, and its name in either language. */
function presetWords(entry: PresetEntry): string[] {
  return [entry.id, parsePresetId(entry.id)?.slug, entry.name, entry.nameKo].flatMap((w) => (w ? [normalizeTyped(w)] : []));
}

/** The one rule for a typed name: equal to the preset's id, slug or either name. */
export function matchesTypedName(entry: PresetEntry, typed: string): boolean {
  const wanted = normalizeTyped(typed);
  return wanted !== '' && presetWords(entry).includes(wanted);
}

/** Autocomplete: the typed text appears in the preset's id, slug or either name (everything matches empty text). */
export function containsTyped(entry: PresetEntry, typed: string): boolean {
  const wanted = normalizeTyped(typed);
  return presetWords(entry).some((w) => w.includes(wanted));
}
