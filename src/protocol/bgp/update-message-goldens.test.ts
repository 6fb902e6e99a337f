import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ipv4 } from '../../core/ip/ip-address.ts';
import { atOffset, fromHex, toHex } from '../testdata/hex-bytes.ts';
import { asPathLength, type AsPathSegment } from './as-path.ts';
import { WELL_KNOWN_COMMUNITIES } from './community.ts';
import {
  announcedPrefixes,
  encodeUpdateMessage,
  endOfRib,
  endOfRibFamily,
  withdrawnPrefixes,
  type UpdateMessage,
} from './update-message.ts';
import { withdrawalUpdates } from './update-packing.ts';
import { updateBytes, ORIGIN, AS_PATH, NEXT_HOP, NLRI_24 } from '../testdata/update-bytes.ts';
import { FOUR, TWO, ip, prefix, outcomeOf } from '../testdata/update-decoding.ts';

/** The UPDATE of these path attributes alone, which decodes as valid and encodes back to the same bytes. */
function roundTripped(attributes: string): UpdateMessage {
  const bytes = updateBytes('', attributes, '');
  const outcome = outcomeOf(bytes);
  assert.equal(outcome.kind, 'ok');
  assert.equal(toHex(encodeUpdateMessage(outcome.update, FOUR)), toHex(bytes));
  return outcome.update;
}

