import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CLIP_VIT_B32, HAIRFAST_HUB, HAIRFAST_SOURCE } from '../../src/model-build/official-files.js';

/**
 * The Hugging Face Hub, OpenAI's CLIP host and GitHub on 127.0.0.1, with their URL layouts: Hub `resolve/<rev>/…`
 * answers 302 with `X-Linked-Etag` (the LFS sha256) and `X-Linked-Size` to a CDN path that honours Range; the CLIP
 * path serves directly; `archive/<commit>.tar.gz` redirects to codeload. Faults: `cutOnce(path, afterBytes)` sends
 * that many bytes of the next answer and drops the connection; anything not added is 404.
 */
export interface FakeModelHosts {
  url: string;
  /** A Hub file under `pretrained_models/` at the pinned revision. */
  addHubFile(path: string, bytes: Buffer): void;
  /** The bytes served at CLIP's URL path. */
  setClip(bytes: Buffer): void;
  addTarball(commit: string, bytes: Buffer): void;
  cutOnce(servedPath: string, afterBytes: number): void;
  /** Every request: path and Range header. */
  readonly requests: { path: string; range: string | undefined; status: number }[];
  close(): Promise<void>;
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

export async function startFakeModelHosts(): Promise<FakeModelHosts> {
  const content = new Map<string, Buffer>();
  const redirects = new Map<string, { location: string; headers: Record<string, string> }>();
  const cuts = new Map<string, number>();
  const requests: FakeModelHosts['requests'] = [];

  function serve(req: IncomingMessage, res: ServerResponse, body: Buffer, path: string): void {
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    if (range) {
      start = Number(range[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'content-length': body.length - start, 'accept-ranges': 'bytes' });
    } else {
      res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes' });
    }
    const cut = cuts.get(path);
    if (cut !== undefined) {
      cuts.delete(path);
      // drop the connection once the client has had time to read what was sent (a cut mid-transfer, not a refusal)
      res.write(body.subarray(start, Math.min(body.length, start + cut)), () => setTimeout(() => res.socket?.destroy(), 150));
      return;
    }
    res.end(body.subarray(start));
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const redirect = redirects.get(path);
    const body = content.get(path);
    const status = redirect ? 302 : body ? (req.headers.range ? 206 : 200) : 404;
    requests.push({ path, range: req.headers.range, status });
    if (redirect) res.writeHead(302, { location: redirect.location, ...redirect.headers }).end();
    else if (body) serve(req, res, body, path);
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('Entry not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    addHubFile(path, bytes) {
      const cdn = `/cdn-lfs/${sha(bytes)}`;
      content.set(cdn, bytes);
      redirects.set(`/${HAIRFAST_HUB.repo}/resolve/${HAIRFAST_HUB.revision}/pretrained_models/${path}`, {
        location: cdn, headers: { 'x-linked-etag': `"${sha(bytes)}"`, 'x-linked-size': String(bytes.length) },
      });
    },
    setClip(bytes) {
      content.set(CLIP_VIT_B32.path, bytes);
    },
    addTarball(commit, bytes) {
      const codeload = `/codeload/${HAIRFAST_SOURCE.repo}/tar.gz/${commit}`;
      content.set(codeload, bytes);
      redirects.set(`/${HAIRFAST_SOURCE.repo}/archive/${commit}.tar.gz`, { location: codeload, headers: {} });
    },
    cutOnce(servedPath, afterBytes) {
      cuts.set(servedPath, afterBytes);
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export const cdnPathOf = (bytes: Buffer): string => `/cdn-lfs/${sha(bytes)}`;
