import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HairError } from '../../src/shared/errors.js';
import { createModelRegistry, PREPARE_COMMAND } from '../../src/pipeline/runtime/model-registry.js';
import { readManifest } from '../../src/pipeline/runtime/manifest.js';
import { runCli } from '../helpers/run-cli.js';
import { sha256 } from '../../src/shared/sha256.js';

const manifest = readManifest('models/manifest.json');
let dir: string;

function copyModel(name: string): string {
  const target = join(dir, manifest.models[name]!.file);
  mkdirSync(join(target, '..'), { recursive: true });
  copyFileSync(join('models', manifest.models[name]!.file), target);
  return target;
}

function thrown(fn: () => unknown): HairError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HairError);
    return error as HairError;
  }
  throw new Error('expected a HairError');
}


beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hairstyler-models-'));
  copyFileSync('models/manifest.json', join(dir, 'manifest.json'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('model registry', () => {
  it('resolves a model whose size and sha256 match', () => {
    const file = copyModel('blazeface-short');
    expect(createModelRegistry({ modelsDir: dir }).resolve('blazeface-short')).toBe(file);
  });

  it('MODEL_MISSING for an absent file names the command that makes it', () => {
    const error = thrown(() => createModelRegistry({ modelsDir: dir }).resolve('face-mesh'));
    expect(error.code).toBe('MODEL_MISSING');
    expect(error.message).toContain(PREPARE_COMMAND);
    expect(error.message).toContain('face/face-mesh.onnx');
    expect(error.params).toMatchObject({ model: 'face-mesh' });
  });

  it('MODEL_MISSING for a name that is not in the manifest, listing the known ones', () => {
    const error = thrown(() => createModelRegistry({ modelsDir: dir }).resolve('no-such-model'));
    expect(error.code).toBe('MODEL_MISSING');
    expect(error.message).toContain('blazeface-full');
  });

  it('MODEL_INVALID for a same-size copy with one byte changed, and for a truncated one', () => {
    const file = copyModel('blazeface-full');
    const bytes = readFileSync(file);
    const mid = bytes.length >> 1;
    bytes[mid] = bytes[mid]! ^ 0xff;
    writeFileSync(file, bytes);
    const corrupted = thrown(() => createModelRegistry({ modelsDir: dir }).resolve('blazeface-full'));
    expect(corrupted.code).toBe('MODEL_INVALID');
    expect(corrupted.message).toMatch(/sha256 [0-9a-f]{64}, the manifest expects/);

    writeFileSync(file, bytes.subarray(0, 1000));
    const truncated = thrown(() => createModelRegistry({ modelsDir: dir }).resolve('blazeface-full'));
    expect(truncated.code).toBe('MODEL_INVALID');
    expect(truncated.message).toContain('has 1000 bytes');
  });

  it('re-checks a file that changed after it was resolved', () => {
    const file = copyModel('blazeface-short');
    const registry = createModelRegistry({ modelsDir: dir });
    registry.resolve('blazeface-short');
    writeFileSync(file, 'x');
    expect(thrown(() => registry.resolve('blazeface-short')).code).toBe('MODEL_INVALID');
  });

  it('checks a graph\'s external weights file (swap.onnx.data) too: missing, then changed', () => {
    const file = copyModel('blazeface-short');
    const weights = `${file}.data`;
    const bytes = Buffer.alloc(9 * 2 ** 20 + 17, 7); // over one 8 MiB read chunk
    writeFileSync(weights, bytes);
    const withData = structuredClone(manifest);
    withData.models['blazeface-short']!.externalData = { file: `${manifest.models['blazeface-short']!.file}.data`, sha256: sha256(bytes), bytes: bytes.length };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(withData));
    expect(createModelRegistry({ modelsDir: dir }).check('blazeface-short')).toBeUndefined();

    rmSync(weights);
    const missing = createModelRegistry({ modelsDir: dir }).check('blazeface-short');
    expect(missing).toMatchObject({ code: 'MODEL_MISSING', file: weights });
    expect(missing?.detail).toContain(`${weights} (model blazeface-short) is missing`);

    bytes[bytes.length - 1] = 0;
    writeFileSync(weights, bytes);
    const changed = createModelRegistry({ modelsDir: dir }).check('blazeface-short');
    expect(changed).toMatchObject({ code: 'MODEL_INVALID', file: weights });
    expect(changed?.detail).toMatch(/has sha256 [0-9a-f]{64}, the manifest expects/);
  });

  it('MODEL_INVALID for a manifest that does not match the schema', () => {
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: 1, models: { x: { file: 'x.onnx' } } }));
    const error = thrown(() => createModelRegistry({ modelsDir: dir }));
    expect(error.code).toBe('MODEL_INVALID');
    expect(error.message).toContain('models.x.sha256');
  });
});

describe('hairstyler models', () => {
  it('verify exits non-zero and lists every problem', async () => {
    copyModel('blazeface-short');
    const { code, stderr } = await runCli('models', 'verify', '--models-dir', dir);
    expect(code).toBe(1);
    expect(stderr).toContain('MODEL_MISSING blazeface-full');
    expect(stderr).toContain('MODEL_MISSING face-mesh');
    expect(stderr).not.toContain('blazeface-short:');
    expect(stderr).toContain('error[MODEL_MISSING]');
    expect(stderr).toContain('2 of 3 models failed verification');
  });

  it('prepare builds what is missing or corrupt, skips what matches, and verify then passes', async () => {
    const kept = copyModel('face-mesh');
    const file = copyModel('blazeface-short');
    writeFileSync(file, 'corrupt');
    const first = await runCli('models', 'prepare', '--models-dir', dir, '--hairfast', 'none');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('built blazeface-short');
    expect(first.stdout).toContain('built blazeface-full');
    expect(first.stdout).not.toContain('built face-mesh');
    expect(first.stdout).toContain('2 built, 1 up to date');
    expect(readFileSync(kept).length).toBe(manifest.models['face-mesh']!.bytes);

    const again = await runCli('models', 'prepare', '--models-dir', dir, '--hairfast', 'none');
    expect(again.stdout).toContain('0 built, 3 up to date');
    expect((await runCli('models', 'verify', '--models-dir', dir)).code).toBe(0);
  });

  it('prepare fails loudly when a rebuilt file does not reproduce the manifest sha256', async () => {
    const changed = structuredClone(manifest);
    changed.models['blazeface-short']!.sha256 = '0'.repeat(64);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(changed));
    const { code, stderr } = await runCli('models', 'prepare', '--models-dir', dir, '--hairfast', 'none');
    expect(code).toBe(1);
    expect(stderr).toContain('error[MODEL_INVALID]');
    expect(stderr).toContain('does not reproduce the manifest');
    expect(stderr).toContain(manifest.models['blazeface-short']!.sha256);
  });
});
