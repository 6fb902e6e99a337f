import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ipv4, parseIp } from '../../core/ip/ip-address.ts';
import * as peers from '../testdata/bgp-captures.ts';
import {
  capturedOfType,
  codecContext,
  ipv4Prefix,
  ipv6Prefix,
  pathAttributes,
  theCaptured,
  updateMessage,
} from '../testdata/bgp-arbitraries.ts';
import { FUZZ_RUNS, mutatedFrom } from '../testdata/decoder-fuzzing.ts';
import { atOffset, fromHex, toHex } from '../testdata/hex-bytes.ts';
import { asPathLength, formatAsPath, type AsPathSegment } from './as-path.ts';
import { WELL_KNOWN_COMMUNITIES, formatCommunity, formatLargeCommunity } from './community.ts';
import { formatBgpPrefix, parseBgpPrefix, type BgpPrefix } from './nlri-prefix.ts';
import { UPDATE_ERROR } from './notification-message.ts';
import type { BgpCodecContext, PathAttribute } from './path-attribute.ts';
import { fourOctetAsPathOf, propagatedAttributes, twoOctetAttributes } from './route-propagation.ts';
import {
  announcedPrefixes,
  decodeUpdateBody,
  decodeUpdateMessage,
  encodeUpdateMessage,
  endOfRib,
  endOfRibFamily,
  prefixesToWithdraw,
  withdrawnPrefixes,
  type UpdateDecodeOutcome,
  type UpdateMessage,
} from './update-message.ts';
import { announcementUpdates, withdrawalUpdates } from './update-packing.ts';

const FOUR: BgpCodecContext = { fourOctetAs: true };
const TWO: BgpCodecContext = { fourOctetAs: false };
const EBGP: BgpCodecContext = { fourOctetAs: true, external: true };

