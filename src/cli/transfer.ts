import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import sharp from 'sharp';
import { loadConfig } from '../shared/config.js';
import { HairError } from '../shared/errors.js';
import { createLogger } from '../shared/log.js';
import { isPresetId } from '../shared/presets.js';
import type { HairReference } from '../pipeline/engine.js';
import { createTryOnEngine } from '../pipeline/index.js';

interface TransferCliOptions {
  face: string;
  shape?: string;
  color?: string;
  output: string;
  pasteBack?: boolean;
  json?: boolean;
}

function readImage(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (cause) {
    throw new HairError('BAD_IMAGE', {}, { cause, detail: `cannot read ${path}: ${cause instanceof Error ? cause.message : String(cause)}` });
  }
}

/** `builtin:copper`, `copper` (a built-in slug) or a photo path. A file that exists wins over a slug. */
export function parseReference(value: string): HairReference {
  if (isPresetId(value)) return { presetId: value };
  if (existsSync(value)) return { image: readImage(value) };
  if (/^[a-z0-9][a-z0-9-]{0,39}$/.test(value)) return { presetId: `builtin:${value}` };
  throw new HairError('PRESET_NOT_FOUND', { preset: value }, { detail: `${value} is neither a preset id nor a readable file` });
}

export async function runTransfer(options: TransferCliOptions): Promise<void> {
  if (!options.shape && !options.color) throw new HairError('NEED_SHAPE_OR_COLOR');
  const config = loadConfig();
  const selfie = readImage(options.face);
  const shape = options.shape ? parseReference(options.shape) : undefined;
  const color = options.color ? parseReference(options.color) : undefined;
  const logger = createLogger({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, name: 'transfer', destination: process.stderr });
  const engine = await createTryOnEngine(config, { logger });
  try {
    process.stderr.write(`hairfast: ${engine.info.modelKind} graphs on ${engine.info.executionProvider} (loaded in ${engine.info.loadMs.toFixed(0)} ms)\n`);
    const result = await engine.tryOn({ selfie, ...(shape ? { shape } : {}), ...(color ? { color } : {}), pasteBack: options.pasteBack === true });
    const { image } = result;
    await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).png().toFile(options.output);
    const ms = Object.fromEntries(Object.entries(result.timings).map(([k, v]) => [k, Number(v.toFixed(1))]));
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ output: options.output, width: image.width, height: image.height, modelKind: result.modelKind, executionProvider: engine.info.executionProvider, graphRuns: result.graphRuns, timings: ms }, null, 2)}\n`);
    } else {
      process.stdout.write(`transfer ${options.face} → ${options.output} (${image.width}×${image.height}, ${result.modelKind} graphs, ${ms['total']} ms)\n`);
    }
  } finally {
    await engine.dispose();
  }
}

export function register(program: Command): void {
  program
    .command('transfer')
    .description('HairFastGAN hair transfer: the face photo with the hair shape and/or colour of a preset or photo')
    .requiredOption('--face <image>', 'the photo whose face is kept (raw photo; it goes through the face front-end)')
    .option('--shape <preset|image>', 'hair shape: a preset id (builtin:<slug>), a built-in slug, or a photo')
    .option('--color <preset|image>', 'hair colour: a preset id, a built-in slug, or a photo')
    .requiredOption('-o, --output <file>', 'PNG to write')
    .option('--paste-back', 'put the result back into the original photo (its size) instead of the 1024² aligned square')
    .option('--json', 'print model kind, graph runs and timings as JSON')
    .action((options: TransferCliOptions) => runTransfer(options));
}
