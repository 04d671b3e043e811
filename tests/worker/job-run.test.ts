import { randomBytes } from 'node:crypto';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HairError } from '../../src/shared/errors.js';
import { parseJobFailure, QUEUE_NAMES } from '../../src/shared/job.js';
import { createLogger } from '../../src/shared/log.js';
import { SHUTDOWN_REASON } from '../../src/worker/job-failure.js';
import { createJobProcessor, type JobProcessorSpec } from '../../src/worker/job-run.js';
import { createWorkerMetrics } from '../../src/worker/worker-metrics.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const schema = z.object({ n: z.number().int() });
type Data = z.infer<typeof schema>;

/** The skeleton both processors share, run by a real BullMQ Worker on real Redis (a random prefix per test). */
describe('createJobProcessor', () => {
  let prefix: string;
  let queue: Queue;
  let events: QueueEvents;
  let worker: Worker | undefined;
  let connection: Redis;
  const metrics = createWorkerMetrics({});

  beforeEach(async () => {
    prefix = `test-jobrun-${randomBytes(5).toString('hex')}`;
    connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    queue = new Queue(QUEUE_NAMES.presetBuild, { connection, prefix });
    events = new QueueEvents(QUEUE_NAMES.presetBuild, { connection: { url: REDIS_URL }, prefix });
    await events.waitUntilReady();
  });
  afterEach(async () => {
    await worker?.close();
    worker = undefined;
    await events.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await connection.quit();
  });

  function start(spec: Partial<JobProcessorSpec<Data, number>> & Pick<JobProcessorSpec<Data, number>, 'run'>) {
    const processor = createJobProcessor<Data, number>({
      queue: QUEUE_NAMES.presetBuild, what: 'test job', schema, timeoutMs: 5_000, metrics, logger: createLogger({ level: 'silent' }), ...spec,
    });
    worker = new Worker(QUEUE_NAMES.presetBuild, processor, { connection: { url: REDIS_URL, maxRetriesPerRequest: null }, prefix });
    return worker;
  }

  /** A body that runs until its signal ends it, telling the test when it started. */
  function untilAborted() {
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const run: JobProcessorSpec<Data, number>['run'] = ({ signal }) => new Promise((_, reject) => {
      started();
      signal.addEventListener('abort', () => reject(new Error('aborted')));
    });
    return { running, run };
  }

  async function failureOf(job: Job) {
    await expect(job.waitUntilFinished(events, 15_000)).rejects.toThrow();
    const failed = (await queue.getJob(job.id!))!;
    return { ...parseJobFailure(failed.failedReason), attemptsMade: failed.attemptsMade };
  }

  const failures = async (code: string) =>
    (await metrics.registry.getSingleMetric('hair_job_failures_total')!.get()).values.find((v) => v.labels['code'] === code)?.value ?? 0;

  it('returns what the body returns, with the parsed data', async () => {
    start({ run: async ({ data }) => data.n * 2 });
    const job = await queue.add('x', { n: 21 });
    expect(await job.waitUntilFinished(events, 15_000)).toBe(42);
  });

  it('data outside the contract fails at once as INTERNAL, counted, without running the body or retrying', async () => {
    let ran = false;
    start({ run: async () => ((ran = true), 1) });
    const before = await failures('INTERNAL');
    const job = await queue.add('x', { n: 'not a number' }, { attempts: 3 });
    expect(await failureOf(job)).toMatchObject({ code: 'INTERNAL', retryable: false, attemptsMade: 1 });
    expect(ran).toBe(false);
    expect(await failures('INTERNAL')).toBe(before + 1);
  });

  it('the timeout aborts the body\'s signal and fails the job as JOB_TIMEOUT', async () => {
    let aborted = false;
    start({
      timeoutMs: 200,
      run: ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => ((aborted = true), reject(new Error('stopped'))))),
    });
    const job = await queue.add('x', { n: 1 });
    expect((await failureOf(job)).code).toBe('JOB_TIMEOUT');
    expect(aborted).toBe(true);
  });

  it('a retryable failure is retried, a user error is not; refine adjusts the error before it is counted', async () => {
    start({
      run: async ({ data }) => {
        throw data.n === 1 ? new HairError('DOWNLOAD_TIMEOUT') : new HairError('NO_FACE');
      },
      refine: (error) => (error.code === 'NO_FACE' ? error.withParams({ role: 'shape' }) : error),
    });
    const transient = await queue.add('x', { n: 1 }, { attempts: 2 });
    expect(await failureOf(transient)).toMatchObject({ code: 'DOWNLOAD_TIMEOUT', attemptsMade: 2 });
    const user = await queue.add('x', { n: 2 }, { attempts: 2 });
    expect(await failureOf(user)).toMatchObject({ code: 'NO_FACE', params: { role: 'shape' }, attemptsMade: 1 });
  });

  it('before() can finish a job without its body; passThrough errors are thrown as they are', async () => {
    let ran = 0;
    class NotOurs extends Error {}
    start({
      before: async ({ data }) => (data.n === 0 ? 7 : undefined),
      run: async () => {
        ran += 1;
        throw new NotOurs('this run no longer owns the job');
      },
      passThrough: (caught) => caught instanceof NotOurs,
    });
    expect(await (await queue.add('x', { n: 0 })).waitUntilFinished(events, 15_000)).toBe(7);
    expect(ran).toBe(0);
    const other = await queue.add('x', { n: 1 });
    await expect(other.waitUntilFinished(events, 15_000)).rejects.toThrow('this run no longer owns the job');
    expect(ran).toBe(1);
  });

  it('a shutdown abort hands the job back to the queue as it was: no attempt used, no failure counted', async () => {
    const body = untilAborted();
    const running = start({ run: body.run });
    const before = await failures('JOB_CANCELLED');
    const job = await queue.add('x', { n: 1 }, { attempts: 1 });
    await body.running;
    // As closeWorkers does past SHUTDOWN_TIMEOUT_MS: the worker stops fetching, then its active jobs are aborted.
    const closing = running.close();
    running.cancelAllJobs(SHUTDOWN_REASON);
    await closing;
    worker = undefined;
    const back = (await queue.getJob(job.id!))!;
    expect(await back.getState()).toBe('waiting');
    expect(back.attemptsMade).toBe(0);
    expect(back.failedReason ?? '').toBe('');
    expect(await failures('JOB_CANCELLED')).toBe(before);
  });

  it('any other abort (the owner cancelled) fails the job as JOB_CANCELLED, without a retry', async () => {
    const body = untilAborted();
    const running = start({ run: body.run });
    const job = await queue.add('x', { n: 1 }, { attempts: 3 });
    await body.running;
    running.cancelJob(job.id!, 'cancelled by its owner');
    expect(await failureOf(job)).toMatchObject({ code: 'JOB_CANCELLED', retryable: false, attemptsMade: 1 });
  });
});
