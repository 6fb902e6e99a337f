// The HTTP endpoint of each component: /metrics (Prometheus), /healthz (the process works) and /readyz
// (the component is ready: caches synced, or whatever the component says).
import { createServer, type Server } from 'node:http';
import { rmSync } from 'node:fs';
import type { MetricsRegistry } from './metrics-registry.ts';

export interface MetricsServerOptions {
  /** host:port, :port, or unix:/path (a Unix socket, reachable across network namespaces) */
  address: string;
  registry: MetricsRegistry;
  ready: () => boolean;
}

/** host:port or :port; without a host, Node listens on every address (both families where IPv6 is enabled). */
export function parseListenAddress(address: string): { host: string | undefined; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '') || undefined;
  const port = Number(address.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid listen address "${address}"`);
  return { host, port };
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      res.writeHead(200, { 'Content-Type': options.registry.contentType });
      res.end(options.registry.render());
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok\n');
      return;
    }
    if (path === '/readyz') {
      const ready = options.ready();
      res.writeHead(ready ? 200 : 503, { 'Content-Type': 'text/plain' });
      res.end(ready ? 'ok\n' : 'not ready\n');
      return;
    }
    res.writeHead(404);
    res.end();
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (options.address.startsWith('unix:')) {
      const path = options.address.slice('unix:'.length);
      rmSync(path, { force: true });
      server.listen(path, resolve);
    } else {
      const { host, port } = parseListenAddress(options.address);
      if (host === undefined) server.listen(port, resolve);
      else server.listen(port, host, resolve);
    }
  });
  const bound = server.address();
  return {
    server,
    port: typeof bound === 'object' && bound ? bound.port : 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
