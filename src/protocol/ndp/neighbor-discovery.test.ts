// NDP codec by the RFCs: golden bytes from RFC 4861 figures, and the section 7.1 validation of received messages.
// Linux captures: neighbor-discovery-linux.test.ts; round-trip properties and decoder fuzz: neighbor-discovery-properties.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeErrorOf, decoded } from '../testdata/decoder-fuzzing.ts';
import { atOffset, captured, fromHex, toHex } from '../testdata/hex-bytes.ts';
import * as linux from '../testdata/linux-captures.ts';
import { IPV6_ALL_NODES, IPV6_UNSPECIFIED, isIpv6Multicast } from './ipv6-packet.ts';
import {
  decodeNdpFrame,
  decodeNdpMessage,
  encodeNdpFrame,
  encodeNdpMessage,
  isNeighborSolicitationFrame,
  isSolicitedNodeMulticast,
  neighborAdvertisementFor,
  neighborAdvertisementFrameFor,
  solicitedNodeMulticast,
  unsolicitedNeighborAdvertisement,
  type NdpFrame,
  type NeighborAdvertisement,
} from './neighbor-discovery.ts';
import {
  MAC_1,
  MAC_2,
  ADDR_1,
  ADDR_2,
  SOLICITED_2,
  HEX_2,
  NS_1_TO_2,
  ICMP,
  changed,
  withMessage,
} from '../testdata/ndp-goldens.ts';
import * as rfc from '../testdata/ndp-goldens.ts';

