/**
 * `npm run bench:redis`: what one try-on costs Redis, for docs/scale.md. The real bot (discord.js against the fake
 * Discord) and one real worker (contract models, HAIR_EP=cpu unless set) on a redis-server of their own (a free
 * loopback port: nothing else's commands are counted).
 *
 *  1. idle: commands/s the bot and one worker send with nothing queued (heartbeats, stalled checks, blocking reads).
 *  2. BENCH_JOBS (default 40) `/hair try` sent at once, drained by the worker at concurrency 1:
 *     - try-ons/s of the worker (first pickup → last completion);
 *     - Redis commands per job by command (INFO commandstats before/after, minus the idle rate over the run) and
 *       Redis CPU per job (the `usec` of those commands);
 *     - network bytes per job in and out of Redis (INFO stats total_net_input/output_bytes);
 *     - memory a finished job leaves behind, by key kind (MEMORY USAGE, with each kind's TTL): what a day of jobs
 *       keeps in Redis.
 */
import { cpus } from 'node:os';
import { Redis } from 'ioredis';
import { QUEUE_NAMES, tryOnJobId } from '../src/shared/job.js';
import { SELFIE, type Harness } from '../tests/bot/harness.js';
import { startRedisServer } from '../tests/helpers/redis-topology.js';
import { finalState, resultOf, startHaStack } from '../tests/redis/ha-flow.js';

const JOBS = Number(process.env['BENCH_JOBS'] ?? 40);
const IDLE_S = Number(process.env['BENCH_IDLE_S'] ?? 10);

/**
 * `/hair try` from member `i` (one job per member, as USER_MAX_ACTIVE_JOBS=1 allows), waiting on the fake Discord
 * (the bot's "queued" edit) rather than on Redis, so the bench adds no commands of its own to the count.
 */
async function sendTryOn(h: Harness, i: number): Promise<{ interactionId: string; jobId: string }> {
  const image = h.fake.addAttachment({ filename: 'me.png', bytes: SELFIE, contentType: 'image/png', width: 512, height: 512 });
  const member = { user: { id: String(800000000000000000n + BigInt(i)) } };
  const sent = h.fake.slashCommand({ name: 'hair', subcommand: 'try', options: { image, color: 'Copper' }, member });
  await h.fake.waitFor(() => (h.fake.original(sent.id)?.content ? true : undefined), 15_000, `the queued reply of ${sent.id}`);
  return { interactionId: sent.id, jobId: tryOnJobId(sent.id) };
}

/** How long after the last upload the bench waits for BullMQ to mark the job completed before it reads the counts. */
const SETTLE_MS = 2_000;

type CommandStats = Map<string, { calls: number; usec: number }>;

async function commandStats(redis: Redis): Promise<CommandStats> {
  const info = await redis.info('commandstats');
  const stats: CommandStats = new Map();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) stats.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  return stats;
}

function diff(after: CommandStats, before: CommandStats): CommandStats {
  const out: CommandStats = new Map();
  for (const [name, a] of after) {
    const b = before.get(name) ?? { calls: 0, usec: 0 };
    if (a.calls - b.calls > 0) out.set(name, { calls: a.calls - b.calls, usec: a.usec - b.usec });
  }
  return out;
}

const total = (stats: CommandStats) => [...stats.values()].reduce((s, x) => ({ calls: s.calls + x.calls, usec: s.usec + x.usec }), { calls: 0, usec: 0 });

async function netBytes(redis: Redis): Promise<{ in: number; out: number }> {
  const info = await redis.info('stats');
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
  return { in: field('total_net_input_bytes'), out: field('total_net_output_bytes') };
}

/** The kind of a key: the job id (and the worker id) replaced by `*`. */
function keyKind(key: string, prefix: string, jobIds: Set<string>, workerId: string): string {
  return key
    .slice(prefix.length)
    .split(':')
    .map((part) => (jobIds.has(part) ? '<job>' : part === workerId ? '<worker>' : /^\d{17,20}$/.test(part) ? '<snowflake>' : part))
    .join(':');
}

