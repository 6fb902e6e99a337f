import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IPV4_MAPPED_BASE, ipv4 } from '../../core/ip/ip-address.ts';
import { decodeErrorOf, decoded, roundTripCheck, fuzzDecoder, linuxFramesOfType } from '../testdata/decoder-fuzzing.ts';
import { atOffset, captured, fromHex, toHex } from '../testdata/hex-bytes.ts';
import * as linux from '../testdata/linux-captures.ts';
import {
  ARP_PACKET_LENGTH,
  arpReply,
  arpReplyFrame,
  decodeArpFrame,
  decodeArpPacket,
  encodeArpFrame,
  encodeArpPacket,
  gratuitousArp,
  gratuitousArpReply,
  gratuitousArpRequest,
  type ArpFrame,
  type ArpPacket,
} from './arp-packet.ts';
import { anyMac, anyVlan } from '../testdata/ethernet-arbitraries.ts';

const MAC_1 = '00:00:5e:00:53:01'; // RFC 7042 section 2.1.2 documentation addresses
const MAC_2 = '00:00:5e:00:53:02';
const IP_1 = ipv4(198, 51, 100, 1);
const IP_2 = ipv4(198, 51, 100, 2);
const UNSPECIFIED_V4 = ipv4(0, 0, 0, 0);

// Linux captures: a = veth-a (MAC changed to ..:1a before kernelNotify), b = veth-b.
const MAC_A = '02:bb:00:00:00:0a';
const MAC_A_NEW = '02:bb:00:00:00:1a';
const MAC_B = '02:bb:00:00:00:0b';
const IP_A = ipv4(198, 51, 100, 10);
const IP_B = ipv4(198, 51, 100, 11);

const unpadded = { padToMinimum: false } as const;

// RFC 826 "Packet format": ar$hrd 1 (Ethernet), ar$pro 0x0800, ar$hln 6, ar$pln 4, ar$op, then sha, spa, tha, tpa.
const REQUEST_PACKET = '0001 0800 06 04 0001 00005e005301 c6336401 000000000000 c6336402';
const REQUEST_FRAME = fromHex(`ffffffffffff 00005e005301 0806 ${REQUEST_PACKET}`);
const REPLY_FRAME = fromHex(
  '00005e005301 00005e005302 0806 0001 0800 06 04 0002 00005e005302 c6336402 00005e005301 c6336401',
);
const PADDING = '00'.repeat(18);

