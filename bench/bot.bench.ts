/**
 * `npm run bench:bot`: interaction → first response latency of the real bot (discord.js Client over the local fake
 * Discord, real Redis). Measured at the fake: from the INTERACTION_CREATE dispatch to the bot's callback request.
 * Goal: p95 ≤ 300 ms for `/hair try` (deferred after the attachment check, limits and Redis round trips).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { createBot } from '../src/bot/bot.js';
import { createLogger, loadConfig, type PresetEntry } from '../src/shared/index.js';
import { startFakeDiscord, type FakeDiscord, type InteractionState } from '../tests/fake-discord/index.js';
import { percentile } from './stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const WARMUP = 20;
const selfie = readFileSync(new URL('../tests/fixtures/astronaut.png', import.meta.url));
const builtins: PresetEntry[] = [
  { id: 'builtin:bob', name: 'Bob', kind: 'shape', source: 'builtin', status: 'ready' },
  { id: 'builtin:blonde', name: 'Blonde', kind: 'color', source: 'builtin', status: 'ready' },
];

async function measure(fake: FakeDiscord, label: string, send: (i: number) => InteractionState, expectType: number) {
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    const sent = send(i);
    const callback = await fake.waitForCallback(sent.id, 10_000);
    if (callback.type !== expectType) throw new Error(`${label}: expected callback type ${expectType}, got ${callback.type}: ${JSON.stringify(callback.data)}`);
    if (i >= WARMUP) samples.push(fake.interactions.get(sent.id)!.callbackAt! - sent.sentAt);
  }
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  console.log(`${label.padEnd(34)} n=${samples.length}  p50 ${percentile(samples, 50)} ms  p95 ${percentile(samples, 95)} ms  max ${samples.at(-1)} ms  mean ${mean.toFixed(1)} ms`);
  return samples;
}

const fake = await startFakeDiscord();
const prefix = `bench-bot-${randomBytes(4).toString('hex')}`;
const config = loadConfig({
  need: ['discord'],
  env: {
    DISCORD_TOKEN: 'bench', DISCORD_APPLICATION_ID: fake.applicationId, DISCORD_API_URL: fake.apiUrl, QUEUE_PREFIX: prefix,
    DOWNLOAD_ALLOWED_HOSTS: '127.0.0.1', USER_HOURLY_QUOTA: '100000', GUILD_HOURLY_QUOTA: '100000', LOG_LEVEL: 'silent',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  },
});
const bot = createBot(config, { log: createLogger({ level: 'silent' }), builtins });
await bot.start();
try {
  const attachment = fake.addAttachment({ filename: 'me.png', bytes: selfie, contentType: 'image/png' });
  console.log(`bot bench: ${ROUNDS} rounds after ${WARMUP} warm-up, fake Discord + Redis on loopback, node ${process.version}`);
  const tryOn = await measure(fake, '/hair try → deferred (type 5)', (i) => fake.slashCommand({
    name: 'hair', subcommand: 'try', options: { image: attachment, shape: 'Bob', color: 'Blonde' }, member: { user: { id: String(10n ** 17n + BigInt(i)) } },
  }), 5);
  await measure(fake, '/hair try bad input → private error', () => fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image: attachment } }), 4);
  await measure(fake, 'autocomplete → choices (type 8)', () => fake.autocomplete({ name: 'hair', subcommand: 'try', options: { shape: 'b' }, focused: 'shape' }), 8);
  // Bursts: 20 members press enter at the same moment, 10 times.
  const burst: number[] = [];
  for (let round = 0; round < 10; round++) {
    const sent = Array.from({ length: 20 }, (_, i) => fake.slashCommand({
      name: 'hair', subcommand: 'try', options: { image: attachment, shape: 'Bob' }, member: { user: { id: String(2n * 10n ** 17n + BigInt(round * 100 + i)) } },
    }));
    for (const s of sent) {
      await fake.waitForCallback(s.id, 10_000);
      burst.push(fake.interactions.get(s.id)!.callbackAt! - s.sentAt);
    }
  }
  burst.sort((a, b) => a - b);
  console.log(`${'/hair try, bursts of 20 at once'.padEnd(34)} n=${burst.length}  p50 ${percentile(burst, 50)} ms  p95 ${percentile(burst, 95)} ms  max ${burst.at(-1)} ms`);
  // Let every try-on finish its enqueue and queued-message edit before closing.
  const tokens = [...fake.interactions.values()].filter((i) => i.callback?.type === 5).map((i) => i.token);
  await fake.waitFor(() => tokens.every((t) => fake.webhookRequests(t).some((r) => r.method === 'PATCH')) || undefined, 30_000, 'queued edits');
  const sequential = [...fake.interactions.values()].filter((i) => i.callback?.type === 5).slice(WARMUP, WARMUP + ROUNDS);
  const queued = sequential.map((i) => fake.webhookRequests(i.token).find((r) => r.method === 'PATCH')!.at - i.sentAt).sort((a, b) => a - b);
  console.log(`${'/hair try → queued message (ETA)'.padEnd(34)} n=${queued.length}  p50 ${percentile(queued, 50)} ms  p95 ${percentile(queued, 95)} ms  max ${queued.at(-1)} ms`);
  const p95 = percentile(tryOn, 95);
  console.log(`goal: /hair try deferred p95 ≤ 300 ms → ${p95 <= 300 ? 'met' : 'NOT met'} (${p95} ms)`);
} finally {
  await bot.close();
  const redis = new Redis(config.REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  await fake.close();
}
