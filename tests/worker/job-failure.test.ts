import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { HairError } from '../../src/shared/errors.js';
import { parseJobFailure } from '../../src/shared/job.js';
import { ABORT_REASONS, classifyFailure, toBullmqError } from '../../src/worker/job-failure.js';

describe('job failures', () => {
  it('user errors fail at once, transient ones retry unless it was the last attempt', () => {
    const noFace = toBullmqError(new HairError('NO_FACE'));
    expect(noFace).toBeInstanceOf(UnrecoverableError);
    expect(parseJobFailure(noFace.message)).toEqual({ code: 'NO_FACE', params: {}, retryable: false });
    const discord = toBullmqError(new HairError('DISCORD_UNAVAILABLE', { status: 502 }));
    expect(discord).not.toBeInstanceOf(UnrecoverableError);
    expect(parseJobFailure(discord.message)).toMatchObject({ code: 'DISCORD_UNAVAILABLE', retryable: true, params: { status: 502 } });
    expect(toBullmqError(new HairError('DISCORD_UNAVAILABLE'), true)).toBeInstanceOf(UnrecoverableError);
  });

  it('reads aborts, allocation failures and unknown errors', () => {
    const controller = new AbortController();
    controller.abort('cancelled by its owner');
    expect(classifyFailure(new Error('whatever the abort caused'), controller.signal).code).toBe('JOB_CANCELLED');
    const timeout = new AbortController();
    timeout.abort(ABORT_REASONS.timeout);
    expect(classifyFailure(new Error('x'), timeout.signal).code).toBe('JOB_TIMEOUT');
    expect(classifyFailure(new Error('CUDA failure 2: out of memory')).code).toBe('OUT_OF_MEMORY');
    expect(classifyFailure(new RangeError('Array buffer allocation failed')).code).toBe('OUT_OF_MEMORY');
    expect(classifyFailure(new TypeError('x is undefined')).code).toBe('INTERNAL');
    expect(classifyFailure(new HairError('NO_FACE')).code).toBe('NO_FACE');
  });
});
