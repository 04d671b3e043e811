import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorMessage } from '../../src/shared/i18n/index.js';
import { QUEUE_NAMES, STUDIO_RESULT_HEADER } from '../../src/shared/job.js';
import { createSelfieStore } from '../../src/studio/selfie-store.js';
import { startTestStudio, type TestStudio } from '../helpers/studio.js';
import { deletePrefix, REDIS_URL } from '../helpers/worker-harness.js';

/** The studio's HTTP surface without a browser: headers, limits, auth, and the workers' one-time URLs. No worker runs here. */
const ASTRONAUT = readFileSync(new URL('../fixtures/astronaut.png', import.meta.url));
const TOKEN = 'studio-token-0123456789';
const prefixes: string[] = [];
const studios: TestStudio[] = [];
let redis: Redis;

async function studio(env: Record<string, string> = {}): Promise<TestStudio> {
  const prefix = `test-studio-http-${randomUUID().slice(0, 8)}`;
  prefixes.push(prefix);
  const started = await startTestStudio('queue', { REDIS_URL, QUEUE_PREFIX: prefix, ...env });
  studios.push(started);
  return started;
}

function form(fields: Record<string, string>, photo?: Buffer, name = 'me.png'): FormData {
  const body = new FormData();
  for (const [key, value] of Object.entries(fields)) body.append(key, value);
  if (photo) body.append('photo', new Blob([photo], { type: 'image/png' }), name);
  return body;
}

let plain: TestStudio;
beforeAll(async () => {
  redis = new Redis(REDIS_URL);
  plain = await studio({ ATTACHMENT_MAX_BYTES: String(1024 * 1024) });
});

afterAll(async () => {
  for (const s of studios) await s.close();
  for (const prefix of prefixes) {
    await deletePrefix(redis, prefix);
  }
  redis.disconnect();
});

