import { LRUCache } from 'lru-cache';
import type { ErrorCode } from '../shared/errors.js';
import type { JobStage } from '../shared/job.js';
import { randomToken, sameSecret } from '../shared/secrets.js';

/** What the page hears about a try-on (Server-Sent Events, one JSON object per event). */
export type StudioEvent =
  | { type: 'queued'; position: number; etaAt?: number }
  | { type: 'stage'; stage: JobStage }
  | { type: 'done'; format: string; width: number; height: number; totalMs: number }
  | { type: 'error'; code: ErrorCode; params: Record<string, string | number | boolean> };

export interface StudioResult {
  bytes: Uint8Array;
  format: 'jpeg' | 'webp' | 'png';
  width: number;
  height: number;
  totalMs: number;
}

interface Entry {
  ticket: string;
  jobId: string;
  client: string;
  /** The worker's one-time bearer token for the callback; cleared once it answered. */
  callbackToken: string | undefined;
  latest: StudioEvent[];
  listeners: Set<(event: StudioEvent) => void>;
  result: StudioResult | undefined;
  finished: boolean;
}

export interface JobBoardOptions {
  /** Try-ons held at once. */
  max: number;
  /** How long an unfinished try-on is followed (selfie TTL + job timeout). */
  pendingTtlMs: number;
  /** How long a finished one (and its result) waits for the page. */
  resultTtlMs: number;
}

/**
 * The studio's memory of its try-ons, keyed by the page's ticket (a secret the queue never sees) and by the
 * queue's job id. Results stay in memory until the page fetches them once, or their TTL passes.
 */
export function createJobBoard(options: JobBoardOptions) {
  const byTicket = new LRUCache<string, Entry>({
    max: options.max,
    ttl: options.pendingTtlMs,
    ttlAutopurge: true,
    dispose: (entry, ticket) => {
      entry.result = undefined;
      entry.listeners.clear();
      if (byJob.get(entry.jobId) === ticket) byJob.delete(entry.jobId);
    },
  });
  const byJob = new Map<string, string>();

  const entryOfJob = (jobId: string) => {
    const ticket = byJob.get(jobId);
    return ticket ? byTicket.get(ticket, { updateAgeOnGet: false }) : undefined;
  };

  function emit(entry: Entry, event: StudioEvent): void {
    // A page that (re)connects gets the latest progress, then the outcome.
    entry.latest = event.type === 'queued' || event.type === 'stage' ? [event] : [...entry.latest, event];
    for (const listener of entry.listeners) listener(event);
  }

  return {
    get size(): number {
      return byTicket.size;
    },
    isFull(): boolean {
      return byTicket.size >= options.max;
    },

    /** A new try-on; returns the page's ticket and the worker's callback token. */
    open(jobId: string, client: string): { ticket: string; callbackToken: string } {
      const ticket = randomToken(16);
      const callbackToken = randomToken();
      byTicket.set(ticket, { ticket, jobId, client, callbackToken, latest: [], listeners: new Set(), result: undefined, finished: false });
      byJob.set(jobId, ticket);
      return { ticket, callbackToken };
    },

    /** Unfinished try-ons of one client (its IP), for USER_MAX_ACTIVE_JOBS. */
    activeFor(client: string): number {
      let count = 0;
      for (const entry of byTicket.values()) if (entry.client === client && !entry.finished) count += 1;
      return count;
    },

    /** When the earliest unfinished try-on of a client should be ready (its last queued estimate), if known. */
    readyAtFor(client: string): number | undefined {
      let earliest: number | undefined;
      for (const entry of byTicket.values()) {
        if (entry.client !== client || entry.finished) continue;
        const queued = entry.latest.find((event) => event.type === 'queued');
        const at = queued?.type === 'queued' ? queued.etaAt : undefined;
        if (at !== undefined && (earliest === undefined || at < earliest)) earliest = at;
      }
      return earliest;
    },

    jobIdOf(ticket: string): string | undefined {
      return byTicket.get(ticket, { updateAgeOnGet: false })?.jobId;
    },

    isFinished(jobId: string): boolean {
      return entryOfJob(jobId)?.finished ?? true;
    },

    progress(jobId: string, event: Extract<StudioEvent, { type: 'queued' | 'stage' }>): void {
      const entry = entryOfJob(jobId);
      if (entry && !entry.finished) emit(entry, event);
    },

    /** The outcome; the first one wins (a callback and the queue's failed event may both report). */
    finish(jobId: string, outcome: { result: StudioResult } | { error: Extract<StudioEvent, { type: 'error' }> }): boolean {
      const entry = entryOfJob(jobId);
      if (!entry || entry.finished) return false;
      entry.finished = true;
      entry.callbackToken = undefined;
      if ('result' in outcome) {
        entry.result = outcome.result;
        const { format, width, height, totalMs } = outcome.result;
        emit(entry, { type: 'done', format, width, height, totalMs });
      } else {
        emit(entry, outcome.error);
      }
      byTicket.set(entry.ticket, entry, { ttl: options.resultTtlMs });
      return true;
    },

    /** Checks a worker's callback token (once: finish() clears it). */
    acceptsCallback(jobId: string, token: string): boolean {
      const expected = entryOfJob(jobId)?.callbackToken;
      return expected !== undefined && sameSecret(token, expected);
    },

    /** Replays the latest state, then streams; returns the unsubscribe function, or undefined for an unknown ticket. */
    subscribe(ticket: string, listener: (event: StudioEvent) => void): (() => void) | undefined {
      const entry = byTicket.get(ticket, { updateAgeOnGet: false });
      if (!entry) return undefined;
      for (const event of entry.latest) listener(event);
      entry.listeners.add(listener);
      return () => entry.listeners.delete(listener);
    },

    /** The result bytes, once. */
    takeResult(ticket: string): StudioResult | undefined {
      const entry = byTicket.get(ticket, { updateAgeOnGet: false });
      const result = entry?.result;
      if (!entry || !result) return undefined;
      entry.result = undefined;
      return result;
    },

    forget(ticket: string): void {
      byTicket.delete(ticket);
    },

    clear(): void {
      byTicket.clear();
      byJob.clear();
    },
  };
}
export type JobBoard = ReturnType<typeof createJobBoard>;