function ip(text: string): bigint {
  const parsed = parseIp(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

function prefix(text: string): BgpPrefix {
  const parsed = parseBgpPrefix(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

function hex(bytes: number, width = 2): string {
  return bytes.toString(16).padStart(width * 2, '0');
}

/** An UPDATE message from the hex of its three fields; the lengths are computed. */
function updateBytes(withdrawn: string, attributes: string, nlri: string): Uint8Array {
  const w = fromHex(withdrawn);
  const a = fromHex(attributes);
  const n = fromHex(nlri);
  const length = 23 + w.length + a.length + n.length;
  return fromHex(
    `${'ff'.repeat(16)} ${hex(length)} 02 ${hex(w.length)} ${toHex(w)} ${hex(a.length)} ${toHex(a)} ${toHex(n)}`,
  );
}

/** ORIGIN IGP, AS_PATH [65001] (4-octet), NEXT_HOP 198.51.100.11: a well-formed base to add to or break. */
const ORIGIN = '40 01 01 00';
const AS_PATH = '40 02 06 02 01 0000fde9';
const NEXT_HOP = '40 03 04 c633640b';
const BASE = `${ORIGIN} ${AS_PATH} ${NEXT_HOP}`;
const NLRI_24 = '18 cb0071'; // 203.0.113.0/24

function outcomeOf(bytes: Uint8Array, context: BgpCodecContext = FOUR): UpdateDecodeOutcome {
  return decodeUpdateMessage(bytes, context);
}

function kindOf(outcome: UpdateDecodeOutcome): string {
  return outcome.kind;
}

function attributeTypes(outcome: UpdateDecodeOutcome): string[] {
  if (outcome.kind === 'session-reset') return [];
  return outcome.update.pathAttributes.map((attribute) => attribute.type);
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
    const bytes = updateBytes(
      '',
      `80 0e 2c 0002 01 20 20010db8000100000000000000000011 fe800000000000000000000000000011 00 30 20010db800ff ${ORIGIN} ${AS_PATH}`,
      '',
    );
    const outcome = outcomeOf(bytes);
    assert.equal(outcome.kind, 'ok');
    assert.deepEqual(outcome.update.pathAttributes[0], {
      type: 'mp-reach-nlri',
      family: 'ipv6-unicast',
      nextHop: ip('2001:db8:1::11'),
      linkLocalNextHop: ip('fe80::11'),
      nlri: [prefix('2001:db8:ff::/48')],
    });
    assert.equal(toHex(encodeUpdateMessage(outcome.update, FOUR)), toHex(bytes));
  });

  it('RFC 4760 section 3 and RFC 2545 section 3: MP_REACH_NLRI for IPv6 with only a global next hop (16 bytes)', () => {
    const bytes = updateBytes(
      '',
      `80 0e 26 0002 01 10 20010db8000100000000000000000011 00 80 20010db800ff00000000000000000010 ${ORIGIN} ${AS_PATH}`,
      '',
    );
    const outcome = outcomeOf(bytes);
    assert.equal(outcome.kind, 'ok');
    assert.deepEqual(announcedPrefixes(outcome.update), [prefix('2001:db8:ff::10/128')]);
    assert.equal(toHex(encodeUpdateMessage(outcome.update, FOUR)), toHex(bytes));
  });

  it('RFC 8950 section 3: MP_REACH_NLRI for IPv4 unicast with an IPv6 global and link-local next hop (32 bytes)', () => {
    const bytes = updateBytes(
      '',
      `80 0e 2e 0001 01 20 20010db8000100000000000000000011 fe800000000000000000000000000011 00 20 cb00710a 18 cb0071 ${ORIGIN} ${AS_PATH}`,
      '',
    );
    const outcome = outcomeOf(bytes);
    assert.equal(outcome.kind, 'ok');
    assert.deepEqual(outcome.update.pathAttributes[0], {
      type: 'mp-reach-nlri',
      family: 'ipv4-unicast',
      nextHop: ip('2001:db8:1::11'),
      linkLocalNextHop: ip('fe80::11'),
      nlri: [prefix('203.0.113.10/32'), prefix('203.0.113.0/24')],
    });
    assert.deepEqual(announcedPrefixes(outcome.update), [prefix('203.0.113.10/32'), prefix('203.0.113.0/24')]);
    assert.equal(toHex(encodeUpdateMessage(outcome.update, FOUR)), toHex(bytes));
  });

  it('RFC 8950 section 3: MP_REACH_NLRI for IPv4 unicast with a 16-byte IPv6 next hop; other lengths are malformed', () => {
    const bytes = updateBytes(
      '',
      `80 0e 1a 0001 01 10 fe800000000000000000000000000011 00 20 cb00710a ${ORIGIN} ${AS_PATH}`,
      '',
    );
    const outcome = outcomeOf(bytes);
    assert.equal(outcome.kind, 'ok');
    assert.deepEqual(outcome.update.pathAttributes[0], {
      type: 'mp-reach-nlri',
      family: 'ipv4-unicast',
      nextHop: ip('fe80::11'),
      nlri: [prefix('203.0.113.10/32')],
    });
    assert.equal(toHex(encodeUpdateMessage(outcome.update, FOUR)), toHex(bytes));
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
    const bytes = updateBytes('', '80 0f 08 0001 01 20 cb00710a', '');
    const outcome = outcomeOf(bytes);
    assert.equal(outcome.kind, 'ok');
    assert.deepEqual(withdrawnPrefixes(outcome.update), [prefix('203.0.113.10/32')]);
    assert.equal(toHex(encodeUpdateMessage(outcome.update, FOUR)), toHex(bytes));
    assert.equal(
      toHex(encodeUpdateMessage(withdrawalUpdates('ipv4-unicast', [prefix('203.0.113.10/32')], true)[0]!, FOUR)),
      toHex(bytes),
    );
  });

  it('RFC 4760 section 4: MP_UNREACH_NLRI withdraws IPv6 prefixes; no other attribute is needed', () => {
    const bytes = updateBytes('', '80 0f 0d 0002 01 40 20010db800000001 00', '');
    const outcome = outcomeOf(bytes);
    assert.equal(outcome.kind, 'ok');
    assert.deepEqual(withdrawnPrefixes(outcome.update), [prefix('2001:db8:0:1::/64'), prefix('::/0')]);
    assert.equal(toHex(encodeUpdateMessage(outcome.update, FOUR)), toHex(bytes));
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

describe('UPDATEs captured from real peers', () => {
  it('gobgpd, eBGP: MED, communities, large communities and AS_PATH from the RIB entry, NEXT_HOP rewritten to itself', () => {
    const { message } = theCaptured(
      peers.gobgpd,
      'update',
      FOUR,
      ({ session, message }) => session === 1 && message.nlri.some((p) => formatBgpPrefix(p) === '203.0.113.0/24'),
    );
    const byType = new Map(message.pathAttributes.map((attribute) => [attribute.type, attribute]));
    assert.deepEqual(byType.get('origin'), { type: 'origin', origin: 'igp' });
    const asPath = byType.get('as-path');
    assert.equal(asPath?.type === 'as-path' ? formatAsPath(asPath.segments) : '', '65000 65100 65200');
    assert.deepEqual(byType.get('multi-exit-disc'), { type: 'multi-exit-disc', med: 50 });
    const communities = byType.get('communities');
    assert.deepEqual(communities?.type === 'communities' ? communities.communities.map(formatCommunity) : [], [
      '65000:100',
      'no-export',
    ]);
    const large = byType.get('large-communities');
    assert.deepEqual(large?.type === 'large-communities' ? large.largeCommunities.map(formatLargeCommunity) : [], [
      '65000:1:2',
    ]);
    assert.deepEqual(byType.get('next-hop'), { type: 'next-hop', nextHop: ipv4(198, 51, 100, 1) });
    assert.equal(byType.has('local-pref'), false, 'no LOCAL_PREF to an external peer');
    // gobgpd puts NEXT_HOP last here, after LARGE_COMMUNITIES (code 32): attribute order is kept on re-encoding.
    assert.deepEqual(
      message.pathAttributes.map((attribute) => attribute.type),
      ['origin', 'as-path', 'multi-exit-disc', 'communities', 'large-communities', 'next-hop'],
    );
  });

  it('gobgpd, eBGP: two /32s with the same attributes share one UPDATE', () => {
    const { message } = theCaptured(
      peers.gobgpd,
      'update',
      FOUR,
      ({ session, message }) => session === 1 && message.nlri.length === 2,
    );
    assert.deepEqual(message.nlri.map(formatBgpPrefix), ['203.0.113.10/32', '203.0.113.11/32']);
  });

  it('gobgpd, eBGP: AS_SET, AGGREGATOR (4-octet form), ORIGIN incomplete, the no-advertise and blackhole communities', () => {
    const { message } = theCaptured(peers.gobgpd, 'update', FOUR, ({ step }) =>
      step.startsWith('added 203.0.113.20/32'),
    );
    assert.deepEqual(message.pathAttributes.slice(0, 4), [
      { type: 'origin', origin: 'incomplete' },
      {
        type: 'as-path',
        segments: [
          { type: 'sequence', asns: [65000, 65100] },
          { type: 'set', asns: [65201, 65202] },
        ],
      },
      { type: 'aggregator', asn: 65100, address: ipv4(198, 51, 100, 9) },
      { type: 'communities', communities: [WELL_KNOWN_COMMUNITIES['no-advertise'], WELL_KNOWN_COMMUNITIES.blackhole] },
    ]);
  });

  it('gobgpd, eBGP: IPv6 in MP_REACH_NLRI with a 16-byte next hop; MP_REACH_NLRI is not the first attribute', () => {
    const { message } = theCaptured(
      peers.gobgpd,
      'update',
      FOUR,
      ({ session, message }) =>
        session === 1 && announcedPrefixes(message).some((p) => formatBgpPrefix(p) === '2001:db8:ff::/48'),
    );
    const mpReach = message.pathAttributes.find((attribute) => attribute.type === 'mp-reach-nlri');
    assert.deepEqual(mpReach, {
      type: 'mp-reach-nlri',
      family: 'ipv6-unicast',
      nextHop: ip('2001:db8:1::1'),
      nlri: [prefix('2001:db8:ff::/48')],
    });
    assert.equal(message.pathAttributes.indexOf(mpReach), 3);
    const large = message.pathAttributes.find((attribute) => attribute.type === 'large-communities');
    assert.deepEqual(large?.type === 'large-communities' ? large.largeCommunities.map(formatLargeCommunity) : [], [
      '65000:6:6',
      '65000:6:7',
    ]);
  });

  it('gobgpd: withdrawals in the Withdrawn Routes field and in MP_UNREACH_NLRI', () => {
    const v4 = theCaptured(peers.gobgpd, 'update', FOUR, ({ step }) => step === 'deleted 203.0.113.20/32').message;
    assert.deepEqual(withdrawnPrefixes(v4).map(formatBgpPrefix), ['203.0.113.20/32']);
    const v6 = theCaptured(peers.gobgpd, 'update', FOUR, ({ step }) => step === 'deleted 2001:db8:ff::20/128').message;
    assert.deepEqual(withdrawnPrefixes(v6).map(formatBgpPrefix), ['2001:db8:ff::20/128']);
  });

  it('gobgpd and BIRD and FRR: End-of-RIB for both families after the initial table', () => {
    for (const list of [peers.gobgpd, peers.bird, peers.frr]) {
      const families = capturedOfType(list, 'update', FOUR)
        .filter(({ session }) => session === 1)
        .map(({ message }) => endOfRibFamily(message))
        .filter((family) => family !== undefined);
      assert.deepEqual(families.toSorted(), ['ipv4-unicast', 'ipv6-unicast']);
    }
  });

  it('gobgpd, iBGP: LOCAL_PREF 100, an empty AS_PATH; LOCAL_PREF is discarded when the peer is external (RFC 7606 section 7.5)', () => {
    const { bytes, message } = theCaptured(
      peers.gobgpd,
      'update',
      FOUR,
      ({ session, message }) => session === 2 && message.nlri.length === 2,
    );
    assert.deepEqual(
      message.pathAttributes.find((attribute) => attribute.type === 'local-pref'),
      { type: 'local-pref', localPref: 100 },
    );
    assert.deepEqual(
      message.pathAttributes.find((attribute) => attribute.type === 'as-path'),
      { type: 'as-path', segments: [] },
    );
    const external = decodeUpdateMessage(bytes, EBGP);
    assert.equal(external.kind, 'attribute-discard');
    assert.equal(attributeTypes(external).includes('local-pref'), false);
  });

  it('gobgpd to a 2-octet speaker (RFC 6793 section 4.2.2): AS_TRANS in AS_PATH and AGGREGATOR, the real numbers in AS4_PATH and AS4_AGGREGATOR', () => {
    const { bytes, message } = theCaptured(peers.gobgpdFourOctetAs, 'update', TWO, () => true);
    const byType = new Map(message.pathAttributes.map((attribute) => [attribute.type, attribute]));
    assert.deepEqual(byType.get('as-path'), {
      type: 'as-path',
      segments: [{ type: 'sequence', asns: [23456, 23456, 65100] }],
    });
    assert.deepEqual(byType.get('aggregator'), { type: 'aggregator', asn: 23456, address: ipv4(198, 51, 100, 9) });
    assert.deepEqual(byType.get('as4-path'), {
      type: 'as4-path',
      segments: [{ type: 'sequence', asns: [4200000000, 4200000001, 65100] }],
    });
    assert.deepEqual(byType.get('as4-aggregator'), {
      type: 'as4-aggregator',
      asn: 4200000001,
      address: ipv4(198, 51, 100, 9),
    });
    // RFC 6793 section 4.2.3: the real path, put back together.
    assert.equal(formatAsPath(fourOctetAsPathOf(message.pathAttributes) ?? []), '4200000000 4200000001 65100');
    // And our own conversion for a 2-octet peer gives what gobgpd sent (attribute order aside).
    const fourOctet: PathAttribute[] = [
      { type: 'origin', origin: 'igp' },
      { type: 'as-path', segments: [{ type: 'sequence', asns: [4200000000, 4200000001, 65100] }] },
      { type: 'aggregator', asn: 4200000001, address: ipv4(198, 51, 100, 9) },
      { type: 'next-hop', nextHop: ipv4(198, 51, 100, 1) },
    ];
    assert.deepEqual(twoOctetAttributes(fourOctet), message.pathAttributes);
    assert.equal(
      toHex(encodeUpdateMessage({ ...message, pathAttributes: twoOctetAttributes(fourOctet) }, TWO)),
      toHex(bytes),
    );
    // Between two 4-octet speakers AS4_PATH and AS4_AGGREGATOR are discarded (RFC 6793 section 3).
  });

  it('BIRD: MP_REACH_NLRI first, with the Extended Length bit on a 44-byte value and a 32-byte next hop (global + link-local)', () => {
    const { bytes, message } = theCaptured(
      peers.bird,
      'update',
      FOUR,
      ({ step, message }) =>
        step === 'initial table and End-of-RIB' && message.pathAttributes[0]?.type === 'mp-reach-nlri',
    );
    assert.deepEqual(message.pathAttributes[0], {
      type: 'mp-reach-nlri',
      family: 'ipv6-unicast',
      nextHop: ip('2001:db8:1::1'),
      linkLocalNextHop: ip('fe80::bb:ff:fe00:101'),
      nlri: [prefix('2001:db8:ff::/48')],
      extendedLength: true,
    });
    assert.equal(toHex(bytes.subarray(23, 27)), '900e002c');
  });

  it('FRR: AS_PATH with the Extended Length bit (flags 0x50), MED 0 on networks without a route-map', () => {
    const { message } = theCaptured(
      peers.frr,
      'update',
      FOUR,
      ({ step, message }) =>
        step === 'initial table and End-of-RIB' && message.nlri.some((p) => formatBgpPrefix(p) === '203.0.113.10/32'),
    );
    assert.deepEqual(message.pathAttributes, [
      { type: 'origin', origin: 'igp' },
      { type: 'as-path', segments: [{ type: 'sequence', asns: [65000] }], extendedLength: true },
      { type: 'next-hop', nextHop: ipv4(198, 51, 100, 1) },
      { type: 'multi-exit-disc', med: 0 },
    ]);
  });
});

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

describe('UPDATE round trips and building', () => {
  it('property: decode(encode(update)) gives the update back (never a session reset) for well-formed attributes', () => {
    fc.assert(
      fc.property(
        codecContext.chain((context) => fc.tuple(fc.constant(context), updateMessage(context))),
        ([context, update]) => {
          const outcome = decodeUpdateMessage(encodeUpdateMessage(update, context), context);
          assert.notEqual(outcome.kind, 'session-reset');
          assert.notEqual(outcome.kind, 'attribute-discard');
          if (outcome.kind === 'session-reset') return;
          assert.deepEqual(outcome.update, update);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('property: announcementUpdates packs any number of prefixes into UPDATEs of at most 4096 bytes that announce exactly them', () => {
    const announcement = fc.oneof(
      fc.tuple(fc.constant('ipv4-unicast' as const), fc.array(ipv4Prefix, { maxLength: 2000 })),
      fc.tuple(fc.constant('ipv6-unicast' as const), fc.array(ipv6Prefix, { maxLength: 1000 })),
    );
    // IPv4 with an IPv6 next hop (extended next hop, RFC 8950) goes in MP_REACH_NLRI like IPv6.
    const nextHopKind = fc.constantFrom('own', 'ipv6', 'ipv6+link-local');
    fc.assert(
      fc.property(announcement, pathAttributes(FOUR), nextHopKind, ([family, prefixes], attributes, kind) => {
        const nextHop = family === 'ipv4-unicast' && kind === 'own' ? ipv4(198, 51, 100, 11) : ip('2001:db8:1::11');
        const multiprotocol = family === 'ipv6-unicast' || kind !== 'own';
        const updates = announcementUpdates(
          {
            family,
            nextHop,
            attributes,
            prefixes,
            ...(kind === 'ipv6+link-local' ? { linkLocalNextHop: ip('fe80::11') } : {}),
          },
          FOUR,
        );
        const back: BgpPrefix[] = [];
        for (const update of updates) {
          const bytes = encodeUpdateMessage(update, FOUR);
          assert.ok(bytes.length <= 4096);
          const outcome = decodeUpdateMessage(bytes, FOUR);
          assert.notEqual(outcome.kind, 'session-reset');
          if (outcome.kind !== 'session-reset') back.push(...announcedPrefixes(outcome.update));
          if (multiprotocol) {
            assert.equal(update.pathAttributes[0]?.type, 'mp-reach-nlri', 'RFC 7606 section 5.1: MP_REACH_NLRI first');
            assert.equal(update.nlri.length, 0);
            assert.ok(!update.pathAttributes.some((a) => a.type === 'next-hop'), 'no NEXT_HOP with MP_REACH_NLRI');
          }
        }
        assert.deepEqual(back, prefixes);
        if (prefixes.length === 0) assert.equal(updates.length, 0);
      }),
      { numRuns: 100 },
    );
  });

  it('withdrawalUpdates: 1000 /32s fit in two UPDATEs (5 bytes each, 4073 bytes of room)', () => {
    const prefixes = Array.from({ length: 1000 }, (_, i) => ({
      family: 4 as const,
      address: ipv4(10, 0, i >> 8, i & 0xff),
      length: 32,
    }));
    const updates = withdrawalUpdates('ipv4-unicast', prefixes);
    assert.equal(updates.length, 2);
    assert.equal(updates[0]?.withdrawnRoutes.length, 814);
    assert.ok(updates.every((update) => encodeUpdateMessage(update, FOUR).length <= 4096));
    const v6 = withdrawalUpdates('ipv6-unicast', [prefix('2001:db8::1/128')]);
    assert.deepEqual(v6[0]?.pathAttributes, [
      { type: 'mp-unreach-nlri', family: 'ipv6-unicast', withdrawnRoutes: [prefix('2001:db8::1/128')] },
    ]);
  });

  it('RFC 4271 section 9: unrecognized optional transitive attributes go on with the Partial bit, non-transitive ones are dropped', () => {
    const attributes: PathAttribute[] = [
      { type: 'origin', origin: 'igp' },
      { type: 'other', code: 99, flags: 0xc0, value: Uint8Array.of(1) },
      { type: 'other', code: 98, flags: 0x80, value: Uint8Array.of(2) },
    ];
    assert.deepEqual(propagatedAttributes(attributes), [
      { type: 'origin', origin: 'igp' },
      { type: 'other', code: 99, flags: 0xe0, value: Uint8Array.of(1) },
    ]);
    const bytes = encodeUpdateMessage(
      { type: 'update', withdrawnRoutes: [], pathAttributes: propagatedAttributes(attributes), nlri: [] },
      FOUR,
    );
    assert.equal(toHex(bytes.subarray(23)), '40010100e0630101');
  });

  it('encoding refuses what the wire cannot carry (RangeError)', () => {
    const base = { type: 'update' as const, withdrawnRoutes: [], pathAttributes: [], nlri: [] };
    assert.throws(() => encodeUpdateMessage({ ...base, nlri: [prefix('2001:db8::/32')] }, FOUR), RangeError);
    assert.throws(
      () => encodeUpdateMessage({ ...base, nlri: Array.from({ length: 900 }, () => prefix('203.0.113.0/32')) }, FOUR),
      RangeError,
    );
    assert.throws(
      () =>
        encodeUpdateMessage(
          { ...base, pathAttributes: [{ type: 'as-path', segments: [{ type: 'sequence', asns: [] }] }] },
          FOUR,
        ),
      RangeError,
    );
    assert.throws(
      () => encodeUpdateMessage({ ...base, pathAttributes: [{ type: 'next-hop', nextHop: ip('2001:db8::1') }] }, FOUR),
      RangeError,
    );
  });
});
