// Path attributes (RFC 4271 sections 4.3 and 5): flags, type code, length (1 byte, or 2 with the Extended Length
// bit), value. Decoded: ORIGIN, AS_PATH, NEXT_HOP, MULTI_EXIT_DISC, LOCAL_PREF, ATOMIC_AGGREGATE, AGGREGATOR,
// COMMUNITIES (RFC 1997), MP_REACH_NLRI / MP_UNREACH_NLRI for IPv4/IPv6 unicast (RFC 4760, next hops per RFC 2545),
// AS4_PATH / AS4_AGGREGATOR (RFC 6793) and LARGE_COMMUNITIES (RFC 8092). Anything else is kept as raw bytes.
//
// Decoding one attribute says, for a malformed one, what RFC 7606 section 7 wants done with the UPDATE:
// treat-as-withdraw, attribute discard, or (for MP_REACH_NLRI / MP_UNREACH_NLRI, whose NLRI can then not be
// found) session reset with the RFC 4271 section 6.3 NOTIFICATION.
import { IPV4_MAPPED_BASE, familyOf, formatIp } from '../../core/ip/ip-address.ts';
import { err, ok, type Result } from '../../core/result.ts';
import { addressFamilyOf, afiSafiOf, ipFamilyOf, type AddressFamily } from './address-family.ts';
import { SEGMENT_TYPE_CODES, segmentTypeOf, type AsPathSegment } from './as-path.ts';
import type { LargeCommunity } from './community.ts';
import { decodePrefixes, encodedPrefixesLength, writePrefix, type BgpPrefix } from './nlri-prefix.ts';
import { ERROR_CODE, UPDATE_ERROR, notification, type NotificationMessage } from './notification-message.ts';

/** How AS numbers are encoded on a session: 4 octets when both OPENs carried the 4-octet AS capability. */
export interface BgpCodecContext {
  readonly fourOctetAs: boolean;
  /**
   * The peer is external (eBGP). Decoding then discards LOCAL_PREF (RFC 7606 section 7.5) and treats confederation
   * segments in AS_PATH as malformed (RFC 7606 section 7.2). Unset: treated as internal.
   */
  readonly external?: boolean;
}

export type Origin = 'igp' | 'egp' | 'incomplete';

/** Flags that are kept from the wire so that re-encoding gives the same bytes. */
interface KeptFlags {
  /** The Partial bit (RFC 4271 section 4.3): some router on the way did not recognize this optional transitive attribute. */
  readonly partial?: true;
  /** The value was sent with a 2-byte length although it fits in 1 (BIRD does this for MP_REACH_NLRI, FRR for AS_PATH). */
  readonly extendedLength?: true;
}

export interface OriginAttribute extends KeptFlags {
  readonly type: 'origin';
  readonly origin: Origin;
}

export interface AsPathAttribute extends KeptFlags {
  readonly type: 'as-path';
  readonly segments: readonly AsPathSegment[];
}

export interface NextHopAttribute extends KeptFlags {
  readonly type: 'next-hop';
  /** An IPv4 address in the single address space. */
  readonly nextHop: bigint;
}

export interface MultiExitDiscAttribute extends KeptFlags {
  readonly type: 'multi-exit-disc';
  readonly med: number;
}

export interface LocalPrefAttribute extends KeptFlags {
  readonly type: 'local-pref';
  readonly localPref: number;
}

export interface AtomicAggregateAttribute extends KeptFlags {
  readonly type: 'atomic-aggregate';
}

export interface AggregatorAttribute extends KeptFlags {
  readonly type: 'aggregator';
  /** 2-octet on a session without 4-octet AS (AS_TRANS when the real one does not fit), else 4-octet. */
  readonly asn: number;
  /** IPv4 address in the single address space. */
  readonly address: bigint;
}

export interface CommunitiesAttribute extends KeptFlags {
  readonly type: 'communities';
  readonly communities: readonly number[];
}

