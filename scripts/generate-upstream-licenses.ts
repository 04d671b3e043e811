import { writeFileSync } from 'node:fs';
import { UPSTREAM_LICENSES_FILE, upstreamLicensesJson } from '../src/model-build/official-files.js';
import { GRAPH_IO, type ContractGraph } from '../src/pipeline/hairfast/graphs.contract.js';

/** `npm run licenses:json`: rewrites src/model-build/upstream-licenses.json from the official files table. */
writeFileSync(UPSTREAM_LICENSES_FILE, upstreamLicensesJson(Object.keys(GRAPH_IO) as ContractGraph[]));
process.stdout.write(`wrote ${UPSTREAM_LICENSES_FILE}\n`);
