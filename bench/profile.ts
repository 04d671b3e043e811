/**
 * Where a warm try-on's time goes, from onnxruntime's own profiles: per graph (session) the kernel time, the
 * device↔host copies inside the graph (Memcpy nodes), the rest of each run (feeds, fetches, executor), the binding's
 * share around each run (JS wall − model_run: tensor wrapping, feed checks, outputs copied to JS memory), and the
 * gaps between runs (the request's wall time outside every graph call: decode, tensor math, image conversions).
 * Request: "both" (shape + colour presets, served from the preset cache), no paste-back, astronaut selfie.
 * The matrix ops' multiply-accumulates come from the shapes in the profile (`nodeMacs`), so each graph and op gets
 * its achieved GMAC/s, read against this machine's ceiling: single 3×3 convolutions through the same kind of
 * session (bench/conv-ceiling.ts). GMAC ÷ ceiling is the floor of a request's kernel time on this machine.
 *
 *   MODELS_DIR=/tmp/hfm HAIR_EP=cpu npm run bench:profile          # random-weight export on the CPU
 *   HAIR_EP=cuda HAIR_PRECISION=fp16 MODELS_DIR=/tmp/hfm npm run bench:profile
 *
 * Knobs: BENCH_RUNS (3) measured requests after BENCH_WARMUP (1); PROFILE_DIR (/tmp/hairstyler-profile) gets the
 * raw profiles (one JSON per session, open in chrome://tracing or Perfetto) and summary.json; PROFILE_TOP (12).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/shared/config.js';
import { nodeWeightDims } from '../src/model-build/onnx-graph.js';
import { createTryOnEngine } from '../src/pipeline/index.js';
import { modelRuns, readOrtProfile, summariseRuns, type OpTime, type RunsProfile } from '../src/pipeline/runtime/ort-profile.js';
import { createSessionManager, type OrtSession, type SessionManager } from '../src/pipeline/runtime/ort.js';
import { measureConvCeiling } from './conv-ceiling.js';
import { median } from './stats.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 1);
const TOP = Number(process.env['PROFILE_TOP'] ?? 12);
const PROFILE_DIR = process.env['PROFILE_DIR'] ?? '/tmp/hairstyler-profile';

/** Counts and times every run per session (the profile's model_run events are matched to requests by count). */
function countingManager(manager: SessionManager) {
  const calls = new Map<string, { runs: number; ms: number }>();
  const graphFiles = new Map<string, string>();
  const timed = <A extends unknown[], R>(run: (session: OrtSession, ...rest: A) => Promise<R>) =>
    async (session: OrtSession, ...rest: A): Promise<R> => {
      const t0 = performance.now();
      try {
        return await run(session, ...rest);
      } finally {
        graphFiles.set(session.name, session.file);
        const c = calls.get(session.name) ?? { runs: 0, ms: 0 };
        c.runs += 1;
        c.ms += performance.now() - t0;
        calls.set(session.name, c);
      }
    };
  const run = timed(manager.run.bind(manager));
  const runTensors = timed(manager.runTensors.bind(manager));
  const counted = new Proxy(manager, {
    get: (target, prop) => (prop === 'run' ? run : prop === 'runTensors' ? runTensors : Reflect.get(target, prop, target)),
  });
  const snapshot = () => new Map([...calls].map(([k, v]) => [k, { ...v }]));
  return { manager: counted, snapshot, graphFiles };
}

const f = (x: number, digits = 1) => x.toFixed(digits).padStart(9);
/** GMAC/s from MACs and kernel ms (same number of requests on both sides). */
const rate = (macs: number, kernelMs: number): number => (kernelMs > 0 ? macs / 1e9 / (kernelMs / 1000) : 0);

interface SessionRow {
  session: string;
  runsPerRequest: number;
  /** Per request, ms. */
  jsMs: number;
  profile: RunsProfile;
}

