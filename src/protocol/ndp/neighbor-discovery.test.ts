import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatMac } from '../ethernet/mac-address.ts';
import {
  FUZZ_RUNS,
  assertDecodeResult,
  decodeErrorOf,
  decoded,
  mutatedFrom,
  randomBytes,
} from '../testdata/decoder-fuzzing.ts';
import { atOffset, captured, fromHex, toHex } from '../testdata/hex-bytes.ts';
import * as linux from '../testdata/linux-captures.ts';
import { icmpv6Checksum } from './icmpv6-checksum.ts';
import { IPV6_ALL_NODES, IPV6_UNSPECIFIED, isIpv6Multicast } from './ipv6-packet.ts';
import {
  decodeNdpFrame,
  decodeNdpMessage,
  decodeNdpPacket,
  encodeNdpFrame,
  encodeNdpMessage,
  encodeNdpPacket,
  isNeighborSolicitationFrame,
  isSolicitedNodeMulticast,
  neighborAdvertisementFor,
  neighborAdvertisementFrameFor,
  solicitedNodeMulticast,
  unsolicitedNeighborAdvertisement,
  type NdpFrame,
  type NdpMessage,
  type NeighborAdvertisement,
  type NeighborSolicitation,
} from './neighbor-discovery.ts';

// RFC goldens: RFC 7042 documentation MACs, 2001:db8::/32 addresses. Checksums were computed by a separate Python
// implementation and confirmed by tcpdump -vv ("[icmp6 sum ok]").
const MAC_1 = '00:00:5e:00:53:01';
const MAC_2 = '00:00:5e:00:53:02';
const ADDR_1 = 0x2001_0db8_0000_0000_0000_0000_0000_0001n;
const ADDR_2 = 0x2001_0db8_0000_0000_0000_0000_0000_0002n;
const SOLICITED_2 = 0xff02_0000_0000_0000_0000_0001_ff00_0002n;
const ETH_IPV6 = (destination: string, source: string): string => `${destination} ${source} 86dd`;
const IPV6 = (length: string, source: string, destination: string): string =>
  `60000000 ${length} 3a ff ${source} ${destination}`;
const HEX_1 = '20010db8000000000000000000000001';
const HEX_2 = '20010db8000000000000000000000002';
const HEX_SOLICITED_2 = 'ff0200000000000000000001ff000002';
const HEX_UNSPECIFIED = '00000000000000000000000000000000';

/** RFC 4861 section 4.3 with the section 4.6.1 source link-layer address option: a multicast solicitation. */
const RFC_NS = fromHex(`${ETH_IPV6('3333ff000002', '00005e005301')} ${IPV6('0020', HEX_1, HEX_SOLICITED_2)}
  87 00 6d26 00000000 ${HEX_2}  01 01 00005e005301`);
/** RFC 4861 section 4.4: a solicited advertisement, S and O set, with the target link-layer address option. */
const RFC_NA = fromHex(`${ETH_IPV6('00005e005301', '00005e005302')} ${IPV6('0020', HEX_2, HEX_1)}
  88 00 db70 60000000 ${HEX_2}  02 01 00005e005302`);
/** RFC 4861 section 4.4: the same from a router, R set. */
const RFC_NA_ROUTER = fromHex(`${ETH_IPV6('00005e005301', '00005e005302')} ${IPV6('0020', HEX_2, HEX_1)}
  88 00 5b70 e0000000 ${HEX_2}  02 01 00005e005302`);
/** RFC 4862 section 5.4.2: Duplicate Address Detection, from :: to the solicited-node group, no options. */
const RFC_DAD = fromHex(`${ETH_IPV6('3333ff000002', '00005e005301')} ${IPV6('0018', HEX_UNSPECIFIED, HEX_SOLICITED_2)}
  87 00 4ceb 00000000 ${HEX_2}`);
/** RFC 7527 section 4.1 (enhanced DAD): the DAD solicitation with a Nonce option (type 14, RFC 3971 section 5.3.2). */
const RFC_DAD_NONCE =
  fromHex(`${ETH_IPV6('3333ff000002', '00005e005301')} ${IPV6('0020', HEX_UNSPECIFIED, HEX_SOLICITED_2)}
  87 00 35d6 00000000 ${HEX_2}  0e 01 010203040506`);
