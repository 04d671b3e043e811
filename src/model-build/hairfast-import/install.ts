import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { HairError } from '../../shared/errors.js';
import { sha256File } from '../../shared/sha256.js';
import { graphContract, graphSpec } from '../../pipeline/hairfast/contract.js';
import { HAIRFAST_DIR, graphOfKey, hairfastManifestPath } from '../../pipeline/hairfast/graphs.js';
import { MANIFEST_FILE, modelFiles, readManifest, toTensorSpec, type Manifest } from '../../pipeline/runtime/manifest.js';
import { createSessionManager } from '../../pipeline/runtime/ort.js';

/**
 * Staging and atomic installation of an import into `<modelsDir>/hairfast/`.
 *
 * The exporter writes into `<modelsDir>/.hairfast-import-<key>/hairfast/` (same filesystem, so renames are atomic),
 * where the key hashes the inputs (the checked files' paths, sizes and mtimes, --src, --fp16, --only): a killed or
 * failed import leaves it, and the next import of the same inputs resumes from the graphs already exported there
 * (export.py --resume); other keys' staging directories are removed then.
 * Installing is two renames: the current `hairfast/` to `.hairfast-previous-<pid>/`, the staged one into place;
 * the previous one is deleted only after that. A failure or an interruption before the renames leaves `hairfast/`
 * untouched; one between them is undone by `recoverInterruptedInstall` at the next import (and the worker keeps
 * working meanwhile on files it already has open).
 */
const STAGING_PREFIX = '.hairfast-import-';
const PREVIOUS_PREFIX = '.hairfast-previous-';

