/**
 * `npm run bench:bot-memory`: the bot's memory per 1,000 servers, for docs/scale.md. The real bot (discord.js
 * Client, Guilds intent, default caches) logs in to the fake Discord; the fake then sends GUILD_CREATE for more and
 * more servers, each like a typical one: BENCH_CHANNELS text channels (default 20), BENCH_ROLES roles (10),
 * BENCH_EMOJIS emojis (5), the bot's own member and a member_count up to a million. With the Guilds intent only,
 * Discord sends no member lists, so memory grows with servers, not with members.
 *
 * After each step: two full GCs (`node --expose-gc`), then heapUsed and RSS. Prints the slope per 1,000 servers.
 * BENCH_STEPS (default `1000,2000,5000,10000`) are the cumulative server counts. Redis: a redis-server of its own.
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { createBot } from '../src/bot/bot.js';
import { createLogger, loadConfig, type PresetEntry } from '../src/shared/index.js';
import { startFakeDiscord } from '../tests/fake-discord/index.js';
import { roleRecord, snowflake } from '../tests/fake-discord/payloads.js';
import { startRedisServer } from '../tests/helpers/redis-topology.js';

const STEPS = (process.env['BENCH_STEPS'] ?? '1000,2000,5000,10000').split(',').map(Number);
const CHANNELS = Number(process.env['BENCH_CHANNELS'] ?? 20);
const ROLES = Number(process.env['BENCH_ROLES'] ?? 10);
const EMOJIS = Number(process.env['BENCH_EMOJIS'] ?? 5);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench:bot-memory)');

const builtins: PresetEntry[] = [
  { id: 'builtin:bob', name: 'Bob', kind: 'shape', source: 'builtin', status: 'ready' },
  { id: 'builtin:blonde', name: 'Blonde', kind: 'color', source: 'builtin', status: 'ready' },
];

function guildPayload(botUser: object, i: number) {
  const id = snowflake();
  const channels = Array.from({ length: CHANNELS }, (_, c) => ({
    id: snowflake(), type: 0, guild_id: id, name: `channel-${c}`, position: c, permission_overwrites: [{ id, type: 0, allow: '0', deny: '2048' }],
    nsfw: false, topic: c === 0 ? 'Welcome! Read the rules first.' : null, last_message_id: snowflake(), parent_id: null, rate_limit_per_user: 0,
  }));
  const roles = [{ ...roleRecord(id, '@everyone', '2248473465835073'), position: 0 }, ...Array.from({ length: ROLES }, (_, r) => ({ ...roleRecord(snowflake(), `role ${r}`), position: r + 1 }))];
  const emojis = Array.from({ length: EMOJIS }, (_, e) => ({ id: snowflake(), name: `emoji_${e}`, roles: [], require_colons: true, managed: false, animated: false, available: true }));
  return {
    id, name: `Server ${i}`, icon: null, splash: null, discovery_splash: null, owner_id: snowflake(), afk_channel_id: null, afk_timeout: 300,
    verification_level: 1, default_message_notifications: 1, explicit_content_filter: 2, features: ['COMMUNITY'], mfa_level: 0,
    system_channel_id: channels[0]?.id ?? null, system_channel_flags: 0, rules_channel_id: null, vanity_url_code: null, description: null, banner: null,
    premium_tier: 1, preferred_locale: i % 3 === 0 ? 'ko' : 'en-US', public_updates_channel_id: null, nsfw_level: 0, premium_progress_bar_enabled: false,
    roles, emojis, stickers: [], joined_at: new Date().toISOString(), large: true, unavailable: false,
    member_count: 1 + Math.floor(Math.random() * 1_000_000), voice_states: [], presences: [], threads: [], stage_instances: [],
    guild_scheduled_events: [], soundboard_sounds: [], channels,
    members: [{ user: botUser, roles: [], joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0 }],
  };
}

function measure(): { heapMiB: number; rssMiB: number } {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { heapMiB: m.heapUsed / 2 ** 20, rssMiB: m.rss / 2 ** 20 };
}

const redis = await startRedisServer();
const fake = await startFakeDiscord();
const config = loadConfig({
  need: ['discord'],
  env: {
    DISCORD_TOKEN: 'fake-bot-token', DISCORD_APPLICATION_ID: fake.applicationId, DISCORD_API_URL: fake.apiUrl,
    REDIS_URL: redis.url, QUEUE_PREFIX: `bench-mem-${randomBytes(4).toString('hex')}`, LOG_LEVEL: 'silent', STYLES_DIR: '/nonexistent',
  },
});
const bot = createBot(config, { log: createLogger({ level: 'silent' }), builtins });
try {
  await bot.start();
  console.log(`bench:bot-memory on ${cpus().length} CPU(s), node ${process.version}; each server: ${CHANNELS} channels, ${ROLES} roles + @everyone, ${EMOJIS} emojis`);
  const base = measure();
  console.log(`servers ${String(bot.client.guilds.cache.size).padStart(6)}: heapUsed ${base.heapMiB.toFixed(1)} MiB, rss ${base.rssMiB.toFixed(1)} MiB`);
  let sentGuilds = 0;
  let last = { servers: bot.client.guilds.cache.size, ...base };
  for (const target of STEPS) {
    while (sentGuilds < target) {
      fake.dispatch('GUILD_CREATE', guildPayload(fake.botUser, sentGuilds));
      sentGuilds += 1;
      if (sentGuilds % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    const until = Date.now() + 120_000;
    while (bot.client.guilds.cache.size < target + 1) {
      if (Date.now() > until) throw new Error(`only ${bot.client.guilds.cache.size} servers arrived`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const now = measure();
    const servers = bot.client.guilds.cache.size;
    const perK = (x: number, y: number) => (((x - y) / (servers - last.servers)) * 1000).toFixed(1);
    console.log(
      `servers ${String(servers).padStart(6)}: heapUsed ${now.heapMiB.toFixed(1)} MiB, rss ${now.rssMiB.toFixed(1)} MiB;` +
        ` since the last step per 1,000 servers: heap +${perK(now.heapMiB, last.heapMiB)} MiB, rss +${perK(now.rssMiB, last.rssMiB)} MiB;` +
        ` since 1 server: heap +${(((now.heapMiB - base.heapMiB) / (servers - 1)) * 1000).toFixed(1)} MiB per 1,000`,
    );
    last = { servers, ...now };
  }
} finally {
  await bot.close();
  await fake.close();
  await redis.close();
}
