import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../shared/config.js';
import { HairError } from '../shared/errors.js';
import { graphContract } from '../pipeline/hairfast/contract.js';
import { checkTree, defaultClipFile, formatTreeProblem } from '../model-build/hairfast-import/tree-check.js';
import { runExporter, type ExportEvent } from '../model-build/hairfast-import/run-exporter.js';
import {
  carryOverInstalled, checkStaged, createStaging, installStaged, recoverInterruptedInstall, stagingKey,
} from '../model-build/hairfast-import/install.js';
import { runPresetsBuild } from './presets.js';
import { runModelsDownload } from './models-download.js';

/**
 * `hairstyler models import --src DIR --checkpoints DIR [--clip FILE] [--fp16]`: official HairFastGAN checkpoints
 * → the worker's graphs. Checks the tree (every missing or wrong-sized file at once), exports with
 * tools/hairfast-export (progress per graph), checks every graph against the contract, installs atomically into
 * `<MODELS_DIR>/hairfast/`, rebuilds the built-in preset caches and prints a summary. Failures are error[CODE]
 * with the fix (exit 2); the installed models stay as they were.
 */
export interface ImportOptions {
  src?: string;
  checkpoints?: string;
  clip?: string;
  /** Fetch the checkpoints, CLIP and the source into this folder first (`models download`), then import them. */
  download?: string;
  hubUrl?: string;
  clipUrl?: string;
  githubUrl?: string;
  fp16?: boolean;
  only?: string;
  python: string;
  modelsDir?: string;
  presets: boolean;
  /** The contract's composites (`swap`) after the split graphs; false with `--no-composites`, none with `--only`. */
  composites?: boolean;
}

type Out = (line: string) => void;

const mb = (bytes: number) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`);
const duration = (s: number) => (s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(1)} s`);

/** Per-graph progress lines with an ETA from the mean time per finished graph. */
export function progressLine(event: ExportEvent): string | undefined {
  const pos = (i: number, n: number) => `[${String(i + 1).padStart(String(n).length)}/${n}]`;
  if (event.event === 'graph') return `  ${pos(event.index, event.total)} ${event.graph} …`;
  if (event.event === 'graph_done') {
    if (event.resumed) return `  ${pos(event.index, event.total)} ${event.graph.padEnd(14)} kept (exported by an earlier run of this import)`;
    const left = event.total - event.index - 1;
    const eta = left > 0 ? `, ETA ≈ ${duration((event.elapsed_s / (event.index + 1)) * left)}` : '';
    return `  ${pos(event.index, event.total)} ${event.graph.padEnd(14)} done in ${duration(event.seconds)} (${mb(event.bytes)}; elapsed ${duration(event.elapsed_s)}${eta})`;
  }
  return undefined;
}