export interface Staging {
  /** `<modelsDir>/.hairfast-import-<pid>`: a models directory of its own (its `hairfast/` is what gets installed). */
  root: string;
  /** `<root>/hairfast`: the exporter's --out. */
  hairfast: string;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Puts back a `hairfast/` left half-installed by a killed import, and removes staging directories of other inputs. */
export function recoverInterruptedInstall(modelsDir: string, keepKey?: string): string[] {
  const notes: string[] = [];
  if (!existsSync(modelsDir)) return notes;
  const target = join(modelsDir, HAIRFAST_DIR);
  for (const name of readdirSync(modelsDir)) {
    const path = join(modelsDir, name);
    if (name.startsWith(STAGING_PREFIX)) {
      const owner = Number(existsSync(join(path, OWNER)) ? readFileSync(join(path, OWNER), 'utf8') : 0);
      if (owner && owner !== process.pid && alive(owner)) {
        throw new HairError('IMPORT_INSTALL_FAILED', { file: path }, { detail: `another import (pid ${owner}) is running in ${modelsDir}\n  fix: wait for it, or stop it` });
      }
      if (name !== `${STAGING_PREFIX}${keepKey}`) {
        rmSync(path, { recursive: true, force: true });
        notes.push(`removed ${path} (staging of an earlier import of other files)`);
      } else {
        notes.push(`resuming from ${path} (graphs an earlier run of this import exported)`);
      }
      continue;
    }
    const pid = Number(name.slice(name.lastIndexOf('-') + 1));
    if (!name.startsWith(PREVIOUS_PREFIX) || alive(pid)) continue;
    if (name.startsWith(PREVIOUS_PREFIX) && !existsSync(target)) {
      renameSync(path, target);
      notes.push(`restored ${target} from an interrupted import (${name})`);
    } else {
      rmSync(path, { recursive: true, force: true });
      notes.push(`removed ${path} (left by an interrupted import)`);
    }
  }
  return notes;
}

const OWNER = '.owner-pid';

/** The staging directory for these inputs (kept from an earlier run of the same import, else new). */
export function createStaging(modelsDir: string, key: string): Staging {
  const root = join(modelsDir, `${STAGING_PREFIX}${key}`);
  mkdirSync(join(root, HAIRFAST_DIR), { recursive: true });
  writeFileSync(join(root, OWNER), String(process.pid));
  return { root, hairfast: join(root, HAIRFAST_DIR) };
}

/** The staging key: a hash of everything the export reads and how (module doc). */
export function stagingKey(parts: readonly (string | number | boolean)[], files: readonly string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(`${String(p)}\n`);
  for (const f of files) {
    const st = existsSync(f) ? statSync(f) : undefined;
    h.update(`${f}:${st?.size ?? -1}:${st?.mtimeMs ?? 0}\n`);
  }
  return h.digest('hex').slice(0, 16);
}

export function removeStaging(staging: Staging): void {
  rmSync(staging.root, { recursive: true, force: true });
}

/**
 * A partial import (`--only`): the installed graphs that were not exported this time join the staged ones (hard
 * links, else copies), so the installed set stays complete.
 */
export function carryOverInstalled(modelsDir: string, staging: Staging, exported: readonly string[]): string[] {
  const installedPath = hairfastManifestPath(modelsDir);
  if (!existsSync(installedPath)) return [];
  const installed = readManifest(installedPath);
  const stagedPath = join(staging.hairfast, MANIFEST_FILE);
  const staged = readManifest(stagedPath);
  const carried: string[] = [];
  const composites = graphContract().composites;
  for (const [name, entry] of Object.entries(installed.models)) {
    const base = graphOfKey(name);
    if (exported.includes(base)) continue;
    // A composite (swap) holds its parts' weights: once one of them is exported again, the old one is stale.
    if (composites[base]?.composes.some((part) => exported.includes(part))) continue;
    for (const { file } of modelFiles(entry)) {
      const from = join(modelsDir, file);
      const to = join(staging.root, file);
      mkdirSync(join(to, '..'), { recursive: true });
      rmSync(to, { force: true });
      try {
        linkSync(from, to);
      } catch {
        copyFileSync(from, to);
      }
    }
    staged.models[name] = entry;
    carried.push(name);
  }
  writeFileSync(stagedPath, `${JSON.stringify(staged, null, 2)}\n`);
  return carried;
}

export interface StagedCheck {
  manifest: Manifest;
  graphs: number;
  bytes: number;
}

/**
 * Every contract graph is staged, each file has the manifest's size and sha256, and onnxruntime loads it with the
 * contract's inputs and outputs (names, dtypes, shapes); graphs are loaded one at a time and released.
 */
export async function checkStaged(staging: Staging, onGraph?: (name: string) => void): Promise<StagedCheck> {
  const manifestPath = join(staging.hairfast, MANIFEST_FILE);
  const manifest = readManifest(manifestPath);
  const contract = graphContract();
  const missing = Object.keys(contract.graphs).filter((g) => !manifest.models[g]);
  if (missing.length > 0) {
    throw new HairError('CONTRACT_MISMATCH', { file: manifestPath }, { detail: `the export has no ${missing.join(', ')}\n  fix: import every graph (drop --only) or keep an installation that has them` });
  }
  const manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 1 });
  let bytes = 0;
  try {
    for (const [name, entry] of Object.entries(manifest.models)) {
      const file = join(staging.root, entry.file);
      for (const want of modelFiles(entry)) {
        const path = join(staging.root, want.file);
        const size = existsSync(path) ? statSync(path).size : -1;
        if (size !== want.bytes || (await sha256File(path)) !== want.sha256) {
          throw new HairError('CONTRACT_MISMATCH', { file: path }, { detail: `${path} is not the file the manifest lists (${want.bytes} bytes, sha256 ${want.sha256.slice(0, 12)}…)\n  fix: run the import again` });
        }
        bytes += size;
      }
      const spec = graphSpec(contract, graphOfKey(name));
      if (!spec) throw new HairError('CONTRACT_MISMATCH', { file }, { detail: `${name} is not a contract graph\n  fix: run the import again` });
      onGraph?.(name);
      const io = { inputs: spec.inputs.map(toTensorSpec), outputs: spec.outputs.map(toTensorSpec) };
      try {
        await manager.release(await manager.load(`import/${name}`, file, io, { skipWarmup: true, intraOpThreads: 1 }));
      } catch (error) {
        throw new HairError('CONTRACT_MISMATCH', { file }, { detail: `${basename(file)}: ${error instanceof Error ? error.message : String(error)}\n  fix: the exporter and graphs.contract.json disagree; export with this checkout's tools/hairfast-export`, cause: error });
      }
    }
  } finally {
    await manager.dispose();
  }
  return { manifest, graphs: Object.keys(manifest.models).length, bytes };
}

/** The two renames (module doc). Returns where the previous installation was until it was deleted. */
export function installStaged(modelsDir: string, staging: Staging): void {
  const target = join(modelsDir, HAIRFAST_DIR);
  const previous = join(modelsDir, `${PREVIOUS_PREFIX}${process.pid}`);
  const hadPrevious = existsSync(target);
  try {
    if (hadPrevious) renameSync(target, previous);
    renameSync(staging.hairfast, target);
  } catch (error) {
    if (hadPrevious && !existsSync(target) && existsSync(previous)) renameSync(previous, target);
    throw new HairError('IMPORT_INSTALL_FAILED', { file: target }, { detail: `renaming ${staging.hairfast} to ${target} failed: ${error instanceof Error ? error.message : String(error)}\n  fix: check that ${modelsDir} is writable and on one filesystem`, cause: error });
  }
  rmSync(previous, { recursive: true, force: true });
  removeStaging(staging);
}
