import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTryOnEngine } from '../../src/pipeline/index.js';
import { createLogger, parseCustomId, tryOnJobId } from '../../src/shared/index.js';
import { createWorker, type HairWorker } from '../../src/worker/create-worker.js';
import { startFakeDiscord } from '../fake-discord/index.js';
import { SELFIE, startHarness, type Harness } from '../bot/harness.js';

const MEMBER = { user: { id: '959595959595959595' } };

/**
 * INTERACTIONS_MODE=http end to end: the fake Discord POSTs signed interactions to the bot's endpoint → the real
 * discord.js handlers → BullMQ on the real Redis → the real worker on the contract models → the result delivered
 * through the interaction's webhook; then the result's own button, through the endpoint again.
 */
describe('HTTP interactions → queue → worker → Discord (contract models)', () => {
  let h: Harness;
  let worker: HairWorker;
  let cacheDir: string;

  beforeAll(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'hair-e2e-http-cache-'));
    const fake = await startFakeDiscord();
    h = await startHarness({
      INTERACTIONS_MODE: 'http', DISCORD_PUBLIC_KEY: fake.publicKeyHex, INTERACTIONS_PORT: '0', INTERACTIONS_HOST: '127.0.0.1',
      HAIR_EP: 'cpu', METRICS_PORT: '0', PRESET_CACHE_DIR: cacheDir,
    }, { realStyles: true, fake });
    worker = await createWorker(h.config, { logger: createLogger({ level: 'silent' }), createEngine: createTryOnEngine });
  }, 120_000);

  afterAll(async () => {
    await worker?.close();
    await h?.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('/hair try through the endpoint: the result image arrives with its buttons, and Delete works through the endpoint', async () => {
    expect(h.fake.gatewayEvents).toEqual([]);
    const image = h.fake.addAttachment({ filename: 'me.png', bytes: SELFIE, contentType: 'image/png', width: 512, height: 512 });
    const sent = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image, shape: 'builtin:short-layered', color: 'Copper' }, member: MEMBER });
    expect((await sent.delivery)?.status).toBe(202);
    expect((await h.fake.waitForCallback(sent.id)).type).toBe(5);
    const result = await h.fake.waitFor(() => {
      const original = h.fake.original(sent.id);
      return original?.attachments.length ? original : undefined;
    }, 90_000, 'the result image');
    const bytes = h.fake.cdnBytes(result.attachments[0]!.url)!;
    expect(bytes.length).toBeGreaterThan(1000);
    const buttons = result.components.flatMap((row: any) => row.components);
    const ids = buttons.map((c: any) => parseCustomId(c.custom_id)).filter(Boolean);
    expect(ids.map((x: any) => x.action)).toEqual(expect.arrayContaining(['recolor', 'retry', 'delete']));
    expect(ids.every((x: any) => x.jobId === tryOnJobId(sent.id))).toBe(true);

    const del = buttons.find((c: any) => parseCustomId(c.custom_id)?.action === 'delete');
    const click = h.fake.component({ customId: del.custom_id, message: result, member: MEMBER });
    expect((await click.delivery)?.status).toBe(202);
    await h.fake.waitForRequest((r) => r.method === 'DELETE' && r.path.includes(click.token), 10_000);
    expect(h.fake.messages.has(result.id)).toBe(false);
  }, 120_000);
});
