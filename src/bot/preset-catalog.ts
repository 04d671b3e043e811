import { scanKeys, type RedisClient } from '../redis/redis-connector.js';
import { z } from 'zod';
import {
  containsTyped, guildPresetId, HairError, jsonString, matchesTypedName, parsePresetId, presetKindSchema, presetName, presetServes,
  type Locale, type PresetEntry, type PresetKind, type PresetSlot, type RedisKeys,
} from '../shared/index.js';
import type { BotKeys } from './bot-keys.js';
import type { GuildSettings } from './guild-settings.js';
import { sha256 } from '../shared/sha256.js';

const guildPresetSchema = z.object({
  name: z.string(),
  kind: presetKindSchema,
  status: z.enum(['building', 'ready', 'failed']),
  addedBy: z.string(),
  addedAt: z.number(),
  failure: z.string().optional(),
});
type GuildPreset = z.infer<typeof guildPresetSchema>;
const storedPresetSchema = jsonString(guildPresetSchema);

/** 1–32 letters (any script), digits, spaces, '-' or '_'. */
const NAME_RULE = /^[\p{L}\p{N}][\p{L}\p{N} _-]{0,31}$/u;
export const AUTOCOMPLETE_MAX = 25;

/** A stable ASCII slug for a preset id (shared PRESET_SLUG: ≤ 40 of a-z 0-9 -); other scripts get a short hash. */
export function slugFor(name: string): string {
  const ascii = name.normalize('NFKD').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return ascii.length >= 2 ? ascii : `p-${sha256(name).slice(0, 10)}`;
}

/** The guild and slug of a guild preset's id; undefined for anything else (the catalog stores guild presets only). */
function guildSlot(presetId: string): { guildId: string; slug: string } | undefined {
  const id = parsePresetId(presetId);
  return id?.source === 'guild' ? id : undefined;
}

export interface PresetCatalogDeps {
  redis: RedisClient;
  keys: BotKeys;
  /** The shared contract's keys (the worker's preset photo and caches, removed with a preset). */
  shared: RedisKeys;
  builtins: PresetEntry[];
  /** Whether a guild offers the built-ins. */
  settings: Pick<GuildSettings, 'builtinsEnabled'>;
}

