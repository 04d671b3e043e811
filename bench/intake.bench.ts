/**
 * Intake of a 12 MP phone photo (4000×3000 JPEG, ~photo-like noise), with and without the working copy.
 * Prints medians; not a test. Run: npx tsx bench/intake.bench.ts [iterations]
 */
import { loadavg } from 'node:os';
import sharp from 'sharp';
import { intake } from '../src/pipeline/intake.js';
import { loadAstronaut, sideBySide, withExifOrientation } from '../tests/helpers/images.js';
import { median } from './stats.js';

const iterations = Number(process.argv[2] ?? 15);
const limits = { maxBytes: 10 * 1024 * 1024, maxPixels: 40_000_000, minSide: 128 };

async function phonePhoto(): Promise<Buffer> {
  const { data, info } = await sharp(await sideBySide(await loadAstronaut()))
    .resize(4000, 3000, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  // Sensor-like noise so the JPEG has a phone photo's entropy, not an upscaled image's.
  let seed = 12345;
  for (let i = 0; i < data.length; i += 1) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    data[i] = Math.max(0, Math.min(255, data[i]! + ((seed >> 16) % 17) - 8));
  }
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

/**
 * Runs every variant once per round (so machine load hits them alike). Returns each one's median wall time and
 * median process CPU time (user + system, all libvips threads included), in ms: on a shared machine the CPU
 * time is the steadier number.
 */
async function interleavedMedians(variants: [string, () => Promise<unknown>][]): Promise<Map<string, { wall: number; cpu: number }>> {
  for (const [, run] of variants) await run();
  const wall = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  const cpu = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let i = 0; i < iterations; i += 1) {
    for (const [name, run] of variants) {
      const startCpu = process.cpuUsage();
      const start = performance.now();
      await run();
      wall.get(name)!.push(performance.now() - start);
      const used = process.cpuUsage(startCpu);
      cpu.get(name)!.push((used.user + used.system) / 1000);
    }
  }
  return new Map(variants.map(([name]) => [name, { wall: median(wall.get(name)!), cpu: median(cpu.get(name)!) }]));
}

const photo = await phonePhoto();
// Both through the same re-encode, so they differ only in the orientation tag and the stored layout.
const landscape = await withExifOrientation(photo, 1);
const portrait = await withExifOrientation(photo, 6);
const mb = (b: Uint8Array) => (b.length / 1024 / 1024).toFixed(2);
console.log(`12 MP JPEG 4000x3000: EXIF 1 ${mb(landscape)} MB, EXIF 6 (stored 3000x4000) ${mb(portrait)} MB`);
console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, sharp.concurrency ${sharp.concurrency()}, ${iterations} rounds`);

const variants: [string, Uint8Array, number][] = [
  ['EXIF 1, full size (maxLongSide 0)', landscape, 0],
  ['EXIF 1, working copy (default 2048)', landscape, 2048],
  ['EXIF 1, working copy 1024', landscape, 1024],
  ['EXIF 6, full size (maxLongSide 0)', portrait, 0],
  ['EXIF 6, working copy (default 2048)', portrait, 2048],
];
const medians = await interleavedMedians(
  variants.map(([name, bytes, maxLongSide]) => [name, () => intake(bytes, limits, { maxLongSide })]),
);
for (const [name, { wall, cpu }] of medians) {
  console.log(`${name.padEnd(46)} median wall ${wall.toFixed(1).padStart(6)} ms   cpu ${cpu.toFixed(1).padStart(6)} ms`);
}
const ratio = (a: string, b: string) =>
  `wall ${(medians.get(a)!.wall / medians.get(b)!.wall).toFixed(2)}, cpu ${(medians.get(a)!.cpu / medians.get(b)!.cpu).toFixed(2)}`;
console.log(`full / working copy, EXIF 1: ${ratio(variants[0]![0], variants[1]![0])}`);
console.log(`full / working copy, EXIF 6: ${ratio(variants[3]![0], variants[4]![0])}`);
