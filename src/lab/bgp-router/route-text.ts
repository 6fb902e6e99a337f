// How the test bed's router harness writes what the daemons print: canonical addresses and prefixes, numbered
// communities (FRR's well-known names as numbers) and the orders the lists are sorted in.

import { isIP } from 'node:net';

/** Canonical text of an IPv4 or IPv6 address (lower case, compressed IPv6); throws on anything else. */
export function canonicalAddress(address: string): string {
  const family = isIP(address);
  if (family === 4) return address;
  if (family === 6) return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  throw new Error(`not an IP address: ${JSON.stringify(address)}`);
}

/** Canonical "address/length"; a bare address gets its host length. */
export function canonicalPrefix(prefix: string): string {
  const [address = '', length] = prefix.split('/');
  const canonical = canonicalAddress(address);
  return `${canonical}/${length ?? (isIP(canonical) === 4 ? '32' : '128')}`;
}

export const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export const compareNumbered = (a: string, b: string): number => {
  const na = a.split(':').map(Number);
  const nb = b.split(':').map(Number);
  for (let i = 0; i < Math.max(na.length, nb.length); i++) {
    const d = (na[i] ?? 0) - (nb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
};

export const communityOf = (value: number): string => `${Math.floor(value / 65536)}:${value % 65536}`;

/** FRR's names for well-known communities (JSON list and text forms), as numbers. */
const WELL_KNOWN: Record<string, number> = {
  internet: 0,
  gracefulshutdown: 0xffff0000,
  'graceful-shutdown': 0xffff0000,
  acceptown: 0xffff0001,
  'accept-own': 0xffff0001,
  routefiltertranslatedv4: 0xffff0002,
  'route-filter-translated-v4': 0xffff0002,
  routefilterv4: 0xffff0003,
  'route-filter-v4': 0xffff0003,
  routefiltertranslatedv6: 0xffff0004,
  'route-filter-translated-v6': 0xffff0004,
  routefilterv6: 0xffff0005,
  'route-filter-v6': 0xffff0005,
  llgrstale: 0xffff0006,
  'llgr-stale': 0xffff0006,
  nollgr: 0xffff0007,
  'no-llgr': 0xffff0007,
  acceptownnexthop: 0xffff0008,
  'accept-own-nexthop': 0xffff0008,
  blackhole: 0xffff029a,
  noexport: 0xffffff01,
  'no-export': 0xffffff01,
  noadvertise: 0xffffff02,
  'no-advertise': 0xffffff02,
  localas: 0xffffff03,
  'local-as': 0xffffff03,
  'no-export-subconfed': 0xffffff03,
  nopeer: 0xffffff04,
  'no-peer': 0xffffff04,
};

export function normaliseCommunity(text: string): string {
  if (/^\d+:\d+$/.test(text)) return text;
  const known = WELL_KNOWN[text.toLowerCase()];
  if (known === undefined) throw new Error(`unknown community ${JSON.stringify(text)}`);
  return communityOf(known);
}
