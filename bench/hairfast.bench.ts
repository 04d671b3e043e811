/**
 * HairFastGAN runtime speed on whichever graphs are installed in MODELS_DIR/hairfast (contract, random or
 * official; HAIR_EP picks the provider): per-graph and end-to-end medians for each mode, with the presets served
 * from their cache vs computed in the request (a store that always misses). Where a command for the official
 * code is given (HAIRFAST_OFFICIAL_CMD: prints the median ms of `HairFast.swap` on the same inputs, e.g.
 * tools/hairfast-export's parity runner), its median is printed as a ratio. Run: `npm run bench:hairfast`.
 * Knobs: BENCH_RUNS (9), BENCH_WARMUP (2), BENCH_MODES (shape,color,both,"both, one preset"), BENCH_12MP=0 skips
 * the 12 MP paste-back case; MODELS_DIR picks the graphs (e.g. a `--random-weights` export).
 */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import sharp from 'sharp';
import { loadConfig } from '../src/shared/config.js';
import type { PresetCacheStore, TryOnRequest, TryOnResult } from '../src/pipeline/engine.js';
import { createTryOnEngine } from '../src/pipeline/index.js';
import { createSessionManager } from '../src/pipeline/runtime/ort.js';
import { median } from './stats.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 9);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 2);
/** Comma-separated subset of the modes below (default: all), e.g. `both` for the heavy real-architecture graphs. */
const MODES = process.env['BENCH_MODES']?.split(',').map((m) => m.trim());

const MISSING: PresetCacheStore = { get: async () => null, set: async () => undefined, delete: async () => undefined };

async function measure(label: string, run: () => Promise<TryOnResult>): Promise<Map<string, number>> {
  for (let i = 0; i < WARMUP; i++) await run();
  const samples = new Map<string, number[]>();
  for (let i = 0; i < RUNS; i++) {
    const r = await run();
    for (const [k, v] of Object.entries(r.timings)) samples.set(k, [...(samples.get(k) ?? []), v]);
  }
  const medians = new Map([...samples].map(([k, v]) => [k, median(v)]));
  process.stdout.write(`  ${label.padEnd(44)} total ${medians.get('total')!.toFixed(1).padStart(8)} ms  (hairfast ${medians.get('hairfast')!.toFixed(1)}, references ${(medians.get('references') ?? 0).toFixed(1)})\n`);
  return medians;
}

async function main(): Promise<void> {
  const config = loadConfig({ env: { ...process.env, HAIR_EP: process.env['HAIR_EP'] ?? 'cpu', LOG_LEVEL: 'silent', PRESET_CACHE_DIR: process.env['PRESET_CACHE_DIR'] ?? '/tmp/hairstyler-bench-cache' } });
  // One session manager for both engines: the graphs are loaded once (real-architecture graphs are GBs).
  const manager = createSessionManager(config);
  const cached = await createTryOnEngine(config, { manager });
  const uncached = await createTryOnEngine(config, { manager, builtinPresetCache: MISSING, presetCache: MISSING, warm: false });
  const selfie = new Uint8Array(readFileSync('tests/fixtures/astronaut.png'));
  process.stdout.write(`hairfast bench: ${cached.info.modelKind} ${cached.info.precision} graphs on ${cached.info.executionProvider}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${RUNS} runs after ${WARMUP} warm-up, engine load ${cached.info.loadMs.toFixed(0)} ms, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}\n`);
  const modes: Array<[string, Omit<TryOnRequest, 'selfie' | 'pasteBack'>]> = [
    ['shape', { shape: { presetId: 'builtin:short-layered-mirrored' } }],
    ['color', { color: { presetId: 'builtin:copper' } }],
    ['both', { shape: { presetId: 'builtin:short-layered-mirrored' }, color: { presetId: 'builtin:copper' } }],
    ['both, one preset', { shape: { presetId: 'builtin:short-layered' }, color: { presetId: 'builtin:short-layered' } }],
  ];
  const rows: Array<[string, Map<string, number>, Map<string, number>]> = [];
  for (const [name, refs] of modes.filter(([n]) => !MODES || MODES.includes(n))) {
    process.stdout.write(`${name}\n`);
    const hit = await measure('cached preset', () => cached.tryOn({ selfie, ...refs, pasteBack: false }));
    const miss = await measure('preset computed in the request', () => uncached.tryOn({ selfie, ...refs, pasteBack: false }));
    const paste = await measure('cached preset + paste-back', () => cached.tryOn({ selfie, ...refs, pasteBack: true }));
    process.stdout.write(`  cached vs computed: ${(miss.get('total')! / hit.get('total')!).toFixed(2)}× faster; paste-back adds ${(paste.get('pasteBack') ?? 0).toFixed(1)} ms\n`);
    rows.push([name, hit, miss]);
  }
  if (process.env['BENCH_12MP'] !== '0') {
    // A 12 MP phone-like JPEG (the astronaut scaled to 3000² and mirrored out to 4:3): paste-back at full size.
    const square = await sharp('tests/fixtures/astronaut.png').resize(3000, 3000, { kernel: 'lanczos3' }).toBuffer();
    const phone = new Uint8Array(await sharp(square).extend({ left: 500, right: 500, extendWith: 'mirror' }).jpeg({ quality: 90 }).toBuffer());
    process.stdout.write('12 MP photo (4000×3000 JPEG), both, cached presets\n');
    const big = await measure('paste-back at full size', () => cached.tryOn({ selfie: phone, ...modes[2]![1], pasteBack: true }));
    process.stdout.write(`  intake ${big.get('intake')!.toFixed(1)} ms, front-end ${big.get('frontEnd')!.toFixed(1)} ms, paste-back ${big.get('pasteBack')!.toFixed(1)} ms\n`);
  }
  const [shown, hit, miss] = rows.find(([n]) => n === 'both') ?? rows[0]!;
  process.stdout.write(`\nper-graph medians, ms (mode "${shown}"; cached preset | computed in the request)\n`);
  const graphs = [...new Set([...hit.keys(), ...miss.keys()])].filter((k) => k.startsWith('graph.'));
  for (const g of graphs) {
    process.stdout.write(`  ${g.slice(6).padEnd(14)} ${(hit.get(g) ?? 0).toFixed(2).padStart(9)} | ${(miss.get(g) ?? 0).toFixed(2).padStart(9)}\n`);
  }
  for (const k of ['intake', 'frontEnd', 'embedFace', 'references', 'hairfast', 'total']) {
    process.stdout.write(`  ${k.padEnd(14)} ${(hit.get(k) ?? 0).toFixed(2).padStart(9)} | ${(miss.get(k) ?? 0).toFixed(2).padStart(9)}\n`);
  }
  const official = process.env['HAIRFAST_OFFICIAL_CMD'];
  if (official) {
    const ms = Number(execSync(official, { encoding: 'utf8' }).trim().split('\n').pop());
    process.stdout.write(`\nofficial HairFast.swap median ${ms.toFixed(1)} ms; this runtime (both, cached) ${hit.get('hairfast')!.toFixed(1)} ms: ${(ms / hit.get('hairfast')!).toFixed(2)}×\n`);
  } else {
    process.stdout.write('\nofficial HairFast.swap: not measured (set HAIRFAST_OFFICIAL_CMD to a command printing its median ms on the same inputs)\n');
  }
  await cached.dispose();
  await uncached.dispose();
  await manager.dispose();
}

await main();