describe('NDP golden bytes from the RFCs', () => {
  it('RFC 4861 sections 4.3 and 4.6.1: a multicast solicitation with a source link-layer address option', () => {
    const frame: NdpFrame = { destination: '33:33:ff:00:00:02', source: MAC_1, message: NS_1_TO_2 };
    assert.deepEqual(decoded(decodeNdpFrame(rfc.RFC_NS)), frame);
    assert.equal(toHex(encodeNdpFrame(frame)), toHex(rfc.RFC_NS));
    assert.equal(
      toHex(encodeNdpFrame({ source: MAC_1, message: NS_1_TO_2 })),
      toHex(rfc.RFC_NS),
      'the group MAC follows from ff02::1:ff00:2',
    );
  });

  it('RFC 4861 section 4.4: a solicited advertisement (S, O) with a target link-layer address option', () => {
    const message: NeighborAdvertisement = {
      type: 'neighbor-advertisement',
      source: ADDR_2,
      destination: ADDR_1,
      target: ADDR_2,
      router: false,
      solicited: true,
      override: true,
      targetLinkLayerAddress: MAC_2,
    };
    assert.deepEqual(decoded(decodeNdpFrame(rfc.RFC_NA)), { destination: MAC_1, source: MAC_2, message });
    assert.equal(toHex(encodeNdpFrame({ destination: MAC_1, source: MAC_2, message })), toHex(rfc.RFC_NA));
    const router = { ...message, router: true };
    assert.deepEqual(decoded(decodeNdpFrame(rfc.RFC_NA_ROUTER)).message, router);
    assert.equal(
      toHex(encodeNdpFrame({ destination: MAC_1, source: MAC_2, message: router })),
      toHex(rfc.RFC_NA_ROUTER),
    );
  });

  it('RFC 4861 section 7.2.4: the answer to the section 4.3 solicitation is the section 4.4 advertisement', () => {
    const request = decoded(decodeNdpFrame(rfc.RFC_NS));
    assert.ok(isNeighborSolicitationFrame(request));
    assert.equal(toHex(encodeNdpFrame(neighborAdvertisementFrameFor(request, MAC_2, ADDR_2))), toHex(rfc.RFC_NA));
  });

  it('RFC 4862 section 5.4.2: a DAD solicitation from :: without any option decodes, and is answered to ff02::1 with S clear', () => {
    const request = decoded(decodeNdpFrame(rfc.RFC_DAD));
    assert.deepEqual(request.message, {
      type: 'neighbor-solicitation',
      source: IPV6_UNSPECIFIED,
      destination: SOLICITED_2,
      target: ADDR_2,
    });
    assert.ok(isNeighborSolicitationFrame(request));
    const answer = neighborAdvertisementFrameFor(request, MAC_2, ADDR_2);
    assert.equal(answer.destination, '33:33:00:00:00:01');
    assert.equal(answer.message.destination, IPV6_ALL_NODES);
    assert.equal(answer.message.solicited, false);
    assert.equal(answer.message.override, true);
    assert.equal(
      toHex(encodeNdpFrame(answer)),
      toHex(rfc.RFC_UNSOLICITED),
      'the same bytes as an unsolicited advertisement',
    );
  });

  it('RFC 7527 section 4.1: the nonce option of enhanced DAD is skipped', () => {
    assert.deepEqual(decoded(decodeNdpFrame(rfc.RFC_DAD_NONCE)).message, decoded(decodeNdpFrame(rfc.RFC_DAD)).message);
  });

  it('RFC 4861 section 4.6: unrecognized options are skipped and the link-layer address option after them is found', () => {
    assert.deepEqual(decoded(decodeNdpFrame(rfc.RFC_UNKNOWN_OPTION)).message, NS_1_TO_2);
  });

  it('RFC 4861 section 7.2.2: a unicast solicitation without a source link-layer address option decodes (MetalLB drops it)', () => {
    const request = decoded(decodeNdpFrame(rfc.RFC_UNICAST_NO_OPTION));
    assert.deepEqual(request, {
      destination: MAC_2,
      source: MAC_1,
      message: { type: 'neighbor-solicitation', source: ADDR_1, destination: ADDR_2, target: ADDR_2 },
    });
    assert.ok(isNeighborSolicitationFrame(request));
    const answer = neighborAdvertisementFrameFor(request, MAC_2, ADDR_2);
    assert.equal(answer.destination, MAC_1, 'back to the Ethernet source of the solicitation');
    assert.equal(toHex(encodeNdpFrame(answer)), toHex(rfc.RFC_NA));
  });

  it('RFC 4861 section 7.2.6: unsolicitedNeighborAdvertisement is the all-nodes advertisement with O set', () => {
    const message = unsolicitedNeighborAdvertisement(MAC_2, ADDR_2);
    assert.deepEqual(decoded(decodeNdpFrame(rfc.RFC_UNSOLICITED)), {
      destination: '33:33:00:00:00:01',
      source: MAC_2,
      message,
    });
    assert.equal(toHex(encodeNdpFrame({ source: MAC_2, message })), toHex(rfc.RFC_UNSOLICITED));
    assert.equal(unsolicitedNeighborAdvertisement(MAC_2, ADDR_2, ADDR_1).source, ADDR_1);
  });

  it('IEEE 802.1Q: a tagged solicitation decodes with its VLAN, and the answer goes back on it', () => {
    const tagged = new Uint8Array(rfc.RFC_NS.length + 4);
    tagged.set(rfc.RFC_NS.subarray(0, 12));
    tagged.set([0x81, 0x00, 0x00, 0x64], 12);
    tagged.set(rfc.RFC_NS.subarray(12), 16);
    const request = decoded(decodeNdpFrame(tagged));
    assert.deepEqual(request.vlan, { id: 100, priority: 0, dropEligible: false });
    assert.ok(isNeighborSolicitationFrame(request));
    const answer = neighborAdvertisementFrameFor(request, MAC_2, ADDR_2);
    assert.deepEqual(answer.vlan, request.vlan);
    assert.deepEqual(encodeNdpFrame(request), tagged);
  });

  it('RFC 4291 section 2.7.1: the solicited-node address of 4037::01:800:200E:8C6C is FF02::1:FF0E:8C6C', () => {
    assert.equal(
      solicitedNodeMulticast(0x4037_0000_0000_0000_0000_0800_200e_8c6cn),
      0xff02_0000_0000_0000_0000_0001_ff0e_8c6cn,
    );
    assert.equal(solicitedNodeMulticast(ADDR_2), SOLICITED_2);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (addr) => {
        const group = solicitedNodeMulticast(addr);
        assert.ok(isSolicitedNodeMulticast(group));
        assert.ok(isIpv6Multicast(group));
        assert.equal(group & 0xff_ffffn, addr & 0xff_ffffn);
      }),
    );
  });
});

