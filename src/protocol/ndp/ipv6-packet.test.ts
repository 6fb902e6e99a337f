import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeErrorOf, decoded, roundTripCheck, fuzzDecoder, linuxFramesOfType } from '../testdata/decoder-fuzzing.ts';
import { atOffset, fromHex, toHex } from '../testdata/hex-bytes.ts';
import * as linux from '../testdata/linux-captures.ts';
import { IPV6_ALL_NODES, decodeIpv6Packet, encodeIpv6Packet, isIpv6Multicast, type Ipv6Packet } from './ipv6-packet.ts';

// RFC 8200 section 3: version 6, traffic class 0xb8 (DSCP EF), flow label 0x12345, payload length 8, next header 17
// (UDP), hop limit 64, 2001:db8::1 to 2001:db8::2, then 8 bytes of payload.
const RFC_8200_PACKET = fromHex(`
  6b812345 0008 11 40
  20010db8000000000000000000000001
  20010db8000000000000000000000002
  0035003500080000`);
const RFC_8200_FIELDS: Ipv6Packet = {
  trafficClass: 0xb8,
  flowLabel: 0x12345,
  nextHeader: 17,
  hopLimit: 64,
  source: 0x2001_0db8_0000_0000_0000_0000_0000_0001n,
  destination: 0x2001_0db8_0000_0000_0000_0000_0000_0002n,
  payload: fromHex('0035003500080000'),
};
const LINUX_IPV6 = linuxFramesOfType('86dd').map((frame) => frame.subarray(14));

describe('IPv6 header', () => {
  it('RFC 8200 section 3: every field of the header figure', () => {
    assert.deepEqual(decoded(decodeIpv6Packet(RFC_8200_PACKET)), RFC_8200_FIELDS);
    assert.equal(toHex(encodeIpv6Packet(RFC_8200_FIELDS)), toHex(RFC_8200_PACKET));
  });

  it('takes Payload Length bytes as the payload and ignores link-layer padding after them', () => {
    const padded = new Uint8Array(RFC_8200_PACKET.length + 6);
    padded.set(RFC_8200_PACKET);
    assert.deepEqual(decoded(decodeIpv6Packet(padded)), RFC_8200_FIELDS);
  });

  it('reads at a byteOffset inside a larger buffer', () => {
    assert.deepEqual(decoded(decodeIpv6Packet(atOffset(RFC_8200_PACKET))), RFC_8200_FIELDS);
  });

  it('decodes every IPv6 packet Linux sent (ndisc6 sets a flow label, the kernel does not) and re-encodes it', () => {
    assert.equal(LINUX_IPV6.length, 13);
    for (const bytes of LINUX_IPV6)
      assert.equal(toHex(encodeIpv6Packet(decoded(decodeIpv6Packet(bytes)))), toHex(bytes));
    assert.equal(decoded(decodeIpv6Packet(fromHex(linux.ndisc6Solicit[0]!).subarray(14))).flowLabel, 0x35cf6);
    assert.equal(decoded(decodeIpv6Packet(fromHex(linux.kernelPing6[0]!).subarray(14))).flowLabel, 0);
  });

  it('refuses a version other than 6 (malformed), and fewer bytes than the header or Payload Length (truncated)', () => {
    const version4 = RFC_8200_PACKET.slice();
    version4[0] = 0x45;
    assert.deepEqual(decodeErrorOf(decodeIpv6Packet(version4)), {
      reason: 'malformed',
      message: 'IPv6: version field is 4, not 6',
    });
    assert.equal(decodeErrorOf(decodeIpv6Packet(RFC_8200_PACKET.subarray(0, 39))).reason, 'truncated');
    assert.deepEqual(decodeErrorOf(decodeIpv6Packet(RFC_8200_PACKET.subarray(0, 47))), {
      reason: 'truncated',
      message: 'IPv6: payload length says 8 bytes, only 7 follow the header',
    });
  });

  it('throws RangeError on fields out of range (bugs)', () => {
    assert.throws(() => encodeIpv6Packet({ ...RFC_8200_FIELDS, flowLabel: 0x100000 }), RangeError);
    assert.throws(() => encodeIpv6Packet({ ...RFC_8200_FIELDS, trafficClass: 256 }), RangeError);
    assert.throws(() => encodeIpv6Packet({ ...RFC_8200_FIELDS, hopLimit: -1 }), RangeError);
    assert.throws(() => encodeIpv6Packet({ ...RFC_8200_FIELDS, source: 1n << 128n }), RangeError);
    assert.throws(() => encodeIpv6Packet({ ...RFC_8200_FIELDS, payload: new Uint8Array(0x10000) }), RangeError);
  });

  it('RFC 4291 section 2.7: multicast is ff00::/8', () => {
    assert.equal(isIpv6Multicast(IPV6_ALL_NODES), true);
    assert.equal(isIpv6Multicast(0xff02_0000_0000_0000_0000_0001_ff00_000bn), true);
    assert.equal(isIpv6Multicast(0xfe80_0000_0000_0000_0000_0000_0000_0001n), false);
    assert.equal(isIpv6Multicast(0n), false);
  });
});

const anyAddress = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
const anyPacket: fc.Arbitrary<Ipv6Packet> = fc
  .tuple(
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 0xfffff }),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0, max: 255 }),
    anyAddress,
    anyAddress,
    fc.uint8Array({ maxLength: 200 }),
  )
  .map(([trafficClass, flowLabel, nextHeader, hopLimit, source, destination, payload]) => ({
    trafficClass,
    flowLabel,
    nextHeader,
    hopLimit,
    source,
    destination,
    payload,
  }));

describe('IPv6 round trip (property) and fuzz', () => {
  it('any packet: encode then decode gives it back', () => {
    fc.assert(
      fc.property(anyPacket, (packet) => {
        assert.deepEqual(decoded(decodeIpv6Packet(encodeIpv6Packet(packet))), packet);
      }),
    );
  });

  fuzzDecoder(
    'decodeIpv6Packet',
    roundTripCheck(decodeIpv6Packet, encodeIpv6Packet),
    [RFC_8200_PACKET, ...LINUX_IPV6],
    'packets',
  );
});
