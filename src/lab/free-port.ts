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

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => {
      resolve(false);
    });
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}

async function kernelPick(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => {
        resolve(port);
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
      if (await canListen(port, host)) {
        handedOut.add(port);
        return port;
      }
    }
  }
  // A machine whose ephemeral range starts low (or a crowded one): the kernel's pick, with the old race.
  const port = await kernelPick(host);
  handedOut.add(port);
  return port;
}
