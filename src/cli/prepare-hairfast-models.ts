import { Option } from 'commander';
import { hairfastManifestPath } from '../pipeline/hairfast/graphs.js';
import { readManifest } from '../pipeline/runtime/manifest.js';
import { prepareHairfastModels, type HairfastPrepareMode } from '../model-build/hairfast-contract/install-contract-models.js';
import type { ModelPreparer, PrepareResult } from './model-preparer.js';

/**
 * `models prepare --hairfast <none|contract>` (default contract): installs the project's contract models into
 * <modelsDir>/hairfast/ unless an export (kind official or random, from tools/hairfast-export) is there already.
 * Always logs the kind now installed.
 */
export const hairfastModels: ModelPreparer = {
  id: 'hairfast',
  addOptions(command) {
    command.addOption(new Option('--hairfast <mode>', 'HairFastGAN graphs: contract models when no export is installed, or none')
      .choices(['none', 'contract']).default('contract'));
  },
  enabled: () => true,
  async prepare({ modelsDir, options, log }) {
    const started = performance.now();
    const mode = (options['hairfast'] ?? 'contract') as HairfastPrepareMode;
    const result = prepareHairfastModels(modelsDir, mode);
    if (mode === 'none') {
      log(`hairfast: skipped (--hairfast=none); installed: ${result.kind}`);
      return [];
    }
    const manifest = readManifest(hairfastManifestPath(modelsDir));
    const ms = performance.now() - started;
    log(`hairfast: kind ${result.kind} in ${result.manifestPath} (${Object.keys(manifest.models).length} graphs, ${result.written.length} files written, ${ms.toFixed(0)} ms)`);
    return Object.entries(manifest.models).map(([name, entry]): PrepareResult => ({
      model: `hairfast/${name}`,
      file: entry.file,
      action: result.written.some((f) => f.endsWith(`/${entry.file}`)) ? 'built' : 'skipped',
      sha256: entry.sha256,
      ms: ms / Object.keys(manifest.models).length,
    }));
  },
};
