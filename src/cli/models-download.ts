import type { Command } from 'commander';
import { Agent } from 'undici';
import { HairError } from '../shared/errors.js';
import {
  DOWNLOAD_PARTS, downloadOfficial, type DownloadPart, type DownloadProgress, type OfficialDownload,
} from '../model-build/official-download/download-official.js';
import { DEFAULT_BASES, HAIRFAST_HUB, HAIRFAST_SOURCE } from '../model-build/official-files.js';

export interface DownloadCliOptions {
  dest: string;
  only?: string;
  hubUrl?: string;
  clipUrl?: string;
  githubUrl?: string;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const clock = (seconds: number) => {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

/** One line per update (at most one a second per file, from the fetcher) and one when a file is done. */
export function progressLine(p: DownloadProgress): string {
  if (p.done) return `${p.file}: ${p.resumedFrom === p.received ? 'already complete' : 'done'} (${mb(p.received)})`;
  const percent = p.total ? `${String(Math.floor((100 * p.received) / p.total)).padStart(3)}%` : '   ?';
  const of = p.total ? ` of ${mb(p.total)}` : '';
  const eta = p.etaSeconds !== undefined ? `  ETA ${clock(p.etaSeconds)}` : '';
  return `${p.file}: ${percent}  ${mb(p.received)}${of}  ${mb(p.bytesPerSecond)}/s${eta}`;
}

function parseParts(only: string | undefined): DownloadPart[] {
  if (!only) return [...DOWNLOAD_PARTS];
  const parts = only.split(',').map((p) => p.trim());
  const bad = parts.filter((p) => !(DOWNLOAD_PARTS as readonly string[]).includes(p));
  if (bad.length > 0) {
    throw new HairError('CONFIG_INVALID', { name: '--only' }, { detail: `Expected ${DOWNLOAD_PARTS.join(', ')} (comma-separated) for --only but received ${bad.join(', ')}` });
  }
  return parts as DownloadPart[];
}

/** `models download` as a function: what `models import --download` reuses before it imports the result. */
export async function runModelsDownload(
  options: DownloadCliOptions,
  write: (line: string) => void = (line) => void process.stderr.write(`${line}\n`),
): Promise<OfficialDownload> {
  const dispatcher = new Agent({ connect: { timeout: 30_000 }, headersTimeout: 60_000, bodyTimeout: 120_000 });
  try {
    const result = await downloadOfficial({
      dest: options.dest,
      parts: parseParts(options.only),
      bases: {
        ...(options.hubUrl ? { hub: options.hubUrl.replace(/\/$/, '') } : {}),
        ...(options.clipUrl ? { clip: options.clipUrl.replace(/\/$/, '') } : {}),
        ...(options.githubUrl ? { github: options.githubUrl.replace(/\/$/, '') } : {}),
      },
      dispatcher,
      onProgress: (p) => write(progressLine(p)),
    });
    const unverified = result.files.filter((f) => !f.verifiedBy && !f.path.endsWith('.tar.gz')).map((f) => f.path);
    if (unverified.length > 0) write(`note: the server sent no sha256 for ${unverified.join(', ')}: checked by size only`);
    return result;
  } finally {
    await dispatcher.close();
  }
}

export function registerDownload(models: Command): void {
  models
    .command('download')
    .description(`fetch the official HairFastGAN checkpoints (Hub ${HAIRFAST_HUB.repo}@${HAIRFAST_HUB.revision.slice(0, 7)}), the CLIP ViT-B/32 file and the official source (${HAIRFAST_SOURCE.commit.slice(0, 7)}); resumable, sha256-checked`)
    .requiredOption('--dest <dir>', 'where to put pretrained_models/, clip/ViT-B-32.pt and HairFastGAN-<commit>/')
    .option('--only <parts>', `comma-separated subset of ${DOWNLOAD_PARTS.join(', ')}`)
    .option('--hub-url <url>', `base URL of the model hub (serving <repo>/resolve/<rev>/…)`, DEFAULT_BASES.hub)
    .option('--clip-url <url>', 'base URL of the CLIP download host', DEFAULT_BASES.clip)
    .option('--github-url <url>', 'base URL of GitHub (serving <repo>/archive/<commit>.tar.gz)', DEFAULT_BASES.github)
    .action(async (options: DownloadCliOptions) => {
      const started = performance.now();
      const result = await runModelsDownload(options);
      const bytes = result.files.reduce((sum, f) => sum + f.bytes, 0);
      process.stdout.write(`models download: ${result.files.length} files, ${mb(bytes)} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
      process.stdout.write(`  hairstyler models import --src ${result.src} --checkpoints ${result.checkpoints} --clip ${result.clip}\n`);
    });
}
