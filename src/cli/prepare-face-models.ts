import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HairError } from '../shared/errors.js';
import { buildFaceModel, FACE_OPSET, FACE_RECIPES, type BuiltFaceModel, type FaceRecipe } from '../model-build/face-models.js';
import type { ModelEntry } from '../pipeline/runtime/manifest.js';
import { checkModelFile } from '../pipeline/runtime/model-registry.js';
import { sha256 } from '../shared/sha256.js';
import type { ModelPreparer, PrepareResult } from './model-preparer.js';

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
    notes: 'src/model-build/tflite-to-onnx: NHWC input kept, NCHW inside; fp16 weights widened to float32 (exact).',
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
