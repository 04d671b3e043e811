/**
 * What the pipeline thread buys a worker: cached-preset try-ons with PIPELINE_THREAD=off (the engine on this thread)
 * and =on (its own thread), each engine loaded alone, same graphs (HAIR_SWAP as set, default `on` here so both run
 * the same ones). Prints the try-on median and, per side, how long this thread's event loop stood still — the
 * longest stall is what a BullMQ lock renewal waits, against half of WORKER_LOCK_DURATION_MS — and their ratios.
 * Run: `npm run bench:engine-thread`; MODELS_DIR picks the graphs (e.g. a `--random-weights` export), BENCH_RUNS (3),
 * BENCH_WARMUP (1).
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { loadConfig } from '../src/shared/config.js';
import type { TryOnEngine, TryOnRequest } from '../src/pipeline/engine.js';
import { createPipelineEngine } from '../src/pipeline/engine-thread/index.js';
import { eventLoopStalls, median } from './stats.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 1);

interface Side { label: string; totalMs: number; heldMs: number; longestMs: number; loadMs: number }

async function measure(label: string, engine: TryOnEngine, request: TryOnRequest): Promise<Side> {
  for (let i = 0; i < WARMUP; i++) await engine.tryOn(request);
  const totals: number[] = [];
  const held: number[] = [];
  let longestMs = 0;
  for (let i = 0; i < RUNS; i++) {
    let total = 0;
    const stalls = await eventLoopStalls(async () => { total = (await engine.tryOn(request)).timings['total']!; });
    totals.push(total);
    held.push(stalls.heldMs);
    longestMs = Math.max(longestMs, stalls.longestMs);
  }
  const side = { label, totalMs: median(totals), heldMs: median(held), longestMs, loadMs: engine.info.loadMs };
  process.stdout.write(`  ${label.padEnd(22)} try-on ${side.totalMs.toFixed(0).padStart(7)} ms   event loop held ${side.heldMs.toFixed(0).padStart(7)} ms (median per try-on), longest stall ${longestMs.toFixed(0).padStart(7)} ms   load ${side.loadMs.toFixed(0)} ms\n`);
  return side;
}

async function main(): Promise<void> {
  const env = { ...process.env, HAIR_EP: process.env['HAIR_EP'] ?? 'cpu', HAIR_SWAP: process.env['HAIR_SWAP'] ?? 'on', LOG_LEVEL: 'silent' };
  const selfie = new Uint8Array(readFileSync('tests/fixtures/astronaut.png'));
  const request: TryOnRequest = { selfie, shape: { presetId: 'builtin:short-layered-mirrored' }, color: { presetId: 'builtin:copper' }, pasteBack: true };
  process.stdout.write(`engine-thread bench: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), HAIR_SWAP=${env.HAIR_SWAP}, ${RUNS} runs after ${WARMUP} warm-up, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  const sides: Side[] = [];
  for (const thread of ['off', 'on'] as const) {
    const config = loadConfig({ env: { ...env, PIPELINE_THREAD: thread } });
    const engine = await createPipelineEngine(config);
    try {
      if (thread === 'off') process.stdout.write(`  graphs: ${engine.info.modelKind} ${engine.info.precision} on ${engine.info.executionProvider}\n`);
      sides.push(await measure(`PIPELINE_THREAD=${thread}`, engine, request));
    } finally {
      await engine.dispose();
    }
  }
  const [off, on] = sides as [Side, Side];
  const lockHalf = loadConfig({ env }).WORKER_LOCK_DURATION_MS / 2;
  process.stdout.write(`  ratios (off / on): try-on ${(off.totalMs / on.totalMs).toFixed(2)}×, event loop held ${(off.heldMs / Math.max(on.heldMs, 1)).toFixed(1)}×, longest stall ${(off.longestMs / Math.max(on.longestMs, 1)).toFixed(1)}×\n`);
  process.stdout.write(`  longest stall vs half the job lock (${lockHalf} ms): off ${(off.longestMs / lockHalf).toFixed(2)}, on ${(on.longestMs / lockHalf).toFixed(2)}\n`);
}

await main();
