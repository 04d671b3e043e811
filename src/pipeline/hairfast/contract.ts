import { z } from 'zod';
import { HairError } from '../../shared/errors.js';
import { TENSOR_DTYPES } from '../runtime/manifest.js';
import contractJson from './graphs.contract.json' with { type: 'json' };

/**
 * The HairFastGAN graph contract: `graphs.contract.json`, the one file the exporter (tools/hairfast-export) writes
 * and this runtime reads. Names, dtypes and shapes of every graph's inputs and outputs; what each graph's inputs
 * depend on (`per`: image work is cached for presets); and the flow in words. `graphs.contract.ts` is generated from it
 * (`npm run contract:io`, a test keeps it current) and checked against it at load, so a drift fails there, naming the
 * graph and the tensor.
 */
const specSchema = z.object({
  name: z.string().min(1),
  dtype: z.enum(TENSOR_DTYPES),
  shape: z.array(z.union([z.number().int().nonnegative(), z.string().min(1)])),
});
export type GraphTensorSpec = z.infer<typeof specSchema>;

const graphSchema = z.object({
  /** Relative to MODELS_DIR. */
  file: z.string().min(1),
  description: z.string().optional(),
  /** What the graph's inputs depend on: 'image' (cacheable for presets), 'face,other', 'face,shape', 'request'. */
  per: z.string().min(1),
  inputs: z.array(specSchema).min(1),
  outputs: z.array(specSchema).min(1),
});
export type GraphSpec = z.infer<typeof graphSchema>;

/** A graph made of split graphs' nodes (`swap`): optional in an installed set; its batch dimension is symbolic. */
const compositeSchema = graphSchema.extend({
  /** The split graphs it is composed of, so that the exporter and the contract builder use their nodes. */
  composes: z.array(z.string().min(1)).min(1),
  /**
   * The split graphs not loaded when the composite is: those only it needs. The others (per-image graphs, and what
   * preset caches and reference photos use: sean_encode, blend_masks, clip_visual) stay.
   */
  replaces: z.array(z.string().min(1)).default([]),
});
export type CompositeSpec = z.infer<typeof compositeSchema>;

export const graphContractSchema = z.object({
  version: z.literal(1),
  graphs: z.record(z.string().regex(/^[a-z0-9_]+$/), graphSchema),
  /** Merged graphs: used when installed, else the split chain runs. */
  composites: z.record(z.string().regex(/^[a-z0-9_]+$/), compositeSchema).default({}),
  /** The swap flow in words, by phase. */
  flow: z.record(z.string(), z.string()),
}).loose();
export type GraphContract = z.infer<typeof graphContractSchema>;

/** The ONNX opset the project's contract models use (the exporter picks its own). */
export const CONTRACT_OPSET = 17;

/** Parses a contract (default: the committed one). */
export function graphContract(json: unknown = contractJson): GraphContract {
  const parsed = graphContractSchema.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new HairError('MODEL_INVALID', { file: 'graphs.contract.json' }, { detail: `graphs.contract.json: ${where}` });
  }
  return parsed.data;
}

/** What a group module expects of one graph: its input and output names in contract order. */
export interface GraphIo {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** A split graph's or a composite's spec. */
export function graphSpec(contract: GraphContract, graph: string): GraphSpec | undefined {
  return contract.graphs[graph] ?? contract.composites[graph];
}

/** Checks that the contract has each graph (or composite) with exactly these input and output names; returns their specs. */
export function checkGroup<T extends Record<string, GraphIo>>(contract: GraphContract, io: T): { [K in keyof T]: GraphSpec } {
  const out: Record<string, GraphSpec> = {};
  for (const [graph, want] of Object.entries(io)) {
    const spec = graphSpec(contract, graph);
    if (!spec) {
      throw new HairError('MODEL_INVALID', { file: 'graphs.contract.json' }, { detail: `graphs.contract.json has no graph "${graph}"` });
    }
    for (const side of ['inputs', 'outputs'] as const) {
      const have = spec[side].map((s) => s.name);
      if (have.join(',') !== want[side].join(',')) {
        throw new HairError('MODEL_INVALID', { file: 'graphs.contract.json' }, {
          detail: `graph "${graph}" ${side}: expected [${want[side].join(', ')}] but the contract says [${have.join(', ')}]`,
        });
      }
    }
    out[graph] = spec;
  }
  return out as { [K in keyof T]: GraphSpec };
}
