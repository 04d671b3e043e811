/**
 * BlazeFace, as converted by `hairstyler models prepare` from @mediapipe/face_detection (see models/manifest.json).
 * Constants only. Shapes and names are checked against the manifest entry in tests/pipeline/model-contracts.test.ts.
 *
 * Input: one RGB image, NHWC float32, values in [-1, 1] (`pixel / 127.5 - 1`), the whole frame letterboxed or
 * stretched to `size`×`size`. Outputs are per anchor: `regressors` [1, anchors, 16] and `classificators`
 * [1, anchors, 1] (logits: score = sigmoid(clip(logit, ±scoreClip))).
 * Regressor layout, in input pixels relative to the anchor centre: dx, dy, w, h, then 6 key points (x, y):
 * subject's right eye, left eye, nose tip, mouth centre, right ear tragion, left ear tragion (the subject's right
 * eye is on the image's left in an unmirrored photo).
 */
export interface BlazeFaceContract {
  readonly model: 'blazeface-short' | 'blazeface-full';
  readonly input: { readonly name: 'input'; readonly dtype: 'float32'; readonly shape: readonly [1, number, number, 3] };
  readonly outputs: {
    readonly regressors: { readonly name: 'regressors'; readonly dtype: 'float32'; readonly shape: readonly [1, number, 16] };
    readonly classificators: { readonly name: 'classificators'; readonly dtype: 'float32'; readonly shape: readonly [1, number, 1] };
  };
  /** Square input side in pixels. */
  readonly size: number;
  readonly layout: 'NHWC';
  readonly channels: 'RGB';
  /** Input value range: pixel 0 → range[0], 255 → range[1]. */
  readonly range: readonly [number, number];
  /** SSD anchors (MediaPipe SsdAnchorsCalculator options): one anchor grid per stride, fixed size 1×1. */
  readonly anchors: {
    readonly strides: readonly number[];
    /** Anchors per grid cell for each stride entry (layers with equal strides are merged). */
    readonly perCell: readonly number[];
    readonly offset: 0.5;
    readonly fixedSize: true;
  };
  /** Regressors are divided by this to get coordinates relative to the input (1 = full width/height). */
  readonly decodeScale: number;
  readonly keypoints: 6;
  readonly scoreClip: 100;
}

export const BLAZEFACE_SHORT = {
  model: 'blazeface-short',
  input: { name: 'input', dtype: 'float32', shape: [1, 128, 128, 3] },
  outputs: {
    regressors: { name: 'regressors', dtype: 'float32', shape: [1, 896, 16] },
    classificators: { name: 'classificators', dtype: 'float32', shape: [1, 896, 1] },
  },
  size: 128,
  layout: 'NHWC',
  channels: 'RGB',
  range: [-1, 1],
  // strides [8, 16, 16, 16] with 2 anchors per layer: 16×16×2 + 8×8×6 = 896.
  anchors: { strides: [8, 16], perCell: [2, 6], offset: 0.5, fixedSize: true },
  decodeScale: 128,
  keypoints: 6,
  scoreClip: 100,
} as const satisfies BlazeFaceContract;

export const BLAZEFACE_FULL = {
  model: 'blazeface-full',
  input: { name: 'input', dtype: 'float32', shape: [1, 192, 192, 3] },
  outputs: {
    regressors: { name: 'regressors', dtype: 'float32', shape: [1, 2304, 16] },
    classificators: { name: 'classificators', dtype: 'float32', shape: [1, 2304, 1] },
  },
  size: 192,
  layout: 'NHWC',
  channels: 'RGB',
  range: [-1, 1],
  // one layer, stride 4, one anchor per cell: 48×48 = 2304.
  anchors: { strides: [4], perCell: [1], offset: 0.5, fixedSize: true },
  decodeScale: 192,
  keypoints: 6,
  scoreClip: 100,
} as const satisfies BlazeFaceContract;

/** Both detectors by manifest name. */
export const DETECT_FACE_CONTRACTS = { 'blazeface-short': BLAZEFACE_SHORT, 'blazeface-full': BLAZEFACE_FULL } as const;
