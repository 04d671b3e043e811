import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { CLIP_VIT_B32, describeOfficialFile, exportFiles, hubSizeRange, type OfficialFile } from '../official-files.js';
import { sha256File } from '../../shared/sha256.js';

/**
 * The check `hairstyler models import` runs before exporting: every file the export of the wanted graphs reads
 * (official-files.ts, role `export`) is there at its expected size, all problems listed at once with where each
 * file comes from. A tree built by tools/hairfast-export/official_tree.py (random weights in the official formats)
 * carries `.hairstyler-tree.json` with the exact size of each file it wrote: those are checked too, and CLIP is
 * then checked by that size instead of OpenAI's sha256.
 */
export const TREE_MARKER = '.hairstyler-tree.json';
/** official_tree.py writes CLIP next to pretrained_models/ and records it under this key. */
const MARKER_CLIP_KEY = '../clip/ViT-B-32.pt';

const markerSchema = z.object({
  kind: z.literal('random'),
  seed: z.number().int(),
  files: z.record(z.string(), z.number().int().nonnegative()),
});
export type TreeMarker = z.infer<typeof markerSchema>;

export interface TreeProblem {
  /** The path checked. */
  path: string;
  problem: 'missing' | 'size' | 'sha256';
  /** What was expected (a size range, an exact size, a hash prefix). */
  expected: string;
  actual?: number | string;
  /** Where the file comes from (describeOfficialFile). */
  from: string;
}

export interface TreeCheck {
  /** `random` for a tree of official_tree.py, else `official`. */
  kind: 'official' | 'random';
  marker?: TreeMarker;
  clipFile: string;
  /** The files checked, with their sizes (0 when missing). */
  files: Array<{ path: string; bytes: number; file: OfficialFile }>;
  problems: TreeProblem[];
}

export interface TreeCheckOptions {
  checkpoints: string;
  /** --clip; default: where clip.load("ViT-B/32") keeps it. */
  clip?: string;
  /** Graphs to be exported (default: every graph some export file feeds). */
  graphs?: readonly string[];
}

export function defaultClipFile(): string {
  return CLIP_VIT_B32.cachePath.replace(/^~(?=\/)/, homedir());
}

/** The export files the given graphs read (all of them when no graphs are given). */
export function filesForGraphs(graphs?: readonly string[]): OfficialFile[] {
  return exportFiles().filter((f) => !graphs || f.graphs.some((g) => graphs.includes(g)));
}

export function readTreeMarker(checkpoints: string): TreeMarker | undefined {
  const path = join(checkpoints, TREE_MARKER);
  return existsSync(path) ? markerSchema.parse(JSON.parse(readFileSync(path, 'utf8'))) : undefined;
}

export async function checkTree(options: TreeCheckOptions): Promise<TreeCheck> {
  const marker = readTreeMarker(options.checkpoints);
  const clipFile = options.clip ?? defaultClipFile();
  const files: TreeCheck['files'] = [];
  const problems: TreeProblem[] = [];
  for (const file of filesForGraphs(options.graphs)) {
    const path = file.location === 'clip' ? clipFile : join(options.checkpoints, file.path);
    const from = describeOfficialFile(file);
    const bytes = existsSync(path) ? statSync(path).size : -1;
    files.push({ path, bytes: Math.max(bytes, 0), file });
    if (bytes < 0) {
      problems.push({ path, problem: 'missing', expected: file.hubSize ? `≈${file.hubSize}` : 'the file', from });
      continue;
    }
    const exact = marker?.files[file.location === 'clip' ? MARKER_CLIP_KEY : file.path];
    if (exact !== undefined && bytes !== exact) {
      problems.push({ path, problem: 'size', expected: `${exact} bytes (as ${TREE_MARKER} recorded it)`, actual: bytes, from });
      continue;
    }
    if (file.hubSize) {
      const range = hubSizeRange(file.hubSize);
      if (bytes < range.min || bytes > range.max) {
        problems.push({ path, problem: 'size', expected: `${range.min}–${range.max} bytes (${file.hubSize})`, actual: bytes, from });
      }
    } else if (file.sha256 && exact === undefined) {
      const digest = await sha256File(path);
      if (digest !== file.sha256) problems.push({ path, problem: 'sha256', expected: `sha256 ${file.sha256}`, actual: digest, from });
    }
  }
  return { kind: marker ? 'random' : 'official', ...(marker ? { marker } : {}), clipFile, files, problems };
}

/** One line per problem for the error detail and the CLI. */
export function formatTreeProblem(p: TreeProblem): string {
  const actual = p.problem === 'missing' ? 'missing' : p.problem === 'size' ? `${p.actual} bytes` : `sha256 ${String(p.actual).slice(0, 16)}…`;
  return `${p.path}: ${actual}, expected ${p.expected} — from ${p.from}`;
}
