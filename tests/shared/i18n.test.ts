import { describe, expect, it } from 'vitest';
import { errorMessage, uiText } from '../../src/shared/i18n/index.js';

describe('counts in messages (Intl.PluralRules)', () => {
  it('English picks the singular for one and the plural otherwise', () => {
    expect(uiText('en', 'stats.jobsDone', { count: 1 })).toBe('1 job');
    expect(uiText('en', 'stats.jobsDone', { count: 0 })).toBe('0 jobs');
    expect(uiText('en', 'stats.jobsDone', { count: 7 })).toBe('7 jobs');
    expect(errorMessage('en', 'QUOTA_EXCEEDED', { limit: 1, retryAt: 'soon' })).toContain('limit of 1 try-on per hour');
    expect(errorMessage('en', 'QUOTA_EXCEEDED', { limit: 20, retryAt: 'soon' })).toContain('limit of 20 try-ons per hour');
    expect(errorMessage('en', 'PRESET_LIMIT_REACHED', { limit: 1 })).toBe('This server already has 1 preset. Remove it first.');
  });

  it('Korean has one form for every count', () => {
    expect(uiText('ko', 'stats.jobsDone', { count: 1 })).toBe('작업 1건');
    expect(uiText('ko', 'stats.jobsDone', { count: 7 })).toBe('작업 7건');
  });

  it('a count that is not a number takes the general form', () => {
    expect(uiText('en', 'stats.jobsDone', {})).toBe('{count} jobs');
  });
});
