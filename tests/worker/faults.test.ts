import type { Worker as Thread } from 'node:worker_threads';
import type { Job } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TryOnEngine } from '../../src/pipeline/engine.js';
import { createPipelineEngine } from '../../src/pipeline/engine-thread/index.js';
import { createTryOnEngine } from '../../src/pipeline/index.js';
import { parseJobFailure, redisKeys, type TryOnResultPayload } from '../../src/shared/job.js';
import { createWorker, type EngineFactory, type HairWorker } from '../../src/worker/create-worker.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { privateNotice, REDIS_URL, SELFIE, startHarness, waitUntil, type Harness } from '../helpers/worker-harness.js';

let h: Harness;
const workers: HairWorker[] = [];

async function startWorker(extra: Record<string, string> = {}): Promise<HairWorker> {
  const worker = await createWorker(h.config(extra), { logger: h.logger, createEngine: createTryOnEngine });
  workers.push(worker);
  return worker;
}

async function failureOf(job: Job) {
  const error = await job.waitUntilFinished(h.events).then(() => undefined, (e: Error) => e);
  expect(error).toBeInstanceOf(Error);
  return parseJobFailure(error!.message);
}

/**
 * The worker's own engine factory (the pipeline thread), through which the test ends the thread while the next
 * try-on is detecting: `killNext(how)` with the thread (captured by Node's process 'worker' event).
 */
function killableThreadEngine() {
  const threads: Thread[] = [];
  const onThread = (thread: Thread) => threads.push(thread);
  process.on('worker', onThread);
  let kill: ((thread: Thread) => void) | undefined;
  const createEngine: EngineFactory = async (config, deps) => {
    const engine = await createPipelineEngine(config, deps);
    const killable: TryOnEngine = {
      get info() { return engine.info; },
      tryOn: (request) => engine.tryOn({
        ...request,
        onStage: (stage) => {
          request.onStage?.(stage);
          const how = stage === 'detecting' ? kill : undefined;
          kill = undefined;
          how?.(threads.at(-1)!);
        },
      }),
      buildPreset: (...args) => engine.buildPreset(...args),
      dispose: () => engine.dispose(),
    };
    return killable;
  };
  return { createEngine, threads, killNext: (how: (thread: Thread) => void) => { kill = how; }, stop: () => process.off('worker', onThread) };
}

/** What Node does when a worker thread's heap runs out: 'error' with ERR_WORKER_OUT_OF_MEMORY, then the thread ends. */
function outOfMemory(thread: Thread): void {
  thread.emit('error', Object.assign(new Error('Worker terminated due to reaching memory limit: JS heap out of memory'), { code: 'ERR_WORKER_OUT_OF_MEMORY' }));
  void thread.terminate();
}

const uploads = (token: string) => h.fake.webhookRequests(token).filter((r) => r.method === 'PATCH' && r.files.length > 0);

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') console.log(h.logLines.slice(-80).join('\n'));
  for (const worker of workers.splice(0)) await worker.close().catch(() => undefined);
  await h.close();
});

