import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The real entry points (`npm run worker`, `npm run bot`, `npm start`), run from source. */
export const ENTRIES = Object.freeze({
  worker: fileURLToPath(new URL('../../src/worker/main.ts', import.meta.url)),
  bot: fileURLToPath(new URL('../../src/bot/main.ts', import.meta.url)),
  start: fileURLToPath(new URL('../../src/main.ts', import.meta.url)),
});
/** tsx by absolute URL, so a child may run in another directory (one without a .env). */
export const TSX = import.meta.resolve('tsx');

export interface WorkerChild {
  child: ChildProcess;
  /** Every stdout/stderr line (pino JSON). */
  output: string[];
  /** Resolves with the worker id from its ready line. */
  ready: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** What a child needs from this environment: PATH, HOME and the GPU runtime's library path. */
export function passThrough(): Record<string, string> {
  const names = ['PATH', 'HOME', 'LD_LIBRARY_PATH', 'CUDA_VISIBLE_DEVICES'];
  return Object.fromEntries(names.flatMap((name) => (process.env[name] ? [[name, process.env[name]!]] : [])));
}

/** Starts `src/worker/main.ts` (through tsx) as a child process with the given environment. */
export function spawnWorker(env: Record<string, string>): WorkerChild {
  return spawnEntry(ENTRIES.worker, env);
}

/** Starts an entry point through tsx; `cwd` defaults to this checkout. */
export function spawnEntry(entry: string, env: Record<string, string>, cwd?: string): WorkerChild {
  const child = spawn(process.execPath, ['--import', TSX, entry], {
    env: { ...passThrough(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(cwd ? { cwd } : {}),
  });
  const output: string[] = [];
  let onReady: (id: string) => void;
  let onFail: (error: Error) => void;
  const ready = new Promise<string>((resolve, reject) => {
    onReady = resolve;
    onFail = reject;
  });
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      output.push(line);
      if (line.includes('"msg":"worker ready')) onReady(JSON.parse(line).workerId as string);
    }
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      onFail(new Error(`worker exited before ready (code ${code}, signal ${signal}):\n${output.join('\n')}`));
      resolve({ code, signal });
    });
  });
  return { child, output, ready, exited };
}
