import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

/**
 * Real Redis topologies on loopback for the high-availability tests, from Debian's `redis-server`,
 * `redis-sentinel` and `redis-cli`: free ports, a temp dir, no persistence; close() kills every process and
 * removes the dir (also when the test process exits without it).
 */

const run = promisify(execFile);
const HOST = '127.0.0.1';
const living = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of living) child.kill('SIGKILL');
});

async function portFree(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/** `count` free ports in a row; with `bus`, port + 10000 (the cluster bus) is free too. */
async function freePorts(count: number, bus = false): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    const checks = await Promise.all(ports.flatMap((p) => (bus ? [portFree(p), portFree(p + 10_000)] : [portFree(p)])));
    if (checks.every(Boolean)) return ports;
  }
  throw new Error('no free loopback ports for Redis');
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function start(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  living.add(child);
  child.once('exit', () => living.delete(child));
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/** One command on one node, a fresh connection each time (it may be the node being failed over). */
export async function command(port: number, ...args: string[]): Promise<string> {
  const client = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return String(await client.call(args[0]!, ...args.slice(1)));
  } finally {
    client.disconnect();
  }
}

async function answers(port: number): Promise<boolean> {
  return (await command(port, 'PING')) === 'PONG';
}

const infoField = (info: string, field: string) => new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim();
const NO_DISK = ['--save', '', '--appendonly', 'no', '--bind', HOST, '--protected-mode', 'no'];

export interface ClusterNodeInfo {
  port: number;
  id: string;
  role: 'master' | 'replica';
  /** A replica's master id. */
  masterId?: string;
}

export interface RedisClusterSet {
  /** `host:port,host:port,…` of every node, as REDIS_CLUSTER_NODES takes them. */
  readonly seeds: string;
  readonly ports: number[];
  nodes(): Promise<ClusterNodeInfo[]>;
  /** The master serving `key`'s slot now. */
  masterOf(key: string): Promise<ClusterNodeInfo>;
  /** `CLUSTER FAILOVER` on a replica of the master serving `key`; resolves once that replica is the master. */
  failoverSlotOf(key: string): Promise<{ from: number; to: number }>;
  close(): Promise<void>;
}

