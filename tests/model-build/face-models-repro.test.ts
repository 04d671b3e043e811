import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildFaceModel, FACE_RECIPES } from '../../src/model-build/face-models.js';
import { readManifest } from '../../src/pipeline/runtime/manifest.js';

const manifest = readManifest('models/manifest.json');
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('face model conversion is reproducible', () => {
  it.each(FACE_RECIPES.map((r) => [r.name, r] as const))('%s: two conversions give the same bytes, matching the manifest', async (name, recipe) => {
    const first = await buildFaceModel(recipe);
    const second = await buildFaceModel(recipe);
    expect(Buffer.from(first.bytes).equals(Buffer.from(second.bytes))).toBe(true);
    const entry = manifest.models[name]!;
    expect(sha(first.bytes)).toBe(entry.sha256);
    expect(first.bytes.length).toBe(entry.bytes);
    expect(first.source).toEqual(entry.source);
  });
});
