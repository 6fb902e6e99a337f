// The HTTP endpoint of each component: /metrics (Prometheus), /healthz (the process works) and /readyz
// (the component is ready: caches synced, or whatever the component says). Optionally over TLS with every request
// checked by an access decision (the speaker's authenticated listener: docs/security.md).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { rmSync } from 'node:fs';
import type { MetricsRegistry } from './metrics-registry.ts';

// node:http by getBuiltinModule, not by an ES import: an ES import of a built-in reads every export to build the
// module namespace, and node:http's lazy WebSocket, CloseEvent and MessageEvent getters then load undici (the
// fetch and WebSocket implementation) at start: 10-14 MB of resident memory in every component on Node 24 for
// code nothing here runs (docs/performance.md, "Speaker memory"). A CommonJS-style load reads no getter.
const { createServer } = process.getBuiltinModule('node:http');

/** Whether a request may read the endpoint; a refusal says why, for the response and the log. */
export type AccessDecision =
  | { readonly allowed: true; readonly user: string }
  | { readonly allowed: false; readonly status: 401 | 403 | 429 | 503; readonly reason: string };

export interface MetricsServerOptions {
  /** host:port, :port, or unix:/path (a Unix socket, reachable across network namespaces) */
  address: string;
  registry: MetricsRegistry;
  ready: () => boolean;
  /** Serve /metrics (default true); false: only /healthz and /readyz, for a probe listener. */
  metrics?: boolean;
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: string; key: string };
  /** Decide every request before it is served (without it, every request is served). */
  authorize?: (request: IncomingMessage) => Promise<AccessDecision>;
  /** Called for every refused request. */
  onRefused?: (request: IncomingMessage, decision: AccessDecision & { allowed: false }) => void;
}

/** host:port or :port; without a host, Node listens on every address (both families where IPv6 is enabled). */
export function parseListenAddress(address: string): { host: string | undefined; port: number } {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '') || undefined;
  const port = Number(address.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`invalid listen address "${address}"`);
  return { host, port };
}

/** A listening metrics server. */
export interface MetricsServer {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics' && options.metrics !== false) {
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
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const authorize = options.authorize;
    if (!authorize) {
      serve(req, res);
      return;
    }
    authorize(req)
      .catch((error: unknown): AccessDecision => ({
        allowed: false,
        status: 503,
        reason: `access review failed: ${String(error)}`,
      }))
      .then((decision) => {
        if (decision.allowed) {
          serve(req, res);
          return;
        }
        options.onRefused?.(req, decision);
        res.writeHead(decision.status, {
          'Content-Type': 'text/plain',
          ...(decision.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="beaconlb"' } : {}),
        });
        res.end(`${decision.reason}\n`);
      })
      .catch(() => {
        res.destroy();
      });
  };
  const server: Server = options.tls
    ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }, handle)
    : createServer(handle);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (options.address.startsWith('unix:')) {
      const path = options.address.slice('unix:'.length);
      rmSync(path, { force: true });
      server.listen(path, resolve);
    } else {
      // `:port` is every IPv4 address, as the flags and the chart document (Node alone would bind `::`, which takes
      // IPv6 too on a dual-stack node); `[::]:port` asks for IPv6 explicitly.
      const { host, port } = parseListenAddress(options.address);
      server.listen(port, host ?? '0.0.0.0', resolve);
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
