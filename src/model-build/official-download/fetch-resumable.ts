import { createHash, type Hash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { request, type Dispatcher } from 'undici';
import { HairError } from '../../shared/errors.js';

/** One file's progress: bytes so far (including a resumed part), the total when known, speed and time left. */
export interface DownloadProgress {
  file: string;
  received: number;
  total: number | undefined;
  bytesPerSecond: number;
  etaSeconds: number | undefined;
  done: boolean;
  /** Bytes that were already on disk from an earlier, interrupted run. */
  resumedFrom: number;
}

export interface FetchOptions {
  /** Name shown in progress and errors (`StyleGAN/ffhq.pt`). */
  label: string;
  /** Known sha256 (hex); else the server's `X-Linked-Etag` (the Hub's LFS oid) when it sends one. */
  sha256?: string | undefined;
  /** Bytes the file may have (the Hub listing's rounded size), checked when the exact size is not sent. */
  sizeRange?: { min: number; max: number } | undefined;
  dispatcher?: Dispatcher | undefined;
  /** Attempts per file (a cut connection resumes from what arrived). */
  attempts?: number;
  retryDelayMs?: number;
  onProgress?: ((progress: DownloadProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface FetchResult {
  path: string;
  bytes: number;
  sha256: string;
  /** Where the expected sha256 came from; `undefined`: none was known, only the size was checked. */
  verifiedBy: 'table' | 'server' | undefined;
  /** Nothing new was fetched: the file was already complete on disk. */
  skipped: boolean;
}

/** `<target>.part`: where bytes land until the whole file is there and checked. */
export const partialPath = (target: string): string => `${target}.part`;

const MAX_REDIRECTS = 5;
const SHA256 = /^[0-9a-f]{64}$/;

class RetryableError extends Error {}

/**
 * Downloads `url` to `target` with resume: bytes go to `<target>.part`; an existing part is continued with an HTTP
 * Range request (a server that ignores it starts over), a cut connection is retried from where it stopped, and the
 * file is renamed into place only once its size and sha256 match. A target already there with the right sha256 is
 * kept as is. Redirects are followed by hand so the Hub's `X-Linked-Etag`/`X-Linked-Size` (on its 302) are seen.
 */
export async function fetchResumable(url: string, target: string, options: FetchOptions): Promise<FetchResult> {
  const attempts = options.attempts ?? 5;
  const part = partialPath(target);
  mkdirSync(dirname(target), { recursive: true });
  // A file from an earlier run is checked like a complete part: a Range past its end answers 416, then the sha256.
  if (existsSync(target) && !existsSync(part)) renameSync(target, part);
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    try {
      return await attemptOnce(url, target, part, options);
    } catch (error) {
      if (!(error instanceof RetryableError)) throw error;
      lastError = error;
      if (attempt < attempts) await sleep((options.retryDelayMs ?? 1000) * attempt, options.signal);
    }
  }
  throw new HairError('MODEL_DOWNLOAD_FAILED', {
    file: options.label, url, attempts, reason: lastError instanceof Error ? lastError.message : String(lastError), partial: part,
  }, { cause: lastError });
}

async function attemptOnce(url: string, target: string, part: string, options: FetchOptions): Promise<FetchResult> {
  let have = existsSync(part) ? statSync(part).size : 0;
  let location = url;
  let linkedSha: string | undefined;
  let linkedSize: number | undefined;
  let response: Dispatcher.ResponseData | undefined;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop += 1) {
    try {
      response = await request(location, {
        method: 'GET',
        headers: { 'user-agent': 'hairstyler-models-download', ...(have > 0 ? { range: `bytes=${have}-` } : {}) },
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new RetryableError(`request failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const etag = header(response.headers, 'x-linked-etag')?.replace(/^W\//, '').replaceAll('"', '').toLowerCase();
    if (etag && SHA256.test(etag)) linkedSha = etag;
    const size = Number(header(response.headers, 'x-linked-size'));
    if (Number.isSafeInteger(size) && size > 0) linkedSize = size;
    if (response.statusCode >= 300 && response.statusCode < 400 && header(response.headers, 'location')) {
      await response.body.dump();
      location = new URL(header(response.headers, 'location')!, location).toString();
      continue;
    }
    break;
  }
  if (!response) throw new RetryableError('no response');
  const { statusCode } = response;
  const expectedSha = options.sha256 ?? linkedSha;
  const verifiedBy = options.sha256 ? 'table' : linkedSha ? 'server' : undefined;

  if (statusCode === 404) {
    await response.body.dump();
    throw new HairError('MODEL_DOWNLOAD_NOT_FOUND', { file: options.label, url });
  }
  if (statusCode === 416 && have > 0) {
    // The part already holds everything the server has (or more: the size check says so).
    const whole = /^bytes \*\/(\d+)$/.exec(header(response.headers, 'content-range') ?? '');
    await response.body.dump();
    return finish(url, target, part, await hashFile(part), have, linkedSize ?? (whole ? Number(whole[1]) : undefined), expectedSha, verifiedBy, options, have);
  }
  if (statusCode >= 500 || statusCode === 408 || statusCode === 429) {
    await response.body.dump();
    throw new RetryableError(`HTTP ${statusCode}`);
  }
  if (statusCode !== 200 && statusCode !== 206) {
    await response.body.dump();
    throw new HairError('MODEL_DOWNLOAD_FAILED', { file: options.label, url, attempts: 1, reason: `HTTP ${statusCode}`, partial: part });
  }

  const hash = createHash('sha256');
  let total: number | undefined = linkedSize;
  if (statusCode === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(response.headers, 'content-range') ?? '');
    if (!range || Number(range[1]) !== have) {
      await response.body.dump();
      rmSync(part, { force: true });
      throw new RetryableError(`the server resumed at the wrong offset (${header(response.headers, 'content-range') ?? 'no Content-Range'})`);
    }
    if (range[3] !== '*') total ??= Number(range[3]);
    await hashInto(hash, part);
  } else {
    have = 0; // 200: the server sent the whole file (it ignored or refused the range)
    const length = Number(header(response.headers, 'content-length'));
    if (Number.isSafeInteger(length) && length > 0) total ??= length;
  }
  const resumedFrom = have;
  let received = have;
  const started = performance.now();
  let lastReport = 0;
  // Each chunk is written before the next is read, so whatever arrived is on disk when the connection drops.
  const file = await open(part, statusCode === 206 ? 'a' : 'w');
  try {
    for await (const chunk of response.body) {
      const bytes = chunk as Buffer;
      await file.write(bytes);
      hash.update(bytes);
      received += bytes.length;
      const now = performance.now();
      if (now - lastReport >= 1000) {
        lastReport = now;
        progress(options, received, total, resumedFrom, started, false);
      }
    }
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new RetryableError(`connection lost after ${received} bytes: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } finally {
    await file.close();
  }
  if (total !== undefined && received < total) throw new RetryableError(`connection closed after ${received} of ${total} bytes`);
  return finish(url, target, part, hash.digest('hex'), received, total, expectedSha, verifiedBy, options, resumedFrom, started);
}

function finish(
  url: string, target: string, part: string, sha: string, bytes: number, total: number | undefined, expectedSha: string | undefined,
  verifiedBy: FetchResult['verifiedBy'], options: FetchOptions, resumedFrom: number, started = performance.now(),
): FetchResult {
  const mismatch = (check: string, actual: string, expected: string): never => {
    rmSync(part, { force: true });
    throw new HairError('MODEL_DOWNLOAD_MISMATCH', { file: options.label, url, check, actual, expected });
  };
  if (total !== undefined && bytes !== total) mismatch('size', `${bytes} bytes`, `${total} bytes`);
  const range = options.sizeRange;
  if (range && (bytes < range.min || bytes > range.max)) mismatch('size', `${bytes} bytes`, `${range.min}–${range.max} bytes`);
  if (expectedSha && sha !== expectedSha) mismatch('sha256', sha, expectedSha);
  renameSync(part, target);
  progress(options, bytes, bytes, resumedFrom, started, true);
  return { path: target, bytes, sha256: sha, verifiedBy, skipped: resumedFrom === bytes };
}

function progress(options: FetchOptions, received: number, total: number | undefined, resumedFrom: number, started: number, done: boolean): void {
  const seconds = (performance.now() - started) / 1000;
  const bytesPerSecond = seconds > 0 ? (received - resumedFrom) / seconds : 0;
  const etaSeconds = total !== undefined && bytesPerSecond > 0 ? Math.max(0, (total - received) / bytesPerSecond) : undefined;
  options.onProgress?.({ file: options.label, received, total, bytesPerSecond, etaSeconds, done, resumedFrom });
}

function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function hashInto(hash: Hash, path: string): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await hashInto(hash, path);
  return hash.digest('hex');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
