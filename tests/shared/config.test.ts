import { describe, expect, it } from 'vitest';
import { loadConfig, prefixHashTag } from '../../src/shared/config.js';
import { HairError } from '../../src/shared/errors.js';

describe('loadConfig', () => {
  it('gives production defaults for the pipeline', () => {
    const config = loadConfig({ env: {} });
    expect(config.HAIR_EP).toBe('auto');
    expect(config.MAX_IMAGE_BYTES).toBe(10 * 1024 * 1024);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names every missing or invalid setting at once', () => {
    let caught: unknown;
    try {
      loadConfig({ env: { HAIR_EP: 'tpu', MAX_IMAGE_BYTES: 'lots' }, need: ['discord'] });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(HairError);
    const error = caught as HairError;
    expect(error.code).toBe('CONFIG_INVALID');
    for (const key of ['HAIR_EP', 'MAX_IMAGE_BYTES', 'DISCORD_TOKEN', 'DISCORD_APPLICATION_ID']) {
      expect(error.message).toContain(key);
    }
  });

  it('validates the sections with defaults in every process, and discord only where a process needs it', () => {
    expect(() => loadConfig({ env: { WORKER_CONCURRENCY: 'many' } })).toThrow(/WORKER_CONCURRENCY/);
    expect(() => loadConfig({ env: { GUILD_PRESET_LIMIT: '0' } })).toThrow(/GUILD_PRESET_LIMIT/);
    expect(loadConfig({ env: {} }).DISCORD_TOKEN).toBeUndefined();
    expect(() => loadConfig({ env: {}, need: ['discord'] })).toThrow(/DISCORD_TOKEN/);
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ env: { HAIR_EP: '' } }).HAIR_EP).toBe('auto');
  });
});

describe('config: studio', () => {
  it('binds to loopback by default and needs STUDIO_TOKEN beyond it', async () => {
    const { loadConfig } = await import('../../src/shared/config.js');
    const local = loadConfig({ env: {} });
    expect(local.STUDIO_HOST).toBe('127.0.0.1');
    expect(local.STUDIO_PORT).toBeUndefined();
    expect(() => loadConfig({ env: { STUDIO_HOST: '0.0.0.0' } })).toThrow(/STUDIO_TOKEN \(missing\): required when STUDIO_HOST/);
    expect(loadConfig({ env: { STUDIO_HOST: '0.0.0.0', STUDIO_TOKEN: 'x'.repeat(16) } }).STUDIO_TOKEN).toHaveLength(16);
  });
});

describe('config: Redis Sentinel and Cluster', () => {
  it('reads Sentinel and Cluster node lists as host:port', () => {
    const sentinel = loadConfig({ env: { REDIS_SENTINELS: '10.0.0.1:26379, sentinel-b:26379', REDIS_SENTINEL_NAME: 'hair' } });
    expect(sentinel.REDIS_SENTINELS).toEqual(['10.0.0.1:26379', 'sentinel-b:26379']);
    const cluster = loadConfig({ env: { REDIS_CLUSTER_NODES: 'r1:7000,r2:7000', QUEUE_PREFIX: '{hairstyler}' } });
    expect(cluster.REDIS_CLUSTER_NODES).toEqual(['r1:7000', 'r2:7000']);
    expect(() => loadConfig({ env: { REDIS_CLUSTER_NODES: 'r1', QUEUE_PREFIX: '{h}' } })).toThrow(/REDIS_CLUSTER_NODES.*host:port/);
  });

  it('a Cluster needs a hash-tagged QUEUE_PREFIX; Sentinels need their master name; not both at once', () => {
    expect(() => loadConfig({ env: { REDIS_CLUSTER_NODES: 'r1:7000' } })).toThrow(/QUEUE_PREFIX.*hash tag.*\{hairstyler\}/);
    for (const prefix of ['{}hair', 'hair{', 'hair}x{']) {
      expect(() => loadConfig({ env: { REDIS_CLUSTER_NODES: 'r1:7000', QUEUE_PREFIX: prefix } })).toThrow(/QUEUE_PREFIX/);
    }
    expect(() => loadConfig({ env: { REDIS_SENTINELS: 's1:26379' } })).toThrow(/REDIS_SENTINEL_NAME/);
    expect(() => loadConfig({ env: { REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'r1:7000', QUEUE_PREFIX: '{h}' } }))
      .toThrow(/REDIS_CLUSTER_NODES.*not both/);
  });

  it('prefixHashTag finds the part Redis Cluster hashes', () => {
    expect(prefixHashTag('{hairstyler}')).toBe('hairstyler');
    expect(prefixHashTag('prod:{hair}:v2')).toBe('hair');
    expect(prefixHashTag('hairstyler')).toBeUndefined();
    expect(prefixHashTag('{}{hair}')).toBeUndefined();
  });
});

describe('config: scale-out', () => {
  it('SHARD_COUNT is auto or a positive integer, and anything else is named', async () => {
    const { loadConfig } = await import('../../src/shared/config.js');
    expect(loadConfig({ env: {} }).SHARD_COUNT).toBe('auto');
    expect(loadConfig({ env: { SHARD_COUNT: '4' } }).SHARD_COUNT).toBe(4);
    expect(() => loadConfig({ env: { SHARD_COUNT: '0' } })).toThrow(/SHARD_COUNT \(got "0"\)/);
    expect(() => loadConfig({ env: { SHARD_COUNT: 'many' } })).toThrow(/SHARD_COUNT \(got "many"\)/);
  });

  it('INTERACTIONS_MODE=http needs DISCORD_PUBLIC_KEY (64 hex characters), and gateway needs none', async () => {
    const { loadConfig } = await import('../../src/shared/config.js');
    expect(loadConfig({ env: {} }).INTERACTIONS_MODE).toBe('gateway');
    expect(() => loadConfig({ env: { INTERACTIONS_MODE: 'http' } })).toThrow(/DISCORD_PUBLIC_KEY \(missing\): required when INTERACTIONS_MODE is http/);
    expect(() => loadConfig({ env: { INTERACTIONS_MODE: 'http', DISCORD_PUBLIC_KEY: 'abc' } })).toThrow(/DISCORD_PUBLIC_KEY \(got "abc"\)/);
    expect(() => loadConfig({ env: { INTERACTIONS_MODE: 'webhook' } })).toThrow(/INTERACTIONS_MODE \(got "webhook"\)/);
    expect(loadConfig({ env: { INTERACTIONS_MODE: 'http', DISCORD_PUBLIC_KEY: 'a'.repeat(64) } }).DISCORD_PUBLIC_KEY).toBe('a'.repeat(64));
  });
});