export async function runImport(given: ImportOptions, out: Out, config: Config = loadConfig()): Promise<void> {
  const started = performance.now();
  const options = given.download ? await withDownload(given, out) : given;
  if (!options.src || !options.checkpoints) {
    throw new HairError('CONFIG_INVALID', { name: '--src' }, { detail: 'Expected --src and --checkpoints (or --download DIR to fetch both) for models import but received neither' });
  }
  const modelsDir = resolve(options.modelsDir ?? config.MODELS_DIR);
  const contract = graphContract();
  const only = options.only?.split(',').map((g) => g.trim()).filter(Boolean);
  const unknown = (only ?? []).filter((g) => !contract.graphs[g]);
  if (unknown.length > 0) {
    throw new HairError('CONFIG_INVALID', {}, { detail: `Expected graph names from ${Object.keys(contract.graphs).join(', ')} for --only but received ${unknown.join(', ')}` });
  }
  if (!existsSync(resolve(options.src))) {
    throw new HairError('SRC_INVALID', { file: options.src }, { detail: `${options.src} does not exist\n  fix: pass --src a checkout of AIRI-Institute/HairFastGAN` });
  }
  // 1. the tree, all problems at once
  const clip = resolve(options.clip ?? defaultClipFile());
  const tree = await checkTree({ checkpoints: resolve(options.checkpoints), clip, ...(only ? { graphs: only } : {}) });
  if (tree.problems.length > 0) {
    throw new HairError('IMPORT_TREE_INCOMPLETE', { count: tree.problems.length, file: options.checkpoints }, {
      detail: `${tree.problems.map(formatTreeProblem).join('\n  ')}\n  fix: put the files listed above in place (paths, sizes and sources as shown), or pass --clip FILE for CLIP`,
    });
  }
  const treeBytes = tree.files.reduce((sum, f) => sum + f.bytes, 0);
  out(`models import: ${tree.files.length} files checked in ${options.checkpoints} (${mb(treeBytes)}, ${tree.kind === 'random' ? `random weights in the official formats, seed ${tree.marker?.seed}` : 'official checkpoints'}); CLIP ${clip}`);

  // 2. export into staging (resumed when an earlier run of these inputs left one), 3. check, 4. install
  const composites = !only && options.composites !== false ? Object.keys(contract.composites) : [];
  const key = stagingKey([resolve(options.src), options.fp16 === true, only?.join(',') ?? '', clip], tree.files.map((f) => f.path));
  for (const note of recoverInterruptedInstall(modelsDir, key)) out(`models import: ${note}`);
  const staging = createStaging(modelsDir, key);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let unconsumed: Extract<ExportEvent, { event: 'unconsumed' }> | undefined;
  try {
    const withComposites = composites.length > 0 ? ` + ${composites.join(', ')} (the one graph per request on GPU hosts)` : '';
    out(`models import: exporting ${only ? only.length : Object.keys(contract.graphs).length} graphs${withComposites}${options.fp16 ? ' (fp32 + fp16)' : ''} with tools/hairfast-export (${options.python})`);
    await runExporter({
      python: options.python, src: resolve(options.src), checkpoints: resolve(options.checkpoints), clip,
      out: staging.hairfast, fp16: options.fp16 === true, ...(only ? { graphs: only } : {}), composites: composites.length > 0, signal: abort.signal,
      onEvent: (event) => {
        if (event.event === 'unconsumed') unconsumed = event;
        const line = progressLine(event);
        if (line) out(line);
      },
    });
    const carried = only ? carryOverInstalled(modelsDir, staging, only) : [];
    if (carried.length > 0) out(`models import: kept ${carried.length} installed graphs not exported this time (--only)`);
    out('models import: checking every graph against graphs.contract.json (onnxruntime, sha256)');
    const staged = await checkStaged(staging);
    if (abort.signal.aborted) throw new HairError('IMPORT_INTERRUPTED', {}, { detail: 'stopped before installing' });
    installStaged(modelsDir, staging);
    const seconds = (performance.now() - started) / 1000;
    const entries = Object.entries(staged.manifest.models);
    const kinds = [...new Set(entries.map(([, e]) => e.kind))].join(' + ');
    out(`models import: installed ${staged.graphs} graph files (${kinds}) into ${modelsDir}/hairfast, ${mb(staged.bytes)}, in ${duration(seconds)}`);
    for (const [name, entry] of entries) out(`  ${name.padEnd(18)} ${entry.precision} ${mb(entry.bytes + (entry.externalData?.bytes ?? 0)).padStart(9)}  ${entry.kind}`);
    const licenses = [...new Set(entries.map(([, e]) => e.source.license))];
    out(`  licenses: ${licenses.join('; ')}`);
    if (unconsumed) {
      for (const [file, groups] of Object.entries(unconsumed.groups)) {
        out(`  not consumed: ${file}: ${Object.entries(groups).map(([g, n]) => `${g} (${n})`).join(', ')}`);
      }
      if (unconsumed.unread.length > 0) out(`  not read (no graph needs them): ${unconsumed.unread.join(', ')}`);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  // 5. the built-in presets' caches are keyed by the models hash: build them for the new graphs
  if (options.presets) await runPresetsBuild({}, { ...config, MODELS_DIR: modelsDir });
  else out('models import: preset caches not rebuilt (--no-presets); run `hairstyler presets build`');
}

/** `--download DIR`: fetch into DIR (resumable, checked), then import from there; explicit paths still win. */
async function withDownload(options: ImportOptions, out: Out): Promise<ImportOptions & { src: string; checkpoints: string }> {
  out(`models import: downloading the official files into ${options.download}`);
  const fetched = await runModelsDownload({
    dest: options.download!,
    ...(options.src ? { only: options.checkpoints ? 'clip' : 'checkpoints,clip' } : options.checkpoints ? { only: 'clip,source' } : {}),
    ...(options.hubUrl ? { hubUrl: options.hubUrl } : {}),
    ...(options.clipUrl ? { clipUrl: options.clipUrl } : {}),
    ...(options.githubUrl ? { githubUrl: options.githubUrl } : {}),
  }, out);
  return { ...options, src: options.src ?? fetched.src, checkpoints: options.checkpoints ?? fetched.checkpoints, clip: options.clip ?? fetched.clip };
}

export function registerImport(models: Command): void {
  models
    .command('import')
    .description('export the official HairFastGAN checkpoints into MODELS_DIR/hairfast (checked, atomic, with the preset caches)')
    .option('--src <dir>', 'checkout of AIRI-Institute/HairFastGAN (the architectures); with --download: fetched')
    .option('--checkpoints <dir>', 'its pretrained_models directory; with --download: fetched')
    .option('--download <dir>', 'first fetch the checkpoints, CLIP and the source at the pinned commit into DIR (as `models download`: resumable, sha256-checked), then import them')
    .option('--hub-url <url>', 'with --download: base URL of the model hub')
    .option('--clip-url <url>', 'with --download: base URL of the CLIP host')
    .option('--github-url <url>', 'with --download: base URL of GitHub')
    .option('--clip <file>', "OpenAI's CLIP ViT-B-32.pt (default: ~/.cache/clip/ViT-B-32.pt, where the official code's clip.load keeps it)")
    .option('--fp16', 'also install half-precision variants (HAIR_PRECISION=fp16/auto on GPUs)')
    .option('--only <graphs>', 'comma-separated graphs: export only these and keep the installed others (trees with only some files)')
    .option('--python <path>', 'Python with torch and onnx for tools/hairfast-export', '/usr/bin/python3')
    .option('--models-dir <dir>', 'models directory (default: MODELS_DIR)')
    .option('--no-presets', 'do not rebuild the built-in preset caches')
    .option('--no-composites', 'do not export the swap graph (about 4.3 GB fp32 more; CPU workers keep the split chain anyway, HAIR_SWAP)')
    .action((options: ImportOptions) => runImport(options, (line) => void process.stdout.write(`${line}\n`)));
}
