import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import type { TensorData } from '../../../src/pipeline/runtime/ort.js';
import { createFilePresetCacheStore } from '../../../src/pipeline/hairfast/file-preset-cache-store.js';
import type { ImageEmbedding } from '../../../src/pipeline/hairfast/embed.js';
import {
  decodePresetCache, encodePresetCache, PRESET_CACHE_VERSION, PRESET_TENSORS, presetCacheKey,
} from '../../../src/pipeline/hairfast/preset-cache.js';

const tensor = (v: TensorData) => new ort.Tensor(v.dtype as 'float32', v.data as Float32Array, v.dims);
const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

function floats(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 3.5);
}

function embedding(): ImageEmbedding {
  return {
    key: 'builtin:test',
    w: tensor({ dtype: 'float32', data: floats(18 * 512, 1), dims: [1, 18, 512] }),
    s: tensor({ dtype: 'float32', data: floats(18 * 512, 2), dims: [1, 18, 512] }),
    mask: tensor({ dtype: 'int64', data: BigInt64Array.from({ length: 256 * 256 }, (_, i) => BigInt(i % 19)), dims: [1, 1, 256, 256] }),
    f_mix: tensor({ dtype: 'float32', data: floats(512 * 32 * 32, 3), dims: [1, 512, 32, 32] }),
    image_norm_256: tensor({ dtype: 'float32', data: floats(3 * 256 * 256, 4), dims: [1, 3, 256, 256] }),
    codes: tensor({ dtype: 'float32', data: floats(19 * 512, 5), dims: [1, 19, 512] }),
    clip: tensor({ dtype: 'float32', data: floats(512, 6), dims: [1, 512] }),
  };
}

describe('preset cache format', () => {
  it('round-trips every tensor of each kind bit for bit, with only the tensors the kind needs', () => {
    const e = embedding();
    for (const kind of ['shape', 'color', 'both'] as const) {
      const bytes = encodePresetCache({ presetId: 'builtin:test', kind, modelsHash: HASH_A, embedding: e });
      expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('HFPC');
      expect(new DataView(bytes.buffer, bytes.byteOffset).getUint16(4, true)).toBe(PRESET_CACHE_VERSION);
      const back = decodePresetCache(bytes, { presetId: 'builtin:test', modelsHash: HASH_A }, tensor);
      if ('stale' in back) throw new Error(back.stale);
      expect(back.kind).toBe(kind);
      const stored = Object.keys(back.embedding).filter((k) => k !== 'key').sort();
      expect(stored).toEqual([...PRESET_TENSORS[kind]].sort());
      for (const name of PRESET_TENSORS[kind]) {
        expect(back.embedding[name]!.dims).toEqual(e[name]!.dims);
        expect(back.embedding[name]!.type).toBe(e[name]!.type);
        expect(Array.from(back.embedding[name]!.data as ArrayLike<number>)).toEqual(Array.from(e[name]!.data as ArrayLike<number>));
      }
    }
  });

  it('is compact: the header plus the raw tensors, nothing more than alignment padding', () => {
    const bytes = encodePresetCache({ presetId: 'builtin:test', kind: 'color', modelsHash: HASH_A, embedding: embedding() });
    const raw = (18 * 512 * 2 + 256 * 256 * 2 + 3 * 256 * 256 + 512) * 4;
    expect(bytes.byteLength).toBeGreaterThan(raw);
    expect(bytes.byteLength).toBeLessThan(raw + 1024);
  });

  it('calls an entry stale when the models, the preset, the magic, the version or the length do not fit', () => {
    const bytes = encodePresetCache({ presetId: 'builtin:test', kind: 'shape', modelsHash: HASH_A, embedding: embedding() });
    const expectStale = (b: Uint8Array, expect_: { presetId: string; modelsHash: string }, reason: RegExp) => {
      const r = decodePresetCache(b, expect_, tensor);
      expect('stale' in r ? r.stale : 'fresh').toMatch(reason);
    };
    expectStale(bytes, { presetId: 'builtin:test', modelsHash: HASH_B }, /other models/);
    expectStale(bytes, { presetId: 'builtin:other', modelsHash: HASH_A }, /builtin:test/);
    const badMagic = bytes.slice();
    badMagic[0] = 0;
    expectStale(badMagic, { presetId: 'builtin:test', modelsHash: HASH_A }, /not a preset cache/);
    const badVersion = bytes.slice();
    badVersion[4] = 99;
    expectStale(badVersion, { presetId: 'builtin:test', modelsHash: HASH_A }, /version 99/);
    expectStale(bytes.subarray(0, bytes.byteLength - 100), { presetId: 'builtin:test', modelsHash: HASH_A }, /out of bounds/);
    expectStale(new Uint8Array(0), { presetId: 'builtin:test', modelsHash: HASH_A }, /not a preset cache/);
  });
});

describe('file preset cache store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hairfast-cache-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stores, reads and deletes entries; a write for new models removes the same preset\'s old entry', async () => {
    const store = createFilePresetCacheStore(dir);
    const keyA = presetCacheKey('guild:123456:curly', HASH_A);
    const keyB = presetCacheKey('guild:123456:curly', HASH_B);
    const other = presetCacheKey('guild:123456:straight', HASH_A);
    expect(await store.get(keyA)).toBeNull();
    await store.set(keyA, new Uint8Array([1, 2, 3]));
    await store.set(other, new Uint8Array([9]));
    expect(Array.from((await store.get(keyA))!)).toEqual([1, 2, 3]);
    await store.set(keyB, new Uint8Array([4]));
    expect(await store.get(keyA)).toBeNull();
    expect(Array.from((await store.get(keyB))!)).toEqual([4]);
    expect(Array.from((await store.get(other))!)).toEqual([9]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await store.delete(keyB);
    expect(await store.get(keyB)).toBeNull();
  });
});
