import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { asPathSegments } from '../testdata/bgp-arbitraries.ts';
import {
  AS_TRANS,
  asPathLength,
  formatAsPath,
  mergeAs4Path,
  prependAs,
  twoOctetAsPath,
  type AsPathSegment,
} from './as-path.ts';

describe('AS_PATH (RFC 4271) and the RFC 6793 conversions', () => {
  it('RFC 4271 section 9.1.2.2 (a): an AS_SET counts 1; RFC 5065: confederation segments count 0', () => {
    const path: AsPathSegment[] = [
      { type: 'confed-sequence', asns: [64512, 64513] },
      { type: 'sequence', asns: [65000, 65100] },
      { type: 'set', asns: [65201, 65202, 65203] },
    ];
    assert.equal(asPathLength(path), 3);
    assert.equal(formatAsPath(path), '(64512 64513) 65000 65100 {65201,65202,65203}');
  });

  it('RFC 4271 section 5.1.2: our AS goes first, into the leading AS_SEQUENCE while it has room', () => {
    assert.deepEqual(prependAs([], 65001), [{ type: 'sequence', asns: [65001] }]);
    assert.deepEqual(prependAs([{ type: 'sequence', asns: [65000] }], 65001), [
      { type: 'sequence', asns: [65001, 65000] },
    ]);
    assert.deepEqual(prependAs([{ type: 'set', asns: [65000] }], 65001), [
      { type: 'sequence', asns: [65001] },
      { type: 'set', asns: [65000] },
    ]);
    const full: AsPathSegment = { type: 'sequence', asns: Array.from({ length: 255 }, () => 65000) };
    assert.equal(prependAs([full], 65001).length, 2);
  });

  it('RFC 6793 section 4.2.2: AS_TRANS stands in for 4-octet numbers, AS4_PATH carries them', () => {
    assert.deepEqual(twoOctetAsPath([{ type: 'sequence', asns: [65001, 65002] }]), {
      asPath: [{ type: 'sequence', asns: [65001, 65002] }],
    });
    assert.deepEqual(twoOctetAsPath([{ type: 'sequence', asns: [4200000000, 65100] }]), {
      asPath: [{ type: 'sequence', asns: [AS_TRANS, 65100] }],
      as4Path: [{ type: 'sequence', asns: [4200000000, 65100] }],
    });
  });

  it('RFC 6793 section 4.2.3: AS4_PATH replaces the tail of AS_PATH; a shorter AS_PATH wins', () => {
    // An OLD speaker (65001) prepended itself to a path that came with AS4_PATH.
    const asPath: AsPathSegment[] = [{ type: 'sequence', asns: [65001, AS_TRANS, 65100] }];
    const as4Path: AsPathSegment[] = [{ type: 'sequence', asns: [4200000000, 65100] }];
    assert.deepEqual(mergeAs4Path(asPath, as4Path), [{ type: 'sequence', asns: [65001, 4200000000, 65100] }]);
    assert.deepEqual(mergeAs4Path([{ type: 'sequence', asns: [65001] }], as4Path), [
      { type: 'sequence', asns: [65001] },
    ]);
  });

  it('property: twoOctetAsPath then mergeAs4Path gives the 4-octet path back (no confederation segments)', () => {
    fc.assert(
      fc.property(asPathSegments(true, false, 6), (segments) => {
        const { asPath, as4Path } = twoOctetAsPath(segments);
        for (const segment of asPath) for (const asn of segment.asns) assert.ok(asn <= 0xffff);
        const back = as4Path === undefined ? asPath : mergeAs4Path(asPath, as4Path);
        assert.equal(formatAsPath(back), formatAsPath(segments));
        assert.equal(asPathLength(back), asPathLength(segments));
      }),
    );
  });
});
