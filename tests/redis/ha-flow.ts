import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTryOnEngine } from '../../src/pipeline/index.js';
import { createLogger, tryOnJobId } from '../../src/shared/index.js';
import { createWorker, type HairWorker } from '../../src/worker/create-worker.js';
import { SELFIE, startHarness, waitForJob, type Harness } from '../bot/harness.js';

/**
 * The real bot (against the fake Discord) and the real worker (contract models on the CPU) on a Redis topology
 * given by `env` (REDIS_SENTINELS… or REDIS_CLUSTER_NODES…): what the high-availability tests run jobs through.
 */
export interface HaStack {
  h: Harness;
  worker: HairWorker;
  close(): Promise<void>;
}

export async function startHaStack(env: Record<string, string>): Promise<HaStack> {
  const cacheDir = mkdtempSync(join(tmpdir(), 'hair-ha-cache-'));
  const h = await startHarness({ HAIR_EP: 'cpu', METRICS_PORT: '0', PRESET_CACHE_DIR: cacheDir, USER_MAX_ACTIVE_JOBS: '10', ...env }, { realStyles: true });
  let worker: HairWorker;
  try {
    worker = await createWorker(h.config, { logger: createLogger({ level: 'silent' }), createEngine: createTryOnEngine });
  } catch (error) {
    await h.close();
    throw error;
  }
  return {
    h,
    worker,
    async close() {
      await worker.close().catch(() => undefined);
      await h.close().catch(() => undefined);
      rmSync(cacheDir, { recursive: true, force: true });
    },
  };
}

const MEMBER = { user: { id: '929292929292929292' } };

/** Sends `/hair try` with a selfie and waits until its job is in the queue. */
export async function sendTryOn(h: Harness): Promise<{ interactionId: string; token: string; jobId: string }> {
  const image = h.fake.addAttachment({ filename: 'me.png', bytes: SELFIE, contentType: 'image/png', width: 512, height: 512 });
  const sent = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image, color: 'Copper' }, member: MEMBER });
  const jobId = tryOnJobId(sent.id);
  await waitForJob(h.tryOnQueue, jobId, 15_000);
  return { interactionId: sent.id, token: sent.token, jobId };
}

/** Resolves when the interaction's reply carries the result image. */
export async function resultOf(h: Harness, interactionId: string, timeoutMs = 60_000) {
  return await h.fake.waitFor(() => {
    const original = h.fake.original(interactionId);
    return original?.attachments.length ? original : undefined;
  }, timeoutMs, `the result of ${interactionId}`);
}

/** How many result images Discord received for one interaction (uploads on its token's webhook). */
export function uploadsFor(h: Harness, token: string): number {
  return h.fake.requests.filter((r) => r.path.includes(`/${token}`) && r.files.length > 0).length;
}

/** The job's final BullMQ state once it has one (the upload comes a moment before the job is moved to completed). */
export async function finalState(h: Harness, jobId: string, timeoutMs = 15_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const state = await h.tryOnQueue.getJobState(jobId);
    if (state === 'completed' || state === 'failed') return state;
    if (Date.now() > until) throw new Error(`job ${jobId} still ${state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
