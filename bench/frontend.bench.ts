/**
 * Face front-end speed per stage: medians of intake (decode), detect, landmarks, align and paste-back for
 * astronaut.png, for a 12 MP (4000×3000) phone-like JPEG made from it and for a 6000×1000 panorama (tiled
 * detection). Goal: the whole front-end ≤ 100 ms for 12 MP on a 2-core box. Also compares the aligner's own
 * bilinear sampler with sharp's `affine`.
 * BENCH_STAGE_EPS (default HAIR_EP, else cpu), e.g. `cpu,cuda`: the two ONNX stages (detect, landmarks) run on each
 * provider in turn, and the stages a GPU provider runs faster are printed as FACE_DETECT_EP / FACE_LANDMARKS_EP
 * lines. Decode, align and paste-back are sharp and JS on the CPU whatever the provider.
 * Run: `npm run bench:frontend`.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import sharp from 'sharp';
import { loadConfig } from '../src/shared/config.js';
import { intake, intakeLimits } from '../src/pipeline/intake.js';
import { createSessionManager } from '../src/pipeline/runtime/ort.js';
import { alignFace, alignFaceOptions, faceModelPaths, loadFaceSessions } from '../src/pipeline/front-end.js';
import { alignFfhq } from '../src/pipeline/align-ffhq.js';
import { pasteBack } from '../src/pipeline/paste-back.js';
import type { ExecutionProvider } from '../src/pipeline/runtime/ort.js';
import type { RgbImage } from '../src/pipeline/engine.js';
import { median } from './stats.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 15);
const WARMUP = 3;

/** 4000×3000 JPEG: the astronaut scaled to 3000² and mirrored out to 4:3, like a phone photo of a person. */
async function phonePhoto(astronaut: Buffer): Promise<Buffer> {
  const square = await sharp(astronaut).resize(3000, 3000, { kernel: 'lanczos3' }).toBuffer();
  return sharp(square).extend({ left: 500, right: 500, extendWith: 'mirror' }).jpeg({ quality: 90, chromaSubsampling: '4:2:0' }).toBuffer();
}

