import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HairfastPrecision, HairfastPrecisionChoice } from '../../shared/config.js';
import { HairError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
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
   * has few half-precision kernels and is slower and less exact with fp16 graphs. @defaultValue 'auto'
   */
  precision?: HairfastPrecisionChoice;
  /**
   * Load the installed composites (`swap`) and skip the split graphs they replace. `false` loads the split chain only
   * (parity tests compare the two). @defaultValue true
   */
  composites?: boolean;
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

/** The manifest key of a graph in a precision (`embed`, `embed_fp16`). */
export function variantKey(graph: GraphName, precision: HairfastPrecision): string {
  return precision === 'fp16' ? `${graph}_fp16` : graph;
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
  // A composite is used when installed, and in fp16 too when the split graphs have fp16 variants (else it would
  // hold the choice of precision back).
  const splitFp16 = Object.keys(contract.graphs).every((name) => manifest.models[variantKey(name, 'fp16')]);
  const installed = (name: GraphName) => manifest.models[name] && (!splitFp16 || manifest.models[variantKey(name, 'fp16')]);
  const composites = config.composites === false ? [] : Object.keys(contract.composites).filter(installed);
  const replaced = new Set(composites.flatMap((name) => contract.composites[name]!.replaces));
  const graphNames = [...Object.keys(contract.graphs).filter((name) => !replaced.has(name)), ...composites];
  const choice = config.precision ?? 'auto';
  const withoutFp16 = [...Object.keys(contract.graphs), ...composites].filter((name) => !manifest.models[variantKey(name, 'fp16')]);
  if (choice === 'fp16' && withoutFp16.length > 0) {
    throw new HairError('MODEL_MISSING', { file: manifestPath }, {
      detail: `HAIR_PRECISION=fp16 but ${manifestPath} has no fp16 variant of ${withoutFp16.join(', ')}; run ` +
        '`python3 tools/hairfast-export/to_fp16.py --models <dir>` (or export with --fp16), or set HAIR_PRECISION=fp32',
    });
  }
  const sessions = new Map<string, OrtSession>();
  const loaded: Manifest['models'] = {};
  const load = async (name: GraphName, precision: HairfastPrecision): Promise<OrtSession> => {
    const spec = graphSpec(contract, name)!;
    const key = variantKey(name, precision);
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
  let first = 0;
  if (choice === 'auto' && withoutFp16.length === 0) {
    if (deps.manager.ep !== undefined) {
      precision = deps.manager.ep === 'cpu' ? 'fp32' : 'fp16';
    } else {
      // The provider decides: load one graph in fp16 (the manager settles its provider on its first session), keep
      // fp16 on a GPU provider, and start over in fp32 on the CPU.
      const probe = await load(graphNames[0]!, 'fp16');
      if (probe.ep !== 'cpu') {
        precision = 'fp16';
        sessions.set(graphNames[0]!, probe);
        first = 1;
      } else {
        await deps.manager.release(probe);
        delete loaded[variantKey(graphNames[0]!, 'fp16')];
      }
    }
  }
  for (const name of graphNames.slice(first)) sessions.set(name, await load(name, precision));
  const executionProvider = deps.manager.ep ?? 'cpu';
  const loadMs = performance.now() - started;
  if (precision === 'fp16' && executionProvider === 'cpu') {
    deps.logger?.warn({ precision, executionProvider }, 'fp16 hairfast graphs on the CPU provider: it computes most half-precision ops through casts and is much slower than fp32 (use HAIR_PRECISION=auto or fp32 on CPU hosts)');
  }
  const modelsHash = modelsHashOf({ models: loaded });
  const entries = Object.values(loaded);
  const mib = (pick: (e: (typeof entries)[number]) => number | undefined) =>
    entries.every((e) => pick(e) !== undefined) ? Math.round(entries.reduce((sum, e) => sum + pick(e)!, 0) / 2 ** 20) : undefined;
  // The exporter's figures: weights stay resident per session; each session's arena holds up to its activation peak.
  const memory = { weightsMiB: mib((e) => e.weightBytes), activationPeaksMiB: mib((e) => e.activationBytes) };
  deps.logger?.info({ kind, precision, executionProvider, loadMs: Math.round(loadMs), graphs: sessions.size, modelsHash: modelsHash.slice(0, 12), ...memory },
    `hairfast graphs loaded (kind ${kind}, ${precision}, HAIR_PRECISION=${choice})`);
  return {
    kind,
    precision,
    modelsHash,
    executionProvider,
    loadMs,
    contract,
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
