import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BLAZEFACE_FULL, BLAZEFACE_SHORT } from '../pipeline/detect-face.contract.js';
import { FACE_MESH } from '../pipeline/landmarks.contract.js';
import { toTensorSpec, type ModelEntry, type TensorSpec } from '../pipeline/runtime/manifest.js';
import { HairError } from '../shared/errors.js';
import { extractPackedFile, tfliteToOnnx } from './tflite-to-onnx/index.js';

/** ONNX opset the converter writes. */
export const FACE_OPSET = 13;

export interface FaceRecipe {
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

/**
 * The face models `hairstyler models prepare` converts from MediaPipe's npm packages (TFLite → ONNX), as recipes:
 * the package file, the renames to the contract's tensor names, and the contract's tensor specs.
 */
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
