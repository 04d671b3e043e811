import { OnnxGraph, type Dim } from '../onnx-graph.js';
import { CONTRACT_OPSET, type CompositeSpec, type GraphContract } from '../../pipeline/hairfast/contract.js';
import { emitContractGraph } from './build-contract-models.js';

/**
 * The contract `swap` composite: the split contract graphs' own nodes, wired as the pipeline's split chain wires
 * them (src/pipeline/hairfast/hair-fast.ts, graphs.contract.json `flow`), with a symbolic batch dimension. Role
 * flags pick the face's tensors for a role the way the split chain passes the face object itself. Deterministic.
 */
export function buildSwapGraph(contract: GraphContract, opset = CONTRACT_OPSET): Uint8Array {
  const spec: CompositeSpec | undefined = contract.composites['swap'];
  if (!spec) throw new RangeError('Expected a "swap" composite in graphs.contract.json but found none');
  const g = new OnnxGraph('hairfast_contract_swap');
  for (const input of spec.inputs) g.input(input.name, input.dtype, input.shape);
  const run = (graph: string, feeds: Record<string, string>): Record<string, string> => {
    const split = contract.graphs[graph];
    if (!split) throw new RangeError(`Expected split graph ${graph} in graphs.contract.json but found none`);
    return emitContractGraph(g, graph, split, feeds);
  };
  const rankOf = (name: string): number => {
    const found = spec.inputs.find((s) => s.name === name);
    if (!found) throw new RangeError(`Expected swap input ${name} but the contract has none`);
    return found.shape.length;
  };
  // A [B] flag broadcast against a rank-r tensor.
  const flagFor = (flag: string, rank: number) =>
    g.op('Reshape', [flag, g.int64s(g.uniqueName('flag_shape'), [-1, ...Array<number>(rank - 1).fill(1)])]);
  const either = (flag: string, whenTrue: string, whenFalse: string, rank: number) => g.op('Where', [flagFor(flag, rank), whenTrue, whenFalse]);
  const role = (name: 'shape' | 'color', tensor: string, face: string) => either(`${name}_is_face`, face, `${name}_${tensor}`, rankOf(`${name}_${tensor}`));

  const faceCodes = run('sean_encode', { image_256: 'face_image_256', mask: 'face_mask' })['codes']!;
  const shape = {
    w: role('shape', 'w', 'face_w'),
    mask: role('shape', 'mask', 'face_mask'),
    codes: either('shape_is_face', faceCodes, 'shape_codes', 3),
  };
  const color = {
    w: role('color', 'w', 'face_w'),
    s: role('color', 's', 'face_s'),
    mask: role('color', 'mask', 'face_mask'),
    image_norm_256: role('color', 'image_norm_256', 'face_image_norm_256'),
  };
  // F is unmixed only when the face plays every role (one distinct image).
  const onlyFace = g.op('And', ['shape_is_face', 'color_is_face']);
  const fFace = either(onlyFace, 'face_f', 'face_f_mix', 4);
  const fShape = either('shape_is_face', fFace, 'shape_f_mix', 4);

  const faceCode = run('ctrl_face_enc', { mask: 'face_mask' })['face_code']!;
  const shapeModule = (wOther: string) => {
    const rotMask = run('rotate', { w_face: 'face_w', w_other: wOther })['mask']!;
    const hairCode = run('ctrl_hair_enc', { mask: rotMask })['hair_code']!;
    return run('ctrl_decode', { face_code: faceCode, hair_code: hairCode })['target_mask']!;
  };
  const targetShape = shapeModule(shape.w);

  // (face, shape) pairs on dim 0: face row, shape row, next face row, …
  const pairs = (a: string, b: string, rest: readonly Dim[]) => {
    const axes = g.int64s(g.uniqueName('axes'), [1]);
    const stacked = g.op('Concat', [g.op('Unsqueeze', [a, axes]), g.op('Unsqueeze', [b, axes])], { axis: 1 });
    return g.op('Reshape', [stacked, g.int64s(g.uniqueName('rows'), [-1, ...rest.map(Number)])]);
  };
  const codes = pairs(faceCodes, shape.codes, contract.graphs['sean_decode']!.inputs[0]!.shape.slice(1));
  const images = run('sean_decode', { codes, target_mask: targetShape })['images']!;
  const fE4e = run('e4e', { images })['f']!;
  const fAlign = run('align_f', {
    f_face: fFace, f_shape: fShape, f_e4e: fE4e, mask_face: 'face_mask', mask_shape: shape.mask, target_mask: targetShape,
  })['f_align']!;

  const targetColor = shapeModule(color.w);
  const masks = run('blend_masks', {
    image_norm_face: 'face_image_norm_256', image_norm_color: color.image_norm_256,
    mask_face: 'face_mask', mask_color: color.mask, target_mask: targetColor,
  });
  const embFace = run('clip_visual', { image: masks['face_masked']! })['embedding']!;
  // A colour reference brings its own CLIP embedding (as its preset cache holds it); the face's comes from this request.
  const embColor = either('color_is_face', run('clip_visual', { image: masks['color_masked']! })['embedding']!, 'color_clip', 2);
  const sBlend = run('color_mod', { s_face: 'face_s', s_color: color.s, emb_face: embFace, emb_color: embColor })['s_blend']!;
  const blend256 = run('g_f32_to_img', { s: sBlend, f: fAlign })['image_256']!;
  const refined = run('refine', { image_norm_face: 'face_image_norm_256', blend_256: blend256 });
  const image = run('g_f64_to_img', { s: refined['s_final']!, f: refined['f_final']! })['image']!;

  const produced: Record<string, string> = { image, target_mask_color: targetColor };
  for (const out of spec.outputs) {
    const tensor = produced[out.name];
    if (!tensor) throw new RangeError(`Expected swap output ${out.name} to be one of ${Object.keys(produced).join(', ')}`);
    g.node('Identity', [tensor], [out.name]);
    g.output(out.name, out.dtype, out.shape);
  }
  return g.toBytes({ opset, docString: 'hairstyler contract model for swap: the split contract graphs composed as the swap flow, not a trained network' });
}
