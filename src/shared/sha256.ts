import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Hex sha256 of bytes or a UTF-8 string. */
export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hex sha256 of a file, streamed (model files are up to gigabytes). */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path).on('data', (chunk) => hash.update(chunk)).on('error', reject).on('end', () => resolve(hash.digest('hex')));
  });
}
