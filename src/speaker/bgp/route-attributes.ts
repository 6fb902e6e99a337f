// The path attributes of an advertised route on one session: ORIGIN IGP; AS_PATH with our AS for eBGP (empty for
// iBGP) after the advertisement's prepends; LOCAL_PREF on iBGP only (100 unless set: RFC 4271 section 5.1.5 wants
// it in every UPDATE to an internal peer); MED, COMMUNITIES and LARGE_COMMUNITIES when set. RFC 6793: a session
// without 4-octet AS gets AS_TRANS and AS4_PATH. NEXT_HOP / MP_REACH_NLRI are added by announcementUpdates.
import type { AsPathSegment } from '../../protocol/bgp/as-path.ts';
import type { LargeCommunity } from '../../protocol/bgp/community.ts';
import type { PathAttribute } from '../../protocol/bgp/path-attribute.ts';
import type { NegotiatedSession } from '../../protocol/bgp/session-negotiation.ts';
import { twoOctetAttributes } from '../../protocol/bgp/route-propagation.ts';
import { attributeBudget, pathAttributesLength } from '../../protocol/bgp/update-packing.ts';
import type { AddressFamily } from '../../protocol/bgp/address-family.ts';

export interface RouteAttributes {
  readonly localPref?: number;
  readonly med?: number;
  /** Sorted, unique. */
  readonly communities: readonly number[];
  /** Sorted, unique. */
  readonly largeCommunities: readonly LargeCommunity[];
  /** Prepend `asn` (absent: our AS) `count` times. */
  readonly prepend?: { readonly asn?: number; readonly count: number };
}

export const DEFAULT_LOCAL_PREF = 100;

const keys = new WeakMap<RouteAttributes, string>();

/** A stable key: routes with equal keys share their attributes and so their UPDATEs (cached per object). */
export function attributesKey(attributes: RouteAttributes): string {
  let key = keys.get(attributes);
  if (key === undefined) keys.set(attributes, (key = computeKey(attributes)));
  return key;
}

function computeKey(attributes: RouteAttributes): string {
  const large = attributes.largeCommunities.map((c) => `${c.globalAdmin}:${c.localData1}:${c.localData2}`).join(',');
  const prepend = attributes.prepend ? `${attributes.prepend.asn ?? ''}x${attributes.prepend.count}` : '';
  return `lp=${attributes.localPref ?? ''};med=${attributes.med ?? ''};c=${attributes.communities.join(',')};lc=${large};pp=${prepend}`;
}

export function sessionAttributes(
  attributes: RouteAttributes,
  localAs: number,
  session: Pick<NegotiatedSession, 'external' | 'fourOctetAs'>,
): PathAttribute[] {
  const asns: number[] = [];
  if (attributes.prepend && attributes.prepend.count > 0) {
    for (let i = 0; i < attributes.prepend.count; i++) asns.push(attributes.prepend.asn ?? localAs);
  }
  if (session.external) asns.unshift(localAs);
  const segments: AsPathSegment[] = [];
  for (let i = 0; i < asns.length; i += 255) segments.push({ type: 'sequence', asns: asns.slice(i, i + 255) });
  const result: PathAttribute[] = [
    { type: 'origin', origin: 'igp' },
    { type: 'as-path', segments },
  ];
  if (attributes.med !== undefined) result.push({ type: 'multi-exit-disc', med: attributes.med });
  if (!session.external) result.push({ type: 'local-pref', localPref: attributes.localPref ?? DEFAULT_LOCAL_PREF });
  if (attributes.communities.length > 0) result.push({ type: 'communities', communities: attributes.communities });
  if (attributes.largeCommunities.length > 0)
    result.push({ type: 'large-communities', largeCommunities: attributes.largeCommunities });
  return session.fourOctetAs ? result : twoOctetAttributes(result);
}

/**
 * Whether routes with these attributes fit an UPDATE (at most 4096 bytes, RFC 4271) to a peer: the encoded path
 * attributes against attributeBudget of the family, on the longest session encoding: with or without 4-octet AS
 * numbers (2-octet sessions also carry AS4_PATH), internal or external (LOCAL_PREF or our AS in AS_PATH). The
 * capability, and with a dynamic peer the peer's AS, are known only once the session is up; taking the longest
 * also makes the answer the same for every peer and node.
 */
export function attributesFit(
  attributes: RouteAttributes,
  family: AddressFamily,
  localAs: number,
): { fits: boolean; length: number; budget: number } {
  let length = 0;
  for (const fourOctetAs of [true, false]) {
    for (const external of [true, false]) {
      const encoded = pathAttributesLength(sessionAttributes(attributes, localAs, { external, fourOctetAs }), {
        fourOctetAs,
        external,
      });
      if (encoded > length) length = encoded;
    }
  }
  const budget = attributeBudget(family);
  return { fits: length <= budget, length, budget };
}
