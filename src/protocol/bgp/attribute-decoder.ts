// Decoding one path attribute (RFC 4271 sections 4.3 and 5) and, for a malformed one, what RFC 7606 section 7
// wants done with the UPDATE: treat-as-withdraw, attribute discard, or (for MP_REACH_NLRI / MP_UNREACH_NLRI, whose
// NLRI can then not be found) session reset with the RFC 4271 section 6.3 NOTIFICATION. The policy per type code is
// the table in attribute-type.ts. decodeAttribute is one switch over the known types (each case a length check and
// the fields, ~180 lines): kept whole so that each attribute's rules read in one place, as GoBGP's DecodeFromBytes.
import { formatIp } from '../../core/ip/ip-address.ts';
import { err, ok, type Result } from '../../core/result.ts';
import { ByteReader } from '../wire/byte-reader.ts';
import { addressFamilyOf, ipFamilyOf } from './address-family.ts';
import { segmentTypeOf, type AsPathSegment } from './as-path.ts';
import {
  ATTRIBUTE_CODES,
  FLAG_EXTENDED_LENGTH,
  FLAG_OPTIONAL,
  FLAG_PARTIAL,
  FLAG_TRANSITIVE,
  KNOWN_ATTRIBUTES,
  attributeName,
  errorHandlingFor,
  knownTypeOf,
  rawLengthAcceptable,
} from './attribute-type.ts';
import type { LargeCommunity } from './community.ts';
import { decodePrefixes } from './nlri-prefix.ts';
import { ERROR_CODE, UPDATE_ERROR, notification, type NotificationMessage } from './notification-message.ts';
import type { BgpCodecContext, MpReachNlriAttribute, Origin, PathAttribute } from './path-attribute.ts';

const ORIGINS: readonly Origin[] = ['igp', 'egp', 'incomplete'];
/** RFC 4271 section 6.3: a NEXT_HOP in 127/8 or in 224/4 and above is not a unicast host address. */
const LOOPBACK_FIRST_OCTET = 127;
const MULTICAST_FIRST_OCTET = 224;

export type AttributeDecodeResult =
  | { readonly ok: true; readonly attribute: PathAttribute }
  | { readonly ok: false; readonly handling: 'treat-as-withdraw' | 'attribute-discard'; readonly reason: string }
  | {
      readonly ok: false;
      readonly handling: 'session-reset';
      readonly reason: string;
      readonly notification: NotificationMessage;
    };

type KeptFlags = { partial?: true; extendedLength?: true };

/**
 * Decodes one attribute. `flags` is the wire flags byte, `value` the value bytes, `raw` the whole attribute (the
 * data of a NOTIFICATION about it). Never throws.
 */