/** RFC 4861 section 7.2.6: an unsolicited advertisement to all-nodes, O set, S clear. */
const RFC_UNSOLICITED =
  fromHex(`${ETH_IPV6('333300000001', '00005e005302')} ${IPV6('0020', HEX_2, 'ff020000000000000000000000000001')}
  88 00 4a27 20000000 ${HEX_2}  02 01 00005e005302`);
/** RFC 4861 section 7.2.2: a unicast solicitation (as in NUD) that leaves the source link-layer address out. */
const RFC_UNICAST_NO_OPTION = fromHex(`${ETH_IPV6('00005e005302', '00005e005301')} ${IPV6('0018', HEX_1, HEX_2)}
  87 00 ef7c 00000000 ${HEX_2}`);
/** RFC 4861 section 4.6: an unrecognized 16-byte option (type 200) before the source link-layer address option. */
const RFC_UNKNOWN_OPTION = fromHex(`${ETH_IPV6('3333ff000002', '00005e005301')} ${IPV6('0030', HEX_1, HEX_SOLICITED_2)}
  87 00 a513 00000000 ${HEX_2}  c8 02 0000000000000000000000000000  01 01 00005e005301`);
const RFC_GOLDENS = [
  RFC_NS,
  RFC_NA,
  RFC_NA_ROUTER,
  RFC_DAD,
  RFC_DAD_NONCE,
  RFC_UNSOLICITED,
  RFC_UNICAST_NO_OPTION,
  RFC_UNKNOWN_OPTION,
];

const NS_1_TO_2: NeighborSolicitation = {
  type: 'neighbor-solicitation',
  source: ADDR_1,
  destination: SOLICITED_2,
  target: ADDR_2,
  sourceLinkLayerAddress: MAC_1,
};

// Offsets in an untagged NDP frame: Ethernet 0-13, IPv6 14-53 (hop limit 21), ICMPv6 from 54.
const ICMP = 54;

/** The frame with its ICMPv6 checksum recomputed, so that a test reaches the checks after the checksum. */
function resigned(frame: Uint8Array): Uint8Array {
  const copy = frame.slice();
  if (copy.length < ICMP + 4 || copy[12] !== 0x86 || copy[13] !== 0xdd) return copy;
  const view = new DataView(copy.buffer);
  const end = Math.min(copy.length, ICMP + view.getUint16(18));
  if (end < ICMP + 4) return copy;
  view.setUint16(ICMP + 2, 0);
  const address = (offset: number): bigint => (view.getBigUint64(offset) << 64n) | view.getBigUint64(offset + 8);
  view.setUint16(ICMP + 2, icmpv6Checksum(address(22), address(38), copy.subarray(ICMP, end)));
  return copy;
}

/** The frame with bytes replaced at `offset` and, unless told otherwise, the checksum recomputed. */
function changed(frame: Uint8Array, offset: number, values: number[], resign = true): Uint8Array {
  const copy = frame.slice();
  copy.set(values, offset);
  return resign ? resigned(copy) : copy;
}

/** The frame with the ICMPv6 message replaced (IPv6 payload length adjusted, checksum recomputed). */
function withMessage(frame: Uint8Array, message: Uint8Array): Uint8Array {
  const copy = new Uint8Array(ICMP + message.length);
  copy.set(frame.subarray(0, ICMP));
  copy.set(message, ICMP);
  new DataView(copy.buffer).setUint16(18, message.length);
  return resigned(copy);
}