describe('RFC 4861 section 7.1 validation', () => {
  const cases: Array<[name: string, bytes: Uint8Array, reason: string, message: RegExp]> = [
    ['7.1.1 hop limit 254 (forwarded)', changed(rfc.RFC_NS, 21, [254]), 'invalid', /hop limit 254, not 255/],
    ['7.1.1 wrong checksum', changed(rfc.RFC_NS, ICMP + 3, [0x27], false), 'invalid', /checksum 0x6d27 is wrong/],
    ['7.1.1 ICMP code 1', changed(rfc.RFC_NS, ICMP + 1, [1]), 'invalid', /ICMP code 1, not 0/],
    [
      '7.1.1 ICMP length under 24',
      withMessage(rfc.RFC_NS, rfc.RFC_NS.subarray(ICMP, ICMP + 20)),
      'truncated',
      /has 20 bytes, at least 24/,
    ],
    ['7.1.1 multicast target', changed(rfc.RFC_NS, ICMP + 8, [0xff, 0x02]), 'invalid', /target is a multicast address/],
    ['7.1.1 option of length 0', changed(rfc.RFC_NS, ICMP + 25, [0]), 'malformed', /has length 0/],
    ['4.6 option running past the end', changed(rfc.RFC_NS, ICMP + 25, [2]), 'malformed', /is 16 bytes, only 8 remain/],
    [
      '4.6 a byte after the last option',
      withMessage(rfc.RFC_NS, fromHex(`${toHex(rfc.RFC_NS.subarray(ICMP))}00`)),
      'malformed',
      /1-byte fragment of an option/,
    ],
    [
      'RFC 2464 section 6: a source link-layer address option that is not 8 bytes',
      withMessage(
        rfc.RFC_NS,
        fromHex(`${toHex(rfc.RFC_NS.subarray(ICMP, ICMP + 24))} 0102 00005e005301 0000000000000000`),
      ),
      'unsupported',
      /not Ethernet's 8/,
    ],
    [
      '7.1.1 from :: to a unicast address',
      changed(rfc.RFC_DAD, 38, [...fromHex(HEX_2)]),
      'invalid',
      /from :: must go to a solicited-node/,
    ],
    [
      '7.1.1 from :: with a source link-layer address option',
      withMessage(rfc.RFC_DAD, fromHex(`${toHex(rfc.RFC_DAD.subarray(ICMP))} 0101 00005e005301`)),
      'invalid',
      /from :: must not carry a source link-layer address option/,
    ],
    [
      '7.1.2 advertisement to a multicast address with S set',
      changed(rfc.RFC_UNSOLICITED, ICMP + 4, [0x60]),
      'invalid',
      /has the Solicited flag set/,
    ],
    ['7.1.2 advertisement with hop limit 64', changed(rfc.RFC_NA, 21, [64]), 'invalid', /hop limit 64/],
    [
      '7.1.2 advertisement for a multicast target',
      changed(rfc.RFC_NA, ICMP + 8, [0xff]),
      'invalid',
      /target is a multicast address/,
    ],
  ];
  for (const [name, bytes, reason, message] of cases) {
    it(`${name}: ${reason}`, () => {
      const error = decodeErrorOf(decodeNdpFrame(bytes));
      assert.equal(error.reason, reason, error.message);
      assert.match(error.message, message);
    });
  }

  it('other ICMPv6 types, extension headers, other EtherTypes and other IP versions are refused with a reason', () => {
    assert.deepEqual(decodeErrorOf(decodeNdpFrame(changed(rfc.RFC_NS, ICMP, [134]))), {
      reason: 'unsupported',
      message:
        'NDP: ICMPv6 type 134 (Router Advertisement) is neither Neighbor Solicitation (135) nor Advertisement (136)',
    });
    assert.equal(decodeErrorOf(decodeNdpFrame(changed(rfc.RFC_NS, 20, [0]))).reason, 'unsupported');
    assert.equal(decodeErrorOf(decodeNdpFrame(captured(linux.kernelPing4, 0))).reason, 'unsupported');
    assert.equal(decodeErrorOf(decodeNdpFrame(changed(rfc.RFC_NS, 14, [0x40]))).reason, 'malformed');
    assert.equal(decodeErrorOf(decodeNdpFrame(rfc.RFC_NS.subarray(0, 80))).reason, 'truncated');
    assert.equal(
      decodeErrorOf(
        decodeNdpMessage(rfc.RFC_NS.subarray(ICMP, ICMP + 3), {
          source: ADDR_1,
          destination: SOLICITED_2,
          hopLimit: 255,
        }),
      ).reason,
      'truncated',
    );
  });

  it('link-layer address options of the other kind and repeats are skipped: the first of the right kind counts', () => {
    const tllaInSolicitation = withMessage(
      rfc.RFC_NS,
      fromHex(`${toHex(rfc.RFC_NS.subarray(ICMP, ICMP + 24))} 0201 00005e005309`),
    );
    assert.deepEqual(decoded(decodeNdpFrame(tllaInSolicitation)).message, {
      type: 'neighbor-solicitation',
      source: ADDR_1,
      destination: SOLICITED_2,
      target: ADDR_2,
    });
    const twice = withMessage(rfc.RFC_NS, fromHex(`${toHex(rfc.RFC_NS.subarray(ICMP))} 0101 00005e005309`));
    assert.deepEqual(decoded(decodeNdpFrame(twice)).message, NS_1_TO_2);
  });

  it('reads a frame at a byteOffset inside a larger buffer', () => {
    assert.deepEqual(decoded(decodeNdpFrame(atOffset(rfc.RFC_NS))), decoded(decodeNdpFrame(rfc.RFC_NS)));
  });

  it('encodeNdpFrame needs a destination MAC for a unicast IPv6 destination (RangeError: a bug)', () => {
    const answer = neighborAdvertisementFor(NS_1_TO_2, MAC_2, ADDR_2);
    assert.throws(() => encodeNdpFrame({ source: MAC_2, message: answer }), RangeError);
    assert.throws(() => encodeNdpMessage({ ...answer, target: 1n << 128n }), RangeError);
    assert.throws(() => encodeNdpMessage({ ...answer, targetLinkLayerAddress: 'not a mac' }), RangeError);
  });
});
