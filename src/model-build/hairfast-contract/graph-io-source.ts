import type { GraphContract, GraphSpec } from '../../pipeline/hairfast/contract.js';

/** Where the generated constants live, next to the JSON they come from. */
export const GRAPH_IO_FILE = 'src/pipeline/hairfast/graphs.contract.ts';

const list = (names: string[]) => `[${names.map((n) => `'${n}'`).join(', ')}]`;

function entry(name: string, spec: GraphSpec): string {
  return `  ${name}: {\n    inputs: ${list(spec.inputs.map((s) => s.name))},\n    outputs: ${list(spec.outputs.map((s) => s.name))},\n  },\n`;
}

/**
 * The TypeScript source of `graphs.contract.ts`: every graph's (and composite's) input and output names in contract
 * order, as literal types, so graphs.contract.json stays the one place a tensor is named. Deterministic: the same
 * contract gives the same text (`npm run contract:io` writes it; a test checks the committed file is current).
 */
export function graphIoSource(contract: GraphContract): string {
  const entries = [...Object.entries(contract.graphs), ...Object.entries(contract.composites)];
  return [
    '// Generated from graphs.contract.json by `npm run contract:io`. Do not edit: change the JSON and run it again.',
    '',
    '/** Every graph\'s input and output names, in contract order. */',
    'export const GRAPH_IO = {',
    entries.map(([name, spec]) => entry(name, spec)).join('').trimEnd(),
    '} as const;',
    '',
    'export type ContractGraph = keyof typeof GRAPH_IO;',
    'export type GraphInput<G extends ContractGraph> = (typeof GRAPH_IO)[G][\'inputs\'][number];',
    'export type GraphOutput<G extends ContractGraph> = (typeof GRAPH_IO)[G][\'outputs\'][number];',
    '',
  ].join('\n');
}
