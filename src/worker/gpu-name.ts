import { execFile } from 'node:child_process';

/**
 * The GPU's name for the ready line and the admin stats, from nvidia-smi when the CUDA EP is in use; '' when there
 * is none or nvidia-smi is missing (the worker runs fine without it).
 */
export function gpuName(executionProvider: string, timeoutMs = 3_000): Promise<string> {
  if (!/cuda|tensorrt/i.test(executionProvider)) return Promise.resolve('');
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { timeout: timeoutMs }, (error, stdout) => {
      resolve(error ? '' : (stdout.split('\n')[0] ?? '').trim());
    });
  });
}
