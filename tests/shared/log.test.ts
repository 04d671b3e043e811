import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/log.js';

/** A stream that records what it was given; `isTTY` makes it look like a terminal. */
function sink(isTTY: boolean) {
  const lines: string[] = [];
  const stream = Object.assign(new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } }), { isTTY });
  return { stream, text: () => lines.join('') };
}

describe('log lines', () => {
  it('are readable on a terminal (auto), still redacted', () => {
    const out = sink(true);
    createLogger({ name: 'bot', destination: out.stream }).info({ jobId: 'i123', token: 'itok-SECRET' }, 'try-on enqueued');
    const text = out.text();
    expect(() => JSON.parse(text)).toThrow();
    expect(text).toContain('INFO');
    expect(text).toContain('try-on enqueued');
    expect(text).toContain('i123');
    expect(text).not.toContain('itok-SECRET');
  });

  it('are one JSON object per line when not on a terminal (auto), and when LOG_FORMAT=json on a terminal', () => {
    for (const [tty, format] of [[false, 'auto'], [true, 'json']] as const) {
      const out = sink(tty);
      createLogger({ name: 'worker', destination: out.stream, format }).warn({ code: 'NO_FACE' }, 'try-on failed');
      expect(JSON.parse(out.text())).toMatchObject({ level: 40, name: 'worker', code: 'NO_FACE', msg: 'try-on failed' });
    }
  });

  it('LOG_FORMAT=pretty is readable even into a pipe, without colours', () => {
    const out = sink(false);
    createLogger({ destination: out.stream, format: 'pretty' }).error('boom');
    expect(out.text()).toMatch(/ERROR.*boom/);
    expect(out.text()).not.toContain('\u001b[');
  });
});
