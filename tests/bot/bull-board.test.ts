import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

describe('Bull Board (optional, behind BULL_BOARD_TOKEN)', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('is off without a token', async () => {
    h = await startHarness();
    expect(h.bot.boardUrl).toBeUndefined();
  });

  it('refuses requests without the token and serves the queues with it', async () => {
    const token = 'operator-token-0123456789';
    h = await startHarness({ BULL_BOARD_TOKEN: token, BULL_BOARD_PORT: '0' });
    const url = h.bot.boardUrl!;
    expect((await fetch(`${url}/api/queues`)).status).toBe(401);
    expect((await fetch(`${url}/api/queues`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    const ok = await fetch(`${url}/api/queues`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { queues: Array<{ name: string }> };
    expect(body.queues.map((q) => q.name).sort()).toEqual(['hair-preset-build', 'hair-try-on']);
    const viaQuery = await fetch(`${url}?token=${token}`, { redirect: 'manual' });
    const cookie = viaQuery.headers.get('set-cookie')!;
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/board');
    const session = cookie.split(';')[0]!;
    expect((await fetch(`${url}/api/queues`, { headers: { cookie: session } })).status).toBe(200);
    expect((await fetch(`${url}/api/queues`, { headers: { cookie: 'hair_board=wrong-token-0123456789' } })).status).toBe(401);
  });
});