/** `masters` masters with `replicas` replicas each, created by `redis-cli --cluster create`. */
export async function startRedisCluster(options: { masters?: number; replicas?: number } = {}): Promise<RedisClusterSet> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'hair-redis-cluster-'));
  const ports = await freePorts(masters * (1 + replicas), true);
  const children = ports.map((port) =>
    start('redis-server', ['--port', String(port), '--dir', dir, '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '3000', ...NO_DISK]),
  );
  const close = async () => {
    await Promise.all(children.map(stop));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(ports.map((port) => waitFor(`redis-server :${port}`, () => answers(port))));
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `${HOST}:${p}`), '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 20_000 });
    const nodes = async (): Promise<ClusterNodeInfo[]> => {
      const text = await command(ports[0]!, 'CLUSTER', 'NODES');
      return text.trim().split('\n').map((line) => {
        const [id, address, flags, masterId] = line.split(' ');
        const role = flags!.includes('master') ? 'master' : 'replica';
        return { id: id!, port: Number(address!.split('@')[0]!.split(':')[1]), role, ...(role === 'replica' ? { masterId: masterId! } : {}) };
      });
    };
    const linked = async (port: number) => infoField(await command(port, 'INFO', 'replication'), 'master_link_status') === 'up';
    await waitFor('the cluster to be ok on every node with replicas in sync', async () => {
      const states = await Promise.all(ports.map(async (p) => infoField(await command(p, 'CLUSTER', 'INFO'), 'cluster_state')));
      if (!states.every((s) => s === 'ok')) return false;
      const all = await nodes();
      const synced = await Promise.all(all.filter((n) => n.role === 'replica').map((n) => linked(n.port)));
      return all.filter((n) => n.role === 'master').length === masters && synced.length === masters * replicas && synced.every(Boolean);
    }, 20_000);
    const masterOf = async (key: string) => {
      const slot = Number(await command(ports[0]!, 'CLUSTER', 'KEYSLOT', key));
      const shards = (await clusterSlots(ports[0]!)) as Array<[number, number, [string, number, string]]>;
      const owner = shards.find(([from, to]) => slot >= from && slot <= to)!;
      return (await nodes()).find((n) => n.id === owner[2][2])!;
    };
    return {
      seeds: ports.map((p) => `${HOST}:${p}`).join(','),
      ports,
      nodes,
      masterOf,
      async failoverSlotOf(key) {
        const master = await masterOf(key);
        const replica = (await nodes()).find((n) => n.masterId === master.id);
        if (!replica) throw new Error(`no replica of ${master.port}`);
        await command(replica.port, 'CLUSTER', 'FAILOVER');
        await waitFor(`replica :${replica.port} to take over`, async () => {
          const now = await masterOf(key);
          if (now.port !== replica.port) return false;
          const states = await Promise.all(ports.map(async (p) => infoField(await command(p, 'CLUSTER', 'INFO'), 'cluster_state')));
          return states.every((s) => s === 'ok');
        });
        return { from: master.port, to: replica.port };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function clusterSlots(port: number): Promise<unknown> {
  const client = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.cluster('SLOTS');
  } finally {
    client.disconnect();
  }
}

export interface SentinelSet {
  /** The master name the sentinels monitor (REDIS_SENTINEL_NAME). */
  readonly name: string;
  /** `host:port,…` of the sentinels, as REDIS_SENTINELS takes them. */
  readonly sentinels: string;
  /** The data node that is master now, as the sentinels see it. */
  masterPort(): Promise<number>;
  /**
   * Kills the master (SIGKILL, as a crashed host) and resolves once every sentinel names the replica as master and
   * it answers as one. Killing it rather than `SENTINEL FAILOVER` leaves no old master accepting writes until the
   * sentinels get round to demoting it.
   */
  failover(): Promise<{ from: number; to: number }>;
  close(): Promise<void>;
}

/** One master, one replica and three sentinels (quorum 2). */
export async function startSentinelSet(): Promise<SentinelSet> {
  const name = 'hairstyler-test';
  const dir = mkdtempSync(join(tmpdir(), 'hair-redis-sentinel-'));
  const [masterPort, replicaPort, ...sentinelPorts] = await freePorts(5);
  const data = [masterPort!, replicaPort!];
  const dataNodes = new Map<number, ChildProcess>([
    [masterPort!, start('redis-server', ['--port', String(masterPort), '--dir', dir, '--dbfilename', `m-${masterPort}.rdb`, ...NO_DISK])],
    [replicaPort!, start('redis-server', ['--port', String(replicaPort), '--dir', dir, '--dbfilename', `r-${replicaPort}.rdb`, '--replicaof', HOST, String(masterPort), ...NO_DISK])],
  ]);
  const children = [...dataNodes.values()];
  const close = async () => {
    await Promise.all(children.map(stop));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(data.map((port) => waitFor(`redis-server :${port}`, () => answers(port))));
    for (const port of sentinelPorts) {
      const file = join(dir, `sentinel-${port}.conf`);
      writeFileSync(file, [
        `port ${port}`, `bind ${HOST}`, `dir ${dir}`,
        `sentinel monitor ${name} ${HOST} ${masterPort} 2`,
        `sentinel down-after-milliseconds ${name} 500`,
        `sentinel failover-timeout ${name} 3000`,
        `sentinel parallel-syncs ${name} 1`, '',
      ].join('\n'));
      children.push(start('redis-sentinel', [file]));
    }
    const replicaLinked = async (port: number) => infoField(await command(port, 'INFO', 'replication'), 'master_link_status') === 'up';
    // Every sentinel knows the replica (SENTINEL FAILOVER needs one) and the two other sentinels.
    await waitFor('the sentinels to see the replica and each other', async () => {
      if (!(await replicaLinked(replicaPort!))) return false;
      const views = await Promise.all(sentinelPorts.map(async (port) => {
        const replicas = await sentinelTable(port, 'REPLICAS', name);
        const peers = await sentinelTable(port, 'SENTINELS', name);
        return replicas.some((r) => r['port'] === String(replicaPort) && !String(r['flags']).includes('disconnected')) && peers.length === sentinelPorts.length - 1;
      }));
      return views.every(Boolean);
    }, 20_000);
    const masterSeenBy = async (port: number) => Number(((await sentinelCall(port, 'GET-MASTER-ADDR-BY-NAME', name)) as string[])[1]);
    return {
      name,
      sentinels: sentinelPorts.map((p) => `${HOST}:${p}`).join(','),
      masterPort: () => masterSeenBy(sentinelPorts[0]!),
      async failover() {
        const from = await masterSeenBy(sentinelPorts[0]!);
        const to = data.find((p) => p !== from)!;
        // The queued jobs are on the replica before the crash (Redis replicates asynchronously: a write acknowledged
        // in the last moment before a crash can be lost, docs/scale.md).
        await command(from, 'WAIT', '1', '2000');
        await stop(dataNodes.get(from)!);
        await waitFor('the sentinels to promote the replica', async () => {
          const seen = await Promise.all(sentinelPorts.map(masterSeenBy));
          return seen.every((p) => p === to) && infoField(await command(to, 'INFO', 'replication'), 'role') === 'master';
        }, 20_000);
        return { from, to };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function sentinelCall(port: number, ...args: string[]): Promise<unknown> {
  const client = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call('SENTINEL', ...args);
  } finally {
    client.disconnect();
  }
}

/** A SENTINEL REPLICAS/SENTINELS answer as objects. */
async function sentinelTable(port: number, what: string, name: string): Promise<Array<Record<string, string>>> {
  const rows = (await sentinelCall(port, what, name)) as string[][];
  return rows.map((row) => Object.fromEntries(Array.from({ length: row.length / 2 }, (_, i) => [row[2 * i]!, row[2 * i + 1]!])));
}
