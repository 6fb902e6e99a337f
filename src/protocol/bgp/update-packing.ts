// Packing routes into UPDATEs of at most 4096 bytes (RFC 4271 section 4.3): announcements with their attributes,
// withdrawals, and the attribute room a message leaves for NLRI.
import { familyOf } from '../../core/ip/ip-address.ts';
import { ipFamilyOf, type AddressFamily } from './address-family.ts';
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH } from './message-header.ts';
import { encodedPrefixLength, type BgpPrefix } from './nlri-prefix.ts';
import { encodeAttribute } from './attribute-encoder.ts';
import {
  attributeCode,
  type BgpCodecContext,
  type MpReachNlriAttribute,
  type PathAttribute,
} from './path-attribute.ts';
import type { UpdateMessage } from './update-message.ts';

export interface Announcement {
  readonly family: AddressFamily;
  /**
   * IPv4 for ipv4-unicast (NEXT_HOP); IPv6 global for ipv6-unicast (MP_REACH_NLRI). An IPv6 address for
   * ipv4-unicast (on a session that negotiated extended next hop, RFC 8950) puts the IPv4 NLRI in MP_REACH_NLRI too.
   */
  readonly nextHop: bigint;
  /** With an IPv6 next hop: the link-local next hop too (RFC 2545 section 3, RFC 8950 section 3). */
  readonly linkLocalNextHop?: bigint;
  /** ORIGIN, AS_PATH and the rest; NEXT_HOP and MP_REACH_NLRI/MP_UNREACH_NLRI are added here (others are dropped). */
  readonly attributes: readonly PathAttribute[];
  readonly prefixes: readonly BgpPrefix[];
}

const UPDATE_FIXED = HEADER_LENGTH + 4;
/** Flags, code and a 2-byte length: the most an attribute header takes. */
const LONG_ATTRIBUTE_HEADER = 4;

/**
 * The fewest UPDATEs of at most 4096 bytes that announce `prefixes` with these attributes (in order). Attributes
 * are sent MP_REACH_NLRI first (RFC 7606 section 5.1), then by type code. Throws RangeError on bugs (prefixes of
 * the other family, attributes too long to leave room for a single prefix).
 */
export function announcementUpdates(announcement: Announcement, context: BgpCodecContext): UpdateMessage[] {
  const { family, prefixes } = announcement;
  const base = announcement.attributes
    .filter((attribute) => !['next-hop', 'mp-reach-nlri', 'mp-unreach-nlri'].includes(attribute.type))
    .toSorted((a, b) => attributeCode(a) - attributeCode(b));
  const ipFamily = ipFamilyOf(family);
  for (const prefix of prefixes)
    if (prefix.family !== ipFamily) throw new RangeError(`${family} announcement holds an IPv${prefix.family} prefix`);
  if (family === 'ipv4-unicast' && familyOf(announcement.nextHop) === 4) {
    if (announcement.linkLocalNextHop !== undefined)
      throw new RangeError('a link-local next hop goes with an IPv6 next hop, not an IPv4 one');
    const nextHop: PathAttribute = { type: 'next-hop', nextHop: announcement.nextHop };
    const attributes = [...base, nextHop].toSorted((a, b) => attributeCode(a) - attributeCode(b));
    const room = MAX_MESSAGE_LENGTH - UPDATE_FIXED - encodedAttributesLength(attributes, context);
    return chunk(prefixes, room).map((nlri) => ({
      type: 'update',
      withdrawnRoutes: [],
      pathAttributes: attributes,
      nlri,
    }));
  }
  const nextHopLength = announcement.linkLocalNextHop === undefined ? 16 : 32;
  const room =
    MAX_MESSAGE_LENGTH -
    UPDATE_FIXED -
    encodedAttributesLength(base, context) -
    LONG_ATTRIBUTE_HEADER -
    5 -
    nextHopLength;
  return chunk(prefixes, room).map((nlri) => {
    const mpReach: MpReachNlriAttribute =
      announcement.linkLocalNextHop === undefined
        ? { type: 'mp-reach-nlri', family, nextHop: announcement.nextHop, nlri }
        : {
            type: 'mp-reach-nlri',
            family,
            nextHop: announcement.nextHop,
            linkLocalNextHop: announcement.linkLocalNextHop,
            nlri,
          };
    return { type: 'update', withdrawnRoutes: [], pathAttributes: [mpReach, ...base], nlri: [] };
  });
}