export interface MpReachNlriAttribute extends KeptFlags {
  readonly type: 'mp-reach-nlri';
  readonly family: AddressFamily;
  /**
   * IPv6: the global next hop (RFC 2545 section 3). IPv4 unicast: an IPv4 address (4 bytes on the wire) or, per
   * RFC 8950, an IPv6 one (16 bytes).
   */
  readonly nextHop: bigint;
  /** RFC 2545 section 3: the link-local next hop after the global one (a 32-byte next hop field). */
  readonly linkLocalNextHop?: bigint;
  readonly nlri: readonly BgpPrefix[];
}

export interface MpUnreachNlriAttribute extends KeptFlags {
  readonly type: 'mp-unreach-nlri';
  readonly family: AddressFamily;
  readonly withdrawnRoutes: readonly BgpPrefix[];
}

export interface As4PathAttribute extends KeptFlags {
  readonly type: 'as4-path';
  readonly segments: readonly AsPathSegment[];
}

export interface As4AggregatorAttribute extends KeptFlags {
  readonly type: 'as4-aggregator';
  readonly asn: number;
  readonly address: bigint;
}

export interface LargeCommunitiesAttribute extends KeptFlags {
  readonly type: 'large-communities';
  readonly largeCommunities: readonly LargeCommunity[];
}

/** An attribute this codec does not take apart (or MP_REACH/MP_UNREACH of another address family), as received. */
export interface OtherAttribute {
  readonly type: 'other';
  readonly code: number;
  /** The high four bits of the flags byte: Optional, Transitive, Partial, Extended Length. */
  readonly flags: number;
  readonly value: Uint8Array;
}

export type PathAttribute =
  | OriginAttribute
  | AsPathAttribute
  | NextHopAttribute
  | MultiExitDiscAttribute
  | LocalPrefAttribute
  | AtomicAggregateAttribute
  | AggregatorAttribute
  | CommunitiesAttribute
  | MpReachNlriAttribute
  | MpUnreachNlriAttribute
  | As4PathAttribute
  | As4AggregatorAttribute
  | LargeCommunitiesAttribute
  | OtherAttribute;

export type KnownAttributeType = Exclude<PathAttribute['type'], 'other'>;

export const FLAG_OPTIONAL = 0x80;
export const FLAG_TRANSITIVE = 0x40;
export const FLAG_PARTIAL = 0x20;
export const FLAG_EXTENDED_LENGTH = 0x10;

export const ATTRIBUTE_CODES: Readonly<Record<KnownAttributeType, number>> = {
  origin: 1,
  'as-path': 2,
  'next-hop': 3,
  'multi-exit-disc': 4,
  'local-pref': 5,
  'atomic-aggregate': 6,
  aggregator: 7,
  communities: 8,
  'mp-reach-nlri': 14,
  'mp-unreach-nlri': 15,
  'as4-path': 17,
  'as4-aggregator': 18,
  'large-communities': 32,
};

/** Optional and Transitive bits each known attribute must carry (RFC 4271 section 5 and each attribute's RFC). */
const EXPECTED_FLAGS: Readonly<Record<KnownAttributeType, number>> = {
  origin: FLAG_TRANSITIVE,
  'as-path': FLAG_TRANSITIVE,
  'next-hop': FLAG_TRANSITIVE,
  'multi-exit-disc': FLAG_OPTIONAL,
  'local-pref': FLAG_TRANSITIVE,
  'atomic-aggregate': FLAG_TRANSITIVE,
  aggregator: FLAG_OPTIONAL | FLAG_TRANSITIVE,
  communities: FLAG_OPTIONAL | FLAG_TRANSITIVE,
  'mp-reach-nlri': FLAG_OPTIONAL,
  'mp-unreach-nlri': FLAG_OPTIONAL,
  'as4-path': FLAG_OPTIONAL | FLAG_TRANSITIVE,
  'as4-aggregator': FLAG_OPTIONAL | FLAG_TRANSITIVE,
  'large-communities': FLAG_OPTIONAL | FLAG_TRANSITIVE,
};