/** 6000×1000 JPEG: the astronaut 600 px wide near the right end of a flat panorama (its face is ~120 px). */
async function panorama(astronaut: Buffer): Promise<Buffer> {
  const person = await sharp(astronaut).resize(600).toBuffer();
  return sharp({ create: { width: 6000, height: 1000, channels: 3, background: '#6a7a70' } })
    .composite([{ input: person, left: 4200, top: 200 }])
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** sharp's affine renders the whole transformed bounding box; the aligned square is cut from it afterwards. */
async function sharpAlign(image: RgbImage, t: readonly number[], size: number): Promise<number> {
  const started = performance.now();
  const corners = [[0, 0], [image.width, 0], [0, image.height], [image.width, image.height]].map(([x, y]) => ({
    x: t[0]! * x! + t[1]! * y!,
    y: t[3]! * x! + t[4]! * y!,
  }));
  const minX = Math.min(...corners.map((c) => c.x));
  const minY = Math.min(...corners.map((c) => c.y));
  const full = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .affine([t[0]!, t[1]!, t[3]!, t[4]!], { interpolator: sharp.interpolators.bilinear })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const left = Math.max(0, Math.round(t[2]! - minX));
  const top = Math.max(0, Math.round(t[5]! - minY));
  await sharp(full.data, { raw: { width: full.info.width, height: full.info.height, channels: 3 } })
    .extract({ left, top, width: Math.min(size, full.info.width - left), height: Math.min(size, full.info.height - top) })
    .raw()
    .toBuffer();
  return performance.now() - started;
}

const EPS = [...new Set((process.env['BENCH_STAGE_EPS'] ?? process.env['HAIR_EP'] ?? 'cpu').split(',').map((e) => e.trim()))] as ExecutionProvider[];

async function main(): Promise<void> {
  const byEp = new Map<string, Map<string, { detect: number; landmarks: number }>>();
  for (const ep of EPS) byEp.set(ep, await benchOn(ep));
  if (EPS.length > 1) {
    const [base, ...others] = EPS;
    process.stdout.write(`\nONNX stages per provider, medians in ms (${EPS.join(' | ')})\n`);
    const inputs = [...byEp.get(base!)!.keys()];
    for (const input of inputs) {
      const cells = (k: 'detect' | 'landmarks') => EPS.map((ep) => byEp.get(ep)!.get(input)![k].toFixed(1)).join(' | ');
      process.stdout.write(`  ${input.padEnd(48)} detect ${cells('detect')}   landmarks ${cells('landmarks')}\n`);
    }
    // The worker's default input (the intake's working copy) decides.
    const input = inputs[1] ?? inputs[0]!;
    for (const ep of others) {
      for (const [stage, setting] of [['detect', 'FACE_DETECT_EP'], ['landmarks', 'FACE_LANDMARKS_EP']] as const) {
        const a = byEp.get(base!)!.get(input)![stage];
        const b = byEp.get(ep)!.get(input)![stage];
        process.stdout.write(`  ${setting}: ${ep} ${b.toFixed(1)} ms vs ${base} ${a.toFixed(1)} ms on "${input}" → ${b < a ? `${ep} is faster: set ${setting}=${ep}` : `keep ${base}`}\n`);
      }
    }
  }
}

async function benchOn(ep: ExecutionProvider): Promise<Map<string, { detect: number; landmarks: number }>> {
  const config = loadConfig({ env: { ...process.env, HAIR_EP: ep } });
  const manager = createSessionManager(config);
  const sessions = await loadFaceSessions(manager, faceModelPaths(config.MODELS_DIR));
  const options = alignFaceOptions(config);
  const astronaut = readFileSync('tests/fixtures/astronaut.png');
  const inputs: Array<[string, Buffer, number | undefined]> = [
    ['astronaut 512² PNG', astronaut, undefined],
    ['12 MP JPEG, intake maxLongSide 2048 (default)', await phonePhoto(astronaut), undefined],
    ['12 MP JPEG, intake maxLongSide 0 (full size)', await phonePhoto(astronaut), 0],
    // Elongated: the detector runs on 18 tiles (two levels) instead of the whole frame once.
    ['6000×1000 panorama JPEG, face ~120 px (tiled)', await panorama(astronaut), undefined],
  ];
  process.stdout.write(`front-end bench: ${cpus().length} CPU(s) (${cpus()[0]?.model ?? '?'}), EP ${sessions.detector.ep}, ${RUNS} runs after ${WARMUP} warm-up, medians in ms\n`);
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
  process.stdout.write(`note: the machine may be shared with other processes; load average before: ${load()}\n\n`);
  const header = ['input', 'working', 'intake', 'detect', 'landmarks', 'align', 'total', 'paste-back', 'sharp affine'];
  const rows: string[][] = [];
  const onnxStages = new Map<string, { detect: number; landmarks: number }>();
  for (const [name, bytes, maxLongSide] of inputs) {
    const stage: Record<string, number[]> = { intake: [], detect: [], landmarks: [], align: [], total: [], pasteBack: [], sharpAffine: [] };
    let working = '';
    for (let i = 0; i < WARMUP + RUNS; i++) {
      const t0 = performance.now();
      const { image } = await intake(bytes, intakeLimits(config), maxLongSide === undefined ? {} : { maxLongSide });
      const t1 = performance.now();
      const result = await alignFace(image, sessions, options);
      const t2 = performance.now();
      working = `${image.width}×${image.height}`;
      if (i < WARMUP) continue;
      stage['intake']!.push(t1 - t0);
      stage['detect']!.push(result.timings.detect);
      stage['landmarks']!.push(result.timings.landmarks);
      stage['align']!.push(result.timings.align);
      stage['total']!.push(t2 - t0);
      // Paste-back of the aligned crop itself into the working image (the try-on pastes its result the same way).
      const t3 = performance.now();
      pasteBack({ photo: image, result: result.aligned, transform: result.transform, inverse: result.inverse, alignedSize: result.aligned.width });
      stage['pasteBack']!.push(performance.now() - t3);
      if (i < WARMUP + 5) {
        // Same geometry through sharp, for the sampler choice (fewer runs: it is slow on big inputs).
        alignFfhq(image, result.face.landmarks, { size: options.outputSize });
        stage['sharpAffine']!.push(await sharpAlign(image, result.transform, options.outputSize));
      }
    }
    const fmt = (k: string) => median(stage[k]!).toFixed(1);
    rows.push([name, working, fmt('intake'), fmt('detect'), fmt('landmarks'), fmt('align'), fmt('total'), fmt('pasteBack'), fmt('sharpAffine')]);
    onnxStages.set(name, { detect: median(stage['detect']!), landmarks: median(stage['landmarks']!) });
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(`${line(header)}\n${rows.map(line).join('\n')}\n`);
  process.stdout.write(`\nload average after: ${load()}\n`);
  process.stdout.write('total = intake + detect + landmarks + align (own sampler); paste-back = the aligned crop pasted into the working image; "sharp affine" = the align step done with sharp instead\n');
  await manager.dispose();
  return onnxStages;
}

await main();