describe('ARP golden bytes from the RFCs', () => {
  it('RFC 826 packet format: a request from the figure', () => {
    const packet: ArpPacket = {
      op: 'request',
      senderMac: MAC_1,
      senderIp: IP_1,
      targetMac: '00:00:00:00:00:00',
      targetIp: IP_2,
    };
    assert.deepEqual(decoded(decodeArpPacket(fromHex(REQUEST_PACKET))), packet);
    assert.equal(toHex(encodeArpPacket(packet)), toHex(fromHex(REQUEST_PACKET)));
    assert.equal(encodeArpPacket(packet).length, ARP_PACKET_LENGTH);
  });

  it('RFC 826 packet reception: the reply swaps sender and target and fills in our MAC', () => {
    const request = decoded(decodeArpFrame(REQUEST_FRAME));
    const reply = arpReplyFrame(request, MAC_2);
    assert.deepEqual(reply, {
      destination: MAC_1,
      source: MAC_2,
      packet: { op: 'reply', senderMac: MAC_2, senderIp: IP_2, targetMac: MAC_1, targetIp: IP_1 },
    });
    assert.equal(toHex(encodeArpFrame(reply, unpadded)), toHex(REPLY_FRAME));
  });

  it('IEEE 802.3 minimum frame: encoded frames are padded to 60 bytes with zeros by default; both forms decode', () => {
    const frame = decoded(decodeArpFrame(REQUEST_FRAME));
    const padded = encodeArpFrame(frame);
    assert.equal(toHex(padded), toHex(REQUEST_FRAME) + PADDING);
    assert.deepEqual(decoded(decodeArpFrame(padded)), frame);
    assert.deepEqual(decoded(decodeArpFrame(fromHex(toHex(REQUEST_FRAME) + 'ab'.repeat(18)))), frame);
  });

  it('RFC 5227 section 2.1.1: a probe (sender IP 0.0.0.0, target MAC zero) decodes, and is answered to 0.0.0.0', () => {
    const probe = fromHex(
      `ffffffffffff 00005e005301 0806 0001 0800 06 04 0001 00005e005301 00000000 000000000000 c6336402`,
    );
    const frame = decoded(decodeArpFrame(probe));
    assert.equal(frame.packet.senderIp, UNSPECIFIED_V4);
    assert.deepEqual(arpReply(frame.packet, MAC_2), {
      op: 'reply',
      senderMac: MAC_2,
      senderIp: IP_2,
      targetMac: MAC_1,
      targetIp: UNSPECIFIED_V4,
    });
  });

  it('RFC 5227 section 3: an announcement is a broadcast request with sender IP = target IP, target MAC zero', () => {
    const announcement = fromHex(
      `ffffffffffff 00005e005301 0806 0001 0800 06 04 0001 00005e005301 c6336401 000000000000 c6336401 ${PADDING}`,
    );
    assert.equal(toHex(encodeArpFrame(gratuitousArpRequest(MAC_1, IP_1))), toHex(announcement));
    assert.deepEqual(gratuitousArp(MAC_1, IP_1), gratuitousArpRequest(MAC_1, IP_1));
  });

  it('RFC 5944 section 4.6: a gratuitous reply carries the announced MAC as target hardware address too', () => {
    const reply = fromHex(
      `ffffffffffff 00005e005301 0806 0001 0800 06 04 0002 00005e005301 c6336401 00005e005301 c6336401 ${PADDING}`,
    );
    assert.equal(toHex(encodeArpFrame(gratuitousArpReply(MAC_1, IP_1))), toHex(reply));
  });

  it('IEEE 802.1Q: a tagged request decodes with its VLAN, and the reply goes back on the same VLAN', () => {
    const tagged = fromHex(`ffffffffffff 00005e005301 8100 0064 0806 ${REQUEST_PACKET}`);
    const frame = decoded(decodeArpFrame(tagged));
    assert.deepEqual(frame.vlan, { id: 100, priority: 0, dropEligible: false });
    const reply = arpReplyFrame(frame, MAC_2);
    assert.deepEqual(reply.vlan, frame.vlan);
    assert.equal(toHex(encodeArpFrame(reply, unpadded)), toHex(REPLY_FRAME).replace('0806', '810000640806'));
    assert.deepEqual(encodeArpFrame(frame, unpadded), tagged);
  });
});

