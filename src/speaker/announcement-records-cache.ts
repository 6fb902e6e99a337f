// The ServiceAnnouncement records (announcement-records.ts) kept up to date from what changed (ADR 0037): the same
// records as announcementRecords, but a layer-2 change rebuilds only the records of the Services whose owned
// addresses changed (each address formatted once while owned), and an update says which Services' records changed.
// The BGP part is planned again whenever the sessions' routes are not both empty (as before).
import { formatIp } from '../core/ip/ip-address.ts';
import { formatBgpPrefix } from '../protocol/bgp/nlri-prefix.ts';
import type { OwnedAddress } from './layer2/layer2-announcer.ts';
import type { AdvertisedRoutes, AnnouncementRecord } from './announcement-records.ts';

const sorted = (values: Iterable<string>): string[] => [...new Set(values)].sort();

export class AnnouncementRecordsCache {
  readonly #records = new Map<string, AnnouncementRecord>();
  /** The owned addresses the records were built from, each with its text. */
  readonly #owned = new Map<bigint, { readonly entry: OwnedAddress; readonly text: string }>();
  readonly #addressesOf = new Map<string, Set<bigint>>();
  #bgp = new Map<string, { prefixes: string[]; peers: string[] }>();
  /** Owned addresses changed since the last build; undefined: any may have. */
  #pending: Set<bigint> | undefined;

  /** The layer-2 announcer was told these addresses changed (undefined: any may have). */
  layer2Changed(changed: ReadonlySet<bigint> | undefined): void {
    if (!changed) this.#pending = undefined;
    else if (this.#pending) for (const address of changed) this.#pending.add(address);
  }

  /** The records of every Service this node announces something for, and the Services whose record changed. */
  build(
    owned: ReadonlyMap<bigint, OwnedAddress>,
    advertised: readonly AdvertisedRoutes[],
  ): { records: ReadonlyMap<string, AnnouncementRecord>; changed: ReadonlySet<string> } {
    const dirty = new Set<string>();
    const addresses = this.#pending ?? new Set([...this.#owned.keys(), ...owned.keys()]);
    this.#pending = new Set();
    for (const address of addresses) {
      const old = this.#owned.get(address);
      const now = owned.get(address);
      if (old?.entry === now) continue;
      for (const service of old?.entry.services ?? []) {
        this.#addressesOf.get(service)?.delete(address);
        dirty.add(service);
      }
      if (!now) {
        this.#owned.delete(address);
        continue;
      }
      this.#owned.set(address, { entry: now, text: old?.text ?? formatIp(address) });
      for (const service of now.services) {
        let set = this.#addressesOf.get(service);
        if (!set) this.#addressesOf.set(service, (set = new Set()));
        set.add(address);
        dirty.add(service);
      }
    }
    if (advertised.some(({ routes }) => routes.length > 0) || this.#bgp.size > 0) this.#replanBgp(advertised, dirty);
    for (const service of dirty) {
      const addressesOf = this.#addressesOf.get(service);
      const entries = [...(addressesOf ?? [])].flatMap((a) => {
        const known = this.#owned.get(a);
        return known ? [known] : [];
      });
      if (addressesOf && entries.length === 0) this.#addressesOf.delete(service);
      const b = this.#bgp.get(service);
      if (entries.length === 0 && !b) {
        this.#records.delete(service);
        continue;
      }
      this.#records.set(service, {
        ...(entries.length > 0
          ? {
              layer2: {
                addresses: sorted(entries.map((e) => e.text)),
                interfaces: sorted(entries.flatMap((e) => e.entry.interfaces)),
              },
            }
          : {}),
        ...(b ? { bgp: b } : {}),
      });
    }
    return { records: this.#records, changed: dirty };
  }

  /** The BGP part of every record, again; Services whose part changed are dirty. */
  #replanBgp(advertised: readonly AdvertisedRoutes[], dirty: Set<string>): void {
    const collected = new Map<string, { prefixes: Set<string>; peers: Set<string> }>();
    for (const { peer, routes } of advertised) {
      for (const route of routes) {
        const prefix = formatBgpPrefix(route.prefix);
        for (const service of route.services) {
          let r = collected.get(service);
          if (!r) collected.set(service, (r = { prefixes: new Set(), peers: new Set() }));
          r.prefixes.add(prefix);
          r.peers.add(peer);
        }
      }
    }
    const bgp = new Map<string, { prefixes: string[]; peers: string[] }>();
    for (const [service, r] of collected) bgp.set(service, { prefixes: sorted(r.prefixes), peers: sorted(r.peers) });
    for (const service of new Set([...this.#bgp.keys(), ...bgp.keys()]))
      if (JSON.stringify(this.#bgp.get(service)) !== JSON.stringify(bgp.get(service))) dirty.add(service);
    this.#bgp = bgp;
  }
}
