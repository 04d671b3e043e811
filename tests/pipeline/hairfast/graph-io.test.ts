import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GRAPH_IO_FILE, graphIoSource } from '../../../src/model-build/hairfast-contract/graph-io-source.js';
import { checkGroup, graphContract } from '../../../src/pipeline/hairfast/contract.js';
import { GRAPH_IO } from '../../../src/pipeline/hairfast/graphs.contract.js';

describe('graphs.contract.ts, generated from graphs.contract.json', () => {
  const contract = graphContract();

  it('is what `npm run contract:io` writes from the committed JSON', () => {
    expect(readFileSync(GRAPH_IO_FILE, 'utf8')).toBe(graphIoSource(contract));
  });

  it('names every graph and composite of the contract, with its inputs and outputs in contract order', () => {
    expect(Object.keys(GRAPH_IO)).toEqual([...Object.keys(contract.graphs), ...Object.keys(contract.composites)]);
    expect(() => checkGroup(contract, GRAPH_IO)).not.toThrow();
    expect(GRAPH_IO.embed.outputs).toEqual(contract.graphs['embed']!.outputs.map((s) => s.name));
  });

  it('follows the JSON: a renamed tensor or an added composite changes the generated names', () => {
    const changed = structuredClone(contract);
    changed.graphs['rotate']!.inputs[1]!.name = 'w_shape';
    changed.composites = { swap: { ...changed.graphs['refine']!, file: 'hairfast/swap.onnx', composes: ['refine'], replaces: [] } };
    const source = graphIoSource(changed);
    expect(source).toContain("inputs: ['w_face', 'w_shape']");
    expect(source).toContain("  swap: {\n    inputs: ['image_norm_face', 'blend_256'],");
  });
});
