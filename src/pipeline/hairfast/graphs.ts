import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HairfastPrecision, HairfastPrecisionChoice, HairSwapChoice } from '../../shared/config.js';
import { HairError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { licenseNoticeLines, licenseNotices, type LicenseNotice } from '../../shared/model-licenses.js';
import { MANIFEST_FILE, readManifest, toTensorSpec, type Manifest, type ModelKind } from '../runtime/manifest.js';
import type { OrtSession, OrtTensor, SessionManager, TensorData } from '../runtime/ort.js';
import { checkGroup, graphContract, graphSpec, type GraphContract } from './contract.js';
import { GRAPH_IO } from './graphs.contract.js';

/**
 * The HairFastGAN graphs installed in `<MODELS_DIR>/hairfast/` (manifest.json there says which kind), loaded once,
 * checked against graphs.contract.json, and run by name. `modelsHash` keys the preset cache: any change of any
 * graph file changes it, so cached preset tensors never outlive the graphs that made them.
 */
export type GraphName = string;
export type Feeds = Record<string, OrtTensor>;

export interface GraphsConfig {
  modelsDir: string;
  /** Run every graph once on zero inputs after loading (the first real run is then not slower). @defaultValue true */
  warm?: boolean;
  /**
   * Which exported variants to load: `fp16` (`<graph>_fp16`, half the weight memory, for GPUs), `fp32`, or `auto`:
   * fp16 when every graph has an fp16 variant and the sessions run on a GPU provider, else fp32. The CPU provider
   * has few half-precision kernels and is slower and less exact with fp16 graphs. `int8` (CPU hosts, never chosen by
   * `auto`): `<graph>_int8` where the manifest has one (tools/hairfast-export/to_int8.py makes them for the
   * convolution-heavy graphs), fp32 for the others. @defaultValue 'auto'
   */
  precision?: HairfastPrecisionChoice;
  /**
   * `on`: load the installed composites (`swap`, in the chosen precision) instead of the split graphs they replace;
   * `off`: the split chain only (parity tests compare the two); `auto`: on a GPU provider only (see
   * {@link useComposites}; the CLI and the pipeline thread pass `on` for `auto`, {@link preferSwap}).
   * @defaultValue 'auto'
   */
  composites?: HairSwapChoice;
}

/**
 * Whether the merged graph runs, for an engine on the caller's thread. On a GPU one run instead of 17 is what saves
 * time (every graph boundary is a device→host→device copy in onnxruntime-node 1.29). On the 2-core CPU the request
 * was not clearly faster with it (docs/performance.md), and the split chain stays the CPU default there. This rule was
 * first argued from a belief that `session.run` holds the event loop; it does not (onnxruntime-node 1.29 runs it off
 * the JavaScript thread: a 0.9 s embed run stalled the loop 0 ms), see docs/hairfast-graphs.md.
 */
export function useComposites(choice: HairSwapChoice, executionProvider: string): boolean {
  if (choice !== 'auto') return choice === 'on';
  return executionProvider !== 'cpu';
}

/**
 * The settings with `HAIR_SWAP=auto` taken as `on`, for the CLI and the pipeline thread (src/pipeline/engine-thread/):
 * three graph runs per cached-preset request on every provider, and batching through `swap`. `off` still keeps the
 * split chain.
 */
export function preferSwap<C extends { readonly HAIR_SWAP: HairSwapChoice }>(config: C): C {
  return config.HAIR_SWAP === 'auto' ? { ...config, HAIR_SWAP: 'on' } : config;
}

export interface GraphsDeps {
  /** The session manager (shared with the face front-end); its owner disposes it. */
  manager: SessionManager;
  logger?: Pick<Logger, 'info' | 'warn'>;
}

export interface HairfastGraphs {
  readonly kind: ModelKind;
  readonly precision: HairfastPrecision;
  readonly modelsHash: string;
  readonly executionProvider: string;
  readonly loadMs: number;
  readonly contract: GraphContract;
  /** Restricted upstream licenses among the loaded graphs (empty for contract graphs and open parts). */
  readonly licenses: readonly LicenseNotice[];
  run(graph: GraphName, feeds: Feeds): Promise<Feeds>;
  /** Whether a graph is loaded: every split graph is; a composite (`swap`) only when installed. */
  has(graph: GraphName): boolean;
  /** An ORT tensor over a typed array, no copy. */
  tensor(value: TensorData): OrtTensor;
}

export const HAIRFAST_DIR = 'hairfast';

export function hairfastManifestPath(modelsDir: string): string {
  return join(modelsDir, HAIRFAST_DIR, MANIFEST_FILE);
}

/** sha256 over the graph names and file hashes, in name order (of the whole manifest, or of the loaded entries). */
export function modelsHashOf(manifest: Pick<Manifest, 'models'>): string {
  const h = createHash('sha256');
  for (const name of Object.keys(manifest.models).sort()) h.update(`${name}:${manifest.models[name]!.sha256}\n`);
  return h.digest('hex');
}

/** The manifest key of a graph in a precision (`embed`, `embed_fp16`, `embed_int8`). */
export function variantKey(graph: GraphName, precision: HairfastPrecision): string {
  return precision === 'fp32' ? graph : `${graph}_${precision}`;
}

/** The graph a manifest key is a variant of (`embed_fp16` → `embed`). */
export function graphOfKey(key: string): GraphName {
  return key.replace(/_(fp16|int8)$/, '');
}

/**
 * The manifest key each graph loads in a precision: its variant, except under int8, where a graph without an int8
 * variant runs in fp32 (int8 pays only where convolutions dominate; the rest stays exact).
 */
function keyIn(manifest: Manifest, graph: GraphName, precision: HairfastPrecision): string {
  const key = variantKey(graph, precision);
  return precision === 'int8' && !manifest.models[key] ? graph : key;
}

/**
 * The one kind of an installation. Kinds never mix, with one exception: random graphs over contract graphs (a partial
 * `hairstyler models import --only` of a random-weight tree, as the CI round trip makes), which counts as random:
 * neither produces a real hairstyle, so nothing is passed off as more than it is. Official graphs never mix.
 */
export function installedKind(manifest: Manifest, manifestPath: string): ModelKind {
  const kinds = new Set(Object.values(manifest.models).map((m) => m.kind));
  if (kinds.size === 2 && kinds.has('random') && kinds.has('contract')) return 'random';
  if (kinds.size !== 1) {
    throw new HairError('MODEL_INVALID', { file: manifestPath }, { detail: `${manifestPath} mixes model kinds: ${[...kinds].join(', ')}` });
  }
  return [...kinds][0]!;
}

export async function loadHairfastGraphs(config: GraphsConfig, deps: GraphsDeps): Promise<HairfastGraphs> {
  const started = performance.now();
  const contract = graphContract();
  // The names the runtime was built with (graphs.contract.ts, generated from the JSON) must be the contract's.
  checkGroup(contract, GRAPH_IO);
  const manifestPath = hairfastManifestPath(config.modelsDir);
  if (!existsSync(manifestPath)) {
    throw new HairError('MODEL_MISSING', { file: manifestPath }, {
      detail: `${manifestPath} does not exist; run \`hairstyler models prepare --hairfast=contract\` (or the exporter)`,
    });
  }
  const manifest = readManifest(manifestPath);
  const kind = installedKind(manifest, manifestPath);
  const choice = config.precision ?? 'auto';
  const splitNames = Object.keys(contract.graphs);
  const withoutFp16 = splitNames.filter((name) => !manifest.models[variantKey(name, 'fp16')]);
  if (choice === 'fp16' && withoutFp16.length > 0) {
    throw new HairError('MODEL_MISSING', { file: manifestPath }, {
      detail: `HAIR_PRECISION=fp16 but ${manifestPath} has no fp16 variant of ${withoutFp16.join(', ')}; run ` +
        '`python3 tools/hairfast-export/to_fp16.py --models <dir>` (or export with --fp16), or set HAIR_PRECISION=fp32',
    });
  }
  if (choice === 'int8' && !Object.values(manifest.models).some((entry) => entry.precision === 'int8')) {
    throw new HairError('MODEL_MISSING', { file: manifestPath }, {
      detail: `HAIR_PRECISION=int8 but ${manifestPath} has no int8 variant; run ` +
        '`python3 tools/hairfast-export/to_int8.py --models <dir>`, or set HAIR_PRECISION=fp32',
    });
  }
  const sessions = new Map<string, OrtSession>();
  const loaded: Manifest['models'] = {};
  const load = async (name: GraphName, precision: HairfastPrecision): Promise<OrtSession> => {
    const spec = graphSpec(contract, name)!;
    const key = keyIn(manifest, name, precision);
    const entry = manifest.models[key];
    if (!entry) {
      throw new HairError('MODEL_MISSING', { file: spec.file }, {
        detail: `${manifestPath} has no graph "${key}"; run \`hairstyler models prepare --hairfast=contract\``,
      });
    }
    // Manifest paths are relative to MODELS_DIR (as the contract's); a bare file name is taken in hairfast/.
    const direct = join(config.modelsDir, entry.file);
    const file = existsSync(direct) ? direct : join(config.modelsDir, HAIRFAST_DIR, entry.file);
    const io = { inputs: spec.inputs.map(toTensorSpec), outputs: spec.outputs.map(toTensorSpec) };
    // Contract graphs are tiny: one thread beats the pool's hand-offs (as for the face models).
    const threads = kind === 'contract' ? { intraOpThreads: 1 } : {};
    const session = await deps.manager.load(`hairfast/${key}`, file, io, { skipWarmup: config.warm === false, ...threads });
    loaded[key] = entry;
    return session;
  };
  let precision: HairfastPrecision = choice === 'auto' ? 'fp32' : choice;
  if (choice === 'auto' && withoutFp16.length === 0) {
    if (deps.manager.ep !== undefined) {
      precision = deps.manager.ep === 'cpu' ? 'fp32' : 'fp16';
    } else {
      // The provider decides: load one graph in fp16 (the manager settles its provider on its first session), keep
      // fp16 on a GPU provider, and start over in fp32 on the CPU.
      const probe = await load(splitNames[0]!, 'fp16');
      if (probe.ep !== 'cpu') {
        precision = 'fp16';
        sessions.set(splitNames[0]!, probe);
      } else {
        await deps.manager.release(probe);
        delete loaded[variantKey(splitNames[0]!, 'fp16')];
      }
    }
  }
  // The first graph (bisenet: every install and every flow needs it) settles the provider; then the composites.
  if (!sessions.has(splitNames[0]!)) sessions.set(splitNames[0]!, await load(splitNames[0]!, precision));
  const executionProvider = deps.manager.ep ?? 'cpu';
  const composites = useComposites(config.composites ?? 'auto', executionProvider)
    ? Object.keys(contract.composites).filter((name) => manifest.models[keyIn(manifest, name, precision)])
    : [];
  const replaced = new Set(composites.flatMap((name) => contract.composites[name]!.replaces));
  for (const name of [...splitNames.slice(1).filter((n) => !replaced.has(n)), ...composites]) {
    sessions.set(name, await load(name, precision));
  }
  const loadMs = performance.now() - started;
  if (precision === 'fp16' && executionProvider === 'cpu') {
    deps.logger?.warn({ precision, executionProvider }, 'fp16 hairfast graphs on the CPU provider: it computes most half-precision ops through casts and is much slower than fp32 (use HAIR_PRECISION=auto or fp32 on CPU hosts)');
  }
  if (precision === 'int8' && executionProvider !== 'cpu') {
    deps.logger?.warn({ precision, executionProvider }, `int8 hairfast graphs on the ${executionProvider} provider: their quantized convolutions are CPU kernels (use HAIR_PRECISION=auto or fp16 on GPU hosts)`);
  }
  // Over the split graphs in this precision, loaded or not: preset caches hold per-image outputs only, so whether
  // swap runs (HAIR_SWAP, the provider) must not invalidate them; any split graph change does.
  const splitEntries = splitNames.map((n) => keyIn(manifest, n, precision)).filter((key) => manifest.models[key]);
  const modelsHash = modelsHashOf({ models: Object.fromEntries(splitEntries.map((key) => [key, manifest.models[key]!])) });
  const licenses = licenseNotices([...sessions.keys()].map((name) => [name, loaded[keyIn(manifest, name, precision)]?.licenses] as const));
  const entries = Object.values(loaded);
  const mib = (pick: (e: (typeof entries)[number]) => number | undefined) =>
    entries.every((e) => pick(e) !== undefined) ? Math.round(entries.reduce((sum, e) => sum + pick(e)!, 0) / 2 ** 20) : undefined;
  // The exporter's figures: weights stay resident per session; each session's arena holds up to its activation peak.
  const memory = { weightsMiB: mib((e) => e.weightBytes), activationPeaksMiB: mib((e) => e.activationBytes) };
  const int8 = precision === 'int8' ? { int8Graphs: [...sessions.keys()].filter((name) => loaded[variantKey(name, 'int8')]) } : {};
  deps.logger?.info({ kind, precision, executionProvider, loadMs: Math.round(loadMs), graphs: sessions.size, ...int8, modelsHash: modelsHash.slice(0, 12), ...memory,
    ...(licenses.length > 0 ? { restrictedLicenses: licenseNoticeLines(licenses) } : {}) },
    `hairfast graphs loaded (kind ${kind}, ${precision}, HAIR_PRECISION=${choice})`);
  return {
    kind,
    precision,
    modelsHash,
    executionProvider,
    loadMs,
    contract,
    licenses,
    run(graph, feeds) {
      const session = sessions.get(graph);
      if (!session) throw new HairError('INTERNAL', { stage: graph }, { detail: `no hairfast graph "${graph}" is loaded` });
      return deps.manager.runTensors(session, feeds);
    },
    has: (graph) => sessions.has(graph),
    tensor: (value) => deps.manager.tensor(value),
  };
}

/** One request's view of the graphs: abort checks between runs, per-graph counts and milliseconds. */
export interface GraphContext {
  run(graph: GraphName, feeds: Feeds): Promise<Feeds>;
  has(graph: GraphName): boolean;
  tensor(value: TensorData): OrtTensor;
  readonly runs: Map<GraphName, number>;
  readonly ms: Map<GraphName, number>;
}

export function graphContext(graphs: Pick<HairfastGraphs, 'run' | 'tensor'> & Partial<Pick<HairfastGraphs, 'has'>>, signal?: AbortSignal): GraphContext {
  const runs = new Map<GraphName, number>();
  const ms = new Map<GraphName, number>();
  return {
    runs,
    ms,
    has: (graph) => graphs.has?.(graph) ?? false,
    tensor: (value) => graphs.tensor(value),
    async run(graph, feeds) {
      if (signal?.aborted) throw new HairError('JOB_CANCELLED', { stage: graph });
      const t0 = performance.now();
      const out = await graphs.run(graph, feeds);
      ms.set(graph, (ms.get(graph) ?? 0) + performance.now() - t0);
      runs.set(graph, (runs.get(graph) ?? 0) + 1);
      return out;
    },
  };
}

/** The named output of a run; a graph that did not produce it is a contract breach. */
export function pick(outputs: Feeds, name: string, graph: GraphName): OrtTensor {
  const value = outputs[name];
  if (!value) throw new HairError('MODEL_INVALID', { file: graph }, { detail: `graph ${graph} returned no output "${name}"` });
  return value;
}
