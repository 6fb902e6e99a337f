// Path attributes (RFC 4271 sections 4.3 and 5): flags, type code, length (1 byte, or 2 with the Extended Length
// bit), value. Decoded: ORIGIN, AS_PATH, NEXT_HOP, MULTI_EXIT_DISC, LOCAL_PREF, ATOMIC_AGGREGATE, AGGREGATOR,
// COMMUNITIES (RFC 1997), MP_REACH_NLRI / MP_UNREACH_NLRI for IPv4/IPv6 unicast (RFC 4760, next hops per RFC 2545),
// AS4_PATH / AS4_AGGREGATOR (RFC 6793) and LARGE_COMMUNITIES (RFC 8092). Anything else is kept as raw bytes.
//
// This file holds the decoded forms; the type codes, flags and RFC 7606 policy are in attribute-type.ts, the wire
// format in attribute-encoder.ts and attribute-decoder.ts.
import type { AddressFamily } from './address-family.ts';
import type { AsPathSegment } from './as-path.ts';
import { ATTRIBUTE_CODES, type KnownAttributeType } from './attribute-type.ts';
import type { LargeCommunity } from './community.ts';
import type { BgpPrefix } from './nlri-prefix.ts';

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

export type { KnownAttributeType };

/** The type code of an attribute. */
export function attributeCode(attribute: PathAttribute): number {
  return attribute.type === 'other' ? attribute.code : ATTRIBUTE_CODES[attribute.type];
}