const TYPES_BY_CODE: ReadonlyMap<number, KnownAttributeType> = new Map(
  Object.entries(ATTRIBUTE_CODES).map(([type, code]) => [code, type as KnownAttributeType]),
);

const ATTRIBUTE_NAMES: Readonly<Record<number, string>> = {
  1: 'ORIGIN',
  2: 'AS_PATH',
  3: 'NEXT_HOP',
  4: 'MULTI_EXIT_DISC',
  5: 'LOCAL_PREF',
  6: 'ATOMIC_AGGREGATE',
  7: 'AGGREGATOR',
  8: 'COMMUNITIES',
  9: 'ORIGINATOR_ID',
  10: 'CLUSTER_LIST',
  14: 'MP_REACH_NLRI',
  15: 'MP_UNREACH_NLRI',
  16: 'EXTENDED_COMMUNITIES',
  17: 'AS4_PATH',
  18: 'AS4_AGGREGATOR',
  25: 'IPV6_EXTENDED_COMMUNITIES',
  32: 'LARGE_COMMUNITIES',
};

/** "LOCAL_PREF", or "attribute 99" when unknown. */
export function attributeName(code: number): string {
  return ATTRIBUTE_NAMES[code] ?? `attribute ${code}`;
}

/** The type code of an attribute. */
export function attributeCode(attribute: PathAttribute): number {
  return attribute.type === 'other' ? attribute.code : ATTRIBUTE_CODES[attribute.type];
}

const ORIGIN_CODES: Readonly<Record<Origin, number>> = { igp: 0, egp: 1, incomplete: 2 };
const ORIGINS: readonly Origin[] = ['igp', 'egp', 'incomplete'];
const U32 = 0xffffffffn;

// ---------------------------------------------------------------------------------------------------------------
// Encoding

/** Flags, code, length and value of an attribute. Throws RangeError on values that cannot be encoded (bugs). */
export function encodeAttribute(attribute: PathAttribute, context: BgpCodecContext): Uint8Array {
  const value = encodeAttributeValue(attribute, context);
  if (value.length > 0xffff) throw new RangeError(`${attributeName(attributeCode(attribute))} value of ${value.length} bytes exceeds 65535`);
  let flags: number;
  if (attribute.type === 'other') {
    flags = attribute.flags & 0xf0;
  } else {
    flags = EXPECTED_FLAGS[attribute.type];
    if (attribute.partial) flags |= FLAG_PARTIAL;
    if (attribute.extendedLength) flags |= FLAG_EXTENDED_LENGTH;
  }
  if (value.length > 255) flags |= FLAG_EXTENDED_LENGTH;
  const extended = (flags & FLAG_EXTENDED_LENGTH) !== 0;
  const header = extended ? 4 : 3;
  const bytes = new Uint8Array(header + value.length);
  bytes[0] = flags;
  bytes[1] = attributeCode(attribute);
  if (extended) {
    bytes[2] = value.length >>> 8;
    bytes[3] = value.length & 0xff;
  } else {
    bytes[2] = value.length;
  }
  bytes.set(value, header);
  return bytes;
}

