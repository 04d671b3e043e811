import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TryOnResultPayload } from '../../src/shared/job.js';
import { spawnWorker, type WorkerChild } from '../helpers/spawn-worker.js';
import { BOT_TOKEN, SELFIE, startHarness, waitUntil, type Harness } from '../helpers/worker-harness.js';

let h: Harness;
const children: WorkerChild[] = [];

function start(): WorkerChild {
  const child = spawnWorker(h.env);
  children.push(child);
  return child;
}

function holdSelfie(path: string): { url: string; release: () => void } {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  return { url: h.cdn.hold(path, SELFIE, held), release };
}

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async () => {
  for (const { child, exited } of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  }
  await h.close();
});

describe('worker processes', () => {
  it('kill -9 of the worker holding a job: the other process takes it over and delivers it once', async () => {
    const a = start();
    const b = start();
    const ids = await Promise.all([a.ready, b.ready]);
    const selfie = holdSelfie('/attachments/kill/selfie.png');
    const { job, interaction } = await h.submit({ url: selfie.url });

    const started = await waitUntil(() => h.progressOf(job.id!).find((p) => p.stage === 'downloading'), 15_000, 'a worker to take the job');
    const holder = started.workerId === ids[0] ? a : b;
    const survivorId = started.workerId === ids[0] ? ids[1] : ids[0];
    holder.child.kill('SIGKILL');
    expect((await holder.exited).signal).toBe('SIGKILL');
    selfie.release();

    const result = (await job.waitUntilFinished(h.events, 30_000)) as TryOnResultPayload;
    expect(result.workerId).toBe(survivorId);
    expect(await job.getState()).toBe('completed');
    const uploads = h.fake.webhookRequests(interaction.token).filter((r) => r.method === 'PATCH' && r.files.length > 0);
    expect(uploads).toHaveLength(1);
    const counts = await h.tryOnQueue.getJobCounts('failed', 'waiting', 'active', 'completed');
    expect(counts).toEqual({ failed: 0, waiting: 0, active: 0, completed: 1 });
  });

  it('SIGTERM mid-job: finishes the active job, takes no new one, exits 0, logs no secret', async () => {
    const w = start();
    await w.ready;
    const readyLine = JSON.parse(w.output.find((line) => line.includes('"msg":"worker ready'))!);
    expect(readyLine).toMatchObject({ executionProvider: 'cpu', modelKind: 'contract', precision: 'fp32' });
    expect(readyLine.loadMs).toBeGreaterThan(0);
    const selfie = holdSelfie('/attachments/term/selfie.png');
    const { job, interaction } = await h.submit({ url: selfie.url });
    await waitUntil(() => h.progressOf(job.id!).some((p) => p.stage === 'downloading'), 15_000, 'the job to start');

    w.child.kill('SIGTERM');
    await waitUntil(() => w.output.some((line) => line.includes('shutting down')), 10_000, 'shutdown to begin');
    const second = await h.submit();
    setTimeout(selfie.release, 300);

    const result = (await job.waitUntilFinished(h.events, 20_000)) as TryOnResultPayload;
    expect(result.deliveredVia).toBe('interaction');
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(await second.job.getState()).toBe('waiting');
    const log = w.output.join('\n');
    expect(log).toContain(`"jobId":"${job.id}"`);
    expect(log).not.toContain(interaction.token);
    expect(log).not.toContain(BOT_TOKEN);
    expect(log).not.toContain('secret-signature');
  });

  it('fails to start with a clear error when the configuration is invalid', async () => {
    const w = spawnWorker({ ...h.env, DISCORD_APPLICATION_ID: 'not-a-snowflake' });
    children.push(w);
    await expect(w.ready).rejects.toThrow(/CONFIG_INVALID/);
    expect((await w.exited).code).toBe(1);
  });
});
