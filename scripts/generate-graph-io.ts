import { writeFileSync } from 'node:fs';
import { GRAPH_IO_FILE, graphIoSource } from '../src/model-build/hairfast-contract/graph-io-source.js';
import { graphContract } from '../src/pipeline/hairfast/contract.js';

/** `npm run contract:io`: rewrites src/pipeline/hairfast/graphs.contract.ts from graphs.contract.json. */
writeFileSync(GRAPH_IO_FILE, graphIoSource(graphContract()));
process.stdout.write(`wrote ${GRAPH_IO_FILE}\n`);
