// Attributes of routes passed on to a peer: unrecognized ones kept or dropped (RFC 4271 sections 5 and 9), and the
// RFC 6793 helpers for peers without 4-octet AS numbers (AS_TRANS in AS_PATH and AGGREGATOR, the real numbers in
// AS4_PATH and AS4_AGGREGATOR, and putting the path back together on receipt).
import { AS_TRANS, mergeAs4Path, twoOctetAsPath, type AsPathSegment } from './as-path.ts';
import { FLAG_OPTIONAL, FLAG_PARTIAL, FLAG_TRANSITIVE } from './attribute-type.ts';
import type { PathAttribute } from './path-attribute.ts';

/**
 * RFC 4271 section 5 and 9: attributes to send on with a route received with them. Unrecognized optional
 * non-transitive attributes are dropped; unrecognized optional transitive ones are kept with the Partial bit set.
 */
export function propagatedAttributes(attributes: readonly PathAttribute[]): PathAttribute[] {
  const kept: PathAttribute[] = [];
  for (const attribute of attributes) {
    if (attribute.type !== 'other') {
      kept.push(attribute);
    } else if ((attribute.flags & FLAG_OPTIONAL) !== 0 && (attribute.flags & FLAG_TRANSITIVE) !== 0) {
      kept.push({ ...attribute, flags: attribute.flags | FLAG_PARTIAL });
    }
  }
  return kept;
}

/**
 * RFC 6793 section 4.2.3: the AS path an UPDATE from a peer without 4-octet AS numbers really describes: AS_PATH
 * merged with AS4_PATH, unless AGGREGATOR names an AS other than AS_TRANS (then AS4_PATH is ignored). Undefined
 * without AS_PATH.
 */
export function fourOctetAsPathOf(attributes: readonly PathAttribute[]): AsPathSegment[] | undefined {
  let asPath: readonly AsPathSegment[] | undefined;
  let as4Path: readonly AsPathSegment[] | undefined;
  let aggregatorAs: number | undefined;
  for (const attribute of attributes) {
    if (attribute.type === 'as-path') asPath = attribute.segments;
    else if (attribute.type === 'as4-path') as4Path = attribute.segments;
    else if (attribute.type === 'aggregator') aggregatorAs = attribute.asn;
  }
  if (asPath === undefined) return undefined;
  if (as4Path === undefined || (aggregatorAs !== undefined && aggregatorAs !== AS_TRANS)) return [...asPath];
  return mergeAs4Path(asPath, as4Path);
}

/**
 * RFC 6793 section 4.2.2: attributes (with 4-octet AS numbers) as sent to a peer without them: AS_PATH and
 * AGGREGATOR with AS_TRANS for numbers that do not fit, the real ones in AS4_PATH and AS4_AGGREGATOR.
 */
export function twoOctetAttributes(attributes: readonly PathAttribute[]): PathAttribute[] {
  const converted: PathAttribute[] = [];
  const extra: PathAttribute[] = [];
  for (const attribute of attributes) {
    if (attribute.type === 'as4-path' || attribute.type === 'as4-aggregator') continue;
    if (attribute.type === 'as-path') {
      const { asPath, as4Path } = twoOctetAsPath(attribute.segments);
      converted.push({ ...attribute, segments: asPath });
      if (as4Path !== undefined && as4Path.length > 0) extra.push({ type: 'as4-path', segments: as4Path });
    } else if (attribute.type === 'aggregator' && attribute.asn > 0xffff) {
      converted.push({ ...attribute, asn: AS_TRANS });
      extra.push({ type: 'as4-aggregator', asn: attribute.asn, address: attribute.address });
    } else {
      converted.push(attribute);
    }
  }
  return [...converted, ...extra];
}