const server = await startRedisServer();
const probe = new Redis(server.url);
const stack = await startHaStack({ REDIS_URL: server.url, QUEUE_PREFIX: 'bench', USER_MAX_ACTIVE_JOBS: '1', GUILD_HOURLY_QUOTA: String(JOBS + 10) });
const { h, worker } = stack;
try {
  console.log(`bench:redis on ${cpus().length} CPU(s) (${cpus()[0]?.model ?? '?'}), redis-server ${(await probe.info('server')).match(/redis_version:(\S+)/)?.[1]}, node ${process.version}`);
  console.log(`worker: EP ${worker.executionProvider}, sessions warm in ${Math.round(worker.loadMs)} ms; one warm-up job first`);
  const warm = await sendTryOn(h, JOBS);
  await resultOf(h, warm.interactionId, 120_000);
  await finalState(h, warm.jobId);

  // 1. idle
  await probe.config('RESETSTAT');
  const idle0 = await commandStats(probe);
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const idle = total(diff(await commandStats(probe), idle0));
  const idlePerS = idle.calls / IDLE_S;
  console.log(`\n# idle (bot + 1 worker, nothing queued, ${IDLE_S} s): ${idlePerS.toFixed(1)} commands/s, ${(idle.usec / IDLE_S / 1000).toFixed(2)} ms Redis CPU per s`);

  // 2. a burst of jobs
  const before = await commandStats(probe);
  const bytes0 = await netBytes(probe);
  const started = performance.now();
  const sent = [];
  for (let i = 0; i < JOBS; i++) sent.push(await sendTryOn(h, i));
  for (const s of sent) await resultOf(h, s.interactionId, 300_000);
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const wallS = (performance.now() - started) / 1000;
  const perJob = diff(await commandStats(probe), before);
  const bytes1 = await netBytes(probe);
  for (const s of sent) await finalState(h, s.jobId, 30_000);
  const jobs = await Promise.all(sent.map((s) => h.tryOnQueue.getJob(s.jobId)));
  const picked = Math.min(...jobs.map((j) => j!.processedOn!));
  const finished = Math.max(...jobs.map((j) => j!.finishedOn!));
  const all = total(perJob);
  const idleShare = idlePerS * wallS;
  console.log(`\n# ${JOBS} try-ons sent at once, one worker (concurrency 1)`);
  console.log(`worker throughput: ${(JOBS / ((finished - picked) / 1000)).toFixed(2)} try-ons/s (first pickup → last completion ${((finished - picked) / 1000).toFixed(1)} s)`);
  console.log(`Redis commands per job: ${((all.calls - idleShare) / JOBS).toFixed(1)} (raw ${(all.calls / JOBS).toFixed(1)}, minus the idle rate × ${wallS.toFixed(1)} s)`);
  console.log(`Redis CPU per job: ${(all.usec / JOBS).toFixed(0)} µs (all commands in the window, idle included)`);
  console.log(`network per job: ${((bytes1.in - bytes0.in) / JOBS / 1024).toFixed(1)} KiB into Redis, ${((bytes1.out - bytes0.out) / JOBS / 1024).toFixed(1)} KiB out of Redis`);
  console.log('commands per job by name (top 20):');
  for (const [name, s] of [...perJob].sort((a, b) => b[1].calls - a[1].calls).slice(0, 20)) {
    console.log(`  ${name.padEnd(16)} ${(s.calls / JOBS).toFixed(2).padStart(7)} calls  ${(s.usec / s.calls).toFixed(1).padStart(6)} µs/call`);
  }

  // 3. memory a finished job leaves
  const jobIds = new Set([warm.jobId, ...sent.map((s) => s.jobId)]);
  const kinds = new Map<string, { keys: number; bytes: number; ttlS: number[] }>();
  let cursor = '0';
  do {
    const [next, keys] = await probe.scan(cursor, 'MATCH', 'bench:*', 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      const kind = keyKind(key, 'bench:', jobIds, worker.id);
      const entry = kinds.get(kind) ?? { keys: 0, bytes: 0, ttlS: [] };
      entry.keys += 1;
      entry.bytes += Number(await probe.memory('USAGE', key, 'SAMPLES', '0'));
      const ttl = await probe.pttl(key);
      if (ttl > 0) entry.ttlS.push(ttl / 1000);
      kinds.set(kind, entry);
    }
  } while (cursor !== '0');
  const jobKinds = [...kinds].filter(([kind]) => kind.includes('<job>'));
  console.log(`\n# memory left per finished job (MEMORY USAGE … SAMPLES 0), by key kind`);
  for (const [kind, k] of jobKinds.sort((a, b) => b[1].bytes - a[1].bytes)) {
    const ttl = k.ttlS.length ? `TTL ${Math.round(Math.max(...k.ttlS))} s` : 'no TTL (BullMQ retention)';
    console.log(`  ${kind.padEnd(36)} ${(k.bytes / k.keys).toFixed(0).padStart(6)} B  × ${k.keys}  ${ttl}`);
  }
  const shared = [...kinds].filter(([kind]) => !kind.includes('<job>'));
  console.log('shared keys (grow with members, servers or finished jobs, not one each per job):');
  for (const [kind, k] of shared.sort((a, b) => b[1].bytes - a[1].bytes)) console.log(`  ${kind.padEnd(36)} ${k.bytes.toString().padStart(7)} B  (${k.keys} key${k.keys > 1 ? 's' : ''})`);
  const wait = (h.tryOnQueue.keys as Record<string, string>)['completed']!;
  console.log(`completed set ${wait}: ${await probe.zcard(wait)} jobs, ${await probe.memory('USAGE', wait, 'SAMPLES', '0')} B; used_memory ${(await probe.info('memory')).match(/used_memory:(\d+)/)?.[1]} B`);
  console.log(`(queue: ${QUEUE_NAMES.tryOn})`);
} finally {
  await stack.close();
  probe.disconnect();
  await server.close();
}
