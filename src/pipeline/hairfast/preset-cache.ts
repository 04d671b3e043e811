import { z } from 'zod';
import { presetKindSchema, type PresetKind } from '../../shared/presets.js';
import type { OrtTensor, TensorData, TensorDtype } from '../runtime/ort.js';
import { EMBEDDING_TENSORS, type EmbeddingTensor, type ImageEmbedding } from './embed.js';

/**
 * The preset cache format: everything a preset image alone decides, stored once.
 *
 *   bytes 0..3   "HFPC"
 *   bytes 4..5   format version (u16 LE)
 *   bytes 6..7   reserved, 0
 *   bytes 8..11  header length H (u32 LE)
 *   bytes 12..   header: UTF-8 JSON {presetId, kind, modelsHash, tensors: [{name, dtype, dims, offset, bytes}]}
 *   then         zero padding to a multiple of 8, then the tensors' raw little-endian data at their offsets
 *                (relative to the data start)
 *
 * Entries are keyed by preset id + models hash; a reader also checks the header, so an entry made by other graphs
 * (or a torn write) is a miss and gets rebuilt, never used.
 */
export const PRESET_CACHE_VERSION = 1;
const MAGIC = [0x48, 0x46, 0x50, 0x43];

/** Which tensors a preset stores, by what it is used for. */
export const PRESET_TENSORS: Record<PresetKind, readonly EmbeddingTensor[]> = {
  // rotate (w), ctrl_hair_enc via rotate, sean_decode (codes), align_f (f_mix, mask).
  shape: ['w', 'mask', 'f_mix', 'codes'],
  // the (face, color) shape module (w, mask), blend_masks (image_norm_256, mask), color_mod (s, clip).
  color: ['w', 's', 'mask', 'image_norm_256', 'clip'],
  both: ['w', 's', 'mask', 'f_mix', 'image_norm_256', 'codes', 'clip'],
};

const DTYPE_BYTES: Record<string, number> = { float32: 4, int64: 8, int32: 4, uint8: 1, float16: 2, bool: 1 };

const headerSchema = z.object({
  presetId: z.string().min(1),
  kind: presetKindSchema,
  modelsHash: z.string().regex(/^[0-9a-f]{64}$/),
  tensors: z.array(z.object({
    name: z.enum(EMBEDDING_TENSORS as [EmbeddingTensor, ...EmbeddingTensor[]]),
    dtype: z.enum(['float32', 'int64', 'int32', 'uint8', 'float16', 'bool']),
    dims: z.array(z.number().int().nonnegative()),
    offset: z.number().int().nonnegative(),
    bytes: z.number().int().nonnegative(),
  })),
});

export interface PresetCacheEntry {
  presetId: string;
  kind: PresetKind;
  modelsHash: string;
  embedding: ImageEmbedding;
}

export function presetCacheKey(presetId: string, modelsHash: string): string {
  return `hairfast:${modelsHash.slice(0, 16)}:${presetId}`;
}

function rawBytes(t: OrtTensor): Uint8Array {
  const data = t.data as ArrayBufferView;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export function encodePresetCache(entry: PresetCacheEntry): Uint8Array {
  const names = PRESET_TENSORS[entry.kind];
  let offset = 0;
  const table = names.map((name) => {
    const t = entry.embedding[name];
    if (!t) throw new RangeError(`Expected tensor ${name} for a ${entry.kind} preset but the embedding has none`);
    const bytes = rawBytes(t).byteLength;
    const row = { name, dtype: t.type, dims: [...t.dims], offset, bytes };
    offset += Math.ceil(bytes / 8) * 8;
    return row;
  });
  const header = new TextEncoder().encode(JSON.stringify({
    presetId: entry.presetId, kind: entry.kind, modelsHash: entry.modelsHash, tensors: table,
  }));
  const dataStart = Math.ceil((12 + header.byteLength) / 8) * 8;
  const out = new Uint8Array(dataStart + offset);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint16(4, PRESET_CACHE_VERSION, true);
  view.setUint32(8, header.byteLength, true);
  out.set(header, 12);
  for (const row of table) out.set(rawBytes(entry.embedding[row.name]!), dataStart + row.offset);
  return out;
}

function typedView(dtype: string, buffer: ArrayBuffer, byteOffset: number, bytes: number) {
  const n = bytes / DTYPE_BYTES[dtype]!;
  switch (dtype) {
    case 'float32': return new Float32Array(buffer, byteOffset, n);
    case 'int64': return new BigInt64Array(buffer, byteOffset, n);
    case 'int32': return new Int32Array(buffer, byteOffset, n);
    case 'float16': return new Uint16Array(buffer, byteOffset, n);
    default: return new Uint8Array(buffer, byteOffset, n);
  }
}

/**
 * Decodes an entry, or returns the reason it cannot be used (wrong magic, version, models hash, preset id,
 * truncated). Tensors view one aligned copy of the bytes, no per-tensor copies.
 */
export function decodePresetCache(
  bytes: Uint8Array,
  expect: { presetId: string; modelsHash: string },
  tensor: (value: TensorData) => OrtTensor,
): PresetCacheEntry | { stale: string } {
  if (bytes.byteLength < 12 || MAGIC.some((b, i) => bytes[i] !== b)) return { stale: 'not a preset cache entry' };
  // One copy into a fresh, 8-aligned buffer: typed views need aligned offsets.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  const view = new DataView(copy.buffer);
  const version = view.getUint16(4, true);
  if (version !== PRESET_CACHE_VERSION) return { stale: `format version ${version}, expected ${PRESET_CACHE_VERSION}` };
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > copy.byteLength) return { stale: 'truncated header' };
  let header: z.infer<typeof headerSchema>;
  try {
    const parsed = headerSchema.safeParse(JSON.parse(new TextDecoder().decode(copy.subarray(12, 12 + headerLength))));
    if (!parsed.success) return { stale: 'invalid header' };
    header = parsed.data;
  } catch {
    return { stale: 'invalid header' };
  }
  if (header.modelsHash !== expect.modelsHash) return { stale: 'made by other models' };
  if (header.presetId !== expect.presetId) return { stale: `entry is for ${header.presetId}` };
  const dataStart = Math.ceil((12 + headerLength) / 8) * 8;
  const embedding: ImageEmbedding = { key: header.presetId };
  for (const row of header.tensors) {
    const count = row.dims.reduce((a, b) => a * b, 1);
    if (row.bytes !== count * DTYPE_BYTES[row.dtype]! || dataStart + row.offset + row.bytes > copy.byteLength || row.offset % 8 !== 0) {
      return { stale: `tensor ${row.name} out of bounds` };
    }
    const data = typedView(row.dtype, copy.buffer, dataStart + row.offset, row.bytes);
    embedding[row.name] = tensor({ dtype: row.dtype as TensorDtype, data, dims: row.dims });
  }
  const missing = PRESET_TENSORS[header.kind].filter((name) => !embedding[name]);
  if (missing.length) return { stale: `missing tensors ${missing.join(', ')}` };
  return { presetId: header.presetId, kind: header.kind, modelsHash: header.modelsHash, embedding };
}