export function decodeAttribute(
  flags: number,
  code: number,
  value: Uint8Array,
  raw: Uint8Array,
  context: BgpCodecContext,
): AttributeDecodeResult {
  const type = knownTypeOf(code);
  const name = attributeName(code);
  const keptFlags: KeptFlags = {};
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
    if (!rawLengthAcceptable(code, value.length))
      return malformed(code, `${name} of length ${value.length} is malformed`, raw);
    return { ok: true, attribute: { type: 'other', code, flags: flags & 0xf0, value: value.slice() } };
  }

  if ((flags & (FLAG_OPTIONAL | FLAG_TRANSITIVE)) !== KNOWN_ATTRIBUTES[type].flags) {
    return malformed(
      code,
      `${name} flags 0x${flags.toString(16).padStart(2, '0')} conflict with its Optional/Transitive bits (RFC 7606 section 3 (c))`,
      raw,
      UPDATE_ERROR.attributeFlagsError,
    );
  }
  const reader = new ByteReader(value);
  const attribute = (fields: object): AttributeDecodeResult => ({
    ok: true,
    attribute: { ...fields, ...keptFlags } as PathAttribute,
  });

  switch (type) {
    case 'origin': {
      if (value.length !== 1) return wrongLength(code, name, value, raw, 1);
      const wire = reader.u8();
      const origin = ORIGINS[wire];
      if (origin === undefined)
        return malformed(code, `ORIGIN value ${wire} is undefined`, raw, UPDATE_ERROR.invalidOriginAttribute);
      return attribute({ type, origin });
    }
    case 'as-path':
    case 'as4-path': {
      const segments = decodeSegments(value, type === 'as4-path' || context.fourOctetAs);
      if (!segments.ok) return malformed(code, `${name}: ${segments.error}`, raw, UPDATE_ERROR.malformedAsPath);
      const confederation = segments.value.some((s) => s.type === 'confed-sequence' || s.type === 'confed-set');
      if (confederation && type === 'as4-path') {
        return malformed(
          code,
          'AS4_PATH carries confederation segments (RFC 6793 section 3)',
          raw,
          UPDATE_ERROR.optionalAttributeError,
        );
      }
      if (confederation && context.external === true) {
        return malformed(
          code,
          'AS_PATH from an external peer carries confederation segments',
          raw,
          UPDATE_ERROR.malformedAsPath,
        );
      }
      return attribute({ type, segments: segments.value });
    }
    case 'next-hop': {
      if (value.length !== 4) return wrongLength(code, name, value, raw, 4);
      const first = value[0] ?? 0;
      const nextHop = reader.ipv4();
      if (value.every((octet) => octet === 0) || first === LOOPBACK_FIRST_OCTET || first >= MULTICAST_FIRST_OCTET) {
        return malformed(
          code,
          `NEXT_HOP ${formatIp(nextHop)} is not a unicast host address`,
          raw,
          UPDATE_ERROR.invalidNextHopAttribute,
        );
      }
      return attribute({ type, nextHop });
    }
    case 'multi-exit-disc':
      if (value.length !== 4) return wrongLength(code, name, value, raw, 4);
      return attribute({ type, med: reader.u32() });
    case 'local-pref':
      if (value.length !== 4) return wrongLength(code, name, value, raw, 4);
      return attribute({ type, localPref: reader.u32() });
    case 'atomic-aggregate':
      if (value.length !== 0) return wrongLength(code, name, value, raw, 0);
      return attribute({ type });
    case 'aggregator':
    case 'as4-aggregator': {
      const fourOctet = type === 'as4-aggregator' || context.fourOctetAs;
      const expected = fourOctet ? 8 : 6;
      if (value.length !== expected) {
        return malformed(
          code,
          `${name} of length ${value.length}; it is ${expected} on this session`,
          raw,
          UPDATE_ERROR.attributeLengthError,
        );
      }
      const asn = fourOctet ? reader.u32() : reader.u16();
      return attribute({ type, asn, address: reader.ipv4() });
    }
    case 'communities': {
      if (!isEntriesOf(4, value))
        return wrongLength(code, name, value, raw, 'a non-zero multiple of 4', UPDATE_ERROR.optionalAttributeError);
      const communities: number[] = [];
      while (reader.remaining > 0) communities.push(reader.u32());
      return attribute({ type, communities });
    }
    case 'large-communities': {
      if (!isEntriesOf(12, value))
        return wrongLength(code, name, value, raw, 'a non-zero multiple of 12', UPDATE_ERROR.optionalAttributeError);
      const largeCommunities: LargeCommunity[] = [];
      while (reader.remaining > 0)
        largeCommunities.push({ globalAdmin: reader.u32(), localData1: reader.u32(), localData2: reader.u32() });
      return attribute({ type, largeCommunities });
    }
    case 'mp-reach-nlri':
      return decodeMpReach(flags, value, raw, keptFlags);
    case 'mp-unreach-nlri': {
      if (value.length < 3)
        return malformed(
          code,
          `MP_UNREACH_NLRI of length ${value.length}; AFI and SAFI alone take 3`,
          raw,
          UPDATE_ERROR.optionalAttributeError,
        );
      const family = addressFamilyOf(reader.u16(), reader.u8());
      if (family === undefined)
        return { ok: true, attribute: { type: 'other', code, flags: flags & 0xf0, value: value.slice() } };
      const withdrawnRoutes = decodePrefixes(value, 3, value.length, ipFamilyOf(family));
      if (!withdrawnRoutes.ok)
        return malformed(
          code,
          `MP_UNREACH_NLRI ${family} withdrawn routes: ${withdrawnRoutes.error}`,
          raw,
          UPDATE_ERROR.optionalAttributeError,
        );
      return attribute({ type, family, withdrawnRoutes: withdrawnRoutes.value });
    }
  }
}

