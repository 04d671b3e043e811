import { sha256FileSync } from '../../shared/sha256.js';
import { statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { HairError } from '../../shared/errors.js';
import { MANIFEST_FILE, modelPath, readManifest, type Manifest, type ModelEntry } from './manifest.js';

/** The command that (re)builds every model file; named in MODEL_MISSING / MODEL_INVALID errors. */
export const PREPARE_COMMAND = 'hairstyler models prepare';

export interface ModelProblem {
  model: string;
  file: string;
  code: 'MODEL_MISSING' | 'MODEL_INVALID';
  detail: string;
}

export interface ModelRegistry {
  readonly modelsDir: string;
  readonly manifest: Manifest;
  /** The manifest entry, or MODEL_MISSING naming the known models. */
  entry(name: string): ModelEntry;
  /** The absolute-or-relative path of a model whose size and sha256 match the manifest; throws otherwise. */
  resolve(name: string): string;
  /** What is wrong with one model's file, if anything (always re-reads the file). */
  check(name: string): ModelProblem | undefined;
  /** Every model's problem, in manifest order. */
  verifyAll(): ModelProblem[];
}


/** Size and checksum of a file against its manifest entry, and of its external weights file where it has one. */
export function checkModelFile(name: string, entry: ModelEntry, file: string): ModelProblem | undefined {
  const problem = checkFile(name, file, entry);
  if (problem || !entry.externalData) return problem;
  // onnxruntime reads the weights from the model's own directory, under the name the model was saved with
  return checkFile(name, join(dirname(file), basename(entry.externalData.file)), entry.externalData);
}

function checkFile(name: string, file: string, want: { bytes: number; sha256: string }): ModelProblem | undefined {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return { model: name, file, code: 'MODEL_MISSING', detail: `${file} (model ${name}) is missing; run \`${PREPARE_COMMAND}\`` };
  }
  if (size !== want.bytes) {
    return { model: name, file, code: 'MODEL_INVALID', detail: `${file} (model ${name}) has ${size} bytes, the manifest expects ${want.bytes}; run \`${PREPARE_COMMAND} --force\`` };
  }
  const actual = sha256FileSync(file);
  if (actual !== want.sha256) {
    return { model: name, file, code: 'MODEL_INVALID', detail: `${file} (model ${name}) has sha256 ${actual}, the manifest expects ${want.sha256}; run \`${PREPARE_COMMAND} --force\`` };
  }
  return undefined;
}

function toError(problem: ModelProblem): HairError {
  return new HairError(problem.code, { model: problem.model, file: problem.file }, { detail: problem.detail });
}

/**
 * Resolves models by name from `<modelsDir>/manifest.json`. A file is hashed the first time it is resolved; later
 * calls reuse that result while the file's size and mtime are unchanged.
 */
export function createModelRegistry(config: { modelsDir: string }, deps: { manifest?: Manifest } = {}): ModelRegistry {
  const { modelsDir } = config;
  const manifest = deps.manifest ?? readManifest(join(modelsDir, MANIFEST_FILE));
  const verified = new Map<string, string>();

  const entry = (name: string): ModelEntry => {
    const found = Object.hasOwn(manifest.models, name) ? manifest.models[name] : undefined;
    if (!found) {
      throw new HairError('MODEL_MISSING', { model: name }, { detail: `model ${name} is not in ${join(modelsDir, MANIFEST_FILE)} (known: ${Object.keys(manifest.models).join(', ')})` });
    }
    return found;
  };
  const stamp = (file: string): string | undefined => {
    try {
      const s = statSync(file);
      return `${s.size}:${s.mtimeMs}`;
    } catch {
      return undefined;
    }
  };
  const check = (name: string): ModelProblem | undefined => checkModelFile(name, entry(name), modelPath(modelsDir, entry(name)));

  return {
    modelsDir,
    manifest,
    entry,
    check,
    resolve(name) {
      const file = modelPath(modelsDir, entry(name));
      const now = stamp(file);
      if (now !== undefined && verified.get(file) === now) return file;
      const problem = check(name);
      if (problem) throw toError(problem);
      verified.set(file, now ?? '');
      return file;
    },
    verifyAll() {
      return Object.keys(manifest.models).flatMap((name) => check(name) ?? []);
    },
  };
}
