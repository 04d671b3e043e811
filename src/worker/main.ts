// `npm run worker`: load every session and warm it, then take jobs. See run-worker-process.ts.
import { createPipelineEngine } from '../pipeline/engine-thread/index.js';
import { runWorkerProcess } from './run-worker-process.js';

await runWorkerProcess({ createEngine: createPipelineEngine });