/**
 * The fewest UPDATEs of at most 4096 bytes that withdraw `prefixes` of one family. IPv4 goes in the Withdrawn Routes
 * field unless `multiprotocol` (a session with extended next hop, where IPv4 is announced in MP_REACH_NLRI, withdraws
 * in MP_UNREACH_NLRI as FRR does); IPv6 always in MP_UNREACH_NLRI.
 */
export function withdrawalUpdates(
  family: AddressFamily,
  prefixes: readonly BgpPrefix[],
  multiprotocol = false,
): UpdateMessage[] {
  const ipFamily = ipFamilyOf(family);
  for (const prefix of prefixes)
    if (prefix.family !== ipFamily) throw new RangeError(`${family} withdrawal holds an IPv${prefix.family} prefix`);
  if (family === 'ipv4-unicast' && !multiprotocol) {
    return chunk(prefixes, MAX_MESSAGE_LENGTH - UPDATE_FIXED).map((withdrawnRoutes) => ({
      type: 'update',
      withdrawnRoutes,
      pathAttributes: [],
      nlri: [],
    }));
  }
  const room = MAX_MESSAGE_LENGTH - UPDATE_FIXED - LONG_ATTRIBUTE_HEADER - 3;
  return chunk(prefixes, room).map((withdrawnRoutes) => ({
    type: 'update',
    withdrawnRoutes: [],
    pathAttributes: [{ type: 'mp-unreach-nlri', family, withdrawnRoutes }],
    nlri: [],
  }));
}

/** The longest encoded prefix (an IPv6 /128: length byte and 16 bytes); chunk needs room for at least one. */
const LONGEST_PREFIX = 17;
/** NEXT_HOP: a 3-byte header and an IPv4 address. */
const NEXT_HOP_ATTRIBUTE = 7;
/** MP_REACH_NLRI without its NLRI: long header, AFI, SAFI, next hop length, reserved, global + link-local next hop. */
const MP_REACH_WITHOUT_NLRI = LONG_ATTRIBUTE_HEADER + 5 + 32;

/**
 * The most bytes the other path attributes of an announcement (all but NEXT_HOP and MP_REACH_NLRI, as
 * pathAttributesLength counts them) may take so that an UPDATE of at most 4096 bytes still carries a prefix of the
 * family. Attributes longer than this cannot be sent at all (announcementUpdates throws): check first.
 */
export function attributeBudget(family: AddressFamily): number {
  // IPv4 may go in MP_REACH_NLRI too (extended next hop, RFC 8950): the larger of the two, so a route that fits
  // fits on every session.
  const nextHop =
    family === 'ipv4-unicast' ? Math.max(NEXT_HOP_ATTRIBUTE, MP_REACH_WITHOUT_NLRI) : MP_REACH_WITHOUT_NLRI;
  return MAX_MESSAGE_LENGTH - UPDATE_FIXED - nextHop - LONGEST_PREFIX;
}

/** The encoded length of path attributes, headers included. */
export function pathAttributesLength(attributes: readonly PathAttribute[], context: BgpCodecContext): number {
  return encodedAttributesLength(attributes, context);
}

function encodedAttributesLength(attributes: readonly PathAttribute[], context: BgpCodecContext): number {
  let length = 0;
  for (const attribute of attributes) length += encodeAttribute(attribute, context).length;
  return length;
}

function chunk(prefixes: readonly BgpPrefix[], room: number): BgpPrefix[][] {
  if (room < LONGEST_PREFIX)
    throw new RangeError(`path attributes leave ${room} bytes for prefixes in a 4096-byte UPDATE`);
  const chunks: BgpPrefix[][] = [];
  let current: BgpPrefix[] = [];
  let used = 0;
  for (const prefix of prefixes) {
    const size = encodedPrefixLength(prefix);
    if (used + size > room) {
      chunks.push(current);
      current = [];
      used = 0;
    }
    current.push(prefix);
    used += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
