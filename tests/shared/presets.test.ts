import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HairError } from '../../src/shared/errors.js';
import {
  builtinPresets, containsTyped, guildPresetId, matchesTypedName, parsePresetId, presetServes, readStylesManifest, type PresetEntry,
} from '../../src/shared/presets.js';

const bob: PresetEntry = { id: 'guild:123456789:bob-cut', name: 'Bob Cut', nameKo: '단발', kind: 'shape', source: 'guild', status: 'ready' };

describe('preset ids', () => {
  it('parses built-in and guild ids, and nothing else', () => {
    expect(parsePresetId('builtin:copper')).toEqual({ source: 'builtin', slug: 'copper' });
    expect(parsePresetId(guildPresetId('123456789', 'bob-cut'))).toEqual({ source: 'guild', guildId: '123456789', slug: 'bob-cut' });
    for (const bad of ['copper', 'builtin:', 'builtin:Copper', 'guild:12:bob', 'guild:123456789', 'other:x', 'builtin:a:b']) {
      expect(parsePresetId(bad)).toBeUndefined();
    }
  });

  it('a both preset serves either slot, the others only their own', () => {
    expect(presetServes('both', 'shape') && presetServes('both', 'color')).toBe(true);
    expect(presetServes('shape', 'shape') && presetServes('color', 'color')).toBe(true);
    expect(presetServes('shape', 'color') || presetServes('color', 'shape')).toBe(false);
  });
});

describe('a typed name', () => {
  it('matches the id, the slug or either name, trimmed and in any case', () => {
    for (const typed of ['guild:123456789:bob-cut', 'bob-cut', 'BOB-CUT', '  bob cut ', 'Bob Cut', '단발']) {
      expect(matchesTypedName(bob, typed)).toBe(true);
    }
    for (const typed of ['bob', '', '단', 'guild:123456789']) expect(matchesTypedName(bob, typed)).toBe(false);
  });

  it('autocomplete finds the typed text inside any of them; empty text finds everything', () => {
    for (const typed of ['', 'bo', 'CUT', '발', '12345']) expect(containsTyped(bob, typed)).toBe(true);
    expect(containsTyped(bob, 'perm')).toBe(false);
  });
});

describe('the styles manifest', () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('styles/ lists built-ins with both names and their images', () => {
    const presets = builtinPresets('styles');
    expect(presets.length).toBeGreaterThanOrEqual(2);
    expect(readStylesManifest('styles')!.presets.map((p) => p.id)).toEqual(presets.map((p) => p.id));
    expect(presets.every((p) => p.source === 'builtin' && p.status === 'ready' && p.nameKo && p.imagePath?.startsWith('styles/'))).toBe(true);
  });

  it('no manifest means no built-ins; a bad one is CONFIG_INVALID naming the file and the field', () => {
    dir = mkdtempSync(join(tmpdir(), 'styles-'));
    expect(readStylesManifest(dir)).toBeUndefined();
    expect(builtinPresets(dir)).toEqual([]);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: 1, presets: [{ id: 'builtin:x', name: { en: 'X', ko: 'X' }, kind: 'curly', image: 'x.png', source: 's', license: 'l' }] }));
    let caught: unknown;
    try {
      builtinPresets(dir);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(HairError);
    expect((caught as HairError).code).toBe('CONFIG_INVALID');
    expect((caught as HairError).params['file']).toBe(join(dir, 'manifest.json'));
    expect((caught as HairError).message).toContain('presets.0.kind');
    writeFileSync(join(dir, 'manifest.json'), '{ not json');
    expect(() => readStylesManifest(dir!)).toThrow(HairError);
  });
});
