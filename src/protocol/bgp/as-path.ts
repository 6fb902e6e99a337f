// AS_PATH segments (RFC 4271 section 4.3 and 5.1.2, RFC 5065 confederation segments) and the RFC 6793 rules for
// talking to a speaker without 4-octet AS numbers: AS_TRANS in AS_PATH and AGGREGATOR, the real numbers in
// AS4_PATH and AS4_AGGREGATOR, and putting the path back together on receipt.

export type AsPathSegmentType = 'set' | 'sequence' | 'confed-sequence' | 'confed-set';

export interface AsPathSegment {
  readonly type: AsPathSegmentType;
  /** 1-255 AS numbers (the segment length is one byte). */
  readonly asns: readonly number[];
}

/** RFC 6793 section 9: the 2-octet AS number that stands in for a 4-octet one. */
export const AS_TRANS = 23456;

export const SEGMENT_TYPE_CODES: Readonly<Record<AsPathSegmentType, number>> = {
  set: 1,
  sequence: 2,
  'confed-sequence': 3,
  'confed-set': 4,
};

const SEGMENT_TYPES_BY_CODE: ReadonlyMap<number, AsPathSegmentType> = new Map(
  Object.entries(SEGMENT_TYPE_CODES).map(([type, code]) => [code, type as AsPathSegmentType]),
);

/** The segment type of a wire code, undefined when unknown. */
export function segmentTypeOf(code: number): AsPathSegmentType | undefined {
  return SEGMENT_TYPES_BY_CODE.get(code);
}

/** Whether an AS number fits the 2-octet field. */
export function isTwoOctetAs(asn: number): boolean {
  return asn <= 0xffff;
}

/** RFC 4271 section 9.1.2.2 (a) and RFC 5065 section 5.3: a set counts 1, confederation segments 0. */
export function asPathLength(segments: readonly AsPathSegment[]): number {
  let length = 0;
  for (const segment of segments) {
    if (segment.type === 'sequence') length += segment.asns.length;
    else if (segment.type === 'set') length += 1;
  }
  return length;
}

/** "65000 65100 {65201,65202}", confederation segments in (parentheses) and [brackets], as gobgp prints them. */
export function formatAsPath(segments: readonly AsPathSegment[]): string {
  return segments
    .map((segment) => {
      switch (segment.type) {
        case 'sequence':
          return segment.asns.join(' ');
        case 'set':
          return `{${segment.asns.join(',')}}`;
        case 'confed-sequence':
          return `(${segment.asns.join(' ')})`;
        case 'confed-set':
          return `[${segment.asns.join(',')}]`;
      }
    })
    .join(' ');
}

/**
 * RFC 4271 section 5.1.2: the path as sent to an external peer, our AS first. Prepends to a leading sequence with
 * room for it (255 numbers per segment), else starts a new sequence.
 */
export function prependAs(segments: readonly AsPathSegment[], asn: number): AsPathSegment[] {
  const first = segments[0];
  if (first?.type === 'sequence' && first.asns.length < 255) {
    return [{ type: 'sequence', asns: [asn, ...first.asns] }, ...segments.slice(1)];
  }
  return [{ type: 'sequence', asns: [asn] }, ...segments];
}

/**
 * RFC 6793 section 4.2.2: the AS_PATH for a speaker without 4-octet AS numbers (every number above 65535 replaced
 * by AS_TRANS), and the AS4_PATH to send with it when any number was replaced (the real path, confederation
 * segments left out as section 3 says).
 */
export function twoOctetAsPath(segments: readonly AsPathSegment[]): {
  asPath: AsPathSegment[];
  as4Path?: AsPathSegment[];
} {
  const asPath = segments.map((segment) =>
    segment.asns.every(isTwoOctetAs)
      ? segment
      : { type: segment.type, asns: segment.asns.map((asn) => (isTwoOctetAs(asn) ? asn : AS_TRANS)) },
  );
  if (segments.every((segment) => segment.asns.every(isTwoOctetAs))) return { asPath };
  return { asPath, as4Path: segments.filter((segment) => segment.type === 'sequence' || segment.type === 'set') };
}

/**
 * RFC 6793 section 4.2.3: the path an OLD speaker's UPDATE really describes. When AS_PATH holds fewer numbers
 * than AS4_PATH, AS4_PATH is ignored; otherwise the leading part of AS_PATH that AS4_PATH does not cover is
 * kept and AS4_PATH appended. (The AGGREGATOR rule, which drops AS4_PATH altogether, is the caller's:
 * see fourOctetPathOf in update-message.ts.)
 */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[]): AsPathSegment[] {
  let lead = asPathLength(asPath) - asPathLength(as4Path);
  if (lead < 0) return [...asPath];
  const merged: AsPathSegment[] = [];
  for (const segment of asPath) {
    if (lead <= 0) break;
    if (segment.type === 'sequence') {
      const taken = segment.asns.slice(0, lead);
      merged.push({ type: 'sequence', asns: taken });
      lead -= taken.length;
    } else if (segment.type === 'set') {
      merged.push(segment);
      lead -= 1;
    } else {
      merged.push(segment);
    }
  }
  for (const segment of as4Path) {
    const last = merged.at(-1);
    if (last?.type === 'sequence' && segment.type === 'sequence' && last.asns.length + segment.asns.length <= 255) {
      merged[merged.length - 1] = { type: 'sequence', asns: [...last.asns, ...segment.asns] };
    } else {
      merged.push(segment);
    }
  }
  return merged;
}
