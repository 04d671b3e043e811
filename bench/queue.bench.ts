/**
 * `npm run bench:queue`: what the queue costs per job, on loopback Redis.
 *
 *  1. enqueue → pickup: `queue.add()` until the processor starts (one job at a time, no-op processor).
 *  2. round trip: `queue.add()` until the worker's 'completed' event (one at a time) — the whole BullMQ overhead
 *     a job pays beyond its own work. Goal: ≤ 10 ms per job.
 *  3. drain: 1000 queued jobs through a no-op processor at concurrency 1 → per-job overhead at saturation.
 *  4. throughput of real worker processes (src/worker/main.ts, contract models, fake Discord + CDN on 127.0.0.1)
 *     with 1, 2 and 4 processes, and the per-stage medians they report. HAIR_EP, ORT_INTRA_OP_THREADS and BENCH_JOBS
 *     (default 12) are read from the environment. On a small CPU machine the processes compete for the same cores;
 *     the scaling this measures is the queue's, which is meant for one process per GPU.
 *
 * Prints medians (and p95 where useful). Redis: REDIS_URL or 127.0.0.1:6379, a random prefix, cleaned up after.
 */
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { DEFAULT_JOB_OPTIONS, JOB_NAMES, parseTryOnJob, type TryOnResultPayload } from '../src/shared/job.js';
import { spawnWorker, type WorkerChild } from '../tests/helpers/spawn-worker.js';
import { REDIS_URL, startHarness } from '../tests/helpers/worker-harness.js';
import { median, percentile } from './stats.js';

const connection = { url: REDIS_URL, maxRetriesPerRequest: null };
const ms = (x: number) => `${x.toFixed(2)} ms`;

/** Job data exactly as the bot enqueues it (the contract), so serialization cost is the real one. */
function jobData(i: number) {
  return parseTryOnJob({
    guildId: '100000000000000001',
    channelId: '100000000000000002',
    userId: '100000000000000003',
    locale: 'en',
    reply: { applicationId: '100000000000000004', interactionAt: Date.now(), messageId: `1000000000000${String(i).padStart(5, '0')}` },
    selfie: { url: `https://cdn.discordapp.com/attachments/1/${i}/selfie.png?ex=1&is=2&hm=${'f'.repeat(64)}`, size: 123456, contentType: 'image/png' },
    shapePresetId: 'builtin:short-layered',
    colorPresetId: 'builtin:copper',
    requestedAt: Date.now(),
  });
}

