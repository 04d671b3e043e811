// Runs one ONNX graph through onnxruntime-node (CPU) for the Python exporter tests and parity script, which have
// no Python onnxruntime on Debian. Usage: node run_ort.mjs MODEL DIR — DIR/inputs.json lists
// [{name, dtype, shape, file}] raw little-endian tensors; outputs are written the same way to DIR/outputs.json.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';

const ARRAYS = { float32: Float32Array, float16: Uint16Array, int64: BigInt64Array, int32: Int32Array, uint8: Uint8Array, bool: Uint8Array };

const [model, dir] = process.argv.slice(2);
const specs = JSON.parse(readFileSync(join(dir, 'inputs.json'), 'utf8'));
const feeds = {};
for (const s of specs) {
  const buf = readFileSync(join(dir, s.file));
  const Ctor = ARRAYS[s.dtype];
  const data = new Ctor(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  feeds[s.name] = new ort.Tensor(s.dtype, data, s.shape);
}
const threads = Number(process.env.ORT_THREADS ?? 0);
const session = await ort.InferenceSession.create(model, {
  executionProviders: ['cpu'],
  graphOptimizationLevel: process.env.ORT_OPT ?? 'all',
  ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
});
const t0 = process.hrtime.bigint();
const results = await session.run(feeds);
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const out = [];
for (const name of session.outputNames) {
  const t = results[name];
  const file = `out_${out.length}.bin`;
  writeFileSync(join(dir, file), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  out.push({ name, dtype: t.type, shape: t.dims, file });
}
writeFileSync(join(dir, 'outputs.json'), JSON.stringify({ outputs: out, run_ms: ms }));
await session.release();
