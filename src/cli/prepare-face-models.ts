import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { HairError } from '../shared/errors.js';
import { BLAZEFACE_FULL, BLAZEFACE_SHORT } from '../pipeline/detect-face.contract.js';
import { FACE_MESH } from '../pipeline/landmarks.contract.js';
import { toTensorSpec, type ModelEntry, type TensorSpec } from '../pipeline/runtime/manifest.js';
import { checkModelFile } from '../pipeline/runtime/model-registry.js';
import { sha256 } from '../shared/sha256.js';
import type { ModelPreparer, PrepareResult } from './model-preparer.js';

/** ONNX opset the converter writes. */
export const FACE_OPSET = 13;

interface FaceRecipe {
  name: 'blazeface-short' | 'blazeface-full' | 'face-mesh';
  package: '@mediapipe/face_detection' | '@mediapipe/face_mesh';
  /** A .tflite in the package, or a packed-assets .data file with its loader script and member. */
  path: string;
  packed?: { loader: string; member: string };
  /** TFLite edge tensor names → contract names. */
  rename: Record<string, string>;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export const FACE_RECIPES: readonly FaceRecipe[] = [
  {
    name: 'blazeface-short', package: '@mediapipe/face_detection', path: 'face_detection_short_range.tflite',
    rename: {},
    inputs: [toTensorSpec(BLAZEFACE_SHORT.input)],
    outputs: [toTensorSpec(BLAZEFACE_SHORT.outputs.regressors), toTensorSpec(BLAZEFACE_SHORT.outputs.classificators)],
  },
  {
    name: 'blazeface-full', package: '@mediapipe/face_detection', path: 'face_detection_full_range.tflite',
    rename: { reshaped_regressor_face_4: 'regressors', reshaped_classifier_face_4: 'classificators' },
    inputs: [toTensorSpec(BLAZEFACE_FULL.input)],
    outputs: [toTensorSpec(BLAZEFACE_FULL.outputs.regressors), toTensorSpec(BLAZEFACE_FULL.outputs.classificators)],
  },
  {
    name: 'face-mesh', package: '@mediapipe/face_mesh', path: 'face_mesh_solution_packed_assets.data',
    packed: { loader: 'face_mesh_solution_packed_assets_loader.js', member: 'face_landmark.tflite' },
    rename: { input_1: 'input', conv2d_21: 'landmarks', conv2d_31: 'face_flag' },
    inputs: [toTensorSpec(FACE_MESH.input)],
    outputs: [toTensorSpec(FACE_MESH.outputs.landmarks), toTensorSpec(FACE_MESH.outputs.faceFlag)],
  },
];

function packageDir(name: string): { dir: string; version: string } {
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${name}/package.json`);
  } catch (cause) {
    throw new HairError('MODEL_MISSING', { package: name }, { cause, detail: `npm package ${name} is not installed; run \`npm ci\`` });
  }
  return { dir: dirname(pkgJson), version: (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version };
}

export interface BuiltFaceModel {
  bytes: Uint8Array;
  source: ModelEntry['source'];
}

/** Converts one face model from its npm package. Pure function of the package files: same bytes every time. */
export async function buildFaceModel(recipe: FaceRecipe): Promise<BuiltFaceModel> {
  const { tfliteToOnnx, extractPackedFile } = await import('../../tools/tflite-to-onnx/index.js');
  const { dir, version } = packageDir(recipe.package);
  const data = readFileSync(join(dir, recipe.path));
  let tflite: Uint8Array = data;
  let path = recipe.path;
  if (recipe.packed) {
    const loader = readFileSync(join(dir, recipe.packed.loader), 'utf8');
    tflite = extractPackedFile(loader, data, recipe.packed.member);
    path = `${recipe.path}:${recipe.packed.member} (offsets from ${recipe.packed.loader})`;
  }
  const bytes = tfliteToOnnx(tflite, { name: recipe.name, rename: recipe.rename, opset: FACE_OPSET });
  return { bytes, source: { package: recipe.package, version, path, license: 'Apache-2.0' } };
}

/** Where `prepare` puts a face model when the manifest does not say yet (maintainers' --update-manifest). */
const defaultFile = (recipe: FaceRecipe): string => `face/${recipe.name}.onnx`;

function entryFor(recipe: FaceRecipe, built: BuiltFaceModel, digest: string): ModelEntry {
  return {
    file: defaultFile(recipe),
    sha256: digest,
    bytes: built.bytes.length,
    kind: 'converted',
    source: built.source,
    opset: FACE_OPSET,
    precision: 'fp32',
    inputs: recipe.inputs,
    outputs: recipe.outputs,
    notes: 'tools/tflite-to-onnx: NHWC input kept, NCHW inside; fp16 weights widened to float32 (exact).',
  };
}

/** Builds BlazeFace short/full and the face mesh into <modelsDir>/face/, skipping files that already match. */
export const faceModels: ModelPreparer = {
  id: 'face',
  enabled: () => true,
  async prepare({ modelsDir, manifest, force, updateManifest, log }) {
    const results: PrepareResult[] = [];
    for (const recipe of FACE_RECIPES) {
      const started = performance.now();
      const entry = manifest.models[recipe.name];
      if (!entry && !updateManifest) {
        throw new HairError('MODEL_INVALID', { model: recipe.name }, { detail: `model ${recipe.name} is missing from the manifest` });
      }
      const file = join(modelsDir, entry?.file ?? defaultFile(recipe));
      if (entry && !force && !checkModelFile(recipe.name, entry, file)) {
        results.push({ model: recipe.name, file, action: 'skipped', sha256: entry.sha256, ms: performance.now() - started });
        continue;
      }
      const built = await buildFaceModel(recipe);
      const digest = sha256(built.bytes);
      const fresh = entryFor(recipe, built, digest);
      let action: PrepareResult['action'] = 'built';
      if (!entry || entry.sha256 !== digest || entry.bytes !== built.bytes.length || JSON.stringify(entry.source) !== JSON.stringify(fresh.source)) {
        if (!updateManifest) {
          throw new HairError('MODEL_INVALID', { model: recipe.name, file }, {
            detail: `rebuilt ${recipe.name} does not reproduce the manifest: sha256 ${digest} (${built.bytes.length} bytes, ${built.source.package}@${built.source.version}), expected ${entry!.sha256} (${entry!.bytes} bytes, ${entry!.source.package}@${entry!.source.version}). The source package or the converter changed.`,
          });
        }
        manifest.models[recipe.name] = fresh;
        action = 'manifest-updated';
      }
      mkdirSync(dirname(file), { recursive: true });
      // Write then rename, so a crash never leaves a half-written model behind a valid name.
      writeFileSync(`${file}.partial`, built.bytes);
      renameSync(`${file}.partial`, file);
      const ms = performance.now() - started;
      log(`${action} ${recipe.name} → ${file} (${built.bytes.length} bytes, sha256 ${digest.slice(0, 12)}…, ${ms.toFixed(0)} ms)`);
      results.push({ model: recipe.name, file, action, sha256: digest, ms });
    }
    return results;
  },
};
