import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PresetCacheStore } from '../engine.js';

/**
 * Preset caches as files in one directory (PRESET_CACHE_DIR), for built-in presets. Keys become file names
 * (`<hash16>.<encoded preset id>.hfpc`); a write goes through a temporary file and a rename, so a reader never
 * sees half an entry, and removes the same preset's entries made by other models.
 */
function fileName(key: string): string {
  return `${encodeURIComponent(key).replace(/%3A/g, '.')}.hfpc`;
}

export function createFilePresetCacheStore(dir: string): PresetCacheStore {
  return {
    async get(key) {
      try {
        return new Uint8Array(await readFile(join(dir, fileName(key))));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },
    async set(key, value) {
      await mkdir(dir, { recursive: true });
      const name = fileName(key);
      const tmp = join(dir, `.${name}.${process.pid}.tmp`);
      await writeFile(tmp, value);
      await rename(tmp, join(dir, name));
      // hairfast.<hash16>.<preset>.hfpc: drop this preset's entries for other model hashes.
      const [prefix, , ...rest] = name.split('.');
      const sameTail = rest.join('.');
      for (const other of await readdir(dir)) {
        const parts = other.split('.');
        if (other !== name && parts[0] === prefix && parts.slice(2).join('.') === sameTail) await rm(join(dir, other), { force: true });
      }
    },
    async delete(key) {
      await rm(join(dir, fileName(key)), { force: true });
    },
  };
}
