// Path attributes on the wire (RFC 4271 section 4.3): flags, type code, length (1 byte, or 2 with the Extended
// Length bit), value. Encoders throw RangeError on values that cannot be encoded (bugs of the caller).
import { familyOf } from '../../core/ip/ip-address.ts';
import { ByteWriter } from '../wire/byte-writer.ts';
import { afiSafiOf, ipFamilyOf, type AddressFamily } from './address-family.ts';
import { SEGMENT_TYPE_CODES, type AsPathSegment } from './as-path.ts';
import { FLAG_EXTENDED_LENGTH, FLAG_PARTIAL, KNOWN_ATTRIBUTES, attributeName } from './attribute-type.ts';
import { encodePrefixes, encodedPrefixesLength, type BgpPrefix } from './nlri-prefix.ts';
import {
  attributeCode,
  type BgpCodecContext,
  type MpReachNlriAttribute,
  type Origin,
  type PathAttribute,
} from './path-attribute.ts';

const ORIGIN_CODES: Readonly<Record<Origin, number>> = { igp: 0, egp: 1, incomplete: 2 };
/** Flags a value longer than this must be sent with a 2-byte length (the Extended Length bit). */
const ONE_BYTE_LENGTH = 0xff;
/** AFI, SAFI, next hop length, two IPv6 next hops (global and link-local), reserved byte. */
const MP_REACH_HEADER_MAXIMUM = 2 + 1 + 1 + 32 + 1;

/** Flags, code, length and value of an attribute. Throws RangeError on values that cannot be encoded (bugs). */
export function encodeAttribute(attribute: PathAttribute, context: BgpCodecContext): Uint8Array {
  const value = encodeAttributeValue(attribute, context);
  if (value.length > 0xffff)
    throw new RangeError(`${attributeName(attributeCode(attribute))} value of ${value.length} bytes exceeds 65535`);
  let flags: number;
  if (attribute.type === 'other') {
    flags = attribute.flags & 0xf0;
  } else {
    flags = KNOWN_ATTRIBUTES[attribute.type].flags;
    if (attribute.partial) flags |= FLAG_PARTIAL;
    if (attribute.extendedLength) flags |= FLAG_EXTENDED_LENGTH;
  }
  if (value.length > ONE_BYTE_LENGTH) flags |= FLAG_EXTENDED_LENGTH;
  const writer = new ByteWriter(value.length + 4).u8(flags).u8(attributeCode(attribute)).fork().bytes(value);
  return writer.join((flags & FLAG_EXTENDED_LENGTH) !== 0 ? 2 : 1, 'attribute').finish();
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
      return new ByteWriter().ipv4(attribute.nextHop, 'NEXT_HOP').finish();
    case 'multi-exit-disc':
      return new ByteWriter().u32(checkUint32(attribute.med, 'MULTI_EXIT_DISC')).finish();
    case 'local-pref':
      return new ByteWriter().u32(checkUint32(attribute.localPref, 'LOCAL_PREF')).finish();
    case 'atomic-aggregate':
      return new Uint8Array(0);
    case 'aggregator':
      return encodeAggregator(attribute.asn, attribute.address, context.fourOctetAs, 'AGGREGATOR');
    case 'as4-aggregator':
      return encodeAggregator(attribute.asn, attribute.address, true, 'AS4_AGGREGATOR');
    case 'communities': {
      const writer = new ByteWriter();
      for (const community of attribute.communities) writer.u32(checkUint32(community, 'COMMUNITIES'));
      return writer.finish();
    }
    case 'large-communities': {
      const writer = new ByteWriter();
      for (const community of attribute.largeCommunities) {
        writer.u32(checkUint32(community.globalAdmin, 'LARGE_COMMUNITIES'));
        writer.u32(checkUint32(community.localData1, 'LARGE_COMMUNITIES'));
        writer.u32(checkUint32(community.localData2, 'LARGE_COMMUNITIES'));
      }
      return writer.finish();
    }
    case 'mp-reach-nlri':
      return encodeMpReach(attribute);
    case 'mp-unreach-nlri': {
      const { afi, safi } = afiSafiOf(attribute.family);
      checkFamily(attribute.withdrawnRoutes, attribute.family, 'MP_UNREACH_NLRI');
      return new ByteWriter().u16(afi).u8(safi).bytes(encodePrefixes(attribute.withdrawnRoutes)).finish();
    }
    case 'other':
      return attribute.value;
  }
}

function encodeMpReach(attribute: MpReachNlriAttribute): Uint8Array {
  const { afi, safi } = afiSafiOf(attribute.family);
  checkFamily(attribute.nlri, attribute.family, 'MP_REACH_NLRI');
  const ipv4NextHop =
    attribute.family === 'ipv4-unicast' &&
    familyOf(attribute.nextHop) === 4 &&
    attribute.linkLocalNextHop === undefined;
  const writer = new ByteWriter(MP_REACH_HEADER_MAXIMUM + encodedPrefixesLength(attribute.nlri))
    .u16(afi)
    .u8(safi)
    .fork();
  if (ipv4NextHop) {
    writer.ipv4(attribute.nextHop, 'MP_REACH_NLRI next hop');
  } else {
    writer.ipv6(attribute.nextHop, 'next hop');
    if (attribute.linkLocalNextHop !== undefined) writer.ipv6(attribute.linkLocalNextHop, 'next hop');
  }
  return writer
    .join(1, 'MP_REACH_NLRI next hop')
    .u8(0) // reserved
    .bytes(encodePrefixes(attribute.nlri))
    .finish();
}

function checkFamily(prefixes: readonly BgpPrefix[], family: AddressFamily, field: string): void {
  const ipFamily = ipFamilyOf(family);
  for (const prefix of prefixes) {
    if (prefix.family !== ipFamily) throw new RangeError(`${field} for ${family} holds an IPv${prefix.family} prefix`);
  }
}

function encodeSegments(segments: readonly AsPathSegment[], fourOctet: boolean, field: string): Uint8Array {
  const writer = new ByteWriter();
  for (const segment of segments) {
    if (segment.asns.length < 1 || segment.asns.length > 255) {
      throw new RangeError(`${field} segment of ${segment.asns.length} AS numbers; a segment holds 1-255`);
    }
    writer.u8(SEGMENT_TYPE_CODES[segment.type]).u8(segment.asns.length);
    for (const asn of segment.asns) {
      if (fourOctet) {
        writer.u32(checkUint32(asn, field));
      } else {
        if (!Number.isInteger(asn) || asn < 0 || asn > 0xffff) {
          throw new RangeError(`${field} AS ${asn} does not fit 2 octets; convert the path with twoOctetAsPath first`);
        }
        writer.u16(asn);
      }
    }
  }
  return writer.finish();
}

function encodeAggregator(asn: number, address: bigint, fourOctet: boolean, field: string): Uint8Array {
  const writer = new ByteWriter();
  if (fourOctet) {
    writer.u32(checkUint32(asn, field));
  } else {
    if (!Number.isInteger(asn) || asn < 0 || asn > 0xffff)
      throw new RangeError(`${field} AS ${asn} does not fit 2 octets`);
    writer.u16(asn);
  }
  return writer.ipv4(address, field).finish();
}

function checkUint32(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw new RangeError(`${field} value ${value} is not a 32-bit unsigned integer`);
  return value;
}
