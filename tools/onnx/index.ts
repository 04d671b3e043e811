export { OnnxGraph, float } from './graph.js';
export type { AttrValue, Dim, FloatAttr, ModelOptions, OnnxDtype, TensorData } from './graph.js';
