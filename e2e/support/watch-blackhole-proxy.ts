// A TLS proxy in front of the API server for one speaker, that can blackhole chosen requests: a matching stream
// in flight goes silent (its bytes and its end are swallowed), a new matching request is never answered. Everything
// else passes. It serves the API server's own certificate on a Unix socket, so a speaker reaches it through the API
// bridge (`bridge.connect(ns, proxy.socket)`) at the usual https://127.0.0.1:<port> with the usual CA and token.
// This is how a test makes one watch of one speaker silently dead (a NAT or proxy losing a long-lived connection)
// while its other watches and its Lease renewals keep working.
import { Agent, createServer, request } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync, rmSync } from 'node:fs';

export type RequestMatch = (method: string, url: URL) => boolean;

/** Watches of the Services collection (`GET /api/v1/services?watch=true...`). */
export const servicesWatch: RequestMatch = (method, url) =>
  method === 'GET' && url.pathname === '/api/v1/services' && url.searchParams.get('watch') === 'true';

export interface WatchBlackholeProxy {
  readonly socket: string;
  /** Blackholes every request `match` selects, those in flight included, until heal(). */
  blackhole(match: RequestMatch): void;
  /** New requests pass again (streams already swallowed stay silent: their client must notice and reconnect). */
  heal(): void;
  /** Requests matched and swallowed so far (in flight when blackholed, or new). */
  readonly swallowed: number;
  close(): Promise<void>;
}

interface Stream {
  method: string;
  url: URL;
  silenced: boolean;
  res: ServerResponse;
  upstream?: IncomingMessage;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

function endToEnd(headers: IncomingMessage['headers']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

export async function startWatchBlackholeProxy(options: {
  socket: string;
  upstreamPort: number;
  caCert: string;
  serverCert: string;
  serverKey: string;
}): Promise<WatchBlackholeProxy> {
  const ca = readFileSync(options.caCert);
  const agent = new Agent({ keepAlive: true, ca });
  const streams = new Set<Stream>();
  let match: RequestMatch | undefined;
  let swallowed = 0;

  const server = createServer(
    { cert: readFileSync(options.serverCert), key: readFileSync(options.serverKey) },
    (req, res) => {
      const method = req.method ?? 'GET';
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const stream: Stream = { method, url, silenced: false, res };
      streams.add(stream);
      res.on('close', () => streams.delete(stream));
      if (match?.(method, url)) {
        // Never answered: the request disappears into the hole.
        stream.silenced = true;
        swallowed++;
        req.resume();
        return;
      }
      const up = request(
        { host: '127.0.0.1', port: options.upstreamPort, method, path: req.url, headers: endToEnd(req.headers), agent },
        (upstream) => {
          stream.upstream = upstream;
          if (stream.silenced) {
            upstream.resume();
            return;
          }
          res.writeHead(upstream.statusCode ?? 502, endToEnd(upstream.headers));
          res.flushHeaders();
          upstream.on('data', (chunk: Buffer) => {
            if (!stream.silenced) res.write(chunk);
          });
          upstream.on('end', () => {
            if (!stream.silenced) res.end();
          });
          upstream.on('error', () => {
            if (!stream.silenced) res.destroy();
          });
        },
      );
      up.on('error', () => {
        if (!stream.silenced) res.destroy();
      });
      res.on('close', () => up.destroy());
      req.pipe(up);
    },
  );
  server.on('clientError', (_error, socket) => socket.destroy());
  rmSync(options.socket, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socket, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    socket: options.socket,
    blackhole(m) {
      match = m;
      for (const stream of streams) {
        if (stream.silenced || !m(stream.method, stream.url)) continue;
        stream.silenced = true;
        swallowed++;
      }
    },
    heal() {
      match = undefined;
    },
    get swallowed() {
      return swallowed;
    },
    async close() {
      for (const stream of streams) {
        stream.upstream?.destroy();
        stream.res.destroy();
      }
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
