import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

/**
 * Builds the images of the built-in catalog from the one public-domain portrait shipped with the project
 * (tests/fixtures/astronaut.png, NASA, via Debian python3-skimage). Colour presets are the same photo with the
 * hair recoloured procedurally: a soft mask (head ellipse minus face ellipse, saturated pixels only — the grey
 * backdrop stays) and a new hue/chroma at the original luminance. They are synthetic; styles/README.md says so.
 * Run: `npx tsx tools/styles/make-styles.ts` (deterministic: same input, same PNG bytes).
 */
const SOURCE = 'tests/fixtures/astronaut.png';
const OUT = 'styles';

/** Target hair colours, linear mix weights applied on the original luminance. */
const COLORS: Record<string, [number, number, number]> = {
  copper: [1.45, 0.72, 0.38],
  platinum: [1.2, 1.18, 1.1],
  'jet-black': [0.32, 0.3, 0.32],
  rose: [1.35, 0.62, 0.85],
};

function inEllipse(x: number, y: number, cx: number, cy: number, rx: number, ry: number): number {
  return ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
}

async function main(): Promise<void> {
  const { data, info } = await sharp(SOURCE).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const { width, height } = info;
  const mask = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const r = data[i]!, g = data[i + 1]!, b = data[i + 2]!;
      const head = inEllipse(x, y, 226, 92, 80, 82);
      const face = inEllipse(x, y, 226, 138, 50, 52);
      const chroma = Math.max(r, g, b) - Math.min(r, g, b);
      const soft = Math.min(1, Math.max(0, (1 - head) * 6)) * Math.min(1, Math.max(0, (face - 1) * 4));
      mask[y * width + x] = y < 165 ? soft * Math.min(1, Math.max(0, (chroma - 28) / 20)) : 0;
    }
  }
  await sharp(data, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 9 }).toFile(join(OUT, 'astronaut.png'));
  await sharp(data, { raw: { width, height, channels: 3 } }).flop().png({ compressionLevel: 9 }).toFile(join(OUT, 'astronaut-mirrored.png'));
  for (const [name, [kr, kg, kb]] of Object.entries(COLORS)) {
    const out = Buffer.from(data);
    for (let p = 0; p < width * height; p++) {
      const m = mask[p]!;
      if (m === 0) continue;
      const i = p * 3;
      const lum = 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
      const target = [lum * kr, lum * kg, lum * kb];
      for (let c = 0; c < 3; c++) out[i + c] = Math.round(Math.min(255, data[i + c]! * (1 - m) + target[c]! * m));
    }
    writeFileSync(join(OUT, `color-${name}.png`), await sharp(out, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 9 }).toBuffer());
  }
}

await main();
