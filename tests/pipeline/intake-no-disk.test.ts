/**
 * Selfies are biometric data: intake must not write them anywhere. This runs intake in a child process under
 * strace and asserts that not one file is opened or created while it decodes (libvips could spill large images
 * to a temporary file; the sequential, in-memory pipeline must not). Skipped where strace cannot trace.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const straceWorks = spawnSync('strace', ['-qq', '-e', 'trace=openat', 'true'], { stdio: 'ignore' }).status === 0;

const child = `
import { openSync } from 'node:fs';
import sharp from 'sharp';
import { intake } from './src/pipeline/intake.ts';
import { loadAstronaut, resizeToWidth, withExifOrientation, pngWithTransparentLeftHalf } from './tests/helpers/images.ts';
const mark = (name) => { try { openSync('/intake-no-disk-marker-' + name); } catch {} };
const a = await loadAstronaut();
const inputs = [
  await sharp(a).resize(6000, 6000).png({ compressionLevel: 1 }).toBuffer(),
  await withExifOrientation(await resizeToWidth(a, 4000), 6),
  await pngWithTransparentLeftHalf(a),
];
const limits = { maxBytes: 500e6, maxPixels: 40e6, minSide: 128 };
mark('start');
const sizes = [];
for (const bytes of inputs) for (const maxLongSide of [0, 2048]) {
  const r = await intake(bytes, limits, { maxLongSide });
  sizes.push(r.image.width + 'x' + r.image.height);
}
mark('end');
console.log(sizes.join(' '));
`;

describe('intake writes nothing to disk', () => {
  it.runIf(straceWorks)('opens, creates or removes no file while decoding 36 MP, 12 MP EXIF-6 and RGBA images', () => {
    const result = spawnSync(
      'strace',
      ['-f', '-qq', '-e', 'trace=open,openat,openat2,creat,mkdir,mkdirat,rename,renameat,renameat2,unlink,unlinkat,memfd_create',
        process.execPath, '--import', 'tsx', '--input-type=module', '-e', child],
      { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
    );
    expect(result.status, result.stderr.slice(-2000)).toBe(0);
    expect(result.stdout.trim()).toBe('6000x6000 2048x2048 4000x4000 2048x2048 512x512 512x512');
    const lines = result.stderr.split('\n');
    const start = lines.findIndex((l) => l.includes('intake-no-disk-marker-start'));
    const end = lines.findIndex((l) => l.includes('intake-no-disk-marker-end'));
    expect(start).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const fileCalls = lines
      .slice(start + 1, end)
      .filter((l) => /\b(open|openat|openat2|creat|mkdir|mkdirat|rename|renameat2?|unlink|unlinkat|memfd_create)\(/.test(l));
    expect(fileCalls).toEqual([]);
  });
});
