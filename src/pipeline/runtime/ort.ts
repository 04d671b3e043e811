import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import './ort-env.js'; // before onnxruntime-node: telemetry off
import * as ort from 'onnxruntime-node';
import type { ExecutionProviderChoice, StageExecutionProviderChoice } from '../../shared/config.js';
import { HairError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { TensorSpec } from './manifest.js';

/**
 * The only importer of onnxruntime-node. Creates each session once (cached by name), picks the execution provider,
 * checks the model against its contract at load, warms it with zeros, and checks every run's feeds.
 * Stages get plain typed arrays (`run`); the HairFastGAN runtime can keep ORT tensors between graphs (`runTensors`).
 */

export type ExecutionProvider = Exclude<ExecutionProviderChoice, 'auto'>;
/** `auto` tries these in order and keeps the first that loads. */
export const AUTO_ORDER: readonly ExecutionProvider[] = Object.freeze(['cuda', 'webgpu', 'cpu']);

export type OrtTensor = ort.Tensor;
export type TensorDtype = TensorSpec['dtype'];
export type TensorArray = Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;
/** A tensor as stages see it: a typed array in CPU memory plus its dims. */
export interface TensorData {
  dtype: TensorDtype;
  data: TensorArray;
  dims: readonly number[];
}

/** What a model must look like: the manifest's inputs/outputs (or a stage's contract constant). */
export interface ModelContract {
  inputs: readonly TensorSpec[];
  outputs: readonly TensorSpec[];
}

export type OutputLocation = NonNullable<ort.InferenceSession.SessionOptions['preferredOutputLocation']>;

export interface LoadOptions {
  /** Dims for the warm-up feed where the contract has symbolic dims (default: 1 for each symbolic dim). */
  warmupDims?: Record<string, readonly number[]>;
  /** Skip the warm-up run (e.g. for graphs whose zero input is invalid). @defaultValue false */
  skipWarmup?: boolean;
  /** Where outputs stay: 'cpu' (default) or a GPU location for chains of graphs on the GPU. */
  preferredOutputLocation?: OutputLocation;
  /**
   * CPU threads for this session, overriding ORT_INTRA_OP_THREADS (0 = onnxruntime decides). Tiny graphs run
   * faster on 1: their thread-pool hand-offs cost more than the parallel work saves.
   */
  intraOpThreads?: number;
  /**
   * This session's provider instead of the manager's HAIR_EP (a per-stage setting such as FACE_DETECT_EP, named in
   * EP_UNAVAILABLE). Its `auto` probes on its own; the manager's `ep` stays HAIR_EP's.
   */
  provider?: { choice: ExecutionProviderChoice; setting: string };
}

/** A stage setting as a session's `provider` option: `inherit` leaves the session on the manager's HAIR_EP. */
export function stageProvider(choice: StageExecutionProviderChoice, setting: string): LoadOptions['provider'] {
  return choice === 'inherit' ? undefined : { choice, setting };
}

export interface OrtSession {
  readonly name: string;
  readonly file: string;
  readonly ep: ExecutionProvider;
  readonly contract: ModelContract;
  readonly loadMs: number;
  readonly warmupMs: number;
}

export interface SessionManager {
  /** The provider sessions run on; undefined until the first session loaded. */
  readonly ep: ExecutionProvider | undefined;
  /** Creates (once) and warms the session `name`; later calls with the same name return the same session. */
  load(name: string, file: string, contract: ModelContract, options?: LoadOptions): Promise<OrtSession>;
  /** Runs with typed arrays in and out; feeds are checked against the contract first. */
  run(session: OrtSession, feeds: Record<string, TensorData>): Promise<Record<string, TensorData>>;
  /** Runs with ORT tensors in and out (no copies), e.g. to chain graphs; feeds are checked the same way. */
  runTensors(session: OrtSession, feeds: Record<string, OrtTensor>, fetches?: readonly string[]): Promise<Record<string, OrtTensor>>;
  /** An ORT tensor over a typed array (no copy), so callers need not import onnxruntime-node. */
  tensor(value: TensorData): OrtTensor;
  /** Releases one session (a later load of its name creates it again). */
  release(session: OrtSession): Promise<void>;
  /**
   * With `profileDir`: stops every session's profiling and returns the files onnxruntime wrote (one per session,
   * read them with `readOrtProfile`); runs after this are not recorded. Without it: an empty list.
   */
  endProfiling(): Promise<ProfileFile[]>;
  /** Releases every session. Safe to call twice; later loads/runs throw. */
  dispose(): Promise<void>;
}

export interface ProfileFile {
  /** The session's name (`hairfast/embed`, `face/blazeface-full`, ...). */
  session: string;
  file: string;
}

export interface SessionManagerConfig {
  HAIR_EP: ExecutionProviderChoice;
  /** 0 lets onnxruntime decide. */
  ORT_INTRA_OP_THREADS: number;
}

export interface SessionManagerDeps {
  logger?: Pick<Logger, 'info' | 'debug'>;
  /**
   * Record onnxruntime's profile (per node: kernel time, provider, shapes; per run: model_run) for every session,
   * written to this directory by `endProfiling()`. For bench/profile.ts; it slows runs slightly.
   */
  profileDir?: string;
}

const ARRAY_FOR: Record<TensorDtype, (n: number) => TensorArray> = {
  float32: (n) => new Float32Array(n),
  float16: (n) => new Uint16Array(n),
  int64: (n) => new BigInt64Array(n),
  int32: (n) => new Int32Array(n),
  uint8: (n) => new Uint8Array(n),
  bool: (n) => new Uint8Array(n),
};

/** onnxruntime names a profile `<prefix>_<yyyy-mm-dd_hh-mm-ss_ms>.json`; the prefix is the session's name, made a file name. */
const profilePrefix = (name: string): string => name.replace(/[^\w.-]+/g, '_');
const PROFILE_STAMP = /^_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d(_\d+)?\.json$/;

/** The newest profile file of a prefix in dir (a session's name may be a prefix of another's: the stamp must follow). */
function findProfileFile(dir: string, prefix: string): string | undefined {
  const names = readdirSync(dir).filter((f) => f.startsWith(prefix) && PROFILE_STAMP.test(f.slice(prefix.length))).sort();
  return names.length > 0 ? join(dir, names[names.length - 1]!) : undefined;
}

const describeShape = (dims: readonly (number | string)[]): string => `[${dims.join(', ')}]`;

/** Why each provider may fail to load, and what fixes it (listed in EP_UNAVAILABLE, like sharp's load errors). */
export const EP_SOLUTIONS: Record<ExecutionProvider, readonly string[]> = {
  cuda: [
    'CUDA 13: run `npm run gpu:cuda13` — it keeps onnxruntime-node 1.29.0 and puts the CUDA provider .so files ' +
      '(libonnxruntime_providers_cuda.so, libonnxruntime_providers_shared.so) from the npm package ' +
      'com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9 next to libonnxruntime.so.1 in ' +
      'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/',
    'CUDA 12: reinstall onnxruntime-node with its CUDA 12 build: `ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci`',
    'check the driver and libraries: `nvidia-smi` works, libcudart/libcublas/libcudnn are on LD_LIBRARY_PATH',
    'or run on the CPU: HAIR_EP=cpu (or HAIR_EP=auto to take the first provider that loads)',
  ],
  webgpu: [
    'WebGPU needs a GPU adapter: a Vulkan driver and libvulkan.so.1 (Debian: apt-get install libvulkan1 mesa-vulkan-drivers)',
    'or use HAIR_EP=cuda on NVIDIA GPUs, HAIR_EP=cpu, or HAIR_EP=auto',
  ],
  cpu: ['the CPU provider is built into onnxruntime-node; reinstall it: `npm ci` (check node_modules/onnxruntime-node/bin)'],
};

/** Where onnxruntime-node keeps libonnxruntime.so.1 and looks for provider libraries. */
export function ortLibraryDir(): string {
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  return join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/** The provider libraries a GPU provider needs next to libonnxruntime.so.1 that are not there. */
function missingProviderLibraries(ep: ExecutionProvider): string[] {
  if (ep !== 'cuda' || process.platform !== 'linux') return [];
  const dir = ortLibraryDir();
  return ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so']
    .map((name) => join(dir, name))
    .filter((file) => !existsSync(file));
}

/**
 * Why `auto` need not even try a provider on this host: the CUDA provider's libraries are not installed, or there is
 * no GPU device node for WebGPU (its probe on a GPU-less host only prints Vulkan errors on stderr). An explicit
 * HAIR_EP still tries, so a misconfigured GPU host gets the full EP_UNAVAILABLE report.
 */
function autoSkipReason(ep: ExecutionProvider): string | undefined {
  if (process.platform !== 'linux') return undefined;
  if (ep === 'cuda') {
    const missing = missingProviderLibraries('cuda');
    return missing.length > 0 ? `not installed (missing: ${missing.join(', ')})` : undefined;
  }
  if (ep === 'webgpu') return hasGpuDeviceNode() ? undefined : 'no GPU device node (/dev/nvidia*, /dev/dri/renderD*)';
  return undefined;
}

function hasGpuDeviceNode(): boolean {
  try {
    if (readdirSync('/dev').some((name) => /^nvidia\d+$/.test(name))) return true;
    return existsSync('/dev/dri') && readdirSync('/dev/dri').some((name) => name.startsWith('renderD'));
  } catch {
    return true;
  }
}

function epUnavailable(choice: ExecutionProviderChoice, setting: string, file: string, attempts: Array<{ ep: ExecutionProvider; error: string }>): HairError {
  const tried = attempts.map((a) => `  - ${a.ep}: ${a.error.split('\n')[0]}`).join('\n');
  const solutions = [...new Set(attempts.flatMap((a) => EP_SOLUTIONS[a.ep]))].map((s) => `  - ${s}`).join('\n');
  return new HairError('EP_UNAVAILABLE', { ep: choice }, {
    detail: `no execution provider could load ${file} (${setting}=${choice}).\nAttempts:\n${tried}\nPossible solutions:\n${solutions}`,
  });
}

function sameDim(contract: number | string, actual: number | string): boolean {
  return typeof contract === 'string' || typeof actual === 'string' || contract === actual;
}

/** Compares a session's inputs/outputs with the contract; throws MODEL_INVALID naming the file and the value. */
function checkContract(name: string, file: string, session: ort.InferenceSession, contract: ModelContract): void {
  const problems: string[] = [];
  const compare = (kind: 'input' | 'output', specs: readonly TensorSpec[], meta: readonly ort.InferenceSession.ValueMetadata[]) => {
    const byName = new Map(meta.map((m) => [m.name, m]));
    for (const spec of specs) {
      const m = byName.get(spec.name);
      if (!m) {
        problems.push(`${kind} "${spec.name}" is missing (model has ${meta.map((x) => `"${x.name}"`).join(', ') || 'none'})`);
        continue;
      }
      if (!m.isTensor) {
        problems.push(`${kind} "${spec.name}" is not a tensor`);
        continue;
      }
      if (m.type !== spec.dtype) problems.push(`${kind} "${spec.name}" has dtype ${m.type}, expected ${spec.dtype}`);
      if (m.shape.length !== spec.shape.length || !spec.shape.every((d, i) => sameDim(d, m.shape[i]!))) {
        problems.push(`${kind} "${spec.name}" has shape ${describeShape(m.shape)}, expected ${describeShape(spec.shape)}`);
      }
    }
    if (kind === 'input') {
      const known = new Set(specs.map((s) => s.name));
      for (const m of meta) if (!known.has(m.name)) problems.push(`input "${m.name}" is not in the contract`);
    }
  };
  compare('input', contract.inputs, session.inputMetadata);
  compare('output', contract.outputs, session.outputMetadata);
  if (problems.length > 0) {
    throw new HairError('MODEL_INVALID', { model: name, file }, {
      detail: `${file} (model ${name}) does not match its contract: ${problems.join('; ')}`,
    });
  }
}

/** Checks feeds against the contract before ORT sees them: names, dtypes, dims, data length. */
function checkFeeds(session: OrtSession, feeds: Record<string, { type?: string; dtype?: string; dims: readonly number[]; size?: number; data?: unknown }>): void {
  const problems: string[] = [];
  const expected = new Set(session.contract.inputs.map((s) => s.name));
  for (const given of Object.keys(feeds)) if (!expected.has(given)) problems.push(`unexpected input "${given}"`);
  for (const spec of session.contract.inputs) {
    const feed = feeds[spec.name];
    if (!feed) {
      problems.push(`missing input "${spec.name}" (${spec.dtype} ${describeShape(spec.shape)})`);
      continue;
    }
    const dtype = feed.dtype ?? feed.type;
    if (dtype !== spec.dtype) problems.push(`input "${spec.name}" has dtype ${dtype}, expected ${spec.dtype}`);
    if (feed.dims.length !== spec.shape.length || !spec.shape.every((d, i) => sameDim(d, feed.dims[i]!))) {
      problems.push(`input "${spec.name}" has dims ${describeShape(feed.dims)}, expected ${describeShape(spec.shape)}`);
    }
    const count = feed.dims.reduce((a, b) => a * b, 1);
    const length = feed.size ?? (feed.data as { length?: number } | undefined)?.length;
    if (length !== undefined && length !== count) {
      problems.push(`input "${spec.name}" has ${length} values, dims ${describeShape(feed.dims)} need ${count}`);
    }
  }
  if (problems.length > 0) {
    throw new HairError('INTERNAL', { model: session.name }, { detail: `bad feeds for ${session.name} (${session.file}): ${problems.join('; ')}` });
  }
}

function toTensor(value: TensorData): ort.Tensor {
  // ORT's typings pair each dtype with its array type; TensorData keeps them paired by construction.
  return new ort.Tensor(value.dtype, value.data as never, value.dims);
}

function fromTensor(tensor: ort.Tensor): TensorData {
  return { dtype: tensor.type as TensorDtype, data: tensor.data as TensorArray, dims: tensor.dims };
}

export function createSessionManager(config: SessionManagerConfig, deps: SessionManagerDeps = {}): SessionManager {
  const sessions = new Map<string, Promise<{ info: OrtSession; native: ort.InferenceSession }>>();
  const natives = new WeakMap<OrtSession, ort.InferenceSession>();
  let resolvedEp: ExecutionProvider | undefined;
  let disposing: Promise<void> | undefined;
  let probing: Promise<void> | undefined;
  // Provider probing (auto, or a provider that is not installed) is reported in EP_UNAVAILABLE / the log line; keep
  // onnxruntime's own native error lines about missing provider libraries off stderr. Takes effect before the first
  // session of the process.
  ort.env.logLevel = 'fatal';

  const candidates = (choice: ExecutionProviderChoice, own: boolean): readonly ExecutionProvider[] => {
    if (choice !== 'auto') return [choice];
    return resolvedEp && !own ? [resolvedEp] : AUTO_ORDER;
  };

  const create = async (name: string, file: string, contract: ModelContract, options: LoadOptions) => {
    if (!existsSync(file)) {
      throw new HairError('MODEL_MISSING', { model: name, file }, { detail: `${file} (model ${name}) is missing; run \`hairstyler models prepare\`` });
    }
    const threads = options.intraOpThreads ?? config.ORT_INTRA_OP_THREADS;
    const started = performance.now();
    const attempts: Array<{ ep: ExecutionProvider; error: string }> = [];
    let native: ort.InferenceSession | undefined;
    let ep: ExecutionProvider | undefined;
    const own = options.provider !== undefined;
    const choice = options.provider?.choice ?? config.HAIR_EP;
    for (const candidate of candidates(choice, own)) {
      const skip = choice === 'auto' && candidate !== 'cpu' ? autoSkipReason(candidate) : undefined;
      if (skip) {
        attempts.push({ ep: candidate, error: skip });
        continue;
      }
      try {
        native = await ort.InferenceSession.create(file, {
          executionProviders: [candidate],
          graphOptimizationLevel: 'all',
          ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
          ...(options.preferredOutputLocation ? { preferredOutputLocation: options.preferredOutputLocation } : {}),
          ...(deps.profileDir ? { enableProfiling: true, profileFilePrefix: join(deps.profileDir, profilePrefix(name)) } : {}),
          logSeverityLevel: 3,
        });
        ep = candidate;
        break;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (candidate === 'cpu') {
          // The CPU provider is always built in: a failure here is the model file, not the provider.
          throw new HairError('MODEL_INVALID', { model: name, file }, { cause: error, detail: `${file} (model ${name}) could not be loaded: ${message}` });
        }
        const missing = missingProviderLibraries(candidate);
        attempts.push({ ep: candidate, error: missing.length > 0 ? `${message} (missing: ${missing.join(', ')})` : message });
      }
    }
    if (!native || !ep) throw epUnavailable(choice, options.provider?.setting ?? 'HAIR_EP', file, attempts);
    if (!own) resolvedEp ??= ep;
    try {
      checkContract(name, file, native, contract);
    } catch (error) {
      await native.release();
      throw error;
    }
    const loadMs = performance.now() - started;
    let warmupMs = 0;
    if (!options.skipWarmup) {
      const warmStart = performance.now();
      const feeds: Record<string, ort.Tensor> = {};
      for (const spec of contract.inputs) {
        const dims = options.warmupDims?.[spec.name] ?? spec.shape.map((d) => (typeof d === 'number' ? d : 1));
        const data = ARRAY_FOR[spec.dtype](dims.reduce((a, b) => a * b, 1));
        feeds[spec.name] = toTensor({ dtype: spec.dtype, data, dims });
      }
      try {
        const outputs = await native.run(feeds);
        for (const out of Object.values(outputs)) out.dispose();
      } catch (error) {
        await native.release();
        const shapes = Object.entries(feeds).map(([k, t]) => `${k}: ${t.type} ${describeShape(t.dims)}`).join(', ');
        throw new HairError('MODEL_INVALID', { model: name, file }, {
          cause: error,
          detail: `${file} (model ${name}) failed its warm-up run on ${ep} with zeros (${shapes}): ${error instanceof Error ? error.message : String(error)}`,
        });
      }
      warmupMs = performance.now() - warmStart;
    }
    const info: OrtSession = Object.freeze({ name, file, ep, contract, loadMs, warmupMs });
    deps.logger?.info(
      { model: name, file, ep, loadMs: Math.round(loadMs), warmupMs: Math.round(warmupMs), ...(attempts.length > 0 ? { skipped: attempts.map((a) => a.ep) } : {}) },
      `onnx session ${name} runs on ${ep}`,
    );
    return { info, native };
  };

  const nativeOf = (session: OrtSession): ort.InferenceSession => {
    if (disposing) throw new HairError('INTERNAL', { model: session.name }, { detail: `session ${session.name} used after dispose()` });
    const native = natives.get(session);
    if (!native) throw new HairError('INTERNAL', { model: session.name }, { detail: `session ${session.name} was not created by this manager` });
    return native;
  };

  /** Runs feeds that were already checked against the session's contract. */
  const runNative = async (session: OrtSession, feeds: Record<string, ort.Tensor>, fetches?: readonly string[]) => {
    const native = nativeOf(session);
    try {
      return fetches ? await native.run(feeds, [...fetches]) : await native.run(feeds);
    } catch (error) {
      const shapes = Object.entries(feeds).map(([k, t]) => `${k}: ${t.type} ${describeShape(t.dims)}`).join(', ');
      const message = error instanceof Error ? error.message : String(error);
      throw new HairError('INTERNAL', { model: session.name }, { cause: error, detail: `${session.name} (${session.ep}) failed on ${shapes}: ${message}` });
    }
  };

  const runTensors = (session: OrtSession, feeds: Record<string, ort.Tensor>, fetches?: readonly string[]) => {
    checkFeeds(session, feeds);
    return runNative(session, feeds, fetches);
  };

  return {
    get ep() {
      return resolvedEp;
    },
    async load(name, file, contract, options = {}) {
      if (disposing) throw new HairError('INTERNAL', { model: name }, { detail: 'load() after dispose()' });
      let pending = sessions.get(name);
      if (!pending) {
        // The first session decides the provider; the others wait for it instead of probing in parallel.
        const after = probing ?? Promise.resolve();
        pending = after.then(() => create(name, file, contract, options)).then((s) => {
          natives.set(s.info, s.native);
          return s;
        });
        sessions.set(name, pending);
        if (!resolvedEp && !probing && !options.provider) probing = pending.then(() => undefined, () => undefined);
        pending.catch(() => sessions.delete(name));
      }
      const { info } = await pending;
      if (info.file !== file) {
        throw new HairError('INTERNAL', { model: name }, { detail: `session ${name} is already loaded from ${info.file}, not ${file}` });
      }
      return info;
    },
    async run(session, feeds) {
      checkFeeds(session, feeds);
      const tensors: Record<string, ort.Tensor> = {};
      for (const [key, value] of Object.entries(feeds)) tensors[key] = toTensor(value);
      const outputs = await runNative(session, tensors);
      const result: Record<string, TensorData> = {};
      for (const [key, tensor] of Object.entries(outputs)) result[key] = fromTensor(tensor);
      return result;
    },
    runTensors,
    tensor: toTensor,
    async endProfiling() {
      const dir = deps.profileDir;
      if (!dir) return [];
      const files: ProfileFile[] = [];
      for (const loaded of await Promise.allSettled([...sessions.values()])) {
        if (loaded.status !== 'fulfilled') continue;
        const { info, native } = loaded.value;
        native.endProfiling();
        const file = findProfileFile(dir, basename(profilePrefix(info.name)));
        if (file) files.push({ session: info.name, file });
      }
      return files;
    },
    async release(session) {
      const native = nativeOf(session);
      sessions.delete(session.name);
      natives.delete(session);
      await native.release();
    },
    dispose() {
      disposing ??= (async () => {
        const all = await Promise.allSettled([...sessions.values()]);
        sessions.clear();
        const releases = all.flatMap((s) => (s.status === 'fulfilled' ? [s.value.native.release()] : []));
        await Promise.allSettled(releases);
      })();
      return disposing;
    },
  };
}
