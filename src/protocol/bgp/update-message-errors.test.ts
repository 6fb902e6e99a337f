import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ipv4 } from '../../core/ip/ip-address.ts';
import { codecContext } from '../testdata/bgp-arbitraries.ts';
import { FUZZ_RUNS, mutatedFrom } from '../testdata/decoder-fuzzing.ts';
import { fromHex, toHex } from '../testdata/hex-bytes.ts';
import { formatBgpPrefix } from './nlri-prefix.ts';
import { UPDATE_ERROR } from './notification-message.ts';
import type { BgpCodecContext } from './path-attribute.ts';
import {
  decodeUpdateBody,
  decodeUpdateMessage,
  encodeUpdateMessage,
  prefixesToWithdraw,
  type UpdateDecodeOutcome,
} from './update-message.ts';
import { updateBytes, ORIGIN, AS_PATH, NEXT_HOP, NLRI_24 } from '../testdata/update-bytes.ts';
import { FOUR, TWO, EBGP, prefix, outcomeOf, attributeTypes } from '../testdata/update-decoding.ts';

const BASE = `${ORIGIN} ${AS_PATH} ${NEXT_HOP}`;
function kindOf(outcome: UpdateDecodeOutcome): string {
  return outcome.kind;
}

describe('RFC 7606 error handling of UPDATEs', () => {
  const cases: {
    name: string;
    bytes: Uint8Array;
    context?: BgpCodecContext;
    kind: UpdateDecodeOutcome['kind'];
    subcode?: number;
    kept?: string[];
  }[] = [
    {
      name: 'section 7.1: ORIGIN value 5 (captured against gobgpd, BIRD and FRR)',
      bytes: updateBytes('', `40 01 01 05 ${AS_PATH} ${NEXT_HOP}`, NLRI_24),
      kind: 'treat-as-withdraw',
      kept: ['as-path', 'next-hop'],
    },
    {
      name: 'section 7.1: ORIGIN of length 2',
      bytes: updateBytes('', `40 01 02 0000 ${AS_PATH} ${NEXT_HOP}`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 7.2: AS_PATH segment of length 0',
      bytes: updateBytes('', `${ORIGIN} 40 02 02 02 00 ${NEXT_HOP}`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 7.2: AS_PATH segment type 7',
      bytes: updateBytes('', `${ORIGIN} 40 02 06 07 01 0000fde9 ${NEXT_HOP}`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 7.2: AS_PATH segment overrun',
      bytes: updateBytes('', `${ORIGIN} 40 02 06 02 02 0000fde9 ${NEXT_HOP}`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 7.2: AS_PATH underrun (one byte after the last segment)',
      bytes: updateBytes('', `${ORIGIN} 40 02 07 02 01 0000fde9 02 ${NEXT_HOP}`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 7.2: AS_PATH with a confederation segment from an external peer',
      bytes: updateBytes('', `${ORIGIN} 40 02 06 03 01 0000fde9 ${NEXT_HOP}`, NLRI_24),
      context: EBGP,
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 7.3: NEXT_HOP of length 3 (captured against gobgpd)',
      bytes: updateBytes('', `${ORIGIN} ${AS_PATH} 40 03 03 c63364`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 7.3: NEXT_HOP 0.0.0.0 is semantically incorrect',
      bytes: updateBytes('', `${ORIGIN} ${AS_PATH} 40 03 04 00000000`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 7.4: MULTI_EXIT_DISC of length 2',
      bytes: updateBytes('', `${BASE} 80 04 02 0001`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 7.5: LOCAL_PREF of length 5 from an internal peer',
      bytes: updateBytes('', `${BASE} 40 05 05 0000006400`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 7.5: LOCAL_PREF from an external peer is discarded',
      bytes: updateBytes('', `${BASE} 40 05 04 00000064`, NLRI_24),
      context: EBGP,
      kind: 'attribute-discard',
      kept: ['origin', 'as-path', 'next-hop'],
    },
    {
      name: 'section 7.6: ATOMIC_AGGREGATE of length 1',
      bytes: updateBytes('', `${BASE} 40 06 01 00`, NLRI_24),
      kind: 'attribute-discard',
      kept: ['origin', 'as-path', 'next-hop'],
    },
    {
      name: 'section 7.7: AGGREGATOR of length 6 on a 4-octet session',
      bytes: updateBytes('', `${BASE} c0 07 06 fde9 c633640b`, NLRI_24),
      kind: 'attribute-discard',
    },
    {
      name: 'section 7.7: AGGREGATOR of length 8 on a 2-octet session',
      bytes: updateBytes('', `${ORIGIN} 40 02 04 02 01 fde9 ${NEXT_HOP} c0 07 08 0000fde9 c633640b`, NLRI_24),
      context: TWO,
      kind: 'attribute-discard',
    },
    {
      name: 'section 7.8: COMMUNITIES of length 6',
      bytes: updateBytes('', `${BASE} c0 08 06 fde80064 0000`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 7.8: COMMUNITIES of length 0',
      bytes: updateBytes('', `${BASE} c0 08 00`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'RFC 8092 section 6: LARGE_COMMUNITIES of length 13',
      bytes: updateBytes('', `${BASE} c0 20 0d 0000fde8 00000001 00000002 00`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 7.14: EXTENDED_COMMUNITIES of length 12',
      bytes: updateBytes('', `${BASE} c0 10 0c 0002fde800000064 00000000`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 7.14: EXTENDED_COMMUNITIES of length 8 are kept raw',
      bytes: updateBytes('', `${BASE} c0 10 08 0002fde800000064`, NLRI_24),
      kind: 'ok',
      kept: ['origin', 'as-path', 'next-hop', 'other'],
    },
    {
      name: 'section 7.9: ORIGINATOR_ID of length 3',
      bytes: updateBytes('', `${BASE} 80 09 03 c63364`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'RFC 6793 section 6: malformed AS4_PATH is discarded',
      bytes: updateBytes('', `${ORIGIN} 40 02 04 02 01 fde9 ${NEXT_HOP} c0 11 03 02 01 00`, NLRI_24),
      context: TWO,
      kind: 'attribute-discard',
    },
    {
      name: 'RFC 6793 section 3: AS4_PATH between 4-octet speakers is discarded',
      bytes: updateBytes('', `${BASE} c0 11 06 02 01 0000fde9`, NLRI_24),
      kind: 'attribute-discard',
    },
    {
      name: 'section 3 (c): ORIGIN marked optional',
      bytes: updateBytes('', `c0 01 01 00 ${AS_PATH} ${NEXT_HOP}`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 3 (c): COMMUNITIES marked well-known',
      bytes: updateBytes('', `${BASE} 40 08 04 fde80064`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 3 (d): ORIGIN missing',
      bytes: updateBytes('', `${AS_PATH} ${NEXT_HOP}`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 3 (d): NEXT_HOP missing with IPv4 NLRI',
      bytes: updateBytes('', `${ORIGIN} ${AS_PATH}`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 3 (d): no attributes at all but NLRI',
      bytes: updateBytes('', '', NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 3 (d): NEXT_HOP is not needed with MP_REACH_NLRI only (RFC 4760)',
      bytes: updateBytes(
        '',
        `80 0e 1c 0002 01 10 20010db8000100000000000000000011 00 30 20010db800ff ${ORIGIN} ${AS_PATH}`,
        '',
      ),
      kind: 'ok',
    },
    { name: 'section 3 (d): withdrawals need no attributes', bytes: updateBytes('18 cb0071', '', ''), kind: 'ok' },
    {
      name: 'section 3 (g): a repeated COMMUNITIES is discarded, the first kept',
      bytes: updateBytes('', `${BASE} c0 08 04 fde80064 c0 08 04 fde800c8`, NLRI_24),
      kind: 'attribute-discard',
      kept: ['origin', 'as-path', 'next-hop', 'communities'],
    },
    {
      name: 'section 3 (g): a repeated MP_REACH_NLRI resets the session',
      bytes: updateBytes(
        '',
        `80 0e 15 0002 01 10 20010db8000100000000000000000011 00 80 0e 15 0002 01 10 20010db8000100000000000000000011 00 ${ORIGIN} ${AS_PATH}`,
        '',
      ),
      kind: 'session-reset',
      subcode: UPDATE_ERROR.malformedAttributeList,
    },
    {
      name: 'section 3 (f): attribute discard and treat-as-withdraw together: the stronger wins',
      bytes: updateBytes('', `40 01 01 07 ${AS_PATH} ${NEXT_HOP} 40 06 01 00`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 4: an attribute length running past the Total Path Attribute Length',
      bytes: updateBytes('', `${BASE} c0 08 08 fde80064`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 4: two bytes left over, too few for an attribute header',
      bytes: updateBytes('', `${BASE} c0 08`, NLRI_24),
      kind: 'treat-as-withdraw',
    },
    {
      name: 'section 5.3: an NLRI prefix longer than 32 bits',
      bytes: updateBytes('', BASE, '21 cb007100 00'),
      kind: 'session-reset',
      subcode: UPDATE_ERROR.invalidNetworkField,
    },
    {
      name: 'section 5.3: the last NLRI prefix runs past the message',
      bytes: updateBytes('', BASE, '18 cb00'),
      kind: 'session-reset',
      subcode: UPDATE_ERROR.invalidNetworkField,
    },
    {
      name: 'section 3 (g) and 5.3: a withdrawn prefix runs past its field',
      bytes: updateBytes('18 cb', '', ''),
      kind: 'session-reset',
      subcode: UPDATE_ERROR.invalidNetworkField,
    },
    {
      name: 'section 7.11: MP_REACH_NLRI next hop of length 8',
      bytes: updateBytes('', `80 0e 12 0002 01 08 20010db800010000 00 30 20010db800ff ${ORIGIN} ${AS_PATH}`, ''),
      kind: 'session-reset',
      subcode: UPDATE_ERROR.optionalAttributeError,
    },
    {
      name: 'section 7.11: MP_REACH_NLRI with a /129 prefix',
      bytes: updateBytes('', `80 0e 16 0002 01 10 20010db8000100000000000000000011 00 81 20 ${ORIGIN} ${AS_PATH}`, ''),
      kind: 'session-reset',
      subcode: UPDATE_ERROR.optionalAttributeError,
    },
    {
      name: 'section 7.12: MP_UNREACH_NLRI whose prefix runs past it',
      bytes: updateBytes('', '80 0f 05 0002 01 40 20', ''),
      kind: 'session-reset',
      subcode: UPDATE_ERROR.optionalAttributeError,
    },
    {
      name: 'section 7.11: MP_REACH_NLRI running past the attributes',
      bytes: updateBytes('', `${ORIGIN} 80 0e 40 0002 01 10`, ''),
      kind: 'session-reset',
      subcode: UPDATE_ERROR.attributeLengthError,
    },
    {
      name: 'RFC 4271 section 6.3: an unrecognized well-known attribute',
      bytes: updateBytes('', `${BASE} 40 63 01 00`, NLRI_24),
      kind: 'session-reset',
      subcode: UPDATE_ERROR.unrecognizedWellKnownAttribute,
    },
    {
      name: 'RFC 4271 section 6.3: Total Path Attribute Length past the message (captured against gobgpd)',
      bytes: fromHex(`${'ff'.repeat(16)} 0017 02 0000 00ff`),
      kind: 'session-reset',
      subcode: UPDATE_ERROR.malformedAttributeList,
    },
    {
      name: 'RFC 4271 section 6.3: Withdrawn Routes Length past the message',
      bytes: fromHex(`${'ff'.repeat(16)} 0017 02 0010 0000`),
      kind: 'session-reset',
      subcode: UPDATE_ERROR.malformedAttributeList,
    },
    {
      name: 'RFC 4760: MP_REACH_NLRI of an address family we do not handle is kept as it came',
      bytes: updateBytes('', `80 0e 0a 0019 46 04 c633640b 00 00 ${ORIGIN} ${AS_PATH}`, ''),
      kind: 'ok',
      kept: ['other', 'origin', 'as-path'],
    },
  ];

  for (const { name, bytes, context, kind, subcode, kept } of cases) {
    it(`RFC 7606 ${name}: ${kind}`, () => {
      const outcome = outcomeOf(bytes, context ?? FOUR);
      assert.equal(
        kindOf(outcome),
        kind,
        outcome.kind === 'session-reset' ? outcome.error.message : outcome.kind === 'ok' ? 'ok' : outcome.reason,
      );
      if (outcome.kind === 'session-reset') {
        assert.equal(outcome.notification.code, 3);
        assert.equal(outcome.notification.subcode, subcode);
      } else if (outcome.kind !== 'ok') {
        assert.ok(outcome.reason.length > 20, outcome.reason);
      }
      if (kept !== undefined) assert.deepEqual(attributeTypes(outcome), kept);
    });
  }

  it('treat-as-withdraw: every announced prefix is to be withdrawn, in the NLRI field and in MP_REACH_NLRI', () => {
    const bytes = updateBytes(
      '18 c63364',
      `80 0e 1c 0002 01 10 20010db8000100000000000000000011 00 30 20010db800ff 40 01 01 09 ${AS_PATH} ${NEXT_HOP}`,
      NLRI_24,
    );
    const outcome = outcomeOf(bytes);
    assert.equal(outcome.kind, 'treat-as-withdraw');
    assert.deepEqual(prefixesToWithdraw(outcome).map(formatBgpPrefix), [
      '198.51.100.0/24',
      '203.0.113.0/24',
      '2001:db8:ff::/48',
    ]);
    assert.deepEqual(prefixesToWithdraw(outcomeOf(updateBytes('18 c63364', BASE, NLRI_24))).map(formatBgpPrefix), [
      '198.51.100.0/24',
    ]);
  });

  it('the NOTIFICATION for an attribute error carries the attribute (RFC 4271 section 6.3)', () => {
    const outcome = outcomeOf(updateBytes('', `${BASE} 40 63 02 abcd`, NLRI_24));
    assert.equal(outcome.kind, 'session-reset');
    assert.equal(toHex(outcome.notification.data), '406302abcd');
  });

  it(`fuzz: a 4000-byte AS_PATH with random damage never throws and is always classified (${FUZZ_RUNS} runs)`, () => {
    const huge = encodeUpdateMessage(
      {
        type: 'update',
        withdrawnRoutes: [],
        pathAttributes: [
          { type: 'origin', origin: 'igp' },
          {
            type: 'as-path',
            segments: Array.from({ length: 4 }, (_, i) => ({
              type: 'sequence' as const,
              asns: Array.from({ length: i === 3 ? 233 : 255 }, (_, j) => j + 1),
            })),
          },
          { type: 'next-hop', nextHop: ipv4(198, 51, 100, 11) },
        ],
        nlri: [prefix('203.0.113.0/24')],
      },
      FOUR,
    );
    assert.equal(huge.length, 19 + 4 + 4 + 4004 + 7 + 4);
    const repair = (bytes: Uint8Array): Uint8Array => {
      if (bytes.length < 19 || bytes.length > 4096) return bytes;
      const copy = bytes.slice();
      copy[16] = copy.length >>> 8;
      copy[17] = copy.length & 0xff;
      return copy;
    };
    const kinds = new Set<string>();
    fc.assert(
      fc.property(mutatedFrom([huge], repair), codecContext, (bytes, context) => {
        const outcome = decodeUpdateMessage(bytes, context);
        kinds.add(outcome.kind);
        if (outcome.kind === 'session-reset')
          assert.ok(outcome.notification.code === 1 || outcome.notification.code === 3);
        else if (outcome.kind !== 'ok') assert.ok(outcome.reason.length > 0);
      }),
      { numRuns: FUZZ_RUNS },
    );
    assert.ok(kinds.has('ok') && kinds.has('treat-as-withdraw') && kinds.has('session-reset'), [...kinds].join());
  });

  it('the body decoder alone never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), codecContext, (body, context) => {
        assert.ok(
          ['ok', 'treat-as-withdraw', 'attribute-discard', 'session-reset'].includes(
            decodeUpdateBody(body, context).kind,
          ),
        );
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
