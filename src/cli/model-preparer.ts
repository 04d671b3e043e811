import type { Command } from 'commander';
import type { Manifest } from '../pipeline/runtime/manifest.js';

/**
 * One step of `hairstyler models prepare`. Steps run in the order of `PREPARERS` in models.ts; each may add its
 * own options to the command (e.g. a HairFastGAN step adding `--hairfast <kind>`) and decide from them whether it
 * runs.
 */
export interface PrepareContext {
  modelsDir: string;
  /** The committed manifest; a step running with `updateManifest` may replace its own entries. */
  manifest: Manifest;
  /** Rebuild even when the file on disk already matches. */
  force: boolean;
  /** Maintainers only: record the rebuilt sha256/bytes in the manifest instead of failing on a mismatch. */
  updateManifest: boolean;
  /** All parsed options of `models prepare`, for steps that added their own. */
  options: Readonly<Record<string, unknown>>;
  log: (line: string) => void;
}

export interface PrepareResult {
  model: string;
  file: string;
  action: 'skipped' | 'built' | 'manifest-updated';
  sha256: string;
  ms: number;
}

export interface ModelPreparer {
  id: string;
  /** Adds this step's options to the `models prepare` command. */
  addOptions?(command: Command): void;
  /** Whether this step runs for the parsed options. */
  enabled(options: Readonly<Record<string, unknown>>): boolean;
  prepare(context: PrepareContext): Promise<PrepareResult[]>;
}