describe('NDP golden bytes from the RFCs', () => {
  it('RFC 4861 sections 4.3 and 4.6.1: a multicast solicitation with a source link-layer address option', () => {
    const frame: NdpFrame = { destination: '33:33:ff:00:00:02', source: MAC_1, message: NS_1_TO_2 };
    assert.deepEqual(decoded(decodeNdpFrame(RFC_NS)), frame);
    assert.equal(toHex(encodeNdpFrame(frame)), toHex(RFC_NS));
    assert.equal(
      toHex(encodeNdpFrame({ source: MAC_1, message: NS_1_TO_2 })),
      toHex(RFC_NS),
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
    assert.deepEqual(decoded(decodeNdpFrame(RFC_NA)), { destination: MAC_1, source: MAC_2, message });
    assert.equal(toHex(encodeNdpFrame({ destination: MAC_1, source: MAC_2, message })), toHex(RFC_NA));
    const router = { ...message, router: true };
    assert.deepEqual(decoded(decodeNdpFrame(RFC_NA_ROUTER)).message, router);
    assert.equal(toHex(encodeNdpFrame({ destination: MAC_1, source: MAC_2, message: router })), toHex(RFC_NA_ROUTER));
  });

  it('RFC 4861 section 7.2.4: the answer to the section 4.3 solicitation is the section 4.4 advertisement', () => {
    const request = decoded(decodeNdpFrame(RFC_NS));
    assert.ok(isNeighborSolicitationFrame(request));
    assert.equal(toHex(encodeNdpFrame(neighborAdvertisementFrameFor(request, MAC_2, ADDR_2))), toHex(RFC_NA));
  });

  it('RFC 4862 section 5.4.2: a DAD solicitation from :: without any option decodes, and is answered to ff02::1 with S clear', () => {
    const request = decoded(decodeNdpFrame(RFC_DAD));
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
      toHex(RFC_UNSOLICITED),
      'the same bytes as an unsolicited advertisement',
    );
  });

  it('RFC 7527 section 4.1: the nonce option of enhanced DAD is skipped', () => {
    assert.deepEqual(decoded(decodeNdpFrame(RFC_DAD_NONCE)).message, decoded(decodeNdpFrame(RFC_DAD)).message);
  });

  it('RFC 4861 section 4.6: unrecognized options are skipped and the link-layer address option after them is found', () => {
    assert.deepEqual(decoded(decodeNdpFrame(RFC_UNKNOWN_OPTION)).message, NS_1_TO_2);
  });

  it('RFC 4861 section 7.2.2: a unicast solicitation without a source link-layer address option decodes (MetalLB drops it)', () => {
    const request = decoded(decodeNdpFrame(RFC_UNICAST_NO_OPTION));
    assert.deepEqual(request, {
      destination: MAC_2,
      source: MAC_1,
      message: { type: 'neighbor-solicitation', source: ADDR_1, destination: ADDR_2, target: ADDR_2 },
    });
    assert.ok(isNeighborSolicitationFrame(request));
    const answer = neighborAdvertisementFrameFor(request, MAC_2, ADDR_2);
    assert.equal(answer.destination, MAC_1, 'back to the Ethernet source of the solicitation');
    assert.equal(toHex(encodeNdpFrame(answer)), toHex(RFC_NA));
  });

  it('RFC 4861 section 7.2.6: unsolicitedNeighborAdvertisement is the all-nodes advertisement with O set', () => {
    const message = unsolicitedNeighborAdvertisement(MAC_2, ADDR_2);
    assert.deepEqual(decoded(decodeNdpFrame(RFC_UNSOLICITED)), {
      destination: '33:33:00:00:00:01',
      source: MAC_2,
      message,
    });
    assert.equal(toHex(encodeNdpFrame({ source: MAC_2, message })), toHex(RFC_UNSOLICITED));
    assert.equal(unsolicitedNeighborAdvertisement(MAC_2, ADDR_2, ADDR_1).source, ADDR_1);
  });

  it('IEEE 802.1Q: a tagged solicitation decodes with its VLAN, and the answer goes back on it', () => {
    const tagged = new Uint8Array(RFC_NS.length + 4);
    tagged.set(RFC_NS.subarray(0, 12));
    tagged.set([0x81, 0x00, 0x00, 0x64], 12);
    tagged.set(RFC_NS.subarray(12), 16);
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
    ['7.1.1 hop limit 254 (forwarded)', changed(RFC_NS, 21, [254]), 'invalid', /hop limit 254, not 255/],
    ['7.1.1 wrong checksum', changed(RFC_NS, ICMP + 3, [0x27], false), 'invalid', /checksum 0x6d27 is wrong/],
    ['7.1.1 ICMP code 1', changed(RFC_NS, ICMP + 1, [1]), 'invalid', /ICMP code 1, not 0/],
    [
      '7.1.1 ICMP length under 24',
      withMessage(RFC_NS, RFC_NS.subarray(ICMP, ICMP + 20)),
      'truncated',
      /has 20 bytes, at least 24/,
    ],
    ['7.1.1 multicast target', changed(RFC_NS, ICMP + 8, [0xff, 0x02]), 'invalid', /target is a multicast address/],
    ['7.1.1 option of length 0', changed(RFC_NS, ICMP + 25, [0]), 'malformed', /has length 0/],
    ['4.6 option running past the end', changed(RFC_NS, ICMP + 25, [2]), 'malformed', /is 16 bytes, only 8 remain/],
    [
      '4.6 a byte after the last option',
      withMessage(RFC_NS, fromHex(`${toHex(RFC_NS.subarray(ICMP))}00`)),
      'malformed',
      /1-byte fragment of an option/,
    ],
    [
      'RFC 2464 section 6: a source link-layer address option that is not 8 bytes',
      withMessage(RFC_NS, fromHex(`${toHex(RFC_NS.subarray(ICMP, ICMP + 24))} 0102 00005e005301 0000000000000000`)),
      'unsupported',
      /not Ethernet's 8/,
    ],
    [
      '7.1.1 from :: to a unicast address',
      changed(RFC_DAD, 38, [...fromHex(HEX_2)]),
      'invalid',
      /from :: must go to a solicited-node/,
    ],
    [
      '7.1.1 from :: with a source link-layer address option',
      withMessage(RFC_DAD, fromHex(`${toHex(RFC_DAD.subarray(ICMP))} 0101 00005e005301`)),
      'invalid',
      /from :: must not carry a source link-layer address option/,
    ],
    [
      '7.1.2 advertisement to a multicast address with S set',
      changed(RFC_UNSOLICITED, ICMP + 4, [0x60]),
      'invalid',
      /has the Solicited flag set/,
    ],
    ['7.1.2 advertisement with hop limit 64', changed(RFC_NA, 21, [64]), 'invalid', /hop limit 64/],
    [
      '7.1.2 advertisement for a multicast target',
      changed(RFC_NA, ICMP + 8, [0xff]),
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
    assert.deepEqual(decodeErrorOf(decodeNdpFrame(changed(RFC_NS, ICMP, [134]))), {
      reason: 'unsupported',
      message:
        'NDP: ICMPv6 type 134 (Router Advertisement) is neither Neighbor Solicitation (135) nor Advertisement (136)',
    });
    assert.equal(decodeErrorOf(decodeNdpFrame(changed(RFC_NS, 20, [0]))).reason, 'unsupported');
    assert.equal(decodeErrorOf(decodeNdpFrame(captured(linux.kernelPing4, 0))).reason, 'unsupported');
    assert.equal(decodeErrorOf(decodeNdpFrame(changed(RFC_NS, 14, [0x40]))).reason, 'malformed');
    assert.equal(decodeErrorOf(decodeNdpFrame(RFC_NS.subarray(0, 80))).reason, 'truncated');
    assert.equal(
      decodeErrorOf(
        decodeNdpMessage(RFC_NS.subarray(ICMP, ICMP + 3), { source: ADDR_1, destination: SOLICITED_2, hopLimit: 255 }),
      ).reason,
      'truncated',
    );
  });

  it('link-layer address options of the other kind and repeats are skipped: the first of the right kind counts', () => {
    const tllaInSolicitation = withMessage(
      RFC_NS,
      fromHex(`${toHex(RFC_NS.subarray(ICMP, ICMP + 24))} 0201 00005e005309`),
    );
    assert.deepEqual(decoded(decodeNdpFrame(tllaInSolicitation)).message, {
      type: 'neighbor-solicitation',
      source: ADDR_1,
      destination: SOLICITED_2,
      target: ADDR_2,
    });
    const twice = withMessage(RFC_NS, fromHex(`${toHex(RFC_NS.subarray(ICMP))} 0101 00005e005309`));
    assert.deepEqual(decoded(decodeNdpFrame(twice)).message, NS_1_TO_2);
  });

  it('reads a frame at a byteOffset inside a larger buffer', () => {
    assert.deepEqual(decoded(decodeNdpFrame(atOffset(RFC_NS))), decoded(decodeNdpFrame(RFC_NS)));
  });

  it('encodeNdpFrame needs a destination MAC for a unicast IPv6 destination (RangeError: a bug)', () => {
    const answer = neighborAdvertisementFor(NS_1_TO_2, MAC_2, ADDR_2);
    assert.throws(() => encodeNdpFrame({ source: MAC_2, message: answer }), RangeError);
    assert.throws(() => encodeNdpMessage({ ...answer, target: 1n << 128n }), RangeError);
    assert.throws(() => encodeNdpMessage({ ...answer, targetLinkLayerAddress: 'not a mac' }), RangeError);
  });
});

describe('NDP frames captured from Linux (capture-linux-frames.sh)', () => {
  const MAC_A = '02:bb:00:00:00:0a';
  const MAC_A_NEW = '02:bb:00:00:00:1a';
  const MAC_B = '02:bb:00:00:00:0b';
  const A = 0x2001_0db8_0100_0000_0000_0000_0000_000an;
  const B = 0x2001_0db8_0100_0000_0000_0000_0000_000bn;
  const SOLICITED_A = 0xff02_0000_0000_0000_0000_0001_ff00_000an;
  const SOLICITED_B = 0xff02_0000_0000_0000_0000_0001_ff00_000bn;
  const ns = (
    source: bigint,
    destination: bigint,
    target: bigint,
    sourceLinkLayerAddress?: string,
  ): NeighborSolicitation =>
    sourceLinkLayerAddress === undefined
      ? { type: 'neighbor-solicitation', source, destination, target }
      : { type: 'neighbor-solicitation', source, destination, target, sourceLinkLayerAddress };
  const na = (
    source: bigint,
    destination: bigint,
    flags: string,
    targetLinkLayerAddress?: string,
  ): NeighborAdvertisement => ({
    type: 'neighbor-advertisement',
    source,
    destination,
    target: source,
    router: flags.includes('R'),
    solicited: flags.includes('S'),
    override: flags.includes('O'),
    ...(targetLinkLayerAddress === undefined ? {} : { targetLinkLayerAddress }),
  });

  const cases: Array<[name: string, bytes: Uint8Array, expected: NdpFrame]> = [
    [
      'kernel solicitation (ping -6): to the solicited-node group, with a source link-layer address option',
      captured(linux.kernelPing6, 0),
      { destination: '33:33:ff:00:00:0b', source: MAC_A, message: ns(A, SOLICITED_B, B, MAC_A) },
    ],
    [
      'kernel answer to a multicast solicitation: unicast, S and O, target link-layer address option',
      captured(linux.kernelPing6, 1),
      { destination: MAC_A, source: MAC_B, message: na(B, A, 'SO', MAC_B) },
    ],
    [
      'ndisc6 solicitation: the same, but with a flow label',
      captured(linux.ndisc6Solicit, 0),
      {
        destination: '33:33:ff:00:00:0b',
        source: MAC_A,
        message: { ...ns(A, SOLICITED_B, B, MAC_A), flowLabel: 0x35cf6 },
      },
    ],
    [
      'kernel answer to a unicast solicitation: S only, no option (RFC 4861 7.2.4 "MAY be omitted")',
      captured(linux.injectedUnicastSolicit, 1),
      { destination: MAC_A, source: MAC_B, message: na(B, A, 'S') },
    ],
    [
      'python-built unicast solicitation without an option',
      captured(linux.injectedUnicastSolicitNoOption, 0),
      { destination: MAC_B, source: MAC_A, message: ns(A, B, B) },
    ],
    [
      'kernel resolving the soliciting address first before answering an option-less unicast solicitation',
      captured(linux.injectedUnicastSolicitNoOption, 1),
      { destination: '33:33:ff:00:00:0a', source: MAC_B, message: ns(B, SOLICITED_A, A, MAC_B) },
    ],
    [
      'python-built DAD solicitation from ::',
      captured(linux.injectedDadSolicit, 0),
      { destination: '33:33:ff:00:00:0b', source: MAC_A, message: ns(0n, SOLICITED_B, B) },
    ],
    [
      'kernel answer to DAD: to ff02::1, O only, from the target address',
      captured(linux.injectedDadSolicit, 1),
      { destination: '33:33:00:00:00:01', source: MAC_B, message: na(B, IPV6_ALL_NODES, 'O', MAC_B) },
    ],
    [
      'kernel unsolicited advertisement (ndisc_notify on a MAC change)',
      captured(linux.kernelNotify, 1),
      { destination: '33:33:00:00:00:01', source: MAC_A_NEW, message: na(A, IPV6_ALL_NODES, 'O', MAC_A_NEW) },
    ],
  ];
  for (const [name, bytes, expected] of cases) {
    it(`${name}: every field, and re-encoding gives the same bytes`, () => {
      assert.deepEqual(decoded(decodeNdpFrame(bytes)), expected);
      assert.equal(toHex(encodeNdpFrame(expected)), toHex(bytes));
    });
  }

  it('every captured NDP frame decodes and re-encodes to the same bytes', () => {
    const frames = Object.values(linux)
      .flat()
      .filter((hex) => hex.slice(24, 28) === '86dd');
    assert.equal(frames.length, 13);
    for (const hex of frames) assert.equal(toHex(encodeNdpFrame(decoded(decodeNdpFrame(fromHex(hex))))), hex);
  });

  it('neighborAdvertisementFrameFor answers multicast and DAD solicitations exactly as the Linux kernel did', () => {
    for (const [list, index] of [
      [linux.kernelPing6, 0],
      [linux.ndisc6Solicit, 0],
      [linux.injectedDadSolicit, 0],
    ] as const) {
      const request = decoded(decodeNdpFrame(captured(list, index)));
      assert.ok(isNeighborSolicitationFrame(request));
      assert.equal(
        toHex(encodeNdpFrame(neighborAdvertisementFrameFor(request, MAC_B, B))),
        toHex(captured(list, index + 1)),
      );
    }
  });

  it('unsolicitedNeighborAdvertisement is byte for byte the kernel announcement', () => {
    assert.equal(
      toHex(encodeNdpFrame({ source: MAC_A_NEW, message: unsolicitedNeighborAdvertisement(MAC_A_NEW, A) })),
      toHex(captured(linux.kernelNotify, 1)),
    );
  });

  it('to a unicast solicitation we answer with O set and our MAC where Linux leaves both out, and skip its extra resolution', () => {
    for (const list of [linux.injectedUnicastSolicit, linux.injectedUnicastSolicitNoOption]) {
      const request = decoded(decodeNdpFrame(captured(list, 0)));
      assert.ok(isNeighborSolicitationFrame(request));
      const ours = neighborAdvertisementFrameFor(request, MAC_B, B);
      const linuxAnswer = decoded(decodeNdpFrame(captured(list, list.length - 1)));
      assert.deepEqual(ours, {
        ...linuxAnswer,
        message: { ...linuxAnswer.message, override: true, targetLinkLayerAddress: MAC_B },
      });
    }
  });
});

const anyAddress = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
const anyUnicast = anyAddress.filter((addr) => !isIpv6Multicast(addr));
const anyMac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((bytes) => formatMac(bytes));
const anyIpExtras = fc
  .tuple(
    fc.option(fc.integer({ min: 1, max: 255 }), { nil: undefined }),
    fc.option(fc.integer({ min: 1, max: 0xfffff }), { nil: undefined }),
  )
  .map(([trafficClass, flowLabel]) => ({
    ...(trafficClass === undefined ? {} : { trafficClass }),
    ...(flowLabel === undefined ? {} : { flowLabel }),
  }));

/** Valid solicitations: multicast or unicast, and DAD (from ::, to the target's group, no option). */
const anySolicitation: fc.Arbitrary<NeighborSolicitation> = fc
  .tuple(
    anyUnicast.filter((addr) => addr !== IPV6_UNSPECIFIED),
    anyAddress,
    anyUnicast,
    fc.option(anyMac, { nil: undefined }),
    fc.constantFrom('multicast', 'unicast', 'dad'),
    anyIpExtras,
  )
  .map(([source, destination, target, mac, kind, extras]) => {
    if (kind === 'dad')
      return {
        type: 'neighbor-solicitation',
        source: 0n,
        destination: solicitedNodeMulticast(target),
        target,
        ...extras,
      };
    const base = {
      type: 'neighbor-solicitation' as const,
      source,
      destination: kind === 'multicast' ? solicitedNodeMulticast(target) : destination,
      target,
      ...extras,
    };
    return mac === undefined ? base : { ...base, sourceLinkLayerAddress: mac };
  });

/** Valid advertisements: S only when the destination is unicast. */
const anyAdvertisement: fc.Arbitrary<NeighborAdvertisement> = fc
  .tuple(
    anyAddress,
    anyAddress,
    anyUnicast,
    fc.boolean(),
    fc.boolean(),
    fc.boolean(),
    fc.option(anyMac, { nil: undefined }),
    anyIpExtras,
  )
  .map(([source, destination, target, router, solicited, override, mac, extras]) => {
    const base = {
      type: 'neighbor-advertisement' as const,
      source,
      destination,
      target,
      router,
      solicited: solicited && !isIpv6Multicast(destination),
      override,
      ...extras,
    };
    return mac === undefined ? base : { ...base, targetLinkLayerAddress: mac };
  });

const anyMessage: fc.Arbitrary<NdpMessage> = fc.oneof(anySolicitation, anyAdvertisement);
const anyVlan = fc
  .tuple(fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 0, max: 7 }), fc.boolean())
  .map(([id, priority, dropEligible]) => ({ id, priority, dropEligible }));
