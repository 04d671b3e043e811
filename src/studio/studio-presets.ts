import sharp from 'sharp';
import type { PresetCatalog } from '../bot/preset-catalog.js';
import { HairError } from '../shared/errors.js';
import { builtinPresets, presetServes, type PresetEntry, type PresetSlot } from '../shared/presets.js';

/** A preset as the page's gallery shows it. */
export interface GalleryPreset {
  id: string;
  name: { en: string; ko: string };
  kind: PresetEntry['kind'];
  thumbnail: string;
}

export interface StudioPresetsDeps {
  /** The bot's catalog on Redis: a server's own presets (queue mode only). */
  catalog?: PresetCatalog;
}

const THUMB_SIDE = 160;

/**
 * The gallery: the built-ins of styles/ (the same catalog the bot and the worker read) and, with Redis, a server's
 * ready presets when the page was opened with its id. Thumbnails: built-ins resized once and kept; a server's
 * from the thumbnail its preset build stored.
 */
export function createStudioPresets(config: { STYLES_DIR: string }, deps: StudioPresetsDeps = {}) {
  const builtins = builtinPresets(config.STYLES_DIR);
  const thumbs = new Map<string, Promise<Buffer>>();

  async function entries(guildId?: string): Promise<PresetEntry[]> {
    if (!guildId) return builtins;
    if (!deps.catalog) throw new HairError('PRESET_NOT_FOUND', { name: guildId }, { detail: "a server's presets need Redis" });
    return deps.catalog.list(guildId);
  }

  return {
    async list(guildId?: string): Promise<GalleryPreset[]> {
      return (await entries(guildId)).map((p) => ({
        id: p.id,
        name: { en: p.name, ko: p.nameKo ?? p.name },
        kind: p.kind,
        thumbnail: `/api/presets/${encodeURIComponent(p.id)}/thumbnail`,
      }));
    },

    /** A preset id the page sent, checked against what that page may offer for the slot. */
    async resolve(presetId: string, slot: PresetSlot, guildId?: string): Promise<PresetEntry> {
      const found = (await entries(guildId)).find((p) => p.id === presetId);
      if (!found) throw new HairError('PRESET_NOT_FOUND', { name: presetId.slice(0, 60) });
      if (!presetServes(found.kind, slot)) throw new HairError('PRESET_KIND_MISMATCH', { name: found.name, kind: slot });
      return found;
    },

    async thumbnail(presetId: string): Promise<Buffer | undefined> {
      const builtin = builtins.find((p) => p.id === presetId);
      if (builtin?.imagePath) {
        let thumb = thumbs.get(presetId);
        if (!thumb) {
          thumb = sharp(builtin.imagePath).resize(THUMB_SIDE, THUMB_SIDE, { fit: 'cover' }).jpeg({ quality: 82 }).toBuffer();
          thumbs.set(presetId, thumb);
        }
        return thumb;
      }
      return deps.catalog?.thumbnail(presetId);
    },
  };
}
export type StudioPresets = ReturnType<typeof createStudioPresets>;
