// The Adj-RIB-Out of one BGP session (RFC 4271 section 3.2), apart from the session's FSM and socket as GoBGP's
// table/adj.go is apart from fsm.go: what the speaker wants advertised (setDesired) against what the peer has
// been sent on the current session, so that a change yields only the difference (withdrawals and announcements
// packed per family and attribute set). It builds UPDATEs; the session sends them.
import { formatIp } from '../../core/ip/ip-address.ts';
import type { Logger } from '../../platform/logger.ts';
import { ipFamilyOf, type AddressFamily } from '../../protocol/bgp/address-family.ts';
import type { BgpPrefix } from '../../protocol/bgp/nlri-prefix.ts';
import type { NegotiatedSession } from '../../protocol/bgp/session-negotiation.ts';
import type { UpdateMessage } from '../../protocol/bgp/update-message.ts';
import { announcementUpdates, withdrawalUpdates } from '../../protocol/bgp/update-packing.ts';
import { attributesKey, sessionAttributes, type RouteAttributes } from './route-attributes.ts';

export interface BgpRoute {
  readonly prefix: BgpPrefix;
  readonly attributes: RouteAttributes;
}

export interface NextHops {
  /** IPv4 next hop for ipv4-unicast. */
  readonly ipv4?: bigint;
  /** Global IPv6 next hop for ipv6-unicast. */
  readonly ipv6?: bigint;
  /** Link-local IPv6 next hop sent with the global one (RFC 2545), on sessions over a link-local address. */
  readonly ipv6LinkLocal?: bigint;
}

/** What of the negotiated session the Adj-RIB-Out needs: the families, and how attributes are encoded. */
export type RibSession = Pick<NegotiatedSession, 'families' | 'external' | 'fourOctetAs' | 'codec'>;

interface AdvertisedRoute {
  readonly route: BgpRoute;
  readonly key: string;
}

export class AdjRibOut {
  readonly #localAs: number;
  readonly #log: Logger;
  /** What the speaker wants advertised, by prefixKey. */
  #desired = new Map<string, BgpRoute>();
  /** What the peer has been sent on the current session, by prefixKey. */
  readonly #advertised = new Map<string, AdvertisedRoute>();
  #nextHops: NextHops = {};
  readonly #missingNextHop = new Set<AddressFamily>();

  constructor(localAs: number, log: Logger) {
    this.#localAs = localAs;
    this.#log = log;
  }

  /** Prefixes the peer has been sent on the current session. */
  get advertisedCount(): number {
    return this.#advertised.size;
  }

  /** Replaces what the speaker wants advertised; the next difference() says what to send. */
  setDesired(routes: readonly BgpRoute[]): void {
    const desired = new Map<string, BgpRoute>();
    for (const route of routes) desired.set(prefixKey(route.prefix), route);
    this.#desired = desired;
  }

  /** The session went down: the peer has nothing of ours any more. */
  sessionDown(): void {
    this.#advertised.clear();
  }

  /** A new session is Established with these next hops: nothing sent yet. */
  sessionEstablished(nextHops: NextHops): void {
    this.#advertised.clear();
    this.#nextHops = nextHops;
    this.#missingNextHop.clear();
  }

  /** UPDATEs announcing every desired route of a family (initial table, route refresh). */
  announceAll(family: AddressFamily, negotiated: RibSession): UpdateMessage[] {
    const routes = [...this.#desired.values()].filter((route) => route.prefix.family === ipFamilyOf(family));
    return this.#announce(family, routes, negotiated);
  }

  /** The UPDATEs that bring the peer from what it was sent to what is desired, one batch per write, in order. */
  difference(negotiated: RibSession): UpdateMessage[][] {
    const withdrawals = new Map<AddressFamily, BgpPrefix[]>();
    const announcements = new Map<AddressFamily, BgpRoute[]>();
    for (const [text, advertised] of this.#advertised) {
      if (this.#desired.has(text)) continue;
      const family = familyOfPrefix(advertised.route.prefix);
      let list = withdrawals.get(family);
      if (!list) withdrawals.set(family, (list = []));
      list.push(advertised.route.prefix);
      this.#advertised.delete(text);
    }
    for (const [text, route] of this.#desired) {
      const family = familyOfPrefix(route.prefix);
      if (!negotiated.families.includes(family)) continue;
      if (this.#advertised.get(text)?.key === attributesKey(route.attributes)) continue;
      let list = announcements.get(family);
      if (!list) announcements.set(family, (list = []));
      list.push(route);
    }
    const batches: UpdateMessage[][] = [];
    for (const [family, routes] of announcements) batches.push(this.#announce(family, routes, negotiated));
    for (const [family, prefixes] of withdrawals) batches.push(withdrawalUpdates(family, prefixes));
    return batches;
  }

  #announce(family: AddressFamily, routes: readonly BgpRoute[], negotiated: RibSession): UpdateMessage[] {
    if (routes.length === 0) return [];
    const nextHop = family === 'ipv4-unicast' ? this.#nextHops.ipv4 : this.#nextHops.ipv6;
    if (nextHop === undefined) {
      if (!this.#missingNextHop.has(family)) {
        this.#missingNextHop.add(family);
        this.#log.warn(
          { family, routes: routes.length },
          'no next hop of this family on the node: its routes are not advertised',
        );
      }
      return [];
    }
    const groups = new Map<string, BgpRoute[]>();
    for (const route of routes) {
      const key = attributesKey(route.attributes);
      let group = groups.get(key);
      if (!group) groups.set(key, (group = []));
      group.push(route);
    }
    const updates: UpdateMessage[] = [];
    for (const [key, group] of groups) {
      const attributes = sessionAttributes(
        group[0]?.attributes ?? { communities: [], largeCommunities: [] },
        this.#localAs,
        negotiated,
      );
      const linkLocalNextHop = family === 'ipv6-unicast' ? this.#nextHops.ipv6LinkLocal : undefined;
      const prefixes = group.map((route) => route.prefix);
      try {
        updates.push(
          ...announcementUpdates(
            { family, nextHop, attributes, prefixes, ...(linkLocalNextHop === undefined ? {} : { linkLocalNextHop }) },
            negotiated.codec,
          ),
        );
      } catch (error) {
        // Attributes too long for any UPDATE (the plan leaves such routes out; this is the last guard): these routes
        // are not sent, the session and the other groups go on.
        this.#log.error(
          { family, prefixes: group.length, err: String(error) },
          'routes not advertised: their UPDATE cannot be encoded',
        );
        continue;
      }
      for (const route of group) this.#advertised.set(prefixKey(route.prefix), { route, key });
    }
    this.#log.debug({ family, prefixes: routes.length, nextHop: formatIp(nextHop) }, 'advertised');
    return updates;
  }
}

/** A map key for a prefix (cheaper than its text form). */
function prefixKey(prefix: BgpPrefix): string {
  return `${prefix.address}/${prefix.length}`;
}

function familyOfPrefix(prefix: BgpPrefix): AddressFamily {
  return prefix.family === 4 ? 'ipv4-unicast' : 'ipv6-unicast';
}
