import { describe, expect, it } from 'vitest';
import { lockHoldWarning } from '../../src/worker/lock-hold.js';

describe('lock hold', () => {
  it('says nothing while the longest graph run fits in half the job lock', () => {
    expect(lockHoldWarning(undefined, 30_000)).toBeUndefined();
    expect(lockHoldWarning({ graph: 'sean_decode', ms: 7_500, composite: false }, 30_000)).toBeUndefined();
    expect(lockHoldWarning({ graph: 'sean_decode', ms: 15_000, composite: false }, 30_000)).toBeUndefined();
  });

  it('names the graph, the setting and a value that fits once a run can outlast a renewal', () => {
    expect(lockHoldWarning({ graph: 'swap', ms: 15_001, composite: true }, 30_000)).toMatch(/^graph swap runs 15\.0 s .*WORKER_LOCK_DURATION_MS=30000.*PIPELINE_THREAD=on.*above 31000, or HAIR_SWAP=off/);
    // a split graph: HAIR_SWAP would not shorten it
    expect(lockHoldWarning({ graph: 'sean_decode', ms: 600, composite: false }, 1_000)).toMatch(/above 2000$/);
  });
});
