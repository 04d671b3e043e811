import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { download, type DownloadOptions } from '../../src/worker/download.js';
import { isHostAllowed } from '../../src/shared/allowed-hosts.js';
import { HairError, type ErrorCode } from '../../src/shared/errors.js';
import { FakeCdn } from '../helpers/fake-cdn.js';

const png = readFileSync(new URL('../fixtures/astronaut.png', import.meta.url));
const options: DownloadOptions = {
  allowedHosts: ['127.0.0.1'],
  maxBytes: 1024 * 1024,
  connectTimeoutMs: 1_000,
  readTimeoutMs: 400,
};

async function refusal(promise: Promise<unknown>): Promise<ErrorCode> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HairError);
  return (error as HairError).code;
}

describe('selfie download', () => {
  const cdn = new FakeCdn();
  beforeAll(() => cdn.start());
  afterAll(() => cdn.close());

  it('downloads into memory, following a redirect on the same host', async () => {
    const target = cdn.file('/a/me.png', png);
    cdn.route('/a/moved.png', (_req, res) => res.writeHead(302, { location: new URL(target).pathname }).end());
    const bytes = await download(cdn.url('/a/moved.png'), { ...options, maxBytes: png.length });
    expect(Buffer.from(bytes).equals(png)).toBe(true);
  });

  it('refuses hosts that are not allowed, and plain http off loopback', async () => {
    expect(await refusal(download('https://evil.example/a.png', options))).toBe('DOWNLOAD_HOST_NOT_ALLOWED');
    expect(await refusal(download('http://cdn.discordapp.com/a.png', { ...options, allowedHosts: ['cdn.discordapp.com'] }))).toBe(
      'DOWNLOAD_HOST_NOT_ALLOWED',
    );
    expect(await refusal(download('not a url', options))).toBe('DOWNLOAD_HOST_NOT_ALLOWED');
    expect(cdn.hits.size).toBeGreaterThan(0);
  });

  it('refuses a redirect to another host without contacting it', async () => {
    const other = new FakeCdn();
    await other.start();
    try {
      const elsewhere = other.file('/x.png', png).replace('127.0.0.1', 'localhost');
      cdn.route('/a/redirect-away.png', (_req, res) => res.writeHead(301, { location: elsewhere }).end());
      const code = await refusal(download(cdn.url('/a/redirect-away.png'), { ...options, allowedHosts: ['127.0.0.1', 'localhost'] }));
      expect(code).toBe('DOWNLOAD_HOST_NOT_ALLOWED');
      expect(other.hits.get('/x.png')).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('refuses too large files by Content-Length and while streaming', async () => {
    cdn.file('/a/big.png', Buffer.alloc(64 * 1024, 1));
    expect(await refusal(download(cdn.url('/a/big.png'), { ...options, maxBytes: 10 * 1024 }))).toBe('DOWNLOAD_TOO_LARGE');
    let sent = 0;
    cdn.route('/a/endless.png', (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' }); // chunked, no length
      const chunk = Buffer.alloc(16 * 1024, 2);
      const pump = () => {
        while (!res.destroyed && sent < 50 * 1024 * 1024 && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed && sent < 50 * 1024 * 1024) res.once('drain', pump);
        else res.end();
      };
      pump();
    });
    const error = await download(cdn.url('/a/endless.png'), { ...options, maxBytes: 100 * 1024 }).catch((e: HairError) => e);
    expect((error as HairError).code).toBe('DOWNLOAD_TOO_LARGE');
    expect((error as HairError).params.limit).toBe('100 KB');
    expect(sent).toBeLessThan(50 * 1024 * 1024);
  });

  it('times out on a server that stops sending', async () => {
    cdn.route('/a/slow-headers.png', () => undefined); // never answers
    expect(await refusal(download(cdn.url('/a/slow-headers.png'), options))).toBe('DOWNLOAD_TIMEOUT');
    cdn.route('/a/slow-body.png', (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
      res.write(png.subarray(0, 100)); // then nothing
    });
    expect(await refusal(download(cdn.url('/a/slow-body.png'), options))).toBe('DOWNLOAD_TIMEOUT');
  });

  it('answers a missing file as DOWNLOAD_FAILED and a cancelled job with the signal reason', async () => {
    expect(await refusal(download(cdn.url('/a/missing.png'), options))).toBe('DOWNLOAD_FAILED');
    cdn.route('/a/stall.png', () => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new HairError('JOB_CANCELLED')), 50);
    expect(await refusal(download(cdn.url('/a/stall.png'), { ...options, readTimeoutMs: 5_000, signal: controller.signal }))).toBe(
      'JOB_CANCELLED',
    );
  });

  it('matches exact hosts and *.suffix patterns', () => {
    expect(isHostAllowed('cdn.discordapp.com', ['cdn.discordapp.com'])).toBe(true);
    expect(isHostAllowed('media.discordapp.net', ['*.discordapp.net'])).toBe(true);
    expect(isHostAllowed('discordapp.net.evil.com', ['*.discordapp.net'])).toBe(false);
    expect(isHostAllowed('evildiscordapp.net', ['*.discordapp.net'])).toBe(false);
  });
});
