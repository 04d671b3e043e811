import { Agent, errors as undiciErrors, request, type Dispatcher } from 'undici';
import { HairError } from '../shared/errors.js';
import { formatByteLimit } from '../shared/format-bytes.js';
import { isHostAllowed, isLoopbackHost } from '../shared/allowed-hosts.js';

export interface DownloadOptions {
  /** Exact host names or `*.suffix` patterns. */
  allowedHosts: readonly string[];
  /** The most bytes accepted; counted while streaming, whatever Content-Length says. */
  maxBytes: number;
  connectTimeoutMs: number;
  /** Longest wait for headers and between two body chunks. */
  readTimeoutMs: number;
  /** Whole download deadline; defaults to connect + 2 × read timeout. */
  totalTimeoutMs?: number;
  /** Redirects followed, only ever to the same host. @defaultValue 3 */
  maxRedirects?: number;
  /** Aborts the download (job cancelled); its reason is rethrown as is. */
  signal?: AbortSignal;
  /** A shared undici Agent (the worker keeps one); a private one is made otherwise. */
  dispatcher?: Dispatcher;
}

/**
 * Checks a URL before any connection: https (http only on loopback) to an allowed host. The studio callback goes
 * through the same check as downloads.
 */
export function checkUrl(raw: string | URL, allowedHosts: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new HairError('DOWNLOAD_HOST_NOT_ALLOWED', {}, { detail: 'not a URL' });
  }
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
  if (!secure || url.username || url.password || !isHostAllowed(url.hostname, allowedHosts)) {
    throw new HairError('DOWNLOAD_HOST_NOT_ALLOWED', { host: url.hostname }, {
      detail: `${url.protocol}//${url.hostname} is not in DOWNLOAD_ALLOWED_HOSTS`,
    });
  }
  return url;
}

/** Drops a response body we will not read; undici reports the abort as an 'error' nobody needs. */
function discard(body: NodeJS.ReadableStream & { destroy(): void }): void {
  body.on('error', () => undefined);
  body.destroy();
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function toDownloadError(error: unknown, deadline: AbortSignal, signal: AbortSignal | undefined): unknown {
  if (error instanceof HairError) return error;
  if (signal?.aborted) return signal.reason;
  const code = (error as { code?: string } | null)?.code;
  if (deadline.aborted || (code && TIMEOUT_CODES.has(code)) || error instanceof undiciErrors.ConnectTimeoutError) {
    return new HairError('DOWNLOAD_TIMEOUT', {}, { cause: error });
  }
  return new HairError('DOWNLOAD_FAILED', {}, { cause: error, detail: code ?? (error as Error)?.message });
}

/**
 * Downloads an attachment into memory. Every refusal is a HairError: DOWNLOAD_HOST_NOT_ALLOWED (host, scheme or a
 * redirect to another host), DOWNLOAD_TOO_LARGE (declared or streamed size), DOWNLOAD_TIMEOUT, DOWNLOAD_FAILED.
 * The bytes never touch disk; the caller drops them when done.
 */
export async function download(rawUrl: string, options: DownloadOptions): Promise<Uint8Array> {
  const maxRedirects = options.maxRedirects ?? 3;
  const total = options.totalTimeoutMs ?? options.connectTimeoutMs + 2 * options.readTimeoutMs;
  const deadline = AbortSignal.timeout(total);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  const ownAgent = options.dispatcher
    ? undefined
    : new Agent({ connect: { timeout: options.connectTimeoutMs }, headersTimeout: options.readTimeoutMs, bodyTimeout: options.readTimeoutMs });
  const dispatcher = options.dispatcher ?? ownAgent!;
  const limit = formatByteLimit(options.maxBytes);
  try {
    let url = checkUrl(rawUrl, options.allowedHosts);
    const host = url.host;
    for (let hop = 0; ; hop += 1) {
      const response = await request(url, {
        method: 'GET',
        dispatcher,
        signal,
        headersTimeout: options.readTimeoutMs,
        bodyTimeout: options.readTimeoutMs,
        headers: { accept: 'image/*' },
      });
      const { statusCode, headers, body } = response;
      if (statusCode >= 300 && statusCode < 400 && headers.location) {
        discard(body);
        const next = new URL(String(headers.location), url);
        if (next.host !== host) {
          throw new HairError('DOWNLOAD_HOST_NOT_ALLOWED', { host: next.hostname }, { detail: `redirect to another host: ${next.hostname}` });
        }
        if (hop >= maxRedirects) throw new HairError('DOWNLOAD_FAILED', {}, { detail: `more than ${maxRedirects} redirects` });
        url = checkUrl(next, options.allowedHosts);
        continue;
      }
      if (statusCode !== 200) {
        discard(body);
        throw new HairError('DOWNLOAD_FAILED', { status: statusCode }, { detail: `HTTP ${statusCode}` });
      }
      const declared = Number(headers['content-length']);
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        discard(body);
        throw new HairError('DOWNLOAD_TOO_LARGE', { limit }, { detail: `Content-Length ${declared} > ${options.maxBytes}` });
      }
      const chunks: Buffer[] = [];
      let received = 0;
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          received += chunk.length;
          if (received > options.maxBytes) {
            throw new HairError('DOWNLOAD_TOO_LARGE', { limit }, { detail: `more than ${options.maxBytes} bytes streamed` });
          }
          chunks.push(chunk);
        }
      } catch (error) {
        discard(body);
        chunks.length = 0;
        throw error;
      }
      const bytes = Buffer.concat(chunks, received);
      chunks.length = 0;
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
  } catch (error) {
    throw toDownloadError(error, deadline, options.signal);
  } finally {
    if (ownAgent) await ownAgent.close().catch(() => undefined);
  }
}