const anyFrame: fc.Arbitrary<NdpFrame> = fc
  .tuple(anyMac, anyMac, anyMessage, fc.option(anyVlan, { nil: undefined }))
  .map(([destination, source, message, vlan]) =>
    vlan ? { destination, source, vlan, message } : { destination, source, message },
  );

describe('NDP round trips (property)', () => {
  it('any message: encodeNdpMessage then decodeNdpMessage with its IPv6 fields gives it back', () => {
    fc.assert(
      fc.property(anyMessage, (message) => {
        const ip = {
          source: message.source,
          destination: message.destination,
          hopLimit: 255,
          trafficClass: message.trafficClass ?? 0,
          flowLabel: message.flowLabel ?? 0,
        };
        assert.deepEqual(decoded(decodeNdpMessage(encodeNdpMessage(message), ip)), message);
      }),
    );
  });

  it('any message: encodeNdpPacket then decodeNdpPacket gives it back', () => {
    fc.assert(
      fc.property(anyMessage, (message) => {
        assert.deepEqual(decoded(decodeNdpPacket(encodeNdpPacket(message))), message);
      }),
    );
  });

  it('any frame, tagged or not: encodeNdpFrame then decodeNdpFrame gives it back', () => {
    fc.assert(
      fc.property(anyFrame, (frame) => {
        assert.deepEqual(decoded(decodeNdpFrame(encodeNdpFrame(frame))), frame);
      }),
    );
  });

  it('the answer to any valid solicitation is a valid advertisement that RFC 4861 section 7.2.4 asks for', () => {
    fc.assert(
      fc.property(anySolicitation, anyMac, anyUnicast, (ns, ownMac, ourAddress) => {
        const answer = neighborAdvertisementFor(ns, ownMac, ourAddress);
        assert.deepEqual(decoded(decodeNdpPacket(encodeNdpPacket(answer))), answer);
        assert.equal(answer.target, ns.target);
        assert.equal(answer.targetLinkLayerAddress, ownMac);
        assert.equal(answer.override, true);
        assert.equal(answer.router, false);
        assert.equal(answer.solicited, ns.source !== IPV6_UNSPECIFIED);
        assert.equal(answer.destination, ns.source === IPV6_UNSPECIFIED ? IPV6_ALL_NODES : ns.source);
      }),
    );
  });
});

