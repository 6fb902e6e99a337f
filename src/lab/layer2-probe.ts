// Observing layer-2 announcements from a client namespace: which MACs answer ARP / NDP for an address.
import { execIn } from './netns.ts';

/** MACs (lowercase) that answered `count` ARP requests for `ip` from `ns`, waiting at most `deadlineS`. */
export async function arpingMacs(
  ns: string,
  ip: string,
  count = 2,
  dev = 'eth0',
  deadlineS = count + 1,
): Promise<string[]> {
  const res = await execIn(
    ns,
    ['arping', '-c', String(count), '-w', String(deadlineS), '-I', dev, ip],
    (deadlineS + 2) * 1000,
  );
  const macs = [...res.stdout.matchAll(/reply from \S+ \[([0-9A-Fa-f:]+)\]/g)].map((m) => (m[1] ?? '').toLowerCase());
  return [...new Set(macs)];
}

/** MACs (lowercase) that answered Neighbor Solicitations for `ip` from `ns` (every answer, not just the first). */
export async function ndiscMacs(ns: string, ip: string, dev = 'eth0', tries = 2, waitMs = 700): Promise<string[]> {
  const res = await execIn(ns, ['ndisc6', '-m', '-n', '-r', String(tries), '-w', String(waitMs), ip, dev], 5000);
  const macs = [...res.stdout.matchAll(/Target link-layer address: ([0-9A-Fa-f:]+)/g)].map((m) =>
    (m[1] ?? '').toLowerCase(),
  );
  return [...new Set(macs)];
}

/** Opens a TCP connection from `ns` to ip:port and returns what the server says (the node name). */
export async function tcpHello(ns: string, ip: string, port = 80): Promise<string> {
  const target = ip.includes(':') ? `TCP6:[${ip}]:${port}` : `TCP4:${ip}:${port}`;
  const res = await execIn(ns, ['socat', '-T', '2', '-', `${target},connect-timeout=2`], 4000);
  return res.stdout.trim();
}