/** Built-in presets (from styles/) plus each guild's own (in Redis, with who added them and when). */
export function createPresetCatalog(config: { GUILD_PRESET_LIMIT: number }, deps: PresetCatalogDeps) {
  const { redis, keys } = deps;

  async function guildPresets(guildId: string): Promise<PresetEntry[]> {
    const raw = await redis.hgetall(keys.presets(guildId));
    return Object.entries(raw).flatMap(([slug, json]) => {
      const parsed = storedPresetSchema.safeParse(json);
      if (!parsed.success) return [];
      const p = parsed.data;
      return [{ id: guildPresetId(guildId, slug), name: p.name, kind: p.kind, source: 'guild' as const, status: p.status, addedBy: p.addedBy, addedAt: p.addedAt, ...(p.failure ? { failure: p.failure } : {}) }];
    }).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Every preset of a guild, built-ins first (unless turned off), optionally only those fitting a slot. */
  async function list(guildId: string, slot?: PresetSlot, options: { includeUnready?: boolean } = {}): Promise<PresetEntry[]> {
    const builtins = (await deps.settings.builtinsEnabled(guildId)) ? deps.builtins : [];
    const all = [...builtins, ...(await guildPresets(guildId))];
    return all.filter((p) => (!slot || presetServes(p.kind, slot)) && (options.includeUnready || p.status === 'ready'));
  }

  async function readGuild(guildId: string, slug: string): Promise<GuildPreset | undefined> {
    const json = await redis.hget(keys.presets(guildId), slug);
    return json ? storedPresetSchema.parse(json) : undefined;
  }

  async function findByName(guildId: string, name: string): Promise<PresetEntry | undefined> {
    return (await guildPresets(guildId)).find((p) => matchesTypedName(p, name));
  }

  function checkName(name: string): string {
    const trimmed = name.trim();
    if (!NAME_RULE.test(trimmed)) throw new HairError('PRESET_NAME_INVALID');
    return trimmed;
  }

  return {
    list,

    /** Autocomplete: presets for a slot whose name (either language) or id contains the typed text, ≤ 25. */
    async search(guildId: string, slot: PresetSlot, typed: string, locale: Locale): Promise<Array<{ name: string; value: string }>> {
      return (await list(guildId, slot))
        .filter((p) => containsTyped(p, typed))
        .slice(0, AUTOCOMPLETE_MAX)
        .map((p) => ({ name: presetName(p, locale).slice(0, 100), value: p.id }));
    },

    /**
     * A preset a member picked (an id from autocomplete, or a name typed by hand). Throws PRESET_NOT_FOUND, or
     * PRESET_KIND_MISMATCH when it does not fit the slot.
     */
    async resolve(guildId: string, slot: PresetSlot, value: string): Promise<PresetEntry> {
      const all = await list(guildId);
      const found = all.find((p) => p.id === value) ?? all.find((p) => matchesTypedName(p, value));
      if (!found) throw new HairError('PRESET_NOT_FOUND', { name: value.slice(0, 60) });
      if (!presetServes(found.kind, slot)) throw new HairError('PRESET_KIND_MISMATCH', { name: found.name, kind: slot });
      return found;
    },

    findByName,

    /** The presets' names as the member sees them (their language), for the result embed. */
    async labels(guildId: string, locale: Locale, ids: { shape?: string | undefined; color?: string | undefined }): Promise<{ shape?: string; color?: string }> {
      const all = await list(guildId, undefined, { includeUnready: true });
      const name = (id: string | undefined) => {
        const found = id ? all.find((p) => p.id === id) : undefined;
        return found ? presetName(found, locale).slice(0, 100) : undefined;
      };
      const shape = name(ids.shape);
      const color = name(ids.color);
      return { ...(shape ? { shape } : {}), ...(color ? { color } : {}) };
    },

    /** Records a new guild preset as `building`; throws on a bad name, a duplicate, or the guild's cap. */
    async add(guildId: string, input: { name: string; kind: PresetKind; addedBy: string }): Promise<PresetEntry> {
      const name = checkName(input.name);
      const existing = await guildPresets(guildId);
      if (existing.some((p) => matchesTypedName(p, name))) throw new HairError('PRESET_EXISTS', { name });
      if (existing.length >= config.GUILD_PRESET_LIMIT) throw new HairError('PRESET_LIMIT_REACHED', { limit: config.GUILD_PRESET_LIMIT });
      let slug = slugFor(name);
      if (existing.some((p) => parsePresetId(p.id)?.slug === slug)) slug = `${slug.slice(0, 33).replace(/-+$/, '')}-${sha256(name).slice(0, 6)}`;
      const record: GuildPreset = { name, kind: input.kind, status: 'building', addedBy: input.addedBy, addedAt: Date.now() };
      const created = await redis.hsetnx(keys.presets(guildId), slug, JSON.stringify(record));
      if (!created) throw new HairError('PRESET_EXISTS', { name });
      return { id: guildPresetId(guildId, slug), name, kind: input.kind, source: 'guild', status: 'building', addedBy: input.addedBy, addedAt: record.addedAt };
    },

    async remove(guildId: string, name: string): Promise<PresetEntry> {
      const found = await findByName(guildId, name);
      if (!found) throw new HairError('PRESET_NOT_FOUND', { name });
      const { slug } = guildSlot(found.id)!;
      await redis.multi().hdel(keys.presets(guildId), slug).hdel(keys.presetThumbs(guildId), slug).del(deps.shared.presetSource(found.id)).exec();
      // The workers' caches of it, whatever models hash names them (contract: presetCache('*:<presetId>')).
      const pattern = deps.shared.presetCache(`*:${found.id}`).replace(/[?[\]]/g, '\\$&');
      for await (const caches of scanKeys(redis, pattern)) await redis.del(...caches);
      return found;
    },

    /** Renames the display name; the id (and the worker's cache) stays. */
    async rename(guildId: string, name: string, newName: string): Promise<PresetEntry> {
      const found = await findByName(guildId, name);
      if (!found) throw new HairError('PRESET_NOT_FOUND', { name });
      const next = checkName(newName);
      const clash = await findByName(guildId, next);
      if (clash && clash.id !== found.id) throw new HairError('PRESET_EXISTS', { name: next });
      const { slug } = guildSlot(found.id)!;
      const record = (await readGuild(guildId, slug))!;
      await redis.hset(keys.presets(guildId), slug, JSON.stringify({ ...record, name: next }));
      return { ...found, name: next };
    },

    /** The worker finished a build: mark it usable and keep its thumbnail for galleries. */
    async markBuilt(presetId: string, thumbnailBase64: string | undefined): Promise<void> {
      const at = guildSlot(presetId);
      const record = at && (await readGuild(at.guildId, at.slug));
      if (!at || !record) return;
      const { guildId, slug } = at;
      const multi = redis.multi().hset(keys.presets(guildId), slug, JSON.stringify({ ...record, status: 'ready' }));
      if (thumbnailBase64) multi.hset(keys.presetThumbs(guildId), slug, thumbnailBase64);
      await multi.exec();
    },

    async markFailed(presetId: string, code: string): Promise<void> {
      const at = guildSlot(presetId);
      const record = at && (await readGuild(at.guildId, at.slug));
      if (at && record) await redis.hset(keys.presets(at.guildId), at.slug, JSON.stringify({ ...record, status: 'failed', failure: code }));
    },

    async thumbnail(presetId: string): Promise<Buffer | undefined> {
      const at = guildSlot(presetId);
      if (!at) return undefined;
      const b64 = await redis.hget(keys.presetThumbs(at.guildId), at.slug);
      return b64 ? Buffer.from(b64, 'base64') : undefined;
    },
  };
}
export type PresetCatalog = ReturnType<typeof createPresetCatalog>;
