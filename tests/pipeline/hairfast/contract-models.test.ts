import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphContract, checkGroup } from '../../../src/pipeline/hairfast/contract.js';
import { loadHairfastGraphs, hairfastManifestPath } from '../../../src/pipeline/hairfast/graphs.js';
import { createSessionManager, type SessionManager } from '../../../src/pipeline/runtime/ort.js';
import { buildContractGraph, buildContractModels } from '../../../src/model-build/hairfast-contract/build-contract-models.js';
import { prepareHairfastModels } from '../../../src/model-build/hairfast-contract/install-contract-models.js';
import { contractModelsDir } from './fixtures.js';

const contract = graphContract();

function feedsFor(name: string, seed: number): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  let k = seed;
  for (const spec of contract.graphs[name]!.inputs) {
    const dims = spec.shape as number[];
    const n = dims.reduce((a, b) => a * b, 1);
    k++;
    feeds[spec.name] = spec.dtype === 'int64'
      ? new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 7 + k) % 19)), dims)
      : new ort.Tensor('float32', Float32Array.from({ length: n }, (_, i) => ((i * 13 + k * 31) % 97) / 97), dims);
  }
  return feeds;
}

describe('contract models', () => {
  it('are deterministic, byte for byte', () => {
    const a = buildContractModels(contract);
    const b = buildContractModels(contract);
    for (const [name, bytes] of a) expect(createHash('sha256').update(bytes).digest('hex')).toBe(createHash('sha256').update(b.get(name)!).digest('hex'));
    expect([...a.keys()].sort()).toEqual([...Object.keys(contract.graphs), ...Object.keys(contract.composites)].sort());
  });

  it('make every output depend on every input (a swapped wire changes the result)', async () => {
    for (const [name, spec] of Object.entries(contract.graphs)) {
      const session = await ort.InferenceSession.create(buildContractGraph(name, spec), { executionProviders: ['cpu'] });
      const base = feedsFor(name, 1);
      const ref = await session.run(base);
      for (const out of spec.outputs) {
        expect(ref[out.name]!.dims, `${name}.${out.name}`).toEqual(out.shape);
        expect(ref[out.name]!.type).toBe(out.dtype);
      }
      for (const input of spec.inputs) {
        const changed = { ...base, [input.name]: feedsFor(name, 50)[input.name]! };
        const res = await session.run(changed);
        for (const out of spec.outputs) {
          const a = ref[out.name]!.data as ArrayLike<number | bigint>;
          const b = res[out.name]!.data as ArrayLike<number | bigint>;
          let differs = false;
          for (let i = 0; i < a.length && !differs; i++) differs = a[i] !== b[i];
          expect(differs, `${name}: ${out.name} ignores input ${input.name}`).toBe(true);
        }
      }
      await session.release();
    }
  });
});

describe('installing and loading hairfast graphs', () => {
  let dir: string;
  let manager: SessionManager;
  beforeAll(() => {
    dir = contractModelsDir();
    manager = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 1 });
  });
  afterAll(() => manager.dispose());

  it('installs with a manifest of kind contract, idempotently, and loads every graph against the contract', async () => {
    const again = prepareHairfastModels(dir, 'contract');
    expect(again.kind).toBe('contract');
    expect(again.written).toEqual([]);
    const graphs = await loadHairfastGraphs({ modelsDir: dir, warm: false }, { manager });
    expect(graphs.kind).toBe('contract');
    expect(graphs.modelsHash).toMatch(/^[0-9a-f]{64}$/);
    expect(graphs.executionProvider).toBe('cpu');
  });

  it('leaves an installed export alone', () => {
    const path = hairfastManifestPath(dir);
    const original = readFileSync(path, 'utf8');
    try {
      writeFileSync(path, original.replaceAll('"kind": "contract"', '"kind": "random"'));
      expect(prepareHairfastModels(dir, 'contract')).toMatchObject({ kind: 'random', written: [] });
    } finally {
      writeFileSync(path, original);
    }
  });

  it('refuses to keep an incomplete export, naming what is missing', () => {
    const path = hairfastManifestPath(dir);
    const original = readFileSync(path, 'utf8');
    try {
      const manifest = JSON.parse(original.replaceAll('"kind": "contract"', '"kind": "random"'));
      delete manifest.models.refine;
      writeFileSync(path, JSON.stringify(manifest));
      expect(() => prepareHairfastModels(dir, 'contract')).toThrow(/incomplete HairFastGAN export \(refine: not in the manifest\)/);
    } finally {
      writeFileSync(path, original);
    }
  });

  it('fails at load naming the graph when a file is missing from the manifest', async () => {
    const path = hairfastManifestPath(dir);
    const original = readFileSync(path, 'utf8');
    try {
      const manifest = JSON.parse(original);
      delete manifest.models.clip_visual;
      writeFileSync(path, JSON.stringify(manifest));
      const other = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 1 });
      await expect(loadHairfastGraphs({ modelsDir: dir, warm: false }, { manager: other })).rejects.toMatchObject({ code: 'MODEL_MISSING' });
      await other.dispose();
    } finally {
      writeFileSync(path, original);
    }
  });

  it('rejects a contract whose names drift from what the runtime uses', () => {
    const drifted = structuredClone(contract);
    drifted.graphs['rotate']!.inputs[1]!.name = 'w_shape';
    expect(() => checkGroup(drifted, { rotate: { inputs: ['w_face', 'w_other'], outputs: ['mask'] } })).toThrow(/w_other/);
  });

  it('a graph file that does not match its contract fails at load as MODEL_INVALID naming the file', async () => {
    const wrong = buildContractGraph('sean_encode', contract.graphs['refine']!);
    const file = join(dir, contract.graphs['sean_encode']!.file);
    const original = readFileSync(file);
    try {
      writeFileSync(file, wrong);
      const other = createSessionManager({ HAIR_EP: 'cpu', ORT_INTRA_OP_THREADS: 1 });
      await expect(loadHairfastGraphs({ modelsDir: dir, warm: false }, { manager: other })).rejects.toMatchObject({ code: 'MODEL_INVALID' });
      await other.dispose();
    } finally {
      writeFileSync(file, original);
    }
  });
});
