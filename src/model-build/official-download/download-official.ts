import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Dispatcher } from 'undici';
import { HairError } from '../../shared/errors.js';
import {
  DEFAULT_BASES, HAIRFAST_SOURCE, hubSizeRange, OFFICIAL_FILES, officialFileUrl, sourceTarballUrl,
  type DownloadBases, type OfficialFile,
} from '../official-files.js';
import { fetchResumable, type DownloadProgress, type FetchResult } from './fetch-resumable.js';
import { gitTreeHash } from './git-tree-hash.js';

export type { DownloadProgress } from './fetch-resumable.js';

/** What `downloadOfficial` fetches: the checkpoints (`pretrained_models/`), the CLIP file, the official source. */
export const DOWNLOAD_PARTS = ['checkpoints', 'clip', 'source'] as const;
export type DownloadPart = (typeof DOWNLOAD_PARTS)[number];

export interface DownloadOfficialOptions {
  /** The folder everything goes to (see `OfficialDownload` for the layout). */
  dest: string;
  /** Base URLs of the Hub, the CLIP host and GitHub (a test or a mirror serves the same paths). */
  bases?: Partial<DownloadBases>;
  parts?: readonly DownloadPart[];
  /** The files to fetch; default: every Hub file the official export and constructor read, and CLIP. */
  files?: readonly OfficialFile[];
  /** The commit whose source to fetch and the git tree it must unpack to; default `HAIRFAST_SOURCE`. */
  source?: { commit: string; tree: string };
  dispatcher?: Dispatcher;
  attempts?: number;
  retryDelayMs?: number;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignal;
}

/** Where things landed: pass them to `models import --src --checkpoints --clip`. */
export interface OfficialDownload {
  /** `<dest>/pretrained_models` */
  checkpoints: string;
  /** `<dest>/clip/ViT-B-32.pt` (the clip package's own layout under its download root) */
  clip: string;
  /** `<dest>/HairFastGAN-<commit>` */
  src: string;
  files: FetchResult[];
}

/** The Hub files a checkpoint tree needs: those the export reads and those the official constructor opens. */
export function defaultDownloadFiles(): OfficialFile[] {
  return OFFICIAL_FILES.filter((f) => (f.location === 'hub' && f.role !== 'official-align') || f.location === 'clip');
}

/**
 * Fetches the official HairFastGAN checkpoints, the CLIP ViT-B/32 file and the official source at the pinned commit
 * into `dest`, each resumable and checked (sha256 from the table or the Hub's LFS oid, sizes, the source's git
 * tree). Already complete files are checked and kept, so running it again after an interruption continues.
 */
export async function downloadOfficial(options: DownloadOfficialOptions): Promise<OfficialDownload> {
  const bases = { ...DEFAULT_BASES, ...options.bases };
  const parts = new Set(options.parts ?? DOWNLOAD_PARTS);
  const source = options.source ?? HAIRFAST_SOURCE;
  const layout = {
    checkpoints: join(options.dest, 'pretrained_models'),
    clip: join(options.dest, 'clip', 'ViT-B-32.pt'),
    src: join(options.dest, `HairFastGAN-${source.commit}`),
  };
  const common = {
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    ...(options.attempts !== undefined ? { attempts: options.attempts } : {}),
    ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
    onProgress: options.onProgress,
    signal: options.signal,
  };
  const results: FetchResult[] = [];
  for (const file of options.files ?? defaultDownloadFiles()) {
    if (file.location === 'hub' ? !parts.has('checkpoints') : !parts.has('clip')) continue;
    const url = officialFileUrl(file, bases);
    if (!url) continue;
    const target = file.location === 'hub' ? join(layout.checkpoints, file.path) : layout.clip;
    const label = file.location === 'hub' ? `pretrained_models/${file.path}` : `clip/${file.path}`;
    results.push(await fetchResumable(url, target, {
      ...common, label, sha256: file.sha256, sizeRange: file.hubSize ? hubSizeRange(file.hubSize) : undefined,
    }));
  }
  if (parts.has('source')) results.push(await fetchSource(options.dest, layout.src, source, bases, common));
  return { ...layout, files: results };
}

async function fetchSource(
  dest: string, target: string, source: { commit: string; tree: string }, bases: DownloadBases,
  common: Omit<Parameters<typeof fetchResumable>[2], 'label'>,
): Promise<FetchResult> {
  const url = sourceTarballUrl(bases, source.commit);
  const label = `HairFastGAN-${source.commit}.tar.gz`;
  const tarball = join(dest, label);
  const fetched = await fetchResumable(url, tarball, { ...common, label });
  if (existsSync(target) && gitTreeHash(target) === source.tree) return fetched;
  const staging = join(dest, `.unpack-${source.commit}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    await promisify(execFile)('tar', ['-xzf', tarball, '-C', staging]);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    rmSync(tarball, { force: true });
    throw new HairError('MODEL_DOWNLOAD_MISMATCH', { file: label, url, check: 'tar -xzf', actual: 'not a gzip tarball', expected: 'GitHub\'s tarball of the commit' }, { cause: error });
  }
  // GitHub's tarball holds one folder, `<repo>-<commit>/`
  const top = readdirSync(staging);
  const root = top.length === 1 ? join(staging, top[0]!) : staging;
  const tree = gitTreeHash(root);
  if (tree !== source.tree) {
    rmSync(staging, { recursive: true, force: true });
    rmSync(tarball, { force: true });
    throw new HairError('MODEL_DOWNLOAD_MISMATCH', { file: label, url, check: 'git tree hash', actual: tree, expected: source.tree });
  }
  rmSync(target, { recursive: true, force: true });
  renameSync(root, target);
  rmSync(staging, { recursive: true, force: true });
  return fetched;
}
