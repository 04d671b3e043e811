import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthServer {
  /** `http://host:port` actually bound (port 0 picks a free one). */
  readonly url: string;
  close(): Promise<void>;
}

export interface HealthState {
  /** Process is up and its Redis connection answers. */
  live(): Promise<boolean>;
  /** Sessions warmed and taking jobs (false again while shutting down). */
  ready(): boolean;
}

/** `/metrics` (Prometheus), `/healthz` (liveness), `/readyz` (warm and taking jobs) on node:http. */
export async function startHealthServer(host: string, port: number, registry: Registry, state: HealthState): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET') return answer(405, 'method not allowed\n');
    if (path === '/metrics') {
      registry.metrics().then((text) => answer(200, text, registry.contentType), (error: Error) => answer(500, `${error.message}\n`));
    } else if (path === '/healthz') {
      state.live().then((ok) => answer(ok ? 200 : 503, ok ? 'ok\n' : 'redis unreachable\n'), () => answer(503, 'error\n'));
    } else if (path === '/readyz') {
      const ok = state.ready();
      answer(ok ? 200 : 503, ok ? 'ready\n' : 'not ready\n');
    } else answer(404, 'not found\n');
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
