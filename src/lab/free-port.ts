// Picks a free TCP port on loopback for a server a test starts (etcd, kube-apiserver, bridges).
//
// Not from the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by default): a port found free
// there by binding to port 0 can be taken, before the server binds it, as the local port of any outgoing
// connection on the machine (a full e2e run lost a kube-apiserver start to `bind: address already in use` on
// 32823 that way). Below that range only listeners take ports, and they are ours; a random start and a per-process
// memory of ports handed out keep two picks apart.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Lowest port handed out: clear of well-known and commonly configured service ports. */
const FLOOR = 20_000;
const handedOut = new Set<number>();

/** The first port of the kernel's ephemeral range (32768 when it cannot be read). */
export function ephemeralRangeStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 1024 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

/** Listens on `port` (0: the kernel picks) and closes again; resolves with the port bound, or undefined if taken. */
function listenOnce(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => {
      resolve(undefined);
    });
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => {
        resolve(bound);
      });
    });
  });
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const ceiling = ephemeralRangeStart() - 1;
  if (ceiling - FLOOR >= 1000) {
    for (let attempt = 0; attempt < 64; attempt++) {
      const port = FLOOR + Math.floor(Math.random() * (ceiling - FLOOR + 1));
      if (handedOut.has(port)) continue;
      if ((await listenOnce(port, host)) !== undefined) {
        handedOut.add(port);
        return port;
      }
    }
  }
  // A machine whose ephemeral range starts low (or a crowded one): the kernel's pick, with the old race.
  const port = await listenOnce(0, host);
  if (port === undefined) throw new Error(`no free TCP port on ${host}`);
  handedOut.add(port);
  return port;
}