function encodeAttributeValue(attribute: PathAttribute, context: BgpCodecContext): Uint8Array {
  switch (attribute.type) {
    case 'origin':
      return Uint8Array.of(ORIGIN_CODES[attribute.origin]);
    case 'as-path':
      return encodeSegments(attribute.segments, context.fourOctetAs, 'AS_PATH');
    case 'as4-path':
      return encodeSegments(attribute.segments, true, 'AS4_PATH');
    case 'next-hop':
      return uint32Bytes(ipv4Value(attribute.nextHop, 'NEXT_HOP'));
    case 'multi-exit-disc':
      return uint32Bytes(checkUint32(attribute.med, 'MULTI_EXIT_DISC'));
    case 'local-pref':
      return uint32Bytes(checkUint32(attribute.localPref, 'LOCAL_PREF'));
    case 'atomic-aggregate':
      return new Uint8Array(0);
    case 'aggregator':
      return encodeAggregator(attribute.asn, attribute.address, context.fourOctetAs, 'AGGREGATOR');
    case 'as4-aggregator':
      return encodeAggregator(attribute.asn, attribute.address, true, 'AS4_AGGREGATOR');
    case 'communities': {
      const bytes = new Uint8Array(4 * attribute.communities.length);
      const view = new DataView(bytes.buffer);
      attribute.communities.forEach((community, index) => {
        view.setUint32(index * 4, checkUint32(community, 'COMMUNITIES'));
      });
      return bytes;
    }
    case 'large-communities': {
      const bytes = new Uint8Array(12 * attribute.largeCommunities.length);
      const view = new DataView(bytes.buffer);
      attribute.largeCommunities.forEach((community, index) => {
        view.setUint32(index * 12, checkUint32(community.globalAdmin, 'LARGE_COMMUNITIES'));
        view.setUint32(index * 12 + 4, checkUint32(community.localData1, 'LARGE_COMMUNITIES'));
        view.setUint32(index * 12 + 8, checkUint32(community.localData2, 'LARGE_COMMUNITIES'));
      });
      return bytes;
    }
    case 'mp-reach-nlri':
      return encodeMpReach(attribute);
    case 'mp-unreach-nlri': {
      const { afi, safi } = afiSafiOf(attribute.family);
      checkFamily(attribute.withdrawnRoutes, attribute.family, 'MP_UNREACH_NLRI');
      const bytes = new Uint8Array(3 + encodedPrefixesLength(attribute.withdrawnRoutes));
      bytes[0] = afi >>> 8;
      bytes[1] = afi & 0xff;
      bytes[2] = safi;
      let offset = 3;
      for (const prefix of attribute.withdrawnRoutes) offset = writePrefix(bytes, offset, prefix);
      return bytes;
    }
    case 'other':
      return attribute.value;
  }
}

function encodeMpReach(attribute: MpReachNlriAttribute): Uint8Array {
  const { afi, safi } = afiSafiOf(attribute.family);
  checkFamily(attribute.nlri, attribute.family, 'MP_REACH_NLRI');
  const ipv4NextHop = attribute.family === 'ipv4-unicast' && familyOf(attribute.nextHop) === 4 && attribute.linkLocalNextHop === undefined;
  const nextHopLength = ipv4NextHop ? 4 : attribute.linkLocalNextHop === undefined ? 16 : 32;
  const bytes = new Uint8Array(5 + nextHopLength + encodedPrefixesLength(attribute.nlri));
  const view = new DataView(bytes.buffer);
  view.setUint16(0, afi);
  view.setUint8(2, safi);
  view.setUint8(3, nextHopLength);
  if (ipv4NextHop) {
    view.setUint32(4, ipv4Value(attribute.nextHop, 'MP_REACH_NLRI next hop'));
  } else {
    writeIpv6(view, 4, attribute.nextHop);
    if (attribute.linkLocalNextHop !== undefined) writeIpv6(view, 20, attribute.linkLocalNextHop);
  }
  let offset = 5 + nextHopLength; // after the reserved byte (0)
  for (const prefix of attribute.nlri) offset = writePrefix(bytes, offset, prefix);
  return bytes;
}

function checkFamily(prefixes: readonly BgpPrefix[], family: AddressFamily, field: string): void {
  const ipFamily = ipFamilyOf(family);
  for (const prefix of prefixes) {
    if (prefix.family !== ipFamily) throw new RangeError(`${field} for ${family} holds an IPv${prefix.family} prefix`);
  }
}

