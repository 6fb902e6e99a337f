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
  /**
   * `ipv4` is an address of the session's own interface (the router can reach it on the link). Without it, a session
   * that negotiated extended next hop sends IPv4 routes with the IPv6 next hops instead (ADR 0034).
   */
  readonly ipv4OnLink?: boolean;
  /**
   * Global IPv6 next hop for ipv6-unicast (the link-local address when the node has no global one), and for
   * ipv4-unicast on a session that negotiated extended next hop (RFC 8950).
   */
  readonly ipv6?: bigint;
  /** Link-local IPv6 next hop sent with the global one (RFC 2545), on sessions over a link-local address. */
  readonly ipv6LinkLocal?: bigint;
}

/**
 * What of the negotiated session the Adj-RIB-Out needs: the families, how attributes are encoded, and whether IPv4
 * routes go with the IPv6 next hops (extended next hop, RFC 8950).
 */
export type RibSession = Pick<NegotiatedSession, 'families' | 'external' | 'fourOctetAs' | 'codec' | 'extendedNextHop'>;

/** Routes of a family left out for want of a next hop: the family, how many, and why (a sentence). */
export type UnadvertisedHandler = (family: AddressFamily, routes: number, reason: string) => void;

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
  readonly #onUnadvertised: UnadvertisedHandler | undefined;

  constructor(localAs: number, log: Logger, onUnadvertised?: UnadvertisedHandler) {
    this.#localAs = localAs;
    this.#log = log;
    this.#onUnadvertised = onUnadvertised;
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
    for (const [family, prefixes] of withdrawals)
      batches.push(withdrawalUpdates(family, prefixes, this.#viaIpv6(family, negotiated)));
    return batches;
  }

  /**
   * IPv4 routes go with the IPv6 next hops, in MP_REACH_NLRI / MP_UNREACH_NLRI: extended next hop was negotiated and
   * the node has no IPv4 address on the session's interface (with one, the IPv4 next hop works with every router and
   * is what the session sent before; ADR 0034).
   */
  #viaIpv6(family: AddressFamily, negotiated: RibSession): boolean {
    return (
      family === 'ipv4-unicast' &&
      negotiated.extendedNextHop &&
      this.#nextHops.ipv6 !== undefined &&
      !(this.#nextHops.ipv4 !== undefined && this.#nextHops.ipv4OnLink === true)
    );
  }

  #announce(family: AddressFamily, routes: readonly BgpRoute[], negotiated: RibSession): UpdateMessage[] {
    if (routes.length === 0) return [];
    // Extended next hop (RFC 8950): IPv4 routes with the IPv6 next hops, in MP_REACH_NLRI, as IPv6 routes.
    const ipv6NextHops = family === 'ipv6-unicast' || this.#viaIpv6(family, negotiated);
    const nextHop = ipv6NextHops ? this.#nextHops.ipv6 : this.#nextHops.ipv4;
    if (nextHop === undefined) {
      if (!this.#missingNextHop.has(family)) {
        this.#missingNextHop.add(family);
        const reason =
          family === 'ipv4-unicast'
            ? 'the node has no IPv4 address to use as next hop and the peer did not negotiate extended next hop (RFC 8950) for IPv4 over IPv6'
            : 'the node has no IPv6 address to use as next hop';
        this.#log.warn({ family, routes: routes.length, reason }, 'routes of this family are not advertised');
        this.#onUnadvertised?.(family, routes.length, reason);
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
      const linkLocalNextHop = ipv6NextHops ? this.#nextHops.ipv6LinkLocal : undefined;
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
