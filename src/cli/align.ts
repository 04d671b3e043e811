import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import sharp from 'sharp';
import { loadConfig } from '../shared/config.js';
import { createLogger } from '../shared/log.js';
import { HairError } from '../shared/errors.js';
import { createSessionManager } from '../pipeline/runtime/ort.js';
import { alignFace, alignFaceOptions, faceModelPaths, faceStageProviders, loadFaceSessions, type AlignedFace } from '../pipeline/front-end.js';
import type { RgbImage } from '../pipeline/engine.js';
import { intake, intakeLimits } from '../pipeline/intake.js';
import { multiply, scale as scaleBy } from '../pipeline/geometry.js';

interface AlignCliOptions {
  output: string;
  json?: boolean;
  modelsDir?: string;
}

const round = (v: number, digits = 3): number => Number(v.toFixed(digits));
const roundPoint = (p: { x: number; y: number }) => ({ x: round(p.x), y: round(p.y) });

/** What `--json` prints: everything but pixels. */
export function alignReport(input: string, output: string, result: AlignedFace, image: RgbImage, original: { width: number; height: number }) {
  const { face } = result;
  // Intake may shrink large photos; the report's coordinates are in the input file's pixels.
  const k = original.width / image.width;
  const up = (p: { x: number; y: number }) => roundPoint({ x: p.x * k, y: p.y * k });
  const transform = multiply(result.transform, scaleBy(1 / k));
  const inverse = multiply(scaleBy(k), result.inverse);
  return {
    input,
    output,
    image: { width: original.width, height: original.height },
    /** The working copy the front-end ran on (intake shrinks large photos; see workingScale). */
    working: { width: image.width, height: image.height },
    size: result.aligned.width,
    facesFound: result.facesFound,
    face: {
      box: { x: round(face.box.x * k), y: round(face.box.y * k), width: round(face.box.width * k), height: round(face.box.height * k) },
      score: round(face.score, 4),
      keypoints: face.keypoints.map(up),
      landmarks: { eyes: face.landmarks.eyes.map(up), mouth: face.landmarks.mouth.map(up) },
      yawDeg: round(face.yawDeg, 2),
    },
    /** 3×3 row-major: input-file pixels → aligned pixels, and back. */
    transform: transform.map((v) => round(v, 9)),
    inverse: inverse.map((v) => round(v, 9)),
    timings: Object.fromEntries(Object.entries(result.timings).map(([k, v]) => [k, round(v, 1)])),
  };
}

export async function runAlign(input: string, options: AlignCliOptions): Promise<void> {
  const config = loadConfig();
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(input);
  } catch (cause) {
    throw new HairError('BAD_IMAGE', {}, { cause, detail: `cannot read ${input}: ${cause instanceof Error ? cause.message : String(cause)}` });
  }
  const logger = createLogger({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, name: 'align', destination: process.stderr, format: config.LOG_FORMAT });
  const manager = createSessionManager(config, { logger });
  try {
    const { image, original } = await intake(bytes, intakeLimits(config));
    const sessions = await loadFaceSessions(manager, faceModelPaths(options.modelsDir ?? config.MODELS_DIR), faceStageProviders(config));
    const result = await alignFace(image, sessions, alignFaceOptions(config));
    const { aligned } = result;
    await sharp(aligned.data, { raw: { width: aligned.width, height: aligned.height, channels: 3 } }).png().toFile(options.output);
    const report = alignReport(input, options.output, result, image, original);
    if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      const [l, r] = report.face.landmarks.eyes;
      process.stdout.write(
        `aligned ${input} → ${options.output} (${report.size}²): ${report.facesFound} face(s), score ${report.face.score}, ` +
          `eyes (${l!.x}, ${l!.y}) (${r!.x}, ${r!.y}), yaw ${report.face.yawDeg}°, ${report.timings['total']} ms\n`,
      );
    }
  } finally {
    await manager.dispose();
  }
}

export function register(program: Command): void {
  program
    .command('align')
    .description('detect the face, find its landmarks and write the FFHQ-aligned square (ALIGN_OUTPUT_SIZE)')
    .argument('<input>', 'photo (JPEG, PNG, WebP, …)')
    .requiredOption('-o, --output <file>', 'aligned PNG to write')
    .option('--json', 'print faces found, box, key points, landmarks, yaw and the transform as JSON')
    .option('--models-dir <dir>', 'models directory (default: MODELS_DIR)')
    .action((input: string, options: AlignCliOptions) => runAlign(input, options));
}
