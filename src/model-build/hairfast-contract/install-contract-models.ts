import { sha256 } from '../../shared/sha256.js';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CONTRACT_OPSET, graphContract, graphSpec } from '../../pipeline/hairfast/contract.js';
import { hairfastManifestPath, HAIRFAST_DIR, installedKind } from '../../pipeline/hairfast/graphs.js';
import { HairError } from '../../shared/errors.js';
import { readManifest, toTensorSpec, type Manifest, type ModelKind } from '../../pipeline/runtime/manifest.js';
import { buildContractModels } from './build-contract-models.js';

export type HairfastPrepareMode = 'none' | 'contract';

export interface HairfastPrepareResult {
  /** The kind installed now (or found), or 'none'. */
  kind: ModelKind | 'none';
  /** Files written this time (unchanged files are left alone). */
  written: string[];
  manifestPath: string;
}

/**
 * `hairstyler models prepare --hairfast=<none|contract>`: installs the contract models into
 * `<modelsDir>/hairfast/` with a manifest (kind = contract), unless an export (official or random) is already
 * there. Idempotent: the same contract gives the same bytes, and files that match are not rewritten.
 */
export function prepareHairfastModels(modelsDir: string, mode: HairfastPrepareMode): HairfastPrepareResult {
  const manifestPath = hairfastManifestPath(modelsDir);
  const existing = existsSync(manifestPath) ? readManifest(manifestPath) : undefined;
  const existingKind = existing ? installedKind(existing, manifestPath) : undefined;
  if (mode === 'none') return { kind: existingKind ?? 'none', written: [], manifestPath };
  const contract = graphContract();
  if (existing && existingKind && existingKind !== 'contract') {
    assertCompleteExport(modelsDir, existing, Object.keys(contract.graphs), manifestPath);
    return { kind: existingKind, written: [], manifestPath };
  }
  mkdirSync(join(modelsDir, HAIRFAST_DIR), { recursive: true });
  const written: string[] = [];
  const manifest: Manifest = { version: 1, models: {} };
  for (const [name, bytes] of buildContractModels(contract)) {
    const spec = graphSpec(contract, name)!;
    const file = join(modelsDir, spec.file);
    mkdirSync(dirname(file), { recursive: true });
    const digest = sha256(bytes);
    const same = existsSync(file) && sha256(readFileSync(file)) === digest;
    if (!same) {
      writeFileSync(file, bytes);
      written.push(file);
    }
    manifest.models[name] = {
      file: spec.file,
      sha256: digest,
      bytes: bytes.byteLength,
      kind: 'contract',
      source: { package: 'hairstyler', version: '0.1.0', path: 'src/model-build/hairfast-contract', license: 'Apache-2.0' },
      opset: CONTRACT_OPSET,
      precision: 'fp32',
      inputs: spec.inputs.map(toTensorSpec),
      outputs: spec.outputs.map(toTensorSpec),
      notes: 'contract model: production names and shapes, cheap input-dependent math, not a trained network',
    };
  }
  const json = `${JSON.stringify(manifest, null, 2)}\n`;
  if (!existsSync(manifestPath) || readFileSync(manifestPath, 'utf8') !== json) {
    writeFileSync(manifestPath, json);
    written.push(manifestPath);
  }
  return { kind: 'contract', written, manifestPath };
}

/** An installed export is kept only when every contract graph is listed and its file is there at the listed size. */
function assertCompleteExport(modelsDir: string, manifest: Manifest, graphs: string[], manifestPath: string): void {
  const problems = graphs.flatMap((name) => {
    const entry = manifest.models[name];
    if (!entry) return [`${name}: not in the manifest`];
    const file = join(modelsDir, entry.file);
    if (!existsSync(file)) return [`${name}: ${file} is missing`];
    return statSync(file).size === entry.bytes ? [] : [`${name}: ${file} is not ${entry.bytes} bytes`];
  });
  if (problems.length > 0) {
    throw new HairError('MODEL_INVALID', { file: manifestPath }, {
      detail: `${manifestPath} describes an incomplete HairFastGAN export (${problems.join('; ')}); finish it with ` +
        'tools/hairfast-export/export.py, or delete the manifest to install the contract models',
    });
  }
}
