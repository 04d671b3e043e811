import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { chromium, type Browser, type LaunchOptions } from 'playwright-core';
import { createTryOnEngine } from '../../src/pipeline/index.js';
import type { TryOnEngine } from '../../src/pipeline/engine.js';
import { loadConfig, type Config } from '../../src/shared/config.js';
import { startStudio, type RunningStudio } from '../../src/studio/start-studio.js';
import { capturedLogger } from './worker-harness.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const FIXTURES = new URL('../fixtures/', import.meta.url);
export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'studio');

/**
 * Debian's Chromium through playwright-core (no browser download), with the fake camera fed `y4m` when given and
 * camera permission granted. One per test file.
 */
export async function launchChromium(options: { y4m?: string } = {}): Promise<Browser> {
  const args = ['--no-sandbox', '--disable-dev-shm-usage', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'];
  if (options.y4m) args.push(`--use-file-for-fake-video-capture=${options.y4m}`);
  const launch: LaunchOptions = { executablePath: CHROMIUM, args, headless: true };
  return await chromium.launch(launch);
}

/**
 * A photo as a one-frame-per-second Y4M video (raw I420, BT.601 full range), what Chromium's fake camera plays.
 * The frame is the photo letterboxed into 640×480.
 */
export async function photoToY4m(photo: string | Buffer, path = join(tmpdir(), `studio-camera-${process.pid}.y4m`)): Promise<string> {
  const width = 640;
  const height = 480;
  const { data } = await sharp(photo)
    .resize(width, height, { fit: 'contain', background: { r: 40, g: 40, b: 40 } })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const y = Buffer.alloc(width * height);
  const u = Buffer.alloc((width / 2) * (height / 2));
  const v = Buffer.alloc((width / 2) * (height / 2));
  for (let row = 0; row < height; row += 1) {
    for (let col = 0; col < width; col += 1) {
      const i = (row * width + col) * 3;
      const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
      y[row * width + col] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    }
  }
  for (let row = 0; row < height / 2; row += 1) {
    for (let col = 0; col < width / 2; col += 1) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) {
        const i = ((row * 2 + dy) * width + col * 2 + dx) * 3;
        r += data[i]!;
        g += data[i + 1]!;
        b += data[i + 2]!;
      }
      [r, g, b] = [r / 4, g / 4, b / 4];
      const clamp = (x: number) => Math.max(0, Math.min(255, Math.round(x)));
      u[row * (width / 2) + col] = clamp(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
      v[row * (width / 2) + col] = clamp(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
    }
  }
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, u, v]);
  writeFileSync(path, Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F1:1 Ip A1:1 C420jpeg\n`), frame, frame]));
  return path;
}

export interface TestStudio {
  studio: RunningStudio;
  config: Readonly<Config>;
  logLines: string[];
  engine?: TryOnEngine;
  close(): Promise<void>;
}

/** The studio on a free loopback port; in-process with its own engine unless `queue` (the caller runs workers). */
export async function startTestStudio(kind: 'in-process' | 'queue', env: Record<string, string> = {}): Promise<TestStudio> {
  const config = loadConfig({ env: { STUDIO_PORT: '0', HAIR_EP: 'cpu', LOG_LEVEL: 'debug', ...env } });
  const { logger, lines: logLines } = capturedLogger('studio-test');
  const engine = kind === 'in-process' ? await createTryOnEngine(config, { logger }) : undefined;
  const studio = await startStudio(config, { logger, engine: engine ? { kind: 'in-process', engine } : { kind: 'queue' } });
  return {
    studio, config, logLines, ...(engine ? { engine } : {}),
    async close() {
      await studio.close();
      await engine?.dispose();
    },
  };
}

export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}