function encodeSegments(segments: readonly AsPathSegment[], fourOctet: boolean, field: string): Uint8Array {
  const size = fourOctet ? 4 : 2;
  let length = 0;
  for (const segment of segments) length += 2 + size * segment.asns.length;
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  let offset = 0;
  for (const segment of segments) {
    if (segment.asns.length < 1 || segment.asns.length > 255) {
      throw new RangeError(`${field} segment of ${segment.asns.length} AS numbers; a segment holds 1-255`);
    }
    view.setUint8(offset, SEGMENT_TYPE_CODES[segment.type]);
    view.setUint8(offset + 1, segment.asns.length);
    offset += 2;
    for (const asn of segment.asns) {
      if (fourOctet) {
        view.setUint32(offset, checkUint32(asn, field));
      } else {
        if (!Number.isInteger(asn) || asn < 0 || asn > 0xffff) {
          throw new RangeError(`${field} AS ${asn} does not fit 2 octets; convert the path with twoOctetAsPath first`);
        }
        view.setUint16(offset, asn);
      }
      offset += size;
    }
  }
  return bytes;
}

function encodeAggregator(asn: number, address: bigint, fourOctet: boolean, field: string): Uint8Array {
  const bytes = new Uint8Array(fourOctet ? 8 : 6);
  const view = new DataView(bytes.buffer);
  if (fourOctet) {
    view.setUint32(0, checkUint32(asn, field));
  } else {
    if (!Number.isInteger(asn) || asn < 0 || asn > 0xffff) throw new RangeError(`${field} AS ${asn} does not fit 2 octets`);
    view.setUint16(0, asn);
  }
  view.setUint32(fourOctet ? 4 : 2, ipv4Value(address, field));
  return bytes;
}

function uint32Bytes(value: number): Uint8Array {
  return Uint8Array.of(value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
}

function checkUint32(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`${field} value ${value} is not a 32-bit unsigned integer`);
  return value;
}

function ipv4Value(address: bigint, field: string): number {
  if (familyOf(address) !== 4) throw new RangeError(`${field} ${String(address)} is not an IPv4 address`);
  return Number(address - IPV4_MAPPED_BASE);
}

