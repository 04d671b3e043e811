/**
 * The 468-point face mesh, as converted by `hairstyler models prepare` from the face_landmark.tflite packed inside
 * @mediapipe/face_mesh (see models/manifest.json). Constants only.
 *
 * Input: a 192×192 RGB face crop, NHWC float32, values in [0, 1] (`pixel / 255`). MediaPipe feeds it the detector's
 * box enlarged 1.5× around its centre and rotated so the eyes are level (rotation-normalised crop).
 * Outputs: `landmarks` [1, 1, 1, 1404] = 468 × (x, y, z), x and y in crop pixels (0..192), z on the x scale with
 * smaller = closer to the camera; `face_flag` [1, 1, 1, 1] is a logit: presence = sigmoid(face_flag).
 */
export const FACE_MESH = {
  model: 'face-mesh',
  input: { name: 'input', dtype: 'float32', shape: [1, 192, 192, 3] },
  outputs: {
    landmarks: { name: 'landmarks', dtype: 'float32', shape: [1, 1, 1, 1404] },
    faceFlag: { name: 'face_flag', dtype: 'float32', shape: [1, 1, 1, 1] },
  },
  size: 192,
  layout: 'NHWC',
  channels: 'RGB',
  /** Input value range: pixel 0 → range[0], 255 → range[1]. */
  range: [0, 1],
  points: 468,
  /** MediaPipe's crop: detector box scaled by this around its centre, made square. */
  cropScale: 1.5,
  /** Mesh indices the front-end uses (MediaPipe topology; 61 is on the image left of an upright face). */
  indices: { mouthCorners: [61, 291] },
} as const;
