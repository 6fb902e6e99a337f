// What this node announces per Service, as the ServiceAnnouncement records its speaker keeps (ADR 0024): the layer-2
// addresses it owns with their interfaces, and the BGP prefixes it advertises with the peers they go to. Pure: from
// the layer-2 speaker's owned addresses and the BGP sessions' planned routes.
import { formatIp } from '../core/ip/ip-address.ts';
import { formatBgpPrefix, type BgpPrefix } from '../protocol/bgp/nlri-prefix.ts';
import type { OwnedAddress } from './layer2/layer2-announcer.ts';

export interface AnnouncementRecord {
  layer2?: { addresses: string[]; interfaces: string[] };
  bgp?: { prefixes: string[]; peers: string[] };
}

export interface AdvertisedRoutes {
  readonly peer: string;
  readonly routes: ReadonlyArray<{ readonly prefix: BgpPrefix; readonly services: readonly string[] }>;
}

const sorted = (values: Iterable<string>): string[] => [...new Set(values)].sort();

/** The record of every Service (namespace/name) this node announces something for. */
export function announcementRecords(
  owned: ReadonlyMap<bigint, OwnedAddress>,
  advertised: readonly AdvertisedRoutes[],
): Map<string, AnnouncementRecord> {
  const layer2 = new Map<string, { addresses: Set<string>; interfaces: Set<string> }>();
  for (const [address, entry] of owned) {
    for (const service of entry.services) {
      let r = layer2.get(service);
      if (!r) layer2.set(service, (r = { addresses: new Set(), interfaces: new Set() }));
      r.addresses.add(formatIp(address));
      for (const name of entry.interfaces) r.interfaces.add(name);
    }
  }
  const bgp = new Map<string, { prefixes: Set<string>; peers: Set<string> }>();
  for (const { peer, routes } of advertised) {
    for (const route of routes) {
      const prefix = formatBgpPrefix(route.prefix);
      for (const service of route.services) {
        let r = bgp.get(service);
        if (!r) bgp.set(service, (r = { prefixes: new Set(), peers: new Set() }));
        r.prefixes.add(prefix);
        r.peers.add(peer);
      }
    }
  }
  const records = new Map<string, AnnouncementRecord>();
  for (const service of sorted([...layer2.keys(), ...bgp.keys()])) {
    const l2 = layer2.get(service);
    const b = bgp.get(service);
    records.set(service, {
      ...(l2 ? { layer2: { addresses: sorted(l2.addresses), interfaces: sorted(l2.interfaces) } } : {}),
      ...(b ? { bgp: { prefixes: sorted(b.prefixes), peers: sorted(b.peers) } } : {}),
    });
  }
  return records;
}

/** One canonical text per record content (equal records, equal text): what decides whether a write is needed. */
export function recordText(record: AnnouncementRecord | undefined): string {
  if (record === undefined) return '';
  const l2 = record.layer2;
  const b = record.bgp;
  return JSON.stringify([
    l2 ? [sorted(l2.addresses), sorted(l2.interfaces)] : null,
    b ? [sorted(b.prefixes), sorted(b.peers)] : null,
  ]);
}
