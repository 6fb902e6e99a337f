// RouterOptions checked once before any daemon is configured: the harness refuses what a daemon would
// misread (bad ASNs, duplicate neighbors, BFD on gobgpd, passwords a config file could not quote).

import { isIP } from 'node:net';
import type { RouterNeighbor, RouterOptions } from '../bgp-router.ts';
import { canonicalAddress } from './route-text.ts';

export interface Prepared {
  neighbors: Array<RouterNeighbor & { ibgp: boolean; v6: boolean }>;
}

export function prepare(o: RouterOptions): Prepared {
  if (isIP(o.routerId) !== 4) throw new Error(`routerId must be an IPv4 address: ${o.routerId}`);
  if (!Number.isInteger(o.asn) || o.asn < 1 || o.asn > 0xffffffff) throw new Error(`bad ASN ${o.asn}`);
  if (o.neighbors.length === 0) throw new Error('no neighbors');
  if (o.neighbors.some((n) => n.bfd) && (o.bfd === undefined || o.kind === 'gobgpd')) {
    throw new Error(
      o.kind === 'gobgpd' ? 'gobgpd has no BFD' : 'neighbors with bfd need RouterOptions.bfd (intervals)',
    );
  }
  if (
    o.bfd &&
    (!Number.isInteger(o.bfd.intervalMs) ||
      o.bfd.intervalMs < 10 ||
      !Number.isInteger(o.bfd.multiplier) ||
      o.bfd.multiplier < 1)
  ) {
    throw new Error(`bad BFD timers ${JSON.stringify(o.bfd)}`);
  }
  const seen = new Set<string>();
  const neighbors = o.neighbors.map((n) => {
    if (n.unnumbered === true && o.kind !== 'frr') throw new Error(`unnumbered neighbor ${n.address}: FRR only`);
    if (n.unnumbered === true && !/^[\w.-]{1,15}$/.test(n.address))
      throw new Error(`unnumbered neighbor: bad interface name ${JSON.stringify(n.address)}`);
    const address = n.unnumbered === true ? n.address : canonicalAddress(n.address);
    if (seen.has(address)) throw new Error(`neighbor ${address} listed twice`);
    seen.add(address);
    if (!Number.isInteger(n.asn) || n.asn < 1 || n.asn > 0xffffffff) throw new Error(`bad ASN ${n.asn} for ${address}`);
    if (n.interface !== undefined && o.kind === 'gobgpd')
      throw new Error(`link-local neighbor ${address}: the gobgpd harness has no interface neighbors`);
    if (n.extendedNextHop === true && (o.kind === 'gobgpd' || isIP(address) !== 6))
      throw new Error(`extended next hop for ${address}: BIRD or FRR, over an IPv6 neighbor address`);
    if (n.interface !== undefined && !/^[\w.-]{1,15}$/.test(n.interface))
      throw new Error(`bad interface name ${JSON.stringify(n.interface)}`);
    if (n.password !== undefined && !/^[!#-[\]-~]{1,80}$/.test(n.password)) {
      throw new Error(`password for ${address}: printable ASCII without spaces, quotes or backslashes, 1-80 chars`);
    }
    return { ...n, address, ibgp: n.asn === o.asn, v6: n.unnumbered === true || isIP(address) === 6 };
  });
  return { neighbors };
}
