// Imported by ort.ts before onnxruntime-node, so it runs first in every process that loads onnxruntime (worker,
// CLI, tests, benches). Without it onnxruntime keeps a telemetry database with a device id under
// ~/.cache/Microsoft/DeveloperTools and a debug log in the temp directory. Measured: both appear for one session
// of a face model, neither with the variable set. This is the one place outside config.ts that touches process.env.
process.env['ORT_DISABLE_TELEMETRY'] = '1';
export {};