describe('ARP frames captured from Linux (capture-linux-frames.sh)', () => {
  const request = (senderMac: string, senderIp: bigint, targetMac: string, targetIp: bigint): ArpPacket => ({
    op: 'request',
    senderMac,
    senderIp,
    targetMac,
    targetIp,
  });
  const reply = (senderMac: string, senderIp: bigint, targetMac: string, targetIp: bigint): ArpPacket => ({
    op: 'reply',
    senderMac,
    senderIp,
    targetMac,
    targetIp,
  });
  const cases: Array<[name: string, bytes: Uint8Array, expected: ArpFrame]> = [
    [
      'kernel request (ping): broadcast, target MAC zero',
      captured(linux.kernelPing4, 0),
      { destination: 'ff:ff:ff:ff:ff:ff', source: MAC_A, packet: request(MAC_A, IP_A, '00:00:00:00:00:00', IP_B) },
    ],
    [
      'kernel reply: unicast to the requester',
      captured(linux.kernelPing4, 1),
      { destination: MAC_A, source: MAC_B, packet: reply(MAC_B, IP_B, MAC_A, IP_A) },
    ],
    [
      'kernel neighbor probe (NUD): a unicast request to the cached MAC, target MAC still zero',
      captured(linux.kernelProbe4, 0),
      { destination: MAC_B, source: MAC_A, packet: request(MAC_A, IP_A, '00:00:00:00:00:00', IP_B) },
    ],
    [
      'arping request: target MAC ff:ff:ff:ff:ff:ff',
      captured(linux.arpingRequest, 0),
      { destination: 'ff:ff:ff:ff:ff:ff', source: MAC_A, packet: request(MAC_A, IP_A, 'ff:ff:ff:ff:ff:ff', IP_B) },
    ],
    [
      'arping -U: unsolicited request, sender IP = target IP, target MAC ff:ff:ff:ff:ff:ff',
      captured(linux.arpingUnsolicited, 0),
      { destination: 'ff:ff:ff:ff:ff:ff', source: MAC_A, packet: request(MAC_A, IP_A, 'ff:ff:ff:ff:ff:ff', IP_A) },
    ],
    [
      'arping -A: broadcast reply, sender IP = target IP, target MAC = own MAC',
      captured(linux.arpingAnswer, 0),
      { destination: 'ff:ff:ff:ff:ff:ff', source: MAC_A, packet: reply(MAC_A, IP_A, MAC_A, IP_A) },
    ],
    [
      'arping -D: RFC 5227 probe from 0.0.0.0',
      captured(linux.arpingDuplicate, 0),
      {
        destination: 'ff:ff:ff:ff:ff:ff',
        source: MAC_A,
        packet: request(MAC_A, UNSPECIFIED_V4, 'ff:ff:ff:ff:ff:ff', IP_B),
      },
    ],
    [
      'kernel reply to the probe: to 0.0.0.0 at the prober MAC',
      captured(linux.arpingDuplicate, 1),
      { destination: MAC_A, source: MAC_B, packet: reply(MAC_B, IP_B, MAC_A, UNSPECIFIED_V4) },
    ],
    [
      'kernel gratuitous ARP (arp_notify on a MAC change): RFC 5227 announcement',
      captured(linux.kernelNotify, 0),
      {
        destination: 'ff:ff:ff:ff:ff:ff',
        source: MAC_A_NEW,
        packet: request(MAC_A_NEW, IP_A, '00:00:00:00:00:00', IP_A),
      },
    ],
  ];

  for (const [name, bytes, expected] of cases) {
    it(`${name}: every field, and re-encoding gives the same 42 bytes`, () => {
      assert.equal(bytes.length, 42, 'Linux does not pad on veth');
      assert.deepEqual(decoded(decodeArpFrame(bytes)), expected);
      assert.equal(toHex(encodeArpFrame(expected, unpadded)), toHex(bytes));
    });
  }

  it('every captured ARP frame decodes and re-encodes to the same bytes', () => {
    const arpFrames = Object.values(linux)
      .flat()
      .filter((hex) => hex.slice(24, 28) === '0806');
    assert.equal(arpFrames.length, 13);
    for (const hex of arpFrames)
      assert.equal(toHex(encodeArpFrame(decoded(decodeArpFrame(fromHex(hex))), unpadded)), hex);
  });

  it('arpReplyFrame answers requests exactly as the Linux kernel did: ping, arping, probe from 0.0.0.0', () => {
    for (const [list, index] of [
      [linux.kernelPing4, 0],
      [linux.kernelProbe4, 0],
      [linux.arpingRequest, 0],
      [linux.arpingDuplicate, 0],
    ] as const) {
      const request = decoded(decodeArpFrame(captured(list, index)));
      assert.equal(toHex(encodeArpFrame(arpReplyFrame(request, MAC_B), unpadded)), toHex(captured(list, index + 1)));
    }
  });

  it('gratuitousArpRequest is byte for byte the kernel announcement; gratuitousArpReply is arping -A', () => {
    assert.equal(
      toHex(encodeArpFrame(gratuitousArpRequest(MAC_A_NEW, IP_A), unpadded)),
      toHex(captured(linux.kernelNotify, 0)),
    );
    assert.equal(
      toHex(encodeArpFrame(gratuitousArpReply(MAC_A, IP_A), unpadded)),
      toHex(captured(linux.arpingAnswer, 0)),
    );
    // arping -U differs from the kernel's announcement only in the target MAC it does not care about.
    const arpingU = decoded(decodeArpFrame(captured(linux.arpingUnsolicited, 0)));
    assert.deepEqual({ ...arpingU.packet, targetMac: '00:00:00:00:00:00' }, gratuitousArpRequest(MAC_A, IP_A).packet);
  });
});

