export { SUPPORTED_OPS, tfliteToOnnx } from './convert.js';
export type { ConvertOptions } from './convert.js';
export { extractPackedFile, packedFiles } from './packed-assets.js';
export type { PackedFile } from './packed-assets.js';
export { readTflite } from './tflite-reader.js';
export type { TfliteModel, TfliteOperator, TfliteTensor } from './tflite-reader.js';
