import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../shared/config.js';
import { HairError } from '../shared/errors.js';
import { createLogger } from '../shared/log.js';
import { createTryOnEngine } from '../pipeline/index.js';
import { builtinPresetId, readStylesManifest, stylesManifestPath } from '../shared/presets.js';

interface PresetsBuildOptions {
  only?: string;
}

/** `hairstyler presets build`: computes every built-in preset's cache into PRESET_CACHE_DIR for the installed models. */
export async function runPresetsBuild(options: PresetsBuildOptions, config: Config = loadConfig()): Promise<void> {
  const styles = readStylesManifest(config.STYLES_DIR);
  const file = stylesManifestPath(config.STYLES_DIR);
  if (!styles) throw new HairError('CONFIG_INVALID', { file }, { detail: `${file} is missing` });
  const only = options.only;
  const wanted = only ? styles.presets.filter((p) => p.id === only || p.id === builtinPresetId(only)) : styles.presets;
  if (wanted.length === 0) throw new HairError('PRESET_NOT_FOUND', { name: options.only ?? '' });
  const logger = createLogger({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, name: 'presets', destination: process.stderr, format: config.LOG_FORMAT });
  const engine = await createTryOnEngine(config, { logger });
  try {
    process.stdout.write(`presets build: ${engine.info.modelKind} ${engine.info.precision} graphs on ${engine.info.executionProvider}, cache in ${config.PRESET_CACHE_DIR}\n`);
    for (const preset of wanted) {
      const started = performance.now();
      const image = new Uint8Array(readFileSync(join(config.STYLES_DIR, preset.image)));
      const built = await engine.buildPreset(preset.id, preset.kind, image);
      process.stdout.write(`  ${preset.id.padEnd(34)} ${preset.kind.padEnd(5)} ${String(built.cacheBytes).padStart(9)} bytes  ${(performance.now() - started).toFixed(0)} ms\n`);
    }
  } finally {
    await engine.dispose();
  }
}

export function register(program: Command): void {
  const presets = program.command('presets').description('built-in hair presets (styles/manifest.json)');
  presets
    .command('build')
    .description('compute each built-in preset\'s cache (embeddings, masks, SEAN codes, CLIP) for the installed models')
    .option('--only <id>', 'one preset (id or slug)')
    .action((options: PresetsBuildOptions) => runPresetsBuild(options));
}