describe('NDP decoder fuzz', () => {
  const goldens = [
    ...RFC_GOLDENS,
    ...Object.values(linux)
      .flat()
      .filter((hex) => hex.slice(24, 28) === '86dd')
      .map(fromHex),
  ];

  function checkFrame(bytes: Uint8Array): void {
    const result = decodeNdpFrame(bytes);
    assertDecodeResult(result);
    if (result.ok) assert.deepEqual(decoded(decodeNdpFrame(encodeNdpFrame(result.value))), result.value);
  }
  function checkPacket(bytes: Uint8Array): void {
    const result = decodeNdpPacket(bytes);
    assertDecodeResult(result);
    if (result.ok) assert.deepEqual(decoded(decodeNdpPacket(encodeNdpPacket(result.value))), result.value);
  }

  it(`decodeNdpFrame never throws on random bytes (${FUZZ_RUNS} runs)`, () => {
    fc.assert(fc.property(randomBytes, checkFrame), { numRuns: FUZZ_RUNS });
  });

  it(`decodeNdpFrame never throws on damaged golden and Linux frames (${FUZZ_RUNS} runs)`, () => {
    fc.assert(fc.property(mutatedFrom(goldens), checkFrame), { numRuns: FUZZ_RUNS });
  });

  it(`decodeNdpFrame never throws on damaged frames whose checksum is then repaired, reaching the option parser (${FUZZ_RUNS} runs)`, () => {
    let decodedCount = 0;
    fc.assert(
      fc.property(mutatedFrom(goldens, resigned), (bytes) => {
        checkFrame(bytes);
        if (decodeNdpFrame(bytes).ok) decodedCount++;
      }),
      { numRuns: FUZZ_RUNS },
    );
    assert.ok(
      decodedCount > FUZZ_RUNS / 20,
      `only ${decodedCount} damaged frames decoded: the fuzz does not reach deep`,
    );
  });

  it(`decodeNdpPacket never throws on random bytes (${FUZZ_RUNS} runs)`, () => {
    fc.assert(fc.property(randomBytes, checkPacket), { numRuns: FUZZ_RUNS });
  });

  it(`decodeNdpPacket never throws on damaged golden and Linux packets (${FUZZ_RUNS} runs)`, () => {
    fc.assert(fc.property(mutatedFrom(goldens.map((frame) => frame.subarray(14))), checkPacket), {
      numRuns: FUZZ_RUNS,
    });
  });

  it(`decodeNdpMessage never throws on random bytes and IPv6 fields (${FUZZ_RUNS} runs)`, () => {
    const anyIp = fc
      .tuple(anyAddress, anyAddress, fc.oneof(fc.constant(255), fc.integer({ min: 0, max: 255 })))
      .map(([source, destination, hopLimit]) => ({ source, destination, hopLimit }));
    fc.assert(
      fc.property(randomBytes, anyIp, (bytes, ip) => {
        assertDecodeResult(decodeNdpMessage(bytes, ip));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it(`decodeNdpMessage never throws on damaged golden messages with repaired checksums (${FUZZ_RUNS} runs)`, () => {
    const messages = goldens.map((frame) => frame.subarray(ICMP));
    const ip = { source: ADDR_1, destination: SOLICITED_2, hopLimit: 255 };
    const sign = (message: Uint8Array): Uint8Array => {
      if (message.length < 4) return message;
      const copy = message.slice();
      copy[2] = 0;
      copy[3] = 0;
      const checksum = icmpv6Checksum(ip.source, ip.destination, copy);
      copy[2] = checksum >>> 8;
      copy[3] = checksum & 0xff;
      return copy;
    };
    fc.assert(
      fc.property(mutatedFrom(messages, sign), (bytes) => {
        const result = decodeNdpMessage(bytes, ip);
        assertDecodeResult(result);
        if (result.ok) assert.deepEqual(decoded(decodeNdpMessage(encodeNdpMessage(result.value), ip)), result.value);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
