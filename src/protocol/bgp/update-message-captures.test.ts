import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ipv4 } from '../../core/ip/ip-address.ts';
import * as peers from '../testdata/bgp-captures.ts';
import { capturedOfType, theCaptured } from '../testdata/bgp-arbitraries.ts';
import { toHex } from '../testdata/hex-bytes.ts';
import { formatAsPath } from './as-path.ts';
import { WELL_KNOWN_COMMUNITIES, formatCommunity, formatLargeCommunity } from './community.ts';
import { formatBgpPrefix } from './nlri-prefix.ts';
import type { PathAttribute } from './path-attribute.ts';
import { fourOctetAsPathOf, twoOctetAttributes } from './route-propagation.ts';
import {
  announcedPrefixes,
  decodeUpdateMessage,
  encodeUpdateMessage,
  endOfRibFamily,
  withdrawnPrefixes,
} from './update-message.ts';
import { FOUR, TWO, EBGP, ip, prefix, attributeTypes } from '../testdata/update-decoding.ts';

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
