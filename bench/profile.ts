/**
 * Where a warm try-on's time goes, from onnxruntime's own profiles: per graph (session) the kernel time, the
 * device↔host copies inside the graph (Memcpy nodes), the rest of each run (feeds, fetches, executor), the binding's
 * share around each run (JS wall − model_run: tensor wrapping, feed checks, outputs copied to JS memory), and the
 * gaps between runs (the request's wall time outside every graph call: decode, tensor math, image conversions).
 * Request: "both" (shape + colour presets, served from the preset cache), no paste-back, astronaut selfie.
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
import { createTryOnEngine } from '../src/pipeline/index.js';
import { modelRuns, readOrtProfile, summariseRuns, type OpTime, type RunsProfile } from '../src/pipeline/runtime/ort-profile.js';
import { createSessionManager, type OrtSession, type SessionManager } from '../src/pipeline/runtime/ort.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 1);
const TOP = Number(process.env['PROFILE_TOP'] ?? 12);
const PROFILE_DIR = process.env['PROFILE_DIR'] ?? '/tmp/hairstyler-profile';

/** Counts and times every run per session (the profile's model_run events are matched to requests by count). */
function countingManager(manager: SessionManager) {
  const calls = new Map<string, { runs: number; ms: number }>();
  const timed = <A extends unknown[], R>(run: (session: OrtSession, ...rest: A) => Promise<R>) =>
    async (session: OrtSession, ...rest: A): Promise<R> => {
      const t0 = performance.now();
      try {
        return await run(session, ...rest);
      } finally {
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
  return { manager: counted, snapshot };
}

const f = (x: number, digits = 1) => x.toFixed(digits).padStart(9);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

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
  const { manager, snapshot } = countingManager(base);
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
    rows.push({
      session,
      runsPerRequest: measured / RUNS,
      jsMs: (end.ms - start.ms) / RUNS,
      profile: summariseRuns(events, uncounted + start.runs, uncounted + end.runs),
    });
  }
  rows.sort((a, b) => b.jsMs - a.jsMs);
  const per = (x: number) => x / RUNS;
  process.stdout.write('\nper session, ms per request (medians would hide the split: these are means over the profiled requests)\n');
  process.stdout.write(`  ${'session'.padEnd(26)} runs ${'JS call'.padStart(9)} ${'ORT run'.padStart(9)} ${'kernels'.padStart(9)} ${'copies'.padStart(9)} ${'in-run'.padStart(9)} ${'binding'.padStart(9)}\n`);
  const sum = { js: 0, run: 0, kernel: 0, copy: 0, other: 0 };
  for (const r of rows) {
    const p = r.profile;
    sum.js += r.jsMs; sum.run += per(p.runMs); sum.kernel += per(p.kernelMs); sum.copy += per(p.copyMs); sum.other += per(p.otherMs);
    process.stdout.write(`  ${r.session.padEnd(26)} ${String(r.runsPerRequest).padStart(4)} ${f(r.jsMs)} ${f(per(p.runMs))} ${f(per(p.kernelMs))} ${f(per(p.copyMs), 2)} ${f(per(p.otherMs), 2)} ${f(r.jsMs - per(p.runMs), 2)}\n`);
  }
  const graphRuns = rows.reduce((n, r) => n + r.runsPerRequest, 0);
  const total = totals.reduce((a, b) => a + b, 0) / RUNS;
  process.stdout.write(`  ${'all sessions'.padEnd(26)} ${String(graphRuns).padStart(4)} ${f(sum.js)} ${f(sum.run)} ${f(sum.kernel)} ${f(sum.copy, 2)} ${f(sum.other, 2)} ${f(sum.js - sum.run, 2)}\n`);
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
    const t = ops.get(key) ?? { ...o, ms: 0, count: 0 };
    t.ms += o.ms; t.count += o.count;
    ops.set(key, t);
  }
  const topOps = [...ops.values()].sort((a, b) => b.ms - a.ms).slice(0, TOP);
  process.stdout.write(`\ntop ops by kernel time, ms per request (all sessions)\n`);
  for (const o of topOps) process.stdout.write(`  ${`${o.op} (${o.provider})`.padEnd(34)} ${f(per(o.ms))}  ${pct(per(o.ms))}  ${per(o.count)} nodes\n`);
  const topNodes = rows.flatMap((r) => r.profile.byNode.map((n) => ({ ...n, session: r.session }))).sort((a, b) => b.ms - a.ms).slice(0, TOP);
  process.stdout.write(`\ntop nodes by kernel time, ms per request\n`);
  for (const n of topNodes) process.stdout.write(`  ${`${n.session}: ${n.node}`.slice(0, 60).padEnd(60)} ${n.op.padEnd(12)} ${f(per(n.ms))}\n`);

  const summary = {
    info: engine.info, runs: RUNS, warmup: WARMUP, cpus: cpus().length, totalMs: totals, stages: Object.fromEntries(stages),
    perRequest: { ...sum, binding: sum.js - sum.run, gaps: gap, graphRuns },
    sessions: rows.map((r) => ({ ...r, profile: { ...r.profile, byNode: r.profile.byNode.slice(0, TOP) } })),
    topOps,
    files,
  };
  writeFileSync(join(PROFILE_DIR, 'summary.json'), JSON.stringify(summary, null, 2));
  process.stdout.write(`\nraw profiles and summary.json in ${PROFILE_DIR}\n`);
}

await main();