describe('worker faults', () => {
  it('honours SHUTDOWN_TIMEOUT_MS: a job still running is handed back to the queue unchanged, and close() returns', async () => {
    const w = await startWorker({ SHUTDOWN_TIMEOUT_MS: '500', DOWNLOAD_READ_TIMEOUT_MS: '60000' });
    let release!: () => void;
    const url = h.cdn.hold('/attachments/forever/selfie.png', SELFIE, new Promise<void>((resolve) => (release = resolve)));
    const { job, interaction } = await h.submit({ url });
    await waitUntil(() => h.progressOf(job.id!).some((p) => p.stage === 'downloading'), 15_000, 'the download to start');
    // The selfie never arrives: without the timeout, close() would wait for the download's own 120 s deadline.
    const outcome = await Promise.race([w.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still waiting'), 20_000))]);
    release();
    expect(outcome).toBe('closed');
    const after = (await h.tryOnQueue.getJob(job.id!))!;
    expect(await after.getState()).toBe('waiting');
    expect(after.attemptsMade).toBe(0);
    expect(h.fake.webhookRequests(interaction.token).filter((r) => r.method !== 'GET')).toEqual([]); // the member was told nothing

    // The next worker takes it and delivers it once.
    const next = await startWorker();
    const result = (await job.waitUntilFinished(h.events, 30_000)) as TryOnResultPayload;
    expect(result.workerId).toBe(next.id);
    expect(uploads(interaction.token)).toHaveLength(1);
  });

  it('a Redis outage longer than the lock: the job is run again elsewhere but delivered once', async () => {
    const proxy = await new TcpProxy({ host: '127.0.0.1', port: Number(new URL(REDIS_URL).port || 6379) }).start();
    try {
      const lock = { WORKER_LOCK_DURATION_MS: '1500', WORKER_STALLED_INTERVAL_MS: '500' };
      const a = await startWorker({ ...lock, REDIS_URL: proxy.url, WORKER_ID: 'worker-a', SHUTDOWN_TIMEOUT_MS: '1000' });
      let release!: () => void;
      const url = h.cdn.hold('/attachments/outage/selfie.png', SELFIE, new Promise<void>((resolve) => (release = resolve)));
      const { job, interaction } = await h.submit({ url });
      await waitUntil(() => h.progressOf(job.id!).find((p) => p.workerId === a.id && p.stage === 'downloading'), 15_000, 'worker A to take the job');

      proxy.cut(); // worker A loses Redis; Discord and the CDN still answer
      release(); // A finishes the pipeline during the outage and reaches delivery
      await waitUntil(() => h.logLines.some((line) => line.includes('"workerId":"worker-a"') && line.includes('not delivering')), 30_000, 'A to reach delivery');
      expect(uploads(interaction.token)).toHaveLength(0);

      // Longer than the lock: another worker's stalled check puts the job back and runs it.
      await new Promise((r) => setTimeout(r, 2_000));
      // B's own lock is long, so that a loaded machine cannot make B lose it too; its stalled check stays short.
      const b = await startWorker({ ...lock, WORKER_LOCK_DURATION_MS: '30000', WORKER_ID: 'worker-b' });
      const result = (await job.waitUntilFinished(h.events, 30_000)) as TryOnResultPayload;
      expect(result.workerId).toBe(b.id);
      proxy.restore(); // A comes back: it must not post either
      await new Promise((r) => setTimeout(r, 1_500));
      expect(uploads(interaction.token)).toHaveLength(1);
      expect(await job.getState()).toBe('completed');
    } finally {
      proxy.restore();
      for (const worker of workers.splice(0)) await worker.close().catch(() => undefined); // A needs the proxy to close
      await proxy.close();
    }
  });

  it('a job whose stored fields are not JSON fails once instead of cycling between active and waiting', async () => {
    const a = await h.submit();
    const b = await h.submit();
    const key = (id: string) => `${h.prefix}:${h.tryOnQueue.name}:${id}`;
    await h.redis.hset(key(a.job.id!), 'data', '{not json');
    await h.redis.hset(key(b.job.id!), 'opts', '{"attempts":3,');
    await startWorker({ WORKER_LOCK_DURATION_MS: '1000', WORKER_STALLED_INTERVAL_MS: '500' });
    for (const { job } of [a, b]) {
      await waitUntil(async () => (await h.tryOnQueue.getJobState(job.id!)) === 'failed', 15_000, `${job.id} to fail`);
      expect(parseJobFailure((await h.redis.hget(key(job.id!), 'failedReason')) ?? '').code).toBe('INTERNAL');
    }
    await new Promise((r) => setTimeout(r, 1_500)); // past a lock and a few stalled checks
    for (const { job } of [a, b]) {
      expect(await h.tryOnQueue.getJobState(job.id!)).toBe('failed');
      expect(Number((await h.redis.hget(key(job.id!), 'stc')) ?? 0)).toBe(0); // never stalled
    }
    expect(h.logLines.filter((line) => line.includes('stored job fields are not valid JSON'))).toHaveLength(2);
  });

  it('a pipeline thread that dies mid-job: OUT_OF_MEMORY retries the job once on the new thread, INTERNAL fails it once; /metrics and /readyz say so', async () => {
    const killable = killableThreadEngine();
    try {
      const w = await createWorker(h.config(), { logger: h.logger, createEngine: killable.createEngine });
      workers.push(w);
      const restartsOf = async (code: string) => Number((await (await fetch(`${w.httpUrl}/metrics`)).text()).match(new RegExp(`hair_pipeline_thread_restarts_total\\{code="${code}"\\} (\\d+)`))?.[1] ?? 0);

      // Retryable: the attempt fails, BullMQ retries after its backoff, the retry runs on the restarted thread.
      killable.killNext(outOfMemory);
      const oom = await h.submit();
      const result = (await oom.job.waitUntilFinished(h.events, 45_000)) as TryOnResultPayload;
      expect(result.workerId).toBe(w.id);
      expect((await h.tryOnQueue.getJob(oom.job.id!))!.attemptsMade).toBe(2);
      expect(uploads(oom.interaction.token)).toHaveLength(1);
      expect(privateNotice(h.fake, oom.interaction)).toBeUndefined();
      expect(await restartsOf('OUT_OF_MEMORY')).toBe(1);
      expect(killable.threads).toHaveLength(2);

      // Not retryable: the job fails on its first attempt and the member is told once; not ready until the thread is back.
      let readyWhileRestarting: boolean | undefined;
      killable.killNext((thread) => void thread.terminate().then(() => { readyWhileRestarting = w.isReady(); }));
      const killed = await h.submit();
      expect(await failureOf(killed.job)).toMatchObject({ code: 'INTERNAL' });
      expect((await h.tryOnQueue.getJob(killed.job.id!))!.attemptsMade).toBe(1);
      expect(uploads(killed.interaction.token)).toHaveLength(0);
      expect(h.fake.webhookRequests(killed.interaction.token).filter((r) => r.method === 'POST' && (Number(r.body?.flags) & 64) === 64)).toHaveLength(1);
      expect(readyWhileRestarting).toBe(false);
      await waitUntil(async () => (await fetch(`${w.httpUrl}/readyz`)).status === 200, 30_000, 'the restarted thread to be ready');
      expect(await restartsOf('INTERNAL')).toBe(1);
      expect(killable.threads).toHaveLength(3);
      expect(h.logLines.filter((line) => line.includes('the pipeline thread died'))).toHaveLength(2);
    } finally {
      killable.stop();
    }
  });

  it('a 200 from Discord whose body is not JSON is still a delivered result', async () => {
    await startWorker();
    h.fake.override((r) => (r.method === 'PATCH' && r.path.endsWith('/messages/@original') ? { status: 200, raw: '<html>ok</html>' } : undefined));
    const { job, interaction } = await h.submit();
    const result = (await job.waitUntilFinished(h.events)) as TryOnResultPayload;
    expect(result.deliveredVia).toBe('interaction');
    expect((await h.tryOnQueue.getJob(job.id!))!.attemptsMade).toBe(1);
    expect(privateNotice(h.fake, interaction)).toBeUndefined(); // no error notice
    expect(h.fake.webhookRequests(interaction.token).filter((r) => r.method === 'PATCH')).toHaveLength(1);
  });
});

describe('what a finished job keeps', () => {
  it('after delivery: no interaction token anywhere in Redis; the URL stays only on completed jobs (for the buttons)', async () => {
    await startWorker();
    const done = await h.submit();
    await done.job.waitUntilFinished(h.events);
    const failed = await h.submit({ bytes: Buffer.from('not an image'.repeat(20)), contentType: 'image/png' });
    await failureOf(failed.job);
    const keys = redisKeys(h.prefix);
    await waitUntil(async () => !(await h.tryOnQueue.getJob(failed.job.id!))?.data.selfie?.url, 5_000, 'the failed job to drop its URL');
    for (const { interaction, job } of [done, failed]) {
      expect(await h.redis.exists(keys.replyToken(job.id!))).toBe(0);
      const everything = JSON.stringify(await h.redis.hgetall(`${h.prefix}:${h.tryOnQueue.name}:${job.id}`));
      expect(everything).not.toContain(interaction.token);
    }
    expect((await h.tryOnQueue.getJob(done.job.id!))!.data.selfie.url).toContain('/attachments/');
    const failedData = (await h.tryOnQueue.getJob(failed.job.id!))!.data;
    expect(failedData.selfie).toEqual({ size: failed.data.selfie.size, contentType: 'image/png', maxBytes: failed.data.selfie.maxBytes });
    expect(failedData.shapePresetId).toBe('builtin:short-layered'); // the rest stays for stats
  });

  it('caps a job\'s maxBytes at the worker\'s MAX_IMAGE_BYTES: a 30 MB stream is cut at the worker\'s limit', async () => {
    await startWorker({ MAX_IMAGE_BYTES: String(2 * 1024 * 1024) });
    let sent = 0;
    const url = h.cdn.route('/attachments/huge/selfie.png', (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' }); // no Content-Length: only streaming can tell
      const chunk = Buffer.alloc(64 * 1024);
      const pump = () => {
        while (sent < 30 * 1024 * 1024 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => undefined);
      pump();
    });
    const { job, interaction } = await h.submit({ url, maxBytes: 120 * 1024 * 1024 });
    expect((await failureOf(job)).code).toBe('DOWNLOAD_TOO_LARGE');
    expect(privateNotice(h.fake, interaction)!.content).toContain('limit: 2 MB');
    expect(sent).toBeLessThan(8 * 1024 * 1024); // stopped near 2 MB (socket buffers), not at the job's 120 MB
  });
});