function writeIpv6(view: DataView, offset: number, address: bigint): void {
  if (address < 0n || address > (1n << 128n) - 1n) throw new RangeError(`next hop ${String(address)} is not a 128-bit address`);
  for (let word = 0; word < 4; word++) view.setUint32(offset + word * 4, Number((address >> BigInt(96 - word * 32)) & U32));
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

/** RFC 7606 section 2: what a malformed attribute does to its UPDATE, weakest first. */
export type ErrorHandling = 'attribute-discard' | 'treat-as-withdraw' | 'session-reset';

export type AttributeDecodeResult =
  | { readonly ok: true; readonly attribute: PathAttribute }
  | { readonly ok: false; readonly handling: 'treat-as-withdraw' | 'attribute-discard'; readonly reason: string }
  | { readonly ok: false; readonly handling: 'session-reset'; readonly reason: string; readonly notification: NotificationMessage };

/** The RFC 7606 section 7 approach for a malformed attribute of this code (known codes only). */
export function errorHandlingFor(code: number): ErrorHandling {
  switch (code) {
    case 6: // ATOMIC_AGGREGATE, section 7.6
    case 7: // AGGREGATOR, section 7.7
    case 17: // AS4_PATH, RFC 6793 section 6 and RFC 7606 section 7.2
    case 18: // AS4_AGGREGATOR, RFC 6793 section 6
      return 'attribute-discard';
    case 14: // MP_REACH_NLRI, section 7.11
    case 15: // MP_UNREACH_NLRI, section 7.12
      return 'session-reset';
    default:
      return 'treat-as-withdraw';
  }
}

/**
 * Decodes one attribute. `flags` is the wire flags byte, `value` the value bytes, `raw` the whole attribute (the
 * data of a NOTIFICATION about it). Never throws.
 */
export function decodeAttribute(flags: number, code: number, value: Uint8Array, raw: Uint8Array, context: BgpCodecContext): AttributeDecodeResult {
  const type = TYPES_BY_CODE.get(code);
  const name = attributeName(code);
  const keptFlags: { partial?: true; extendedLength?: true } = {};
  if (flags & FLAG_PARTIAL) keptFlags.partial = true;
  if (flags & FLAG_EXTENDED_LENGTH && value.length <= 255) keptFlags.extendedLength = true;

  if (type === undefined) {
    if ((flags & FLAG_OPTIONAL) === 0) {
      return {
        ok: false,
        handling: 'session-reset',
        reason: `${name} is well-known (Optional bit clear) but not recognized`,
        notification: notification(ERROR_CODE.updateMessage, UPDATE_ERROR.unrecognizedWellKnownAttribute, raw.slice()),
      };
    }
    if (!lengthAcceptable(code, value.length)) return malformed(code, `${name} of length ${value.length} is malformed`, raw);
    return { ok: true, attribute: { type: 'other', code, flags: flags & 0xf0, value: value.slice() } };
  }

  if ((flags & (FLAG_OPTIONAL | FLAG_TRANSITIVE)) !== EXPECTED_FLAGS[type]) {
    return malformed(
      code,
      `${name} flags 0x${flags.toString(16).padStart(2, '0')} conflict with its Optional/Transitive bits (RFC 7606 section 3 (c))`,
      raw,
      UPDATE_ERROR.attributeFlagsError,
    );
  }
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const attribute = (fields: object): AttributeDecodeResult => ({ ok: true, attribute: { ...fields, ...keptFlags } as PathAttribute });

  switch (type) {
    case 'origin': {
      if (value.length !== 1) return malformed(code, `ORIGIN of length ${value.length}; it is 1`, raw, UPDATE_ERROR.attributeLengthError);
      const origin = ORIGINS[view.getUint8(0)];
      if (origin === undefined) return malformed(code, `ORIGIN value ${view.getUint8(0)} is undefined`, raw, UPDATE_ERROR.invalidOriginAttribute);
      return attribute({ type, origin });
    }
    case 'as-path':
    case 'as4-path': {
      const segments = decodeSegments(value, type === 'as4-path' || context.fourOctetAs);
      if (!segments.ok) return malformed(code, `${name}: ${segments.error}`, raw, UPDATE_ERROR.malformedAsPath);
      const confederation = segments.value.some((s) => s.type === 'confed-sequence' || s.type === 'confed-set');
      if (confederation && type === 'as4-path') {
        return malformed(code, 'AS4_PATH carries confederation segments (RFC 6793 section 3)', raw, UPDATE_ERROR.optionalAttributeError);
      }
      if (confederation && context.external === true) {
        return malformed(code, 'AS_PATH from an external peer carries confederation segments', raw, UPDATE_ERROR.malformedAsPath);
      }
      return attribute({ type, segments: segments.value });
    }
    case 'next-hop': {
      if (value.length !== 4) return malformed(code, `NEXT_HOP of length ${value.length}; it is 4`, raw, UPDATE_ERROR.attributeLengthError);
      const nextHop = view.getUint32(0);
      const first = nextHop >>> 24;
      if (nextHop === 0 || first === 127 || first >= 224) {
        return malformed(code, `NEXT_HOP ${formatIp(IPV4_MAPPED_BASE + BigInt(nextHop))} is not a unicast host address`, raw, UPDATE_ERROR.invalidNextHopAttribute);
      }
      return attribute({ type, nextHop: IPV4_MAPPED_BASE + BigInt(nextHop) });
    }
    case 'multi-exit-disc':
      if (value.length !== 4) return malformed(code, `MULTI_EXIT_DISC of length ${value.length}; it is 4`, raw, UPDATE_ERROR.attributeLengthError);
      return attribute({ type, med: view.getUint32(0) });
    case 'local-pref':
      if (value.length !== 4) return malformed(code, `LOCAL_PREF of length ${value.length}; it is 4`, raw, UPDATE_ERROR.attributeLengthError);
      return attribute({ type, localPref: view.getUint32(0) });
    case 'atomic-aggregate':
      if (value.length !== 0) return malformed(code, `ATOMIC_AGGREGATE of length ${value.length}; it is 0`, raw, UPDATE_ERROR.attributeLengthError);
      return attribute({ type });
    case 'aggregator':
    case 'as4-aggregator': {
      const fourOctet = type === 'as4-aggregator' || context.fourOctetAs;
      const expected = fourOctet ? 8 : 6;
      if (value.length !== expected) {
        return malformed(code, `${name} of length ${value.length}; it is ${expected} on this session`, raw, UPDATE_ERROR.attributeLengthError);
      }
      const asn = fourOctet ? view.getUint32(0) : view.getUint16(0);
      return attribute({ type, asn, address: IPV4_MAPPED_BASE + BigInt(view.getUint32(fourOctet ? 4 : 2)) });
    }
    case 'communities': {
      if (value.length === 0 || value.length % 4 !== 0) {
        return malformed(code, `COMMUNITIES of length ${value.length}; it is a non-zero multiple of 4`, raw, UPDATE_ERROR.optionalAttributeError);
      }
      const communities: number[] = [];
      for (let offset = 0; offset < value.length; offset += 4) communities.push(view.getUint32(offset));
      return attribute({ type, communities });
    }
    case 'large-communities': {
      if (value.length === 0 || value.length % 12 !== 0) {
        return malformed(code, `LARGE_COMMUNITIES of length ${value.length}; it is a non-zero multiple of 12`, raw, UPDATE_ERROR.optionalAttributeError);
      }
      const largeCommunities: LargeCommunity[] = [];
      for (let offset = 0; offset < value.length; offset += 12) {
        largeCommunities.push({ globalAdmin: view.getUint32(offset), localData1: view.getUint32(offset + 4), localData2: view.getUint32(offset + 8) });
      }
      return attribute({ type, largeCommunities });
    }
    case 'mp-reach-nlri':
      return decodeMpReach(flags, value, view, raw, keptFlags);
    case 'mp-unreach-nlri': {
      if (value.length < 3) return malformed(code, `MP_UNREACH_NLRI of length ${value.length}; AFI and SAFI alone take 3`, raw, UPDATE_ERROR.optionalAttributeError);
      const family = addressFamilyOf(view.getUint16(0), view.getUint8(2));
      if (family === undefined) return { ok: true, attribute: { type: 'other', code, flags: flags & 0xf0, value: value.slice() } };
      const withdrawnRoutes = decodePrefixes(value, 3, value.length, ipFamilyOf(family));
      if (!withdrawnRoutes.ok) return malformed(code, `MP_UNREACH_NLRI ${family} withdrawn routes: ${withdrawnRoutes.error}`, raw, UPDATE_ERROR.optionalAttributeError);
      return attribute({ type, family, withdrawnRoutes: withdrawnRoutes.value });
    }
  }
}

function decodeMpReach(
  flags: number,
  value: Uint8Array,
  view: DataView,
  raw: Uint8Array,
  keptFlags: { partial?: true; extendedLength?: true },
): AttributeDecodeResult {
  const code = ATTRIBUTE_CODES['mp-reach-nlri'];
  if (value.length < 5) return malformed(code, `MP_REACH_NLRI of length ${value.length}; it needs at least 5`, raw, UPDATE_ERROR.optionalAttributeError);
  const family = addressFamilyOf(view.getUint16(0), view.getUint8(2));
  if (family === undefined) return { ok: true, attribute: { type: 'other', code, flags: flags & 0xf0, value: value.slice() } };
  const nextHopLength = view.getUint8(3);
  const allowed = family === 'ipv4-unicast' ? [4, 16, 32] : [16, 32];
  if (!allowed.includes(nextHopLength)) {
    return malformed(code, `MP_REACH_NLRI ${family} next hop of length ${nextHopLength}; it is ${allowed.join(', ')}`, raw, UPDATE_ERROR.optionalAttributeError);
  }
  if (5 + nextHopLength > value.length) {
    return malformed(code, `MP_REACH_NLRI next hop of length ${nextHopLength} runs past the attribute`, raw, UPDATE_ERROR.optionalAttributeError);
  }
  const nextHop = nextHopLength === 4 ? IPV4_MAPPED_BASE + BigInt(view.getUint32(4)) : readIpv6(view, 4);
  const nlri = decodePrefixes(value, 5 + nextHopLength, value.length, ipFamilyOf(family));
  if (!nlri.ok) return malformed(code, `MP_REACH_NLRI ${family} NLRI: ${nlri.error}`, raw, UPDATE_ERROR.optionalAttributeError);
  const attribute: MpReachNlriAttribute =
    nextHopLength === 32
      ? { type: 'mp-reach-nlri', family, nextHop, linkLocalNextHop: readIpv6(view, 20), nlri: nlri.value, ...keptFlags }
      : { type: 'mp-reach-nlri', family, nextHop, nlri: nlri.value, ...keptFlags };
  return { ok: true, attribute };
}

function readIpv6(view: DataView, offset: number): bigint {
  return (
    (BigInt(view.getUint32(offset)) << 96n) |
    (BigInt(view.getUint32(offset + 4)) << 64n) |
    (BigInt(view.getUint32(offset + 8)) << 32n) |
    BigInt(view.getUint32(offset + 12))
  );
}

/** Length rules RFC 7606 gives for attributes kept raw: ORIGINATOR_ID (7.9), CLUSTER_LIST (7.10), extended communities (7.14, 7.15). */
function lengthAcceptable(code: number, length: number): boolean {
  switch (code) {
    case 9:
      return length === 4;
    case 10:
      return length > 0 && length % 4 === 0;
    case 16:
      return length > 0 && length % 8 === 0;
    case 25:
      return length > 0 && length % 20 === 0;
    default:
      return true;
  }
}

function malformed(code: number, reason: string, raw: Uint8Array, subcode: number = UPDATE_ERROR.optionalAttributeError): AttributeDecodeResult {
  const handling = errorHandlingFor(code);
  if (handling === 'session-reset') {
    return { ok: false, handling, reason, notification: notification(ERROR_CODE.updateMessage, subcode, raw.slice()) };
  }
  return { ok: false, handling, reason };
}

/** AS_PATH / AS4_PATH segments; the error is why the path is malformed per RFC 7606 section 7.2. */
export function decodeSegments(value: Uint8Array, fourOctet: boolean): Result<AsPathSegment[]> {
  const size = fourOctet ? 4 : 2;
  const segments: AsPathSegment[] = [];
  let offset = 0;
  while (offset < value.length) {
    if (offset + 2 > value.length) return err(`${value.length - offset} byte left over, too few for a segment header`);
    const code = value[offset] ?? 0;
    const count = value[offset + 1] ?? 0;
    const type = segmentTypeOf(code);
    if (type === undefined) return err(`segment type ${code} is unknown`);
    if (count === 0) return err('a segment has length 0');
    if (offset + 2 + count * size > value.length) return err(`a segment of ${count} AS numbers runs past the attribute`);
    const asns: number[] = new Array<number>(count);
    let at = offset + 2;
    for (let index = 0; index < count; index++) {
      asns[index] = fourOctet
        ? (((value[at] ?? 0) << 24) >>> 0) + ((value[at + 1] ?? 0) << 16) + ((value[at + 2] ?? 0) << 8) + (value[at + 3] ?? 0)
        : ((value[at] ?? 0) << 8) + (value[at + 1] ?? 0);
      at += size;
    }
    segments.push({ type, asns });
    offset = at;
  }
  return ok(segments);
}