async function queueOverhead(): Promise<void> {
  const prefix = `bench-queue-${randomUUID().slice(0, 8)}`;
  const name = 'bench-overhead';
  const queue = new Queue(name, { connection, prefix });
  let onStart: ((at: number) => void) | undefined;
  let onDone: ((at: number) => void) | undefined;
  const worker = new Worker(
    name,
    async () => {
      onStart?.(performance.now());
      return { ok: true };
    },
    { connection, prefix, lockDuration: 30_000, stalledInterval: 15_000, maxStalledCount: 2, concurrency: 1 },
  );
  worker.on('completed', () => onDone?.(performance.now()));
  await worker.waitUntilReady();
  try {
    const pickup: number[] = [];
    const roundTrip: number[] = [];
    for (let i = 0; i < 230; i += 1) {
      const started = new Promise<number>((resolve) => (onStart = resolve));
      const done = new Promise<number>((resolve) => (onDone = resolve));
      const t0 = performance.now();
      await queue.add(JOB_NAMES.tryOn, jobData(i), { ...DEFAULT_JOB_OPTIONS.tryOn });
      const [t1, t2] = await Promise.all([started, done]);
      if (i >= 30) {
        pickup.push(t1 - t0);
        roundTrip.push(t2 - t0);
      }
    }
    console.log(`enqueue → pickup (n=${pickup.length}):      median ${ms(median(pickup))}, p95 ${ms(percentile(pickup, 95))}`);
    console.log(`enqueue → completed (n=${roundTrip.length}):   median ${ms(median(roundTrip))}, p95 ${ms(percentile(roundTrip, 95))}  (goal ≤ 10 ms)`);

    const drains: number[] = [];
    for (let run = 0; run < 3; run += 1) {
      await worker.pause();
      await queue.addBulk(Array.from({ length: 1000 }, (_, i) => ({ name: JOB_NAMES.tryOn, data: jobData(i), opts: { ...DEFAULT_JOB_OPTIONS.tryOn } })));
      let completed = 0;
      const all = new Promise<number>((resolve) => {
        onDone = (at) => {
          completed += 1;
          if (completed === 1000) resolve(at);
        };
      });
      onStart = undefined;
      const t0 = performance.now();
      worker.resume();
      drains.push(((await all) - t0) / 1000);
    }
    console.log(`drain 1000 jobs, concurrency 1: median ${ms(median(drains))} per job (runs: ${drains.map((d) => d.toFixed(2)).join(', ')})`);
  } finally {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

async function workerThroughput(processes: number, jobs: number): Promise<{ perSecond: number; results: TryOnResultPayload[] }> {
  // spawnWorker waits for the info-level ready line.
  const h = await startHarness({
    LOG_LEVEL: 'info',
    HAIR_EP: process.env.HAIR_EP ?? 'cpu',
    ...(process.env.ORT_INTRA_OP_THREADS ? { ORT_INTRA_OP_THREADS: process.env.ORT_INTRA_OP_THREADS } : {}),
  });
  const children: WorkerChild[] = [];
  try {
    for (let i = 0; i < processes; i += 1) children.push(spawnWorker(h.env));
    await Promise.all(children.map((c) => c.ready));
    for (const child of children) {
      const ready = JSON.parse(child.output.find((line) => line.includes('"msg":"worker ready')) ?? '{}') as Record<string, unknown>;
      console.log(`  ready: EP ${ready.executionProvider}${ready.gpu ? ` on ${ready.gpu}` : ''}, models ${ready.modelKind}, sessions created + warmed in ${ready.loadMs} ms`);
    }
    // Warm-up: one job per process (first use of the preset caches, JIT).
    const warm = await Promise.all(Array.from({ length: processes }, () => h.submit()));
    await Promise.all(warm.map(({ job }) => job.waitUntilFinished(h.events, 120_000)));
    const t0 = performance.now();
    const submitted = await Promise.all(Array.from({ length: jobs }, () => h.submit()));
    const results = (await Promise.all(submitted.map(({ job }: { job: Job }) => job.waitUntilFinished(h.events, 300_000)))) as TryOnResultPayload[];
    const seconds = (performance.now() - t0) / 1000;
    return { perSecond: jobs / seconds, results };
  } finally {
    for (const child of children) {
      child.child.kill('SIGTERM');
      await child.exited;
    }
    await h.close();
  }
}

async function main(): Promise<void> {
  console.log(`bench:queue on ${cpus().length} CPU(s) (${cpus()[0]?.model ?? '?'}), Redis ${REDIS_URL}, node ${process.version}`);
  console.log('\n# BullMQ overhead per job (no-op processor, contract job data and options)');
  await queueOverhead();

  console.log('\n# Worker processes (src/worker/main.ts, contract models, HAIR_EP from the environment or cpu)');
  const jobs = Number(process.env.BENCH_JOBS ?? 12);
  let base: number | undefined;
  for (const processes of [1, 2, 4]) {
    const { perSecond, results } = await workerThroughput(processes, jobs);
    base ??= perSecond;
    const stage = (name: string) => median(results.map((r) => r.timings[name] ?? NaN).filter(Number.isFinite));
    console.log(
      `${processes} worker(s): ${perSecond.toFixed(2)} jobs/s (×${(perSecond / base).toFixed(2)} of 1), ${jobs} jobs; median per job: ` +
        `queued ${ms(stage('queued'))}, downloading ${ms(stage('downloading'))}, pipeline ${ms(stage('pipeline'))}, ` +
        `uploading ${ms(stage('uploading'))}, end-to-end ${ms(stage('total'))}; EP ${results[0]?.executionProvider}, models ${results[0]?.modelKind}`,
    );
  }
}

await main();
process.exit(0);
