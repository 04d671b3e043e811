import type { LongestRun } from '../pipeline/engine.js';

/**
 * BullMQ renews a job's lock every `lockDuration / 2` from a timer on the JavaScript thread, and onnxruntime-node
 * runs each graph on that thread. A graph run longer than half the lock can therefore outlast the lock when it
 * starts just before a renewal is due: the lock lapses, a stalled check hands the job to another worker, and the
 * try-on runs twice. The engine's longest warm-up run says whether that can happen on this host. Only an engine on
 * the worker's thread (PIPELINE_THREAD=off) reports one: the pipeline thread's runs hold no lock's timer.
 */
export function lockHoldWarning(longestRun: LongestRun | undefined, lockDurationMs: number): string | undefined {
  if (!longestRun || longestRun.ms <= lockDurationMs / 2) return undefined;
  return `graph ${longestRun.graph} runs ${(longestRun.ms / 1000).toFixed(1)} s on the JavaScript thread, more than half `
    + `the job lock (WORKER_LOCK_DURATION_MS=${lockDurationMs}): a lock can lapse mid-job and the job run twice. `
    + `Set PIPELINE_THREAD=on (graphs run on their own thread), or WORKER_LOCK_DURATION_MS above ${Math.ceil((2 * longestRun.ms) / 1000) * 1000}${longestRun.composite ? ', or HAIR_SWAP=off (the split graphs run shorter)' : ''}`;
}