async function main(): Promise<void> {
  rmSync(PROFILE_DIR, { recursive: true, force: true });
  mkdirSync(PROFILE_DIR, { recursive: true });
  const config = loadConfig({ env: { ...process.env, HAIR_EP: process.env['HAIR_EP'] ?? 'cpu', LOG_LEVEL: 'silent', PRESET_CACHE_DIR: process.env['PRESET_CACHE_DIR'] ?? '/tmp/hairstyler-bench-cache' } });
  const base = createSessionManager(config, { profileDir: PROFILE_DIR });
  const { manager, snapshot, graphFiles } = countingManager(base);
  const engine = await createTryOnEngine(config, { manager });
  const selfie = new Uint8Array(readFileSync('tests/fixtures/astronaut.png'));
  const request = { selfie, shape: { presetId: 'builtin:short-layered-mirrored' }, color: { presetId: 'builtin:copper' }, pasteBack: false };
  process.stdout.write(`profile: ${engine.info.modelKind} ${engine.info.precision} graphs on ${engine.info.executionProvider}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), `
    + `${RUNS} profiled requests after ${WARMUP} warm-up ("both", cached presets, no paste-back), engine load ${(engine.info.loadMs / 1000).toFixed(1)} s, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  for (let i = 0; i < WARMUP; i++) await engine.tryOn(request);
  const before = snapshot();
  const totals: number[] = [];
  const stages = new Map<string, number[]>();
  for (let i = 0; i < RUNS; i++) {
    const r = await engine.tryOn(request);
    totals.push(r.timings['total']!);
    for (const k of ['intake', 'frontEnd', 'embedFace', 'references', 'hairfast']) stages.set(k, [...(stages.get(k) ?? []), r.timings[k] ?? 0]);
  }
  const after = snapshot();
  const files = await base.endProfiling();
  await engine.dispose();
  await base.dispose();

  const rows: SessionRow[] = [];
  for (const { session, file } of files) {
    const events = readOrtProfile(file);
    const end = after.get(session) ?? { runs: 0, ms: 0 };
    const start = before.get(session) ?? { runs: 0, ms: 0 };
    const measured = end.runs - start.runs;
    if (measured === 0) continue;
    // model_run events before the counted runs: the load-time warm-up (not made through run/runTensors).
    const uncounted = modelRuns(events).length - end.runs;
    const graphFile = graphFiles.get(session);
    rows.push({
      session,
      runsPerRequest: measured / RUNS,
      jsMs: (end.ms - start.ms) / RUNS,
      profile: summariseRuns(events, uncounted + start.runs, uncounted + end.runs, graphFile ? nodeWeightDims(readFileSync(graphFile)) : undefined),
    });
  }
  rows.sort((a, b) => b.jsMs - a.jsMs);
  const per = (x: number) => x / RUNS;
  process.stdout.write('\nper session, ms per request (medians would hide the split: these are means over the profiled requests)\n');
  process.stdout.write(`  ${'session'.padEnd(26)} runs ${'JS call'.padStart(9)} ${'ORT run'.padStart(9)} ${'kernels'.padStart(9)} ${'copies'.padStart(9)} ${'in-run'.padStart(9)} ${'binding'.padStart(9)} ${'GMAC'.padStart(9)} ${'GMAC/s'.padStart(9)}\n`);
  const sum = { js: 0, run: 0, kernel: 0, copy: 0, other: 0, macs: 0, uncountedMacNodes: 0 };
  for (const r of rows) {
    const p = r.profile;
    sum.js += r.jsMs; sum.run += per(p.runMs); sum.kernel += per(p.kernelMs); sum.copy += per(p.copyMs); sum.other += per(p.otherMs);
    sum.macs += per(p.macs); sum.uncountedMacNodes += per(p.uncountedMacNodes);
    process.stdout.write(`  ${r.session.padEnd(26)} ${String(r.runsPerRequest).padStart(4)} ${f(r.jsMs)} ${f(per(p.runMs))} ${f(per(p.kernelMs))} ${f(per(p.copyMs), 2)} ${f(per(p.otherMs), 2)} ${f(r.jsMs - per(p.runMs), 2)} ${f(per(p.macs) / 1e9)} ${f(rate(p.macs, p.kernelMs))}\n`);
  }
  const graphRuns = rows.reduce((n, r) => n + r.runsPerRequest, 0);
  const total = totals.reduce((a, b) => a + b, 0) / RUNS;
  process.stdout.write(`  ${'all sessions'.padEnd(26)} ${String(graphRuns).padStart(4)} ${f(sum.js)} ${f(sum.run)} ${f(sum.kernel)} ${f(sum.copy, 2)} ${f(sum.other, 2)} ${f(sum.js - sum.run, 2)} ${f(sum.macs / 1e9)} ${f(rate(sum.macs, sum.kernel))}\n`);
  if (sum.uncountedMacNodes > 0) process.stdout.write(`  (GMAC leaves out ${sum.uncountedMacNodes} matrix-op executions per request that shapes cannot size: Einsum, quantized ops)\n`);
  const gap = total - sum.js;
  const pct = (x: number) => `${((100 * x) / total).toFixed(1)} %`;
  process.stdout.write(`\nrequest (mean ${total.toFixed(1)} ms, median ${median(totals).toFixed(1)} ms; stages: ${[...stages].map(([k, v]) => `${k} ${median(v).toFixed(1)}`).join(', ')})\n`);
  process.stdout.write(`  kernels            ${f(sum.kernel)} ms  ${pct(sum.kernel)}\n`);
  process.stdout.write(`  copies (Memcpy)    ${f(sum.copy, 2)} ms  ${pct(sum.copy)}\n`);
  process.stdout.write(`  in-run other       ${f(sum.other, 2)} ms  ${pct(sum.other)}   (feeds/fetches, executor, inside session.run)\n`);
  process.stdout.write(`  binding            ${f(sum.js - sum.run, 2)} ms  ${pct(sum.js - sum.run)}   (JS call − model_run: wrapping, checks, outputs to JS memory)\n`);
  process.stdout.write(`  gaps between runs  ${f(gap, 2)} ms  ${pct(gap)}   (outside every graph call: decode, tensor math in JS, image conversions)\n`);

  const ops = new Map<string, OpTime>();
  for (const r of rows) for (const o of r.profile.byOp) {
    const key = `${o.op} ${o.provider}`;
    const t = ops.get(key) ?? { ...o, ms: 0, count: 0, macs: 0 };
    t.ms += o.ms; t.count += o.count; t.macs += o.macs;
    ops.set(key, t);
  }
  const topOps = [...ops.values()].sort((a, b) => b.ms - a.ms).slice(0, TOP);
  process.stdout.write(`\ntop ops by kernel time, ms per request (all sessions)\n`);
  for (const o of topOps) process.stdout.write(`  ${`${o.op} (${o.provider})`.padEnd(34)} ${f(per(o.ms))}  ${pct(per(o.ms))}  ${per(o.count)} nodes${o.macs > 0 ? `, ${(per(o.macs) / 1e9).toFixed(1)} GMAC at ${rate(o.macs, o.ms).toFixed(1)} GMAC/s` : ''}\n`);
  const topNodes = rows.flatMap((r) => r.profile.byNode.map((n) => ({ ...n, session: r.session }))).sort((a, b) => b.ms - a.ms).slice(0, TOP);
  process.stdout.write(`\ntop nodes by kernel time, ms per request\n`);
  for (const n of topNodes) process.stdout.write(`  ${`${n.session}: ${n.node}`.slice(0, 60).padEnd(60)} ${n.op.padEnd(12)} ${f(per(n.ms))}${n.macs > 0 ? ` ${f(rate(n.macs, n.ms))} GMAC/s` : ''}\n`);

  // The ceiling after the engine is gone: same session options, no profiling, nothing else loaded.
  const ceilingManager = createSessionManager(config);
  const ceiling = await measureConvCeiling(ceilingManager);
  await ceilingManager.dispose();
  const best = Math.max(...ceiling.map((c) => c.gmacPerS));
  process.stdout.write(`\nceiling: single 3×3 convolutions through the same session options (median of 5 runs)\n`);
  for (const c of ceiling) process.stdout.write(`  ${c.shape.padEnd(30)} ${c.gmac.toFixed(2)} GMAC in ${c.ms.toFixed(1)} ms = ${c.gmacPerS.toFixed(1)} GMAC/s\n`);
  process.stdout.write(`  request: ${(sum.macs / 1e9).toFixed(1)} GMAC at ${rate(sum.macs, sum.kernel).toFixed(1)} GMAC/s = ${((100 * rate(sum.macs, sum.kernel)) / best).toFixed(0)} % of the best ceiling; `
    + `at the ceiling its matrix ops alone would take ${(sum.macs / 1e9 / best).toFixed(2)} s\n`);

  const summary = {
    info: engine.info, runs: RUNS, warmup: WARMUP, cpus: cpus().length, totalMs: totals, stages: Object.fromEntries(stages),
    perRequest: { ...sum, binding: sum.js - sum.run, gaps: gap, graphRuns },
    ceiling,
    sessions: rows.map((r) => ({ ...r, profile: { ...r.profile, byNode: r.profile.byNode.slice(0, TOP) } })),
    topOps,
    files,
  };
  writeFileSync(join(PROFILE_DIR, 'summary.json'), JSON.stringify(summary, null, 2));
  process.stdout.write(`\nraw profiles and summary.json in ${PROFILE_DIR}\n`);
}

await main();
