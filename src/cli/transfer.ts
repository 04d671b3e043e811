import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import sharp from 'sharp';
import { loadConfig } from '../shared/config.js';
import { HairError } from '../shared/errors.js';
import { createLogger } from '../shared/log.js';
import { builtinPresetId, isPresetId, PRESET_SLUG } from '../shared/presets.js';
import { createAlignedTransfer } from '../pipeline/aligned-transfer.js';
import type { HairReference, RgbImage } from '../pipeline/engine.js';
import { preferSwap } from '../pipeline/hairfast/graphs.js';
import { createTryOnEngine } from '../pipeline/index.js';

interface TransferCliOptions {
  face: string;
  shape?: string;
  color?: string;
  output: string;
  pasteBack?: boolean;
  aligned?: boolean;
  rawOut?: string;
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
  if (PRESET_SLUG.test(value)) return { presetId: builtinPresetId(value) };
  throw new HairError('PRESET_NOT_FOUND', { name: value }, { detail: `${value} is neither a preset id nor a readable file` });
}

/** An already aligned 1024² crop, decoded to packed RGB exactly as stored (no resizing, no alpha). */
async function readAligned(path: string): Promise<RgbImage> {
  const bytes = readImage(path);
  let decoded: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    decoded = await sharp(bytes).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (cause) {
    throw new HairError('BAD_IMAGE', {}, { cause, detail: `cannot decode ${path}: ${cause instanceof Error ? cause.message : String(cause)}` });
  }
  const { data, info } = decoded;
  if (info.width !== 1024 || info.height !== 1024 || info.channels !== 3) {
    throw new HairError('BAD_IMAGE', {}, { detail: `--aligned needs 1024×1024 aligned crops; ${path} is ${info.width}×${info.height}×${info.channels}` });
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: 1024, height: 1024 };
}

const msOf = (timings: Record<string, number>) => Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Number(v.toFixed(1))]));

async function writePng(image: RgbImage, file: string): Promise<void> {
  await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).png().toFile(file);
}

/** `--aligned`: the images are the aligned inputs of HairFastGAN; the face front-end never runs. */
async function runAlignedTransfer(options: TransferCliOptions, command: Command): Promise<void> {
  for (const role of ['shape', 'color'] as const) {
    const value = options[role];
    if (value !== undefined && !existsSync(value)) {
      const message = `error: --aligned takes aligned image files; --${role} ${value} is not a file (presets need the face front-end)`;
      command.error(message, { exitCode: 2, code: 'hairstyler.aligned' });
    }
  }
  const face = await readAligned(options.face);
  const shape = options.shape ? await readAligned(options.shape) : undefined;
  const color = options.color ? await readAligned(options.color) : undefined;
  const config = preferSwap(loadConfig());
  const logger = createLogger({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, name: 'transfer', destination: process.stderr, format: config.LOG_FORMAT });
  const transfer = await createAlignedTransfer(config, { logger });
  try {
    process.stderr.write(`hairfast: ${transfer.info.modelKind} ${transfer.info.precision} graphs on ${transfer.info.executionProvider} (loaded in ${transfer.info.loadMs.toFixed(0)} ms), aligned inputs\n`);
    const result = await transfer.run({ face, ...(shape ? { shape } : {}), ...(color ? { color } : {}) });
    await writePng(result.image, options.output);
    // Little-endian float32 NCHW [1,3,1024,1024], as the graph returned it.
    if (options.rawOut) writeFileSync(options.rawOut, new Uint8Array(result.image01.buffer, result.image01.byteOffset, result.image01.byteLength));
    const ms = msOf(result.timings);
    if (options.json) {
      process.stdout.write(`${JSON.stringify({
        output: options.output, ...(options.rawOut ? { rawOut: options.rawOut } : {}), width: result.image.width, height: result.image.height,
        aligned: true, modelKind: transfer.info.modelKind, precision: transfer.info.precision, executionProvider: transfer.info.executionProvider, loadMs: Math.round(transfer.info.loadMs),
        graphRuns: result.graphRuns, timings: ms,
      }, null, 2)}\n`);
    } else {
      process.stdout.write(`transfer ${options.face} (aligned) → ${options.output} (1024×1024, ${transfer.info.modelKind} graphs, ${ms['total']} ms)\n`);
    }
  } finally {
    await transfer.dispose();
  }
}

export async function runTransfer(options: TransferCliOptions, command: Command): Promise<void> {
  if (!options.shape && !options.color) throw new HairError('NEED_SHAPE_OR_COLOR');
  if (options.aligned) return runAlignedTransfer(options, command);
  if (options.rawOut) {
    const message = 'error: --raw-out needs --aligned (the float result is the 1024² aligned square)';
    command.error(message, { exitCode: 2, code: 'hairstyler.raw-out' });
  }
  const config = preferSwap(loadConfig());
  const selfie = readImage(options.face);
  const shape = options.shape ? parseReference(options.shape) : undefined;
  const color = options.color ? parseReference(options.color) : undefined;
  const logger = createLogger({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, name: 'transfer', destination: process.stderr, format: config.LOG_FORMAT });
  const engine = await createTryOnEngine(config, { logger });
  try {
    process.stderr.write(`hairfast: ${engine.info.modelKind} ${engine.info.precision} graphs on ${engine.info.executionProvider} (loaded in ${engine.info.loadMs.toFixed(0)} ms)\n`);
    const result = await engine.tryOn({ selfie, ...(shape ? { shape } : {}), ...(color ? { color } : {}), pasteBack: options.pasteBack === true });
    const { image } = result;
    await writePng(image, options.output);
    const ms = msOf(result.timings);
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
    .requiredOption('--face <image>', 'the photo whose face is kept (a raw photo through the face front-end, or an aligned crop with --aligned)')
    .option('--shape <preset|image>', 'hair shape: a preset id (builtin:<slug>), a built-in slug, or a photo')
    .option('--color <preset|image>', 'hair colour: a preset id, a built-in slug, or a photo')
    .requiredOption('-o, --output <file>', 'PNG to write')
    .option('--paste-back', 'put the result back into the original photo (its size) instead of the 1024² aligned square')
    .addOption(new Option('--aligned', 'face/shape/color are already aligned 1024² crops (image files): skip the face front-end')
      .conflicts('pasteBack'))
    .option('--raw-out <file.f32>', 'with --aligned: also write the unrounded result, float32 NCHW [1,3,1024,1024] in [0,1], little-endian')
    .option('--json', 'print model kind, graph runs and timings as JSON')
    .action((options: TransferCliOptions, command: Command) => runTransfer(options, command));
}
