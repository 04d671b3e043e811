// Generated from graphs.contract.json by `npm run contract:io`. Do not edit: change the JSON and run it again.

/** Every graph's input and output names, in contract order. */
export const GRAPH_IO = {
  bisenet: {
    inputs: ['image'],
    outputs: ['mask'],
  },
  embed: {
    inputs: ['image', 'mask'],
    outputs: ['w', 's', 'f', 'f_mix', 'image_256', 'image_norm_256'],
  },
  sean_encode: {
    inputs: ['image_256', 'mask'],
    outputs: ['codes'],
  },
  rotate: {
    inputs: ['w_face', 'w_other'],
    outputs: ['mask'],
  },
  ctrl_face_enc: {
    inputs: ['mask'],
    outputs: ['face_code'],
  },
  ctrl_hair_enc: {
    inputs: ['mask'],
    outputs: ['hair_code'],
  },
  ctrl_decode: {
    inputs: ['face_code', 'hair_code'],
    outputs: ['target_mask'],
  },
  sean_decode: {
    inputs: ['codes', 'target_mask'],
    outputs: ['images'],
  },
  e4e: {
    inputs: ['images'],
    outputs: ['w', 'f'],
  },
  align_f: {
    inputs: ['f_face', 'f_shape', 'f_e4e', 'mask_face', 'mask_shape', 'target_mask'],
    outputs: ['f_align'],
  },
  blend_masks: {
    inputs: ['image_norm_face', 'image_norm_color', 'mask_face', 'mask_color', 'target_mask'],
    outputs: ['face_masked', 'color_masked'],
  },
  clip_visual: {
    inputs: ['image'],
    outputs: ['embedding'],
  },
  color_mod: {
    inputs: ['s_face', 's_color', 'emb_face', 'emb_color'],
    outputs: ['s_blend'],
  },
  g_f32_to_img: {
    inputs: ['s', 'f'],
    outputs: ['image_256'],
  },
  refine: {
    inputs: ['image_norm_face', 'blend_256'],
    outputs: ['s_final', 'f_final'],
  },
  g_f64_to_img: {
    inputs: ['s', 'f'],
    outputs: ['image'],
  },
  swap: {
    inputs: ['face_mask', 'face_w', 'face_s', 'face_f', 'face_f_mix', 'face_image_256', 'face_image_norm_256', 'shape_is_face', 'shape_w', 'shape_mask', 'shape_f_mix', 'shape_codes', 'color_is_face', 'color_w', 'color_s', 'color_mask', 'color_image_norm_256', 'color_clip'],
    outputs: ['image', 'target_mask_color'],
  },
} as const;

export type ContractGraph = keyof typeof GRAPH_IO;
export type GraphInput<G extends ContractGraph> = (typeof GRAPH_IO)[G]['inputs'][number];
export type GraphOutput<G extends ContractGraph> = (typeof GRAPH_IO)[G]['outputs'][number];
