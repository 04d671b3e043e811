/**
 * What this machine's onnxruntime can do at best on the op that dominates HairFastGAN's time: single 3×3
 * convolutions at the channel/resolution pairs of its decoders (each 9.66 GMAC), run through a session made like
 * every other (`SessionManager`: graphOptimizationLevel all, so onnxruntime's NCHWc kernels on the CPU). The best
 * rate is the ceiling a graph's own GMAC/s is read against, and GMAC ÷ ceiling is the floor of a request's kernels.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OnnxGraph } from '../src/model-build/onnx-graph.js';
import type { SessionManager } from '../src/pipeline/runtime/ort.js';
import { median } from './stats.js';

export interface ConvRate {
  shape: string;
  gmac: number;
  /** Median of the timed runs, ms. */
  ms: number;
  gmacPerS: number;
}

const SHAPES = [
  { channels: 512, size: 64 },
  { channels: 128, size: 256 },
  { channels: 64, size: 512 },
] as const;

function convGraph(channels: number, size: number): Uint8Array {
  const g = new OnnxGraph('conv3x3');
  g.input('x', 'float32', [1, channels, size, size]);
  const weights = new Float32Array(channels * channels * 9).map((_, i) => ((i * 7919) % 97) / 970 - 0.05);
  g.node('Conv', ['x', g.initializer('w', weights, [channels, channels, 3, 3])], ['y'], { pads: [1, 1, 1, 1] });
  g.output('y', 'float32', [1, channels, size, size]);
  return g.toBytes({ opset: 17 });
}

export async function measureConvCeiling(manager: SessionManager, runs = 5): Promise<ConvRate[]> {
  const dir = mkdtempSync(join(tmpdir(), 'conv-ceiling-'));
  const rates: ConvRate[] = [];
  try {
    for (const { channels, size } of SHAPES) {
      const file = join(dir, `conv_${channels}_${size}.onnx`);
      writeFileSync(file, convGraph(channels, size));
      const dims = [1, channels, size, size];
      const session = await manager.load(`ceiling/conv_${channels}_${size}`, file, {
        inputs: [{ name: 'x', dtype: 'float32', shape: dims }],
        outputs: [{ name: 'y', dtype: 'float32', shape: dims }],
      });
      const x = { dtype: 'float32' as const, data: new Float32Array(channels * size * size).fill(0.5), dims };
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await manager.run(session, { x });
        times.push(performance.now() - t0);
      }
      await manager.release(session);
      const gmac = (channels * channels * 9 * size * size) / 1e9;
      const ms = median(times);
      rates.push({ shape: `3×3 conv ${channels}→${channels} at ${size}²`, gmac, ms, gmacPerS: gmac / (ms / 1000) });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rates;
}
