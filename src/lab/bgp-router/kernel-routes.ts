// The router namespace's kernel routes: the next hops zebra or BIRD installed, and the flush of what a killed
// daemon left behind.

import { isIP } from 'node:net';
import { execIn, mustExecIn } from '../netns.ts';
import { canonicalAddress, canonicalPrefix, compareStrings } from './route-text.ts';

export async function kernelNextHopsIn(ns: string, prefix: string): Promise<string[]> {
  const p = canonicalPrefix(prefix);
  const family = isIP(p.split('/')[0] ?? '') === 6 ? '-6' : '-4';
  const out = await mustExecIn(ns, ['ip', '-j', family, 'route', 'show', 'table', 'main', 'exact', p]);
  // An IPv4 route via an IPv6 next hop (RFC 8950, `via inet6 fe80::1`) shows as via.host, not gateway.
  type Hop = { gateway?: string; via?: { host?: string } };
  const routes = JSON.parse(out || '[]') as Array<Hop & { nexthops?: Hop[] }>;
  const hops = routes.flatMap((r) => [r, ...(r.nexthops ?? [])].map((h) => h.gateway ?? h.via?.host));
  return hops
    .filter((h): h is string => typeof h === 'string')
    .map(canonicalAddress)
    .sort(compareStrings);
}

/** Removes kernel routes (and FRR's nexthop objects) a killed daemon may have left; bounded, best effort. */
export async function flushKernel(ns: string, proto: string, nexthops: boolean): Promise<void> {
  for (const family of ['-4', '-6']) await execIn(ns, ['ip', family, 'route', 'flush', 'proto', proto], 5000);
  // iproute2 6.1 rejects `proto zebra` for nexthops; 11 is RTPROT_ZEBRA.
  if (nexthops) await execIn(ns, ['ip', 'nexthop', 'flush', 'proto', '11'], 5000);
}
