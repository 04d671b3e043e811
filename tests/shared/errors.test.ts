import { describe, expect, it } from 'vitest';
import { ERROR_CODES, HairError, toHairError } from '../../src/shared/errors.js';
import { errorMessage, pickLocale } from '../../src/shared/i18n/index.js';

describe('errors and messages', () => {
  it('has an English and a Korean message for every code, with placeholders filled', () => {
    for (const code of ERROR_CODES) {
      const enText = errorMessage('en', code, { count: 3, limit: '10 MB', yaw: 50, name: 'bob', jobId: '7' });
      const koText = errorMessage('ko', code, { count: 3, limit: '10 MB', yaw: 50, name: 'bob', jobId: '7' });
      expect(enText.length).toBeGreaterThan(5);
      expect(koText).toMatch(/[\uac00-\ud7a3]/);
    }
    expect(errorMessage('ko', 'MULTIPLE_FACES', { count: 2 })).toContain('2개');
  });

  it('maps Discord locales to ko or en', () => {
    expect(pickLocale('ko')).toBe('ko');
    expect(pickLocale('en-US')).toBe('en');
    expect(pickLocale('fr')).toBe('en');
    expect(pickLocale(undefined)).toBe('en');
  });

  it('wraps unknown failures as INTERNAL and keeps HairErrors', () => {
    const original = new HairError('NO_FACE');
    expect(toHairError(original)).toBe(original);
    const wrapped = toHairError(new TypeError('boom'));
    expect(wrapped.code).toBe('INTERNAL');
    expect(wrapped.cause).toBeInstanceOf(TypeError);
    expect(new HairError('DOWNLOAD_TIMEOUT').retryable).toBe(true);
    expect(new HairError('NO_FACE').userFacing).toBe(true);
  });
});
