/** The summary statistics every bench prints (one home, so their figures mean the same thing). */

/** The middle value (the mean of the two middle values for an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile, q in 0…100 (as tools/hairfast-export/bench_official.py); NaN for none. */
export function percentile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((q / 100) * s.length) - 1))]!;
}

export interface EventLoopStalls {
  /** Sum of the stalls, ms. */
  heldMs: number;
  /** The longest one, ms. */
  longestMs: number;
}

/**
 * How long this thread's event loop stood still while `work` ran: a 1 ms timer's lateness over its stalls (ticks
 * more than 5 ms late; a timer's ordinary jitter is not a stall). A stall is time a BullMQ lock renewal would wait.
 */
export async function eventLoopStalls(work: () => Promise<unknown>): Promise<EventLoopStalls> {
  const stalls = { heldMs: 0, longestMs: 0 };
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    if (now - last > 5) {
      stalls.heldMs += now - last - 1;
      stalls.longestMs = Math.max(stalls.longestMs, now - last - 1);
    }
    last = now;
  }, 1);
  try {
    await work();
  } finally {
    clearInterval(ticker);
  }
  return stalls;
}