describe('decodeArpPacket and decodeArpFrame refuse what they do not handle', () => {
  const packet = fromHex(REQUEST_PACKET);
  function withBytes(offset: number, ...values: number[]): Uint8Array {
    const copy = packet.slice();
    copy.set(values, offset);
    return copy;
  }

  it('other hardware types, protocol types, address lengths and operations are unsupported', () => {
    assert.deepEqual(decodeErrorOf(decodeArpPacket(withBytes(0, 0, 6))), {
      reason: 'unsupported',
      message: 'ARP: hardware type 6 is not Ethernet (1)',
    });
    assert.deepEqual(decodeErrorOf(decodeArpPacket(withBytes(2, 0x86, 0xdd))), {
      reason: 'unsupported',
      message: 'ARP: protocol type 0x86dd is not IPv4 (0x0800)',
    });
    assert.equal(decodeErrorOf(decodeArpPacket(withBytes(4, 8))).reason, 'unsupported');
    assert.equal(decodeErrorOf(decodeArpPacket(withBytes(5, 16))).reason, 'unsupported');
    assert.deepEqual(decodeErrorOf(decodeArpPacket(withBytes(6, 0, 3))), {
      reason: 'unsupported',
      message: 'ARP: operation 3 (RARP request) is neither request (1) nor reply (2)',
    });
    assert.equal(decodeErrorOf(decodeArpPacket(withBytes(6, 0, 0))).reason, 'unsupported');
  });

  it('short packets are truncated', () => {
    assert.equal(decodeErrorOf(decodeArpPacket(packet.subarray(0, 27))).reason, 'truncated');
    assert.equal(decodeErrorOf(decodeArpPacket(packet.subarray(0, 7))).reason, 'truncated');
    assert.equal(decodeErrorOf(decodeArpFrame(REQUEST_FRAME.subarray(0, 41))).reason, 'truncated');
  });

  it('a frame with another EtherType is unsupported', () => {
    const ipv6 = captured(linux.kernelPing6, 0);
    assert.deepEqual(decodeErrorOf(decodeArpFrame(ipv6)), {
      reason: 'unsupported',
      message: 'ARP: frame has EtherType 0x86dd, not ARP (0x0806)',
    });
  });

  it('reads a packet at a byteOffset inside a larger buffer', () => {
    assert.deepEqual(decoded(decodeArpFrame(atOffset(REQUEST_FRAME))), decoded(decodeArpFrame(REQUEST_FRAME)));
  });

  it('encoding an IPv6 address or non-canonical MAC throws RangeError (a bug)', () => {
    const good: ArpPacket = { op: 'request', senderMac: MAC_1, senderIp: IP_1, targetMac: MAC_2, targetIp: IP_2 };
    assert.throws(() => encodeArpPacket({ ...good, targetIp: 0x2001_0db8_0000_0000_0000_0000_0000_0001n }), RangeError);
    assert.throws(() => encodeArpPacket({ ...good, senderIp: -1n }), RangeError);
    assert.throws(() => encodeArpPacket({ ...good, senderMac: '00:00:5E:00:53:01' }), RangeError);
  });
});

const anyIpv4 = fc.integer({ min: 0, max: 0xffff_ffff }).map((value) => IPV4_MAPPED_BASE + BigInt(value));
const anyPacket: fc.Arbitrary<ArpPacket> = fc
  .tuple(fc.constantFrom('request' as const, 'reply' as const), anyMac, anyIpv4, anyMac, anyIpv4)
  .map(([op, senderMac, senderIp, targetMac, targetIp]) => ({ op, senderMac, senderIp, targetMac, targetIp }));
const anyFrame: fc.Arbitrary<ArpFrame> = fc
  .tuple(anyMac, anyMac, anyPacket, fc.option(anyVlan, { nil: undefined }))
  .map(([destination, source, packet, vlan]) =>
    vlan ? { destination, source, vlan, packet } : { destination, source, packet },
  );

describe('ARP round trips (property)', () => {
  it('any packet: encode then decode gives it back', () => {
    fc.assert(
      fc.property(anyPacket, (packet) => {
        assert.deepEqual(decoded(decodeArpPacket(encodeArpPacket(packet))), packet);
      }),
    );
  });

  it('any frame, padded or not, tagged or not: encode then decode gives it back', () => {
    fc.assert(
      fc.property(anyFrame, fc.boolean(), (frame, padToMinimum) => {
        assert.deepEqual(decoded(decodeArpFrame(encodeArpFrame(frame, { padToMinimum }))), frame);
      }),
    );
  });

  it('the reply to any request is addressed to its sender and answers for its target', () => {
    fc.assert(
      fc.property(anyFrame, anyMac, (request, ownMac) => {
        const { destination, source, packet } = arpReplyFrame(request, ownMac);
        assert.equal(destination, request.packet.senderMac);
        assert.equal(source, ownMac);
        const asked = request.packet;
        assert.deepEqual(packet, {
          op: 'reply',
          senderMac: ownMac,
          senderIp: asked.targetIp,
          targetMac: asked.senderMac,
          targetIp: asked.senderIp,
        });
      }),
    );
  });
});

describe('ARP decoder fuzz', () => {
  const goldens = [REQUEST_FRAME, REPLY_FRAME, ...linuxFramesOfType('0806')];
  const checkFrame = roundTripCheck(decodeArpFrame, encodeArpFrame);
  const checkPacket = roundTripCheck(decodeArpPacket, encodeArpPacket);

  fuzzDecoder('decodeArpFrame', checkFrame, goldens, 'frames');
  fuzzDecoder(
    'decodeArpPacket',
    checkPacket,
    goldens.map((frame) => frame.subarray(14)),
    'packets',
  );
});
