import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type CdnHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/**
 * A tiny attachment host on 127.0.0.1 for download tests: each path answers with a handler, so a test can serve
 * bytes, lie about sizes, stall, redirect, or hold a response until it says so. Counts hits per path.
 */
export class FakeCdn {
  private server: Server | undefined;
  private readonly routes = new Map<string, CdnHandler>();
  private readonly held = new Set<ServerResponse>();
  readonly hits = new Map<string, number>();
  port = 0;

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  url(path: string): string {
    return `${this.origin}${path}?ex=abc&is=def&hm=secret-signature`;
  }

  route(path: string, handler: CdnHandler): string {
    this.routes.set(path, handler);
    return this.url(path);
  }

  /** Plain bytes with a Content-Length. */
  file(path: string, bytes: Buffer, contentType = 'image/png'): string {
    return this.route(path, (_req, res) => {
      res.writeHead(200, { 'content-type': contentType, 'content-length': bytes.length });
      res.end(bytes);
    });
  }

  /** Answers only when `release` resolves (the response stays open meanwhile). */
  hold(path: string, bytes: Buffer, release: Promise<void>, contentType = 'image/png'): string {
    return this.route(path, async (_req, res) => {
      this.held.add(res);
      await release;
      this.held.delete(res);
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': contentType, 'content-length': bytes.length });
      res.end(bytes);
    });
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
      const handler = this.routes.get(path);
      if (!handler) {
        res.writeHead(404).end();
        return;
      }
      Promise.resolve(handler(req, res)).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }
}
