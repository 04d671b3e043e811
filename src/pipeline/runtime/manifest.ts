import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { HairError } from '../../shared/errors.js';
import { readJsonFile } from '../../shared/read-json-file.js';
import { upstreamLicenseSchema } from '../../shared/model-licenses.js';

/**
 * The model registry. `models/manifest.json` (committed) lists the face models that `hairstyler models prepare`
 * builds from npm packages, with the sha256 each build must reproduce. `models/hairfast/manifest.json`
 * (generated, ignored by git) lists the installed HairFastGAN graphs and which kind they are.
 */
export const TENSOR_DTYPES = ['float32', 'float16', 'int64', 'int32', 'uint8', 'bool'] as const;

/** A dimension is a fixed size or a symbolic name (e.g. "batch"). */
export const tensorSpecSchema = z.object({
  name: z.string().min(1),
  dtype: z.enum(TENSOR_DTYPES),
  shape: z.array(z.union([z.number().int().nonnegative(), z.string().min(1)])),
});
export type TensorSpec = z.infer<typeof tensorSpecSchema>;

/** A tensor spec written as a `const` literal (readonly shape), e.g. in a stage's `.contract.ts`. */
export interface ConstTensorSpec {
  readonly name: string;
  readonly dtype: TensorSpec['dtype'];
  readonly shape: readonly (number | string)[];
}

export function toTensorSpec(spec: ConstTensorSpec): TensorSpec {
  return { name: spec.name, dtype: spec.dtype, shape: [...spec.shape] };
}

/** A single-input stage contract (`{ input, outputs: { … } }`) as input and output spec lists. */
export function stageTensorSpecs(stage: { input: ConstTensorSpec; outputs: Record<string, ConstTensorSpec> }): {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
} {
  return { inputs: [toTensorSpec(stage.input)], outputs: Object.values(stage.outputs).map(toTensorSpec) };
}

export const MODEL_KINDS = ['converted', 'official', 'random', 'contract'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

export const modelEntrySchema = z.object({
  /** Path relative to the models directory. */
  file: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive(),
  kind: z.enum(MODEL_KINDS),
  source: z.object({
    package: z.string().min(1),
    version: z.string().min(1),
    path: z.string().optional(),
    license: z.string().min(1),
  }),
  /**
   * The upstream parts the graph was made from, each with its code and weight licenses (HairFastGAN graphs; the
   * exporter writes them from src/model-build/upstream-licenses.json). Absent in manifests written before.
   */
  licenses: z.array(upstreamLicenseSchema).optional(),
  opset: z.number().int().positive().optional(),
  precision: z.enum(['fp32', 'fp16', 'int8']).default('fp32'),
  inputs: z.array(tensorSpecSchema).min(1),
  outputs: z.array(tensorSpecSchema).min(1),
  /** Cost figures, where known. */
  params: z.number().int().nonnegative().optional(),
  gmac: z.number().nonnegative().optional(),
  /** Bytes of the initializers (what a session keeps resident for its weights). */
  weightBytes: z.number().int().nonnegative().optional(),
  /** Peak bytes of the tensors alive at once during one run (the exporter's estimate from measured shapes). */
  activationBytes: z.number().int().nonnegative().optional(),
  notes: z.string().optional(),
  /**
   * A graph over protobuf's 2 GB (the `swap` composite and its fp16 variant) keeps its weights in one file next to it,
   * `<file>.data`, that onnxruntime reads from the model's directory; checked like the graph file itself.
   */
  externalData: z.object({ file: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() }).optional(),
});
export type ModelEntry = z.infer<typeof modelEntrySchema>;

export const manifestSchema = z.object({
  version: z.literal(1),
  models: z.record(z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/), modelEntrySchema),
});
export type Manifest = z.infer<typeof manifestSchema>;

export const MANIFEST_FILE = 'manifest.json';

export function readManifest(path: string): Manifest {
  if (!existsSync(path)) {
    throw new HairError('MODEL_MISSING', { file: path }, { detail: `${path} does not exist; run \`hairstyler models prepare\`` });
  }
  return readJsonFile(path, manifestSchema, 'MODEL_INVALID', 'manifest');
}

/** The files of a model, relative to MODELS_DIR, each with its size and sha256: the graph, then its external weights. */
export function modelFiles(entry: ModelEntry): { file: string; bytes: number; sha256: string }[] {
  return [{ file: entry.file, bytes: entry.bytes, sha256: entry.sha256 }, ...(entry.externalData ? [entry.externalData] : [])];
}

export function modelPath(modelsDir: string, entry: ModelEntry): string {
  return join(modelsDir, entry.file);
}
