import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex } from '../testdata/hex-bytes.ts';
import * as linux from '../testdata/linux-captures.ts';
import { icmpv6Checksum, isIcmpv6ChecksumValid, onesComplementSum } from './icmpv6-checksum.ts';
import { decodeIpv6Packet } from './ipv6-packet.ts';

/** The IPv6 source, destination and ICMPv6 message of a captured Ethernet frame. */
function icmpOf(hex: string): { source: bigint; destination: bigint; message: Uint8Array } {
  const decoded = decodeIpv6Packet(fromHex(hex).subarray(14));
  if (!decoded.ok) assert.fail(decoded.error.message);
  return { source: decoded.value.source, destination: decoded.value.destination, message: decoded.value.payload };
}

/** message with its checksum field filled in. */
function signed(source: bigint, destination: bigint, message: Uint8Array): Uint8Array {
  const copy = message.slice();
  copy[2] = 0;
  copy[3] = 0;
  const checksum = icmpv6Checksum(source, destination, copy);
  copy[2] = checksum >>> 8;
  copy[3] = checksum & 0xff;
  return copy;
}

const ndpFrames = Object.values(linux)
  .flat()
  .filter((hex) => hex.slice(24, 28) === '86dd');

describe('onesComplementSum', () => {
  it('RFC 1071 section 3 numerical example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, checksum 220d', () => {
    const sum = onesComplementSum(fromHex('0001 f203 f4f5 f6f7'));
    assert.equal(sum, 0xddf2);
    assert.equal(~sum & 0xffff, 0x220d);
  });

  it('RFC 1071 section 4.1: an odd last byte counts as the high byte of a word', () => {
    assert.equal(onesComplementSum(fromHex('0001 f2')), 0xf201);
    assert.equal(onesComplementSum(new Uint8Array(0)), 0);
  });

  it('can be summed in parts: the tail summed onto the sum of the head is the sum of the whole (RFC 1071 section 2)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (bytes, cut) => {
        const at = (cut % (bytes.length + 1)) & ~1;
        assert.equal(
          onesComplementSum(bytes.subarray(at), onesComplementSum(bytes.subarray(0, at))),
          onesComplementSum(bytes),
        );
      }),
    );
  });
});

describe('icmpv6Checksum', () => {
  it('RFC 4443 section 2.3: every NDP message Linux sent verifies, and recomputing gives the captured value', () => {
    assert.equal(ndpFrames.length, 13);
    for (const hex of ndpFrames) {
      const { source, destination, message } = icmpOf(hex);
      assert.equal(isIcmpv6ChecksumValid(source, destination, message), true, hex);
      assert.deepEqual(signed(source, destination, message), message);
    }
  });

  it('RFC 8200 section 8.1: the pseudo-header counts, so another destination or source breaks the checksum', () => {
    const { source, destination, message } = icmpOf(ndpFrames[0]!);
    assert.equal(isIcmpv6ChecksumValid(source, destination + 1n, message), false);
    assert.equal(isIcmpv6ChecksumValid(source ^ (1n << 100n), destination, message), false);
    // ...and the upper-layer length: the same bytes plus a zero byte sum the same, but the length differs.
    const longer = new Uint8Array(message.length + 1);
    longer.set(message);
    assert.equal(isIcmpv6ChecksumValid(source, destination, longer), false);
  });

  it('a filled-in checksum verifies and any single flipped bit is detected (property)', () => {
    const anyAddress = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
    fc.assert(
      fc.property(
        anyAddress,
        anyAddress,
        fc.uint8Array({ minLength: 4, maxLength: 200 }),
        fc.nat(),
        (source, destination, body, bit) => {
          const message = signed(source, destination, body);
          assert.equal(isIcmpv6ChecksumValid(source, destination, message), true);
          const damaged = message.slice();
          const at = bit % (damaged.length * 8);
          damaged[at >>> 3] = (damaged[at >>> 3] ?? 0) ^ (0x80 >>> (at & 7));
          assert.equal(isIcmpv6ChecksumValid(source, destination, damaged), false);
        },
      ),
    );
  });
});