describe('studio HTTP: headers, limits, auth', () => {
  it('serves the page with a strict CSP and no inline script', async () => {
    const response = await fetch(plain.studio.url);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await response.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      // Either an external script from this origin, or a JSON data block (never executed).
      if (/type="application\/json"/.test(attributes!)) JSON.parse(body!);
      else expect([attributes, body!.trim()]).toEqual([expect.stringMatching(/src="\/(js|vendor)\//), '']);
    }
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
  });

  it('refuses an oversized upload before decoding: at once when declared, while streaming otherwise; the bot\'s code and text', async () => {
    const { port } = new URL(plain.studio.url);
    const boundary = 'x-boundary';
    const head = Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="photo"; filename="big.png"\r\ncontent-type: image/png\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const total = 6 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 7);
    const expected = errorMessage('en', 'IMAGE_TOO_LARGE', { limit: '1 MB' });

    // Declared: the answer comes while the client is still sending.
    let sent = 0;
    const declared = await new Promise<{ status: number; body: string; sentAtAnswer: number }>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1', port, path: '/api/face', method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + total + tail.length },
      }, (res) => {
        const sentAtAnswer = sent;
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body, sentAtAnswer });
          req.destroy();
        });
      });
      req.on('error', (error) => (sent < total ? undefined : reject(error)));
      req.write(head);
      const pump = () => {
        if (req.destroyed || req.writableEnded) return;
        if (sent >= total) return void req.end(tail);
        sent += chunk.length;
        req.write(chunk);
        setTimeout(pump, 3);
      };
      pump();
    });
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body).error).toMatchObject({ code: 'IMAGE_TOO_LARGE', message: expected });
    expect(declared.sentAtAnswer).toBeLessThan(total / 2);

    // Chunked, no size said: multipart's fileSize cuts it off while it streams.
    const streamed = await fetch(`${plain.studio.url}api/face`, {
      method: 'POST', duplex: 'half', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: new Blob([head, Buffer.alloc(2 * 1024 * 1024, 7), tail]).stream(),
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as { error: { code: string } }).error.code).toBe('IMAGE_TOO_LARGE');
  });

  it('answers only loopback Host names without a token (no DNS rebinding), and refuses cross-site writes', async () => {
    const { port } = new URL(plain.studio.url);
    // fetch() will not send another Host: ask as a browser led there by a rebound DNS name would.
    const rebound = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/', headers: { host: `attacker.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    expect(rebound).toBe(421);
    expect((await fetch(`http://localhost:${port}/`)).status).toBe(200);
    const crossSite = await fetch(`${plain.studio.url}api/face`, { method: 'POST', body: form({}, ASTRONAUT), headers: { origin: 'https://attacker.example' } });
    expect(crossSite.status).toBe(403);
  });

  it('a Korean refusal for a Korean page; a text file is UNSUPPORTED_FORMAT, a faceless photo NO_FACE', async () => {
    const text = await fetch(`${plain.studio.url}api/face`, { method: 'POST', body: form({}, Buffer.from('not an image')), headers: { 'accept-language': 'ko-KR,ko;q=0.9,en;q=0.5' } });
    expect(text.status).toBe(422);
    const body = (await text.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('UNSUPPORTED_FORMAT');
    expect(body.error.message).toBe(errorMessage('ko', 'UNSUPPORTED_FORMAT'));
    const coffee = await fetch(`${plain.studio.url}api/face`, { method: 'POST', body: form({}, readFileSync(new URL('../fixtures/coffee.png', import.meta.url))) });
    expect(((await coffee.json()) as { error: { code: string } }).error.code).toBe('NO_FACE');
  });

  it('queues a studio job whose photo URL works once; one try-on per address at a time; the callback is one-time and authenticated', async () => {
    const accepted = await fetch(`${plain.studio.url}api/transfer`, { method: 'POST', body: form({ mode: 'color', color: 'builtin:copper' }, ASTRONAUT) });
    expect(accepted.status).toBe(202);
    const { ticket } = (await accepted.json()) as { ticket: string };
    const busy = await fetch(`${plain.studio.url}api/transfer`, { method: 'POST', body: form({ mode: 'color', color: 'builtin:copper' }, ASTRONAUT) });
    expect(busy.status).toBe(429);
    expect(((await busy.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_JOBS');
    const wrongKind = await fetch(`${plain.studio.url}api/transfer`, { method: 'POST', body: form({ mode: 'shape', shape: 'builtin:copper' }, ASTRONAUT) });
    expect(((await wrongKind.json()) as { error: { code: string } }).error.code).toBe('PRESET_KIND_MISMATCH');

    const prefix = plain.config.QUEUE_PREFIX;
    const [jobKey] = (await redis.keys(`${prefix}:${QUEUE_NAMES.tryOn}:s*`)).filter((k) => /:s[A-Za-z0-9_-]{16}$/.test(k));
    const data = JSON.parse((await redis.hget(jobKey!, 'data'))!);
    expect(data).toMatchObject({ via: 'studio', colorPresetId: 'builtin:copper', origin: 'studio' });
    expect(JSON.stringify(data)).not.toContain(ticket);

    const first = await fetch(data.selfie.url);
    expect(first.status).toBe(200);
    expect(Buffer.from(await first.arrayBuffer()).equals(ASTRONAUT)).toBe(true);
    expect((await fetch(data.selfie.url)).status).toBe(404);

    const result = Buffer.from('fake result bytes');
    const meta = JSON.stringify({ jobId: data.reply.callbackUrl.split('/').at(-1), format: 'jpeg', width: 2, height: 2, totalMs: 10, queuedMs: 1, pipelineMs: 5 });
    const post = (token: string) => fetch(data.reply.callbackUrl, {
      method: 'POST', body: result, headers: { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg', [STUDIO_RESULT_HEADER]: meta },
    });
    expect((await post('x'.repeat(43))).status).toBe(404);
    expect((await post(data.reply.callbackToken)).status).toBe(204);
    expect((await post(data.reply.callbackToken)).status).toBe(404);

    const events = await (await fetch(`${plain.studio.url}api/jobs/${ticket}/events`)).text();
    expect(events).toContain('"type":"done"');
    const fetched = await fetch(`${plain.studio.url}api/jobs/${ticket}/result`);
    expect(Buffer.from(await fetched.arrayBuffer()).equals(result)).toBe(true);
    expect((await fetch(`${plain.studio.url}api/jobs/${ticket}/result`)).status).toBe(404);
  });

  it('with STUDIO_TOKEN: 401 without it; ?token= sets an HttpOnly cookie and redirects only to this page; workers need none', async () => {
    const locked = await studio({ STUDIO_TOKEN: TOKEN });
    const base = locked.studio.url;
    expect((await fetch(base)).status).toBe(401);
    expect((await fetch(`${base}?token=wrong-token-000000000`, { redirect: 'manual' })).status).toBe(401);
    const login = await fetch(`${base}?token=${TOKEN}&guild=123456&next=https://attacker.example/&lang=ko`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/?guild=123456&lang=ko');
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect((await fetch(base, { headers: { cookie: cookie.split(';')[0]! } })).status).toBe(200);
    expect((await fetch(`${base}api/presets`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await fetch(`${base}worker/selfie/${'a'.repeat(43)}`)).status).toBe(404);
  });

  it('rate-limits each address, in its language', async () => {
    const limited = await studio({ STUDIO_RATE_LIMIT_PER_MIN: '3' });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i += 1) {
      last = await fetch(limited.studio.url, { headers: { 'accept-language': 'ko' } });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const body = (await last!.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('RATE_LIMITED');
    expect(body.error.message).toMatch(/^요청이 너무 많아요/);
  });
});

describe('one-time selfie store', () => {
  it('hands a photo over once, and forgets it after its TTL', async () => {
    const store = createSelfieStore({ ttlMs: 40, max: 2 });
    const once = store.hold({ bytes: new Uint8Array([1]), contentType: 'image/png' });
    expect(once).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(store.take(once)?.bytes[0]).toBe(1);
    expect(store.take(once)).toBeUndefined();
    const expiring = store.hold({ bytes: new Uint8Array([2]), contentType: 'image/png' });
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(store.take(expiring)).toBeUndefined();
  });
});
