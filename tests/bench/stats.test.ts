import { describe, expect, it } from 'vitest';
import { eventLoopStalls, median, percentile } from '../../bench/stats.js';

describe('bench statistics', () => {
  it('median: the middle value, or the mean of the two middle values', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('percentile: nearest rank, whatever the input order', () => {
    const xs = [50, 10, 40, 20, 30, 60, 70, 80, 90, 100];
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 95)).toBe(100);
    expect(percentile(xs, 0)).toBe(10);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('eventLoopStalls: a synchronous block shows as one stall of its length; awaiting a timer shows none', async () => {
    const blocked = await eventLoopStalls(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const until = performance.now() + 60;
      while (performance.now() < until);
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    expect(blocked.longestMs).toBeGreaterThanOrEqual(55);
    expect(blocked.heldMs).toBeGreaterThanOrEqual(blocked.longestMs);
    const idle = await eventLoopStalls(() => new Promise((resolve) => setTimeout(resolve, 50)));
    expect(idle.longestMs).toBeLessThan(55);
  });
});
