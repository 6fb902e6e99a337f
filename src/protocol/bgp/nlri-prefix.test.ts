import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ipv4 } from '../../core/ip/ip-address.ts';
import { ipv4Prefix, ipv6Prefix } from '../testdata/bgp-arbitraries.ts';
import { FUZZ_RUNS } from '../testdata/decoder-fuzzing.ts';
import { atOffset, fromHex, toHex } from '../testdata/hex-bytes.ts';
import {
  decodePrefixes,
  encodePrefixes,
  encodedPrefixLength,
  formatBgpPrefix,
  parseBgpPrefix,
  prefixRange,
  type BgpPrefix,
} from './nlri-prefix.ts';

function prefix(text: string): BgpPrefix {
  const parsed = parseBgpPrefix(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

describe('NLRI prefixes (RFC 4271 section 4.3, RFC 4760 section 5)', () => {
  it('RFC 4271 section 4.3: length in bits, then the fewest bytes that hold them', () => {
    const prefixes = ['203.0.113.0/24', '203.0.113.10/32', '0.0.0.0/0', '198.51.100.128/25'].map(prefix);
    const bytes = fromHex('18 cb0071  20 cb00710a  00  19 c6336480');
    assert.equal(toHex(encodePrefixes(prefixes)), toHex(bytes));
    assert.deepEqual(decodePrefixes(atOffset(bytes), 0, bytes.length, 4), { ok: true, value: prefixes });
    assert.deepEqual(prefixes.map(encodedPrefixLength), [4, 5, 1, 5]);
  });

  it('RFC 4760 section 5: IPv6 prefixes the same way', () => {
    const prefixes = ['2001:db8:ff::/48', '2001:db8::1/128', '::/0', '2001:db8:0:1::/64'].map(prefix);
    const bytes = fromHex('30 20010db800ff  80 20010db8000000000000000000000001  00  40 20010db800000001');
    assert.equal(toHex(encodePrefixes(prefixes)), toHex(bytes));
    assert.deepEqual(decodePrefixes(bytes, 0, bytes.length, 6), { ok: true, value: prefixes });
  });

  it('RFC 4271 section 4.3: trailing bits past the length are irrelevant and cleared on decode', () => {
    assert.deepEqual(decodePrefixes(fromHex('18 cb0071 17 cb0071'), 0, 8, 4), {
      ok: true,
      value: [prefix('203.0.113.0/24'), prefix('203.0.112.0/23')],
    });
    assert.deepEqual(decodePrefixes(fromHex('2f 20010db800ff'), 0, 7, 6), {
      ok: true,
      value: [prefix('2001:db8:fe::/47')],
    });
  });

  it('RFC 7606 section 5.3: a length past the maximum or a prefix past the end is an error', () => {
    const tooLong = decodePrefixes(fromHex('21 cb007100 00'), 0, 6, 4);
    assert.deepEqual(tooLong, { ok: false, error: 'prefix length 33 is longer than 32 bits' });
    assert.deepEqual(decodePrefixes(fromHex('81'), 0, 1, 6), {
      ok: false,
      error: 'prefix length 129 is longer than 128 bits',
    });
    assert.deepEqual(decodePrefixes(fromHex('18 cb00'), 0, 3, 4), {
      ok: false,
      error: 'a /24 prefix needs 3 bytes, only 2 remain',
    });
  });

  it('parse and format', () => {
    assert.equal(formatBgpPrefix(prefix('203.0.113.0/24')), '203.0.113.0/24');
    assert.equal(formatBgpPrefix(prefix('2001:db8::/32')), '2001:db8::/32');
    assert.equal(formatBgpPrefix(prefix('203.0.113.7')), '203.0.113.7/32');
    assert.equal(parseBgpPrefix('203.0.113.1/24').ok, false);
    assert.equal(parseBgpPrefix('203.0.113.0/33').ok, false);
    assert.equal(parseBgpPrefix('2001:db8::/129').ok, false);
    assert.deepEqual(prefixRange(prefix('203.0.113.0/24')), {
      family: 4,
      first: ipv4(203, 0, 113, 0),
      last: ipv4(203, 0, 113, 255),
    });
  });

  it('encoding refuses a prefix of the wrong family or length (RangeError)', () => {
    assert.throws(
      () => encodePrefixes([{ family: 4, address: prefix('2001:db8::/32').address, length: 32 }]),
      RangeError,
    );
    assert.throws(() => encodePrefixes([{ family: 4, address: ipv4(203, 0, 113, 0), length: 33 }]), RangeError);
  });

  it('property: decode(encode(prefixes)) for IPv4 and IPv6; text round trip', () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(ipv4Prefix), fc.array(ipv6Prefix)), (prefixes) => {
        const family = prefixes[0]?.family ?? 4;
        const bytes = encodePrefixes(prefixes);
        assert.deepEqual(decodePrefixes(bytes, 0, bytes.length, family), { ok: true, value: prefixes });
        for (const p of prefixes)
          if (p.family === 4 || p.address < 0xffff00000000n || p.address > 0xffffffffffffn)
            assert.deepEqual(parseBgpPrefix(formatBgpPrefix(p)), { ok: true, value: p });
      }),
    );
  });

  it(`fuzz: never throws (${FUZZ_RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(4 as const, 6 as const), (bytes, family) => {
        const result = decodePrefixes(bytes, 0, bytes.length, family);
        if (result.ok) for (const p of result.value) assert.ok(p.length <= (family === 4 ? 32 : 128));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