describe('UPDATE golden bytes from the RFCs', () => {
  // RFC 4271 section 4.3: Withdrawn Routes Length, Withdrawn Routes, Total Path Attribute Length, Path Attributes, NLRI.
  const golden = fromHex(
    `${'ff'.repeat(16)} 0064 02` +
      ' 0004 18 c63364' + // withdrawn 198.51.100.0/24
      ' 0040' + // 64 bytes of attributes
      ' 40 01 01 00' + // ORIGIN IGP (section 4.3 a)
      ' 40 02 0a 02 02 0000fde9 0000fe4c' + // AS_PATH AS_SEQUENCE [65001, 65100], 4-octet (RFC 6793 section 3)
      ' 40 03 04 c633640b' + // NEXT_HOP 198.51.100.11
      ' 80 04 04 00000064' + // MULTI_EXIT_DISC 100 (optional non-transitive)
      ' 40 05 04 000000c8' + // LOCAL_PREF 200
      ' c0 08 08 fde80064 ffffff01' + // COMMUNITIES 65000:100 no-export (RFC 1997)
      ' c0 20 0c 0000fde8 00000001 00000002' + // LARGE_COMMUNITIES 65000:1:2 (RFC 8092 section 3)
      ' 18 cb0071 20 cb00710a', // NLRI 203.0.113.0/24, 203.0.113.10/32
  );
  const update: UpdateMessage = {
    type: 'update',
    withdrawnRoutes: [prefix('198.51.100.0/24')],
    pathAttributes: [
      { type: 'origin', origin: 'igp' },
      { type: 'as-path', segments: [{ type: 'sequence', asns: [65001, 65100] }] },
      { type: 'next-hop', nextHop: ipv4(198, 51, 100, 11) },
      { type: 'multi-exit-disc', med: 100 },
      { type: 'local-pref', localPref: 200 },
      { type: 'communities', communities: [65000 * 65536 + 100, WELL_KNOWN_COMMUNITIES['no-export']] },
      { type: 'large-communities', largeCommunities: [{ globalAdmin: 65000, localData1: 1, localData2: 2 }] },
    ],
    nlri: [prefix('203.0.113.0/24'), prefix('203.0.113.10/32')],
  };

  it('RFC 4271 section 4.3: withdrawn routes, ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF, NLRI (+ RFC 1997, RFC 8092)', () => {
    assert.deepEqual(outcomeOf(golden), { kind: 'ok', update });
    assert.equal(toHex(encodeUpdateMessage(update, FOUR)), toHex(golden));
    assert.deepEqual(outcomeOf(atOffset(golden)), { kind: 'ok', update });
  });

  it('RFC 4271 section 4.3 AS_PATH with 2-octet AS numbers on a session without the 4-octet AS capability', () => {
    const bytes = updateBytes('', `${ORIGIN} 40 02 06 02 02 fde9 fe4c ${NEXT_HOP}`, NLRI_24);
    const outcome = outcomeOf(bytes, TWO);
    assert.equal(outcome.kind, 'ok');
    assert.deepEqual(outcome.update.pathAttributes[1], {
      type: 'as-path',
      segments: [{ type: 'sequence', asns: [65001, 65100] }],
    });
    assert.equal(toHex(encodeUpdateMessage(outcome.update, TWO)), toHex(bytes));
    assert.throws(
      () =>
        encodeUpdateMessage(
          {
            ...outcome.update,
            pathAttributes: [{ type: 'as-path', segments: [{ type: 'sequence', asns: [4200000000] }] }],
          },
          TWO,
        ),
      RangeError,
    );
  });

  it('RFC 4760 section 3 and RFC 2545 section 3: MP_REACH_NLRI for IPv6 with a global and a link-local next hop (32 bytes)', () => {
    const update = roundTripped(
      `80 0e 2c 0002 01 20 20010db8000100000000000000000011 fe800000000000000000000000000011 00 30 20010db800ff ${ORIGIN} ${AS_PATH}`,
    );
    assert.deepEqual(update.pathAttributes[0], {
      type: 'mp-reach-nlri',
      family: 'ipv6-unicast',
      nextHop: ip('2001:db8:1::11'),
      linkLocalNextHop: ip('fe80::11'),
      nlri: [prefix('2001:db8:ff::/48')],
    });
  });

  it('RFC 4760 section 3 and RFC 2545 section 3: MP_REACH_NLRI for IPv6 with only a global next hop (16 bytes)', () => {
    const update = roundTripped(
      `80 0e 26 0002 01 10 20010db8000100000000000000000011 00 80 20010db800ff00000000000000000010 ${ORIGIN} ${AS_PATH}`,
    );
    assert.deepEqual(announcedPrefixes(update), [prefix('2001:db8:ff::10/128')]);
  });

  it('RFC 8950 section 3: MP_REACH_NLRI for IPv4 unicast with an IPv6 global and link-local next hop (32 bytes)', () => {
    const update = roundTripped(
      `80 0e 2e 0001 01 20 20010db8000100000000000000000011 fe800000000000000000000000000011 00 20 cb00710a 18 cb0071 ${ORIGIN} ${AS_PATH}`,
    );
    assert.deepEqual(update.pathAttributes[0], {
      type: 'mp-reach-nlri',
      family: 'ipv4-unicast',
      nextHop: ip('2001:db8:1::11'),
      linkLocalNextHop: ip('fe80::11'),
      nlri: [prefix('203.0.113.10/32'), prefix('203.0.113.0/24')],
    });
    assert.deepEqual(announcedPrefixes(update), [prefix('203.0.113.10/32'), prefix('203.0.113.0/24')]);
  });

  it('RFC 8950 section 3: MP_REACH_NLRI for IPv4 unicast with a 16-byte IPv6 next hop; other lengths are malformed', () => {
    const update = roundTripped(
      `80 0e 1a 0001 01 10 fe800000000000000000000000000011 00 20 cb00710a ${ORIGIN} ${AS_PATH}`,
    );
    assert.deepEqual(update.pathAttributes[0], {
      type: 'mp-reach-nlri',
      family: 'ipv4-unicast',
      nextHop: ip('fe80::11'),
      nlri: [prefix('203.0.113.10/32')],
    });
    // 24 bytes is neither an IPv4, an IPv6, nor a global + link-local next hop: RFC 7606 section 7.11, session reset.
    const bad = updateBytes(
      '',
      `80 0e 22 0001 01 18 fe800000000000000000000000000011 0000000000000000 00 20 cb00710a ${ORIGIN} ${AS_PATH}`,
      '',
    );
    const rejected = outcomeOf(bad);
    assert.equal(rejected.kind, 'session-reset');
    assert.match(rejected.error.message, /ipv4-unicast next hop of length 24; it is 4, 16, 32/);
  });

  it('RFC 4760 section 4: MP_UNREACH_NLRI withdraws IPv4 prefixes as well (a session with extended next hop)', () => {
    const attributes = '80 0f 08 0001 01 20 cb00710a';
    const update = roundTripped(attributes);
    assert.deepEqual(withdrawnPrefixes(update), [prefix('203.0.113.10/32')]);
    assert.equal(
      toHex(encodeUpdateMessage(withdrawalUpdates('ipv4-unicast', [prefix('203.0.113.10/32')], true)[0]!, FOUR)),
      toHex(updateBytes('', attributes, '')),
    );
  });

  it('RFC 4760 section 4: MP_UNREACH_NLRI withdraws IPv6 prefixes; no other attribute is needed', () => {
    const update = roundTripped('80 0f 0d 0002 01 40 20010db800000001 00');
    assert.deepEqual(withdrawnPrefixes(update), [prefix('2001:db8:0:1::/64'), prefix('::/0')]);
  });

  it('RFC 4724 section 2: End-of-RIB is an empty UPDATE (IPv4) or an empty MP_UNREACH_NLRI', () => {
    assert.equal(toHex(encodeUpdateMessage(endOfRib('ipv4-unicast'), FOUR)), `${'ff'.repeat(16)}00170200000000`);
    assert.equal(
      toHex(encodeUpdateMessage(endOfRib('ipv6-unicast'), FOUR)),
      `${'ff'.repeat(16)}001d0200000006800f03000201`,
    );
    assert.equal(endOfRibFamily(endOfRib('ipv4-unicast')), 'ipv4-unicast');
    assert.equal(endOfRibFamily(endOfRib('ipv6-unicast')), 'ipv6-unicast');
  });

  it('RFC 4271 section 4.3 (Extended Length bit): a 4000-byte AS_PATH is sent with a 2-byte length and read back', () => {
    const segments: AsPathSegment[] = [
      { type: 'sequence', asns: Array.from({ length: 255 }, (_, i) => 4200000000 + i) },
      { type: 'sequence', asns: Array.from({ length: 255 }, (_, i) => 65000 + i) },
      { type: 'set', asns: Array.from({ length: 255 }, (_, i) => 64512 + i) },
      { type: 'sequence', asns: Array.from({ length: 233 }, (_, i) => i + 1) },
    ];
    const update: UpdateMessage = {
      type: 'update',
      withdrawnRoutes: [],
      pathAttributes: [
        { type: 'origin', origin: 'igp' },
        { type: 'as-path', segments },
        { type: 'next-hop', nextHop: ipv4(198, 51, 100, 11) },
      ],
      nlri: [prefix('203.0.113.0/24')],
    };
    const bytes = encodeUpdateMessage(update, FOUR);
    assert.equal(
      toHex(bytes.subarray(27, 31)),
      '50020fa0',
      'flags 0x50 (transitive, extended length), code 2, length 4000',
    );
    assert.deepEqual(outcomeOf(bytes), { kind: 'ok', update });
    assert.equal(asPathLength(segments), 255 * 2 + 1 + 233);
  });
});
