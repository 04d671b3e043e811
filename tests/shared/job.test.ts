import { describe, expect, it } from 'vitest';
import {
  buildCustomId,
  CUSTOM_ID_MAX_LENGTH,
  formatJobFailure,
  parseCustomId,
  parseJobFailure,
  parsePresetBuildJob,
  parseTryOnJob,
  redisKeys,
  tryOnJobId,
  type TryOnJobInput,
} from '../../src/shared/job.js';

const base: TryOnJobInput = {
  guildId: '100000000000000001',
  channelId: '100000000000000002',
  userId: '100000000000000003',
  locale: 'ko',
  reply: { applicationId: '100000000000000004', interactionAt: 1 },
  selfie: { url: 'https://cdn.discordapp.com/attachments/1/2/me.png?ex=1', size: 1234, contentType: 'image/png' },
  shapePresetId: 'builtin:bob',
  requestedAt: 2,
};

describe('queue contract', () => {
  it('applies defaults and keeps no bytes', () => {
    const job = parseTryOnJob(base);
    expect(job.v).toBe(1);
    expect(job.mode).toBe('paste-back');
    expect(job.selfie.maxBytes).toBe(10 * 1024 * 1024);
    expect(JSON.stringify(job)).not.toMatch(/data:|base64/);
  });

  it('refuses a job without shape and color, and bad ids', () => {
    expect(() => parseTryOnJob({ ...base, shapePresetId: undefined })).toThrow(/shapePresetId/);
    expect(() => parseTryOnJob({ ...base, userId: 'me' })).toThrow(/userId/);
    expect(() => parseTryOnJob({ ...base, colorPresetId: 'guild:1:x' })).toThrow(/colorPresetId/);
    expect(parseTryOnJob({ ...base, shapePresetId: undefined, colorPresetId: 'guild:123456:red-1' }).colorPresetId).toBe(
      'guild:123456:red-1',
    );
  });

  it('validates preset build jobs', () => {
    const job = parsePresetBuildJob({
      guildId: '123456',
      presetId: 'guild:123456:wavy',
      name: 'Wavy',
      kind: 'shape',
      image: { url: 'https://cdn.discordapp.com/a.png', size: 10 },
      moderatorId: '654321',
      requestedAt: 0,
    });
    expect(job.locale).toBe('en');
    expect(() => parsePresetBuildJob({ ...job, kind: 'hat' })).toThrow();
  });

  it('builds and parses button custom ids within 100 chars', () => {
    const jobId = tryOnJobId('1234567890123456789');
    expect(jobId).toBe('i1234567890123456789');
    const id = buildCustomId({ action: 'retry', jobId, ownerId: '9876543210987654321' });
    expect(id).toBe('hair:retry:i1234567890123456789:9876543210987654321');
    expect(parseCustomId(id)).toEqual({ action: 'retry', jobId, ownerId: '9876543210987654321' });
    const longest = buildCustomId({ action: 'recolor', jobId: 'j'.repeat(48), ownerId: '1'.repeat(25) });
    expect(longest.length).toBeLessThanOrEqual(CUSTOM_ID_MAX_LENGTH);
    expect(parseCustomId('hair:explode:1:12345')).toBeNull();
    expect(parseCustomId('other:retry:1:12345')).toBeNull();
    expect(parseCustomId('hair:retry:1:12345:extra')).toBeNull();
    expect(() => buildCustomId({ action: 'retry', jobId: 'a:b', ownerId: '12345' })).toThrow();
    expect(() => buildCustomId({ action: 'retry', jobId: '1234567890123456789', ownerId: '12345' })).toThrow(/not all digits/);
  });

  it('round-trips failures and reads foreign reasons as INTERNAL', () => {
    const reason = formatJobFailure('MULTIPLE_FACES', { count: 2, skip: undefined });
    expect(parseJobFailure(reason)).toEqual({ code: 'MULTIPLE_FACES', params: { count: 2 }, retryable: false });
    expect(parseJobFailure('job stalled more than allowable limit').code).toBe('INTERNAL');
    expect(parseJobFailure('NO_FACE').code).toBe('NO_FACE');
    expect(parseJobFailure(undefined).code).toBe('INTERNAL');
  });

  it('names Redis keys under the prefix', () => {
    const keys = redisKeys('p1');
    expect(keys.worker('w1')).toBe('p1:worker:w1');
    expect(keys.cancel('j1')).toBe('p1:cancel:j1');
  });
});

describe('queue contract: studio jobs', () => {
  const studio: TryOnJobInput = {
    via: 'studio',
    locale: 'en',
    reply: { callbackUrl: 'http://127.0.0.1:8501/worker/callback/s1', callbackToken: 'a'.repeat(43) },
    selfie: { url: 'http://127.0.0.1:8501/worker/selfie/' + 'b'.repeat(43), size: 10 },
    colorPresetId: 'builtin:copper',
    origin: 'studio',
    requestedAt: 1,
  };

  it('parses a studio job with its callback and no Discord ids; Discord jobs default to via discord', () => {
    const job = parseTryOnJob(studio);
    expect(job.via).toBe('studio');
    if (job.via !== 'studio') throw new Error('narrowing');
    expect(job.reply.callbackToken).toHaveLength(43);
    expect(job.guildId).toBeUndefined();
    expect(parseTryOnJob(base).via).toBe('discord');
  });

  it('refuses a weak callback token, a Discord job without its reply, and no preset at all', () => {
    expect(() => parseTryOnJob({ ...studio, reply: { callbackUrl: 'http://127.0.0.1/x', callbackToken: 'short' } })).toThrow();
    expect(() => parseTryOnJob({ ...base, reply: studio.reply } as unknown)).toThrow();
    expect(() => parseTryOnJob({ ...studio, colorPresetId: undefined })).toThrow(/shapePresetId/);
  });
});
