import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { HairError, isErrorCode } from '../../shared/errors.js';

/**
 * Runs tools/hairfast-export/export.py and reads its JSON-line events (stdout lines with an "event" field; the rest
 * of its output is result rows and torch warnings). A typed exporter failure ({"event": "error", code, message,
 * fix}) becomes a HairError of the same code with the message and the fix as its detail.
 */
export const exportEventSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('start'), graphs: z.array(z.string()), kind: z.string(), fp16: z.boolean() }),
  z.object({ event: z.literal('graph'), graph: z.string(), index: z.number(), total: z.number(), elapsed_s: z.number() }),
  z.object({ event: z.literal('graph_done'), graph: z.string(), index: z.number(), total: z.number(), seconds: z.number(), bytes: z.number(), elapsed_s: z.number(), resumed: z.boolean().optional() }),
  z.object({ event: z.literal('graph_failed'), graph: z.string(), code: z.string(), message: z.string() }),
  z.object({
    event: z.literal('unconsumed'),
    files: z.record(z.string(), z.array(z.string())),
    groups: z.record(z.string(), z.record(z.string(), z.number())),
    unread: z.array(z.string()).default([]),
  }),
  z.object({ event: z.literal('done'), graphs: z.number(), seconds: z.number() }),
  z.object({ event: z.literal('error'), code: z.string(), message: z.string(), fix: z.string(), file: z.string().optional(), graph: z.string().optional() }),
]);
export type ExportEvent = z.infer<typeof exportEventSchema>;

export interface ExporterRun {
  python: string;
  src: string;
  checkpoints: string;
  clip: string;
  /** The directory the graphs and manifest.json are written to (`<staging>/hairfast`). */
  out: string;
  fp16: boolean;
  graphs?: readonly string[];
  /** Also the contract's composites (`swap`, the one graph per request that GPU hosts run), after the split graphs. */
  composites?: boolean;
  signal?: AbortSignal;
  onEvent(event: ExportEvent): void;
}

/** The repository root (tools/ lives there), from this module's place in src/ or dist/src/. */
export function repoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'hairstyler') return dir;
  }
  throw new HairError('INTERNAL', {}, { detail: `no hairstyler package.json above ${from}` });
}

export function exporterScript(): string {
  return join(repoRoot(), 'tools', 'hairfast-export', 'export.py');
}

export async function runExporter(run: ExporterRun): Promise<ExportEvent[]> {
  const args = [exporterScript(), '--src', run.src, '--checkpoints', run.checkpoints, '--clip', run.clip, '--out', run.out, '--resume'];
  if (run.fp16) args.push('--fp16');
  if (run.graphs) args.push('--only', run.graphs.join(','));
  if (run.composites) args.push('--composites');
  const child = spawn(run.python, args, {
    cwd: repoRoot(),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONWARNINGS: 'ignore', PYTHONUNBUFFERED: '1' },
  });
  const events: ExportEvent[] = [];
  const stderrTail: string[] = [];
  const onAbort = () => child.kill('SIGTERM');
  run.signal?.addEventListener('abort', onAbort, { once: true });
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > 40) stderrTail.shift();
  });
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    if (!line.startsWith('{"event"')) return;
    const parsed = exportEventSchema.safeParse(JSON.parse(line));
    if (!parsed.success) return;
    events.push(parsed.data);
    run.onEvent(parsed.data);
  });
  const status = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', (error) => reject(new HairError('EXPORT_FAILED', {}, { detail: `cannot start ${run.python}: ${error.message}\n  fix: pass --python with a Python that has torch and onnx (Debian: /usr/bin/python3 with python3-torch python3-onnx)` })));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  run.signal?.removeEventListener('abort', onAbort);
  if (run.signal?.aborted) throw new HairError('IMPORT_INTERRUPTED', {}, { detail: 'the export was stopped' });
  const failure = events.find((e): e is Extract<ExportEvent, { event: 'error' }> => e.event === 'error');
  if (failure) {
    const code = isErrorCode(failure.code) ? failure.code : 'EXPORT_FAILED';
    throw HairError.of(code, { ...(failure.file ? { file: failure.file } : {}), ...(failure.graph ? { stage: failure.graph } : {}) }, { detail: `${failure.message}\n  fix: ${failure.fix}` });
  }
  if (status.code !== 0) {
    throw new HairError('EXPORT_FAILED', {}, {
      detail: `export.py exited with ${status.code ?? status.signal}:\n    ${stderrTail.filter((l) => !/warn/i.test(l)).slice(-12).join('\n    ')}\n  fix: rerun tools/hairfast-export/export.py with the same options and --traceback`,
    });
  }
  return events;
}