function decodeMpReach(flags: number, value: Uint8Array, raw: Uint8Array, keptFlags: KeptFlags): AttributeDecodeResult {
  const code = ATTRIBUTE_CODES['mp-reach-nlri'];
  if (value.length < 5)
    return malformed(
      code,
      `MP_REACH_NLRI of length ${value.length}; it needs at least 5`,
      raw,
      UPDATE_ERROR.optionalAttributeError,
    );
  const reader = new ByteReader(value);
  const family = addressFamilyOf(reader.u16(), reader.u8());
  if (family === undefined)
    return { ok: true, attribute: { type: 'other', code, flags: flags & 0xf0, value: value.slice() } };
  const nextHopLength = reader.u8();
  const allowed = family === 'ipv4-unicast' ? [4, 16, 32] : [16, 32];
  if (!allowed.includes(nextHopLength)) {
    return malformed(
      code,
      `MP_REACH_NLRI ${family} next hop of length ${nextHopLength}; it is ${allowed.join(', ')}`,
      raw,
      UPDATE_ERROR.optionalAttributeError,
    );
  }
  if (5 + nextHopLength > value.length) {
    return malformed(
      code,
      `MP_REACH_NLRI next hop of length ${nextHopLength} runs past the attribute`,
      raw,
      UPDATE_ERROR.optionalAttributeError,
    );
  }
  const nextHop = nextHopLength === 4 ? reader.ipv4() : reader.ipv6();
  const nlri = decodePrefixes(value, 5 + nextHopLength, value.length, ipFamilyOf(family));
  if (!nlri.ok)
    return malformed(code, `MP_REACH_NLRI ${family} NLRI: ${nlri.error}`, raw, UPDATE_ERROR.optionalAttributeError);
  const attribute: MpReachNlriAttribute =
    nextHopLength === 32
      ? { type: 'mp-reach-nlri', family, nextHop, linkLocalNextHop: reader.ipv6(), nlri: nlri.value, ...keptFlags }
      : { type: 'mp-reach-nlri', family, nextHop, nlri: nlri.value, ...keptFlags };
  return { ok: true, attribute };
}

/** Whether a value is one or more entries of `size` bytes (COMMUNITIES, LARGE_COMMUNITIES). */
function isEntriesOf(size: number, value: Uint8Array): boolean {
  return value.length !== 0 && value.length % size === 0;
}

/** The outcome for a value whose length is not `expected` (a number of bytes, or a rule for one). */
function wrongLength(
  code: number,
  name: string,
  value: Uint8Array,
  raw: Uint8Array,
  expected: number | string,
  subcode: number = UPDATE_ERROR.attributeLengthError,
): AttributeDecodeResult {
  return malformed(code, `${name} of length ${value.length}; it is ${expected}`, raw, subcode);
}

function malformed(
  code: number,
  reason: string,
  raw: Uint8Array,
  subcode: number = UPDATE_ERROR.optionalAttributeError,
): AttributeDecodeResult {
  const handling = errorHandlingFor(code);
  if (handling === 'session-reset') {
    return { ok: false, handling, reason, notification: notification(ERROR_CODE.updateMessage, subcode, raw.slice()) };
  }
  return { ok: false, handling, reason };
}

/** AS_PATH / AS4_PATH segments; the error is why the path is malformed per RFC 7606 section 7.2. */
export function decodeSegments(value: Uint8Array, fourOctet: boolean): Result<AsPathSegment[]> {
  const size = fourOctet ? 4 : 2;
  const reader = new ByteReader(value);
  const segments: AsPathSegment[] = [];
  while (reader.remaining > 0) {
    if (reader.remaining < 2) return err(`${reader.remaining} byte left over, too few for a segment header`);
    const code = reader.u8();
    const count = reader.u8();
    const type = segmentTypeOf(code);
    if (type === undefined) return err(`segment type ${code} is unknown`);
    if (count === 0) return err('a segment has length 0');
    if (count * size > reader.remaining) return err(`a segment of ${count} AS numbers runs past the attribute`);
    const asns: number[] = new Array<number>(count);
    for (let index = 0; index < count; index++) asns[index] = fourOctet ? reader.u32() : reader.u16();
    segments.push({ type, asns });
  }
  return ok(segments);
}
