import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The real entry point of `npm run worker`, run from source. */
const ENTRY = fileURLToPath(new URL('../../src/worker/main.ts', import.meta.url));

export interface WorkerChild {
  child: ChildProcess;
  /** Every stdout/stderr line (pino JSON). */
  output: string[];
  /** Resolves with the worker id from its ready line. */
  ready: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** What a child needs from this environment: PATH, HOME and the GPU runtime's library path. */
function passThrough(): Record<string, string> {
  const names = ['PATH', 'HOME', 'LD_LIBRARY_PATH', 'CUDA_VISIBLE_DEVICES'];
  return Object.fromEntries(names.flatMap((name) => (process.env[name] ? [[name, process.env[name]!]] : [])));
}

/** Starts `src/worker/main.ts` (through tsx) as a child process with the given environment. */
export function spawnWorker(env: Record<string, string>): WorkerChild {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
    env: { ...passThrough(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
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
