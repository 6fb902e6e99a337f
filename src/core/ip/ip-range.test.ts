import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IPV4_MAPPED_BASE, ipv4, type IpFamily } from './ip-address.ts';
import { formatIpRange, parseIpRange, prefixOf, rangeSize, rangesOverlap, type IpRange } from './ip-range.ts';

/** The parsed range, failing the test on an error. */
function parsed(text: string): IpRange {
  const result = parseIpRange(text);
  if (!result.ok) assert.fail(result.error);
  return result.value;
}

const MAX = (1n << 128n) - 1n;
const anyIpv4 = fc.integer({ min: 0, max: 0xffffffff }).map((v) => IPV4_MAPPED_BASE + BigInt(v));
// IPv6 addresses well away from the IPv4-mapped block (which sits in ::/64).
const anyIpv6 = fc.bigInt({ min: 1n << 64n, max: MAX });
const anyPrefix = fc.oneof(
  fc.tuple(anyIpv4, fc.integer({ min: 0, max: 32 }), fc.constant<IpFamily>(4)),
  fc.tuple(anyIpv6, fc.integer({ min: 64, max: 128 }), fc.constant<IpFamily>(6)),
);

/** The IPv4 range first..last, each given as four octets. */
function v4(first: [number, number, number, number], last: [number, number, number, number]): IpRange {
  return { family: 4, first: ipv4(...first), last: ipv4(...last) };
}

const DOC6 = 0x20010db8n << 96n;

/** The IPv6 range 2001:db8::+first .. 2001:db8::+last. */
function doc6(first: bigint, last: bigint): IpRange {
  return { family: 6, first: DOC6 + first, last: DOC6 + last };
}

describe('parseIpRange', () => {
  const valid: Array<[text: string, range: IpRange, formatted: string]> = [
    ['198.51.100.0/24', v4([198, 51, 100, 0], [198, 51, 100, 255]), '198.51.100.0/24'],
    ['198.51.100.0/25', v4([198, 51, 100, 0], [198, 51, 100, 127]), '198.51.100.0/25'],
    ['198.51.100.7/32', v4([198, 51, 100, 7], [198, 51, 100, 7]), '198.51.100.7/32'],
    ['0.0.0.0/0', v4([0, 0, 0, 0], [255, 255, 255, 255]), '0.0.0.0/0'],
    ['2001:db8::/64', doc6(0n, (1n << 64n) - 1n), '2001:db8::/64'],
    ['2001:db8::1/128', doc6(1n, 1n), '2001:db8::1/128'],
    ['2001:DB8:0:0::/64', doc6(0n, (1n << 64n) - 1n), '2001:db8::/64'],
    ['::ffff:198.51.100.0/120', v4([198, 51, 100, 0], [198, 51, 100, 255]), '198.51.100.0/24'],
    ['::ffff:0:0/96', v4([0, 0, 0, 0], [255, 255, 255, 255]), '0.0.0.0/0'],
    ['2000::/3', { family: 6, first: 0x2n << 124n, last: (0x4n << 124n) - 1n }, '2000::/3'],
    ['198.51.100.10-198.51.100.20', v4([198, 51, 100, 10], [198, 51, 100, 20]), '198.51.100.10-198.51.100.20'],
    ['198.51.100.10 - 198.51.100.20', v4([198, 51, 100, 10], [198, 51, 100, 20]), '198.51.100.10-198.51.100.20'],
    ['198.51.100.10  -198.51.100.20', v4([198, 51, 100, 10], [198, 51, 100, 20]), '198.51.100.10-198.51.100.20'],
    ['198.51.100.5-198.51.100.5', v4([198, 51, 100, 5], [198, 51, 100, 5]), '198.51.100.5/32'],
    ['198.51.100.0-198.51.100.255', v4([198, 51, 100, 0], [198, 51, 100, 255]), '198.51.100.0/24'],
    ['198.51.100.1-198.51.100.255', v4([198, 51, 100, 1], [198, 51, 100, 255]), '198.51.100.1-198.51.100.255'],
    ['2001:db8::10-2001:db8::ff', doc6(0x10n, 0xffn), '2001:db8::10-2001:db8::ff'],
    ['2001:db8::-2001:db8::ffff', doc6(0n, 0xffffn), '2001:db8::/112'],
    ['::ffff:1.2.3.4-1.2.3.9', v4([1, 2, 3, 4], [1, 2, 3, 9]), '1.2.3.4-1.2.3.9'],
  ];
  for (const [text, range, formatted] of valid) {
    it(`parses ${text} and formats it as ${formatted}`, () => {
      const result = parsed(text);
      assert.deepEqual(result, range);
      assert.equal(formatIpRange(result), formatted);
      assert.deepEqual(parsed(formatted), range);
    });
  }

  const rejected: Array<[text: string, error: string]> = [
    ['198.51.100.7/24', '198.51.100.7/24 has bits set past the prefix length; did you mean 198.51.100.0/24?'],
    ['2001:db8::1/64', '2001:db8::1/64 has bits set past the prefix length; did you mean 2001:db8::/64?'],
    [
      '::ffff:198.51.100.7/120',
      '::ffff:198.51.100.7/120 has bits set past the prefix length; did you mean ::ffff:198.51.100.0/120?',
    ],
    ['198.51.100.0/33', '198.51.100.0/33 is not a CIDR: prefix length 33 is out of range for IPv4 (0-32)'],
    ['2001:db8::/129', '2001:db8::/129 is not a CIDR: prefix length 129 is out of range for IPv6 (0-128)'],
    ['198.51.100.0/', '"198.51.100.0/" is not a CIDR: prefix length "" is not a number 0-32'],
    ['198.51.100.0/024', '"198.51.100.0/024" is not a CIDR: prefix length "024" is not a number 0-32'],
    ['198.51.100.0/ 24', '"198.51.100.0/ 24" is not a CIDR: prefix length " 24" is not a number 0-32'],
    ['198.51.100.0/24/25', '"198.51.100.0/24/25" is not a CIDR: it has more than one "/"'],
    [
      '198.51.100.256/24',
      '"198.51.100.256/24" is not a CIDR: "198.51.100.256" is not an IP address: octet 256 is out of range',
    ],
    ['::/64', '::/64 includes the IPv4-mapped block ::ffff:0:0/96; pool IPv4 addresses as an IPv4 CIDR or range'],
    ['198.51.100.20-198.51.100.10', 'range 198.51.100.20-198.51.100.10 is reversed; write 198.51.100.10-198.51.100.20'],
    ['198.51.100.1-2001:db8::1', 'range 198.51.100.1-2001:db8::1 mixes IPv4 and IPv6'],
    [
      '::1-::1:0:0:0',
      'range ::1-::1:0:0:0 includes the IPv4-mapped block ::ffff:0:0/96; pool IPv4 addresses as an IPv4 range',
    ],
    ['198.51.100.1-', '"198.51.100.1-" is not a range: the last address is missing'],
    ['-198.51.100.1', '"-198.51.100.1" is not a range: the first address is missing'],
    [
      '198.51.100.1-198.51.100.2-198.51.100.3',
      '"198.51.100.1-198.51.100.2-198.51.100.3" is not a range: it has more than one "-"',
    ],
    [
      '198.51.100.1-198.51.100.x',
      '"198.51.100.1-198.51.100.x" is not a range: "198.51.100.x" is not an IP address: octet "x" is not a decimal number',
    ],
    [
      '198.51.100.1\t-198.51.100.2',
      '"198.51.100.1\\t-198.51.100.2" is not a range: "198.51.100.1\\t" is not an IP address: it contains whitespace',
    ],
    ['198.51.100.7', '198.51.100.7 is a single address, not a range; write 198.51.100.7/32 to pool just that address'],
    ['2001:db8::7', '2001:db8::7 is a single address, not a range; write 2001:db8::7/128 to pool just that address'],
    [
      '',
      '"" is not an IP address: it is empty; a pool entry is a CIDR (198.51.100.0/24) or a range (198.51.100.10-198.51.100.20)',
    ],
    ['pool-a', '"pool" is not an IP address: expected a dotted-quad IPv4 address or an IPv6 address'],
  ];
  for (const [text, error] of rejected) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      const result = parseIpRange(text);
      assert.equal(result.ok, false);
      assert.ok(result.error.includes(error), `got: ${result.error}`);
    });
  }

  it('never throws on arbitrary strings', () => {
    const poolAlphabet = fc.string({ unit: fc.constantFrom(...'0123456789abcdef:./- '.split('')), maxLength: 60 });
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), poolAlphabet), (text) => {
        const result = parseIpRange(text);
        if (result.ok) assert.deepEqual(parsed(formatIpRange(result.value)), result.value);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('prefixOf', () => {
  it('returns the aligned prefix containing the address', () => {
    assert.deepEqual(prefixOf(ipv4(198, 51, 100, 77), 24, 4), parsed('198.51.100.0/24'));
    assert.deepEqual(prefixOf(ipv4(198, 51, 100, 77), 0, 4), parsed('0.0.0.0/0'));
    assert.deepEqual(prefixOf(ipv4(198, 51, 100, 77), 32, 4), parsed('198.51.100.77/32'));
    assert.deepEqual(prefixOf((0x20010db8n << 96n) + 0x1234n, 64, 6), parsed('2001:db8::/64'));
  });

  it('throws on a length out of range or an address of the other family (a bug)', () => {
    assert.throws(() => prefixOf(ipv4(1, 2, 3, 4), 33, 4), RangeError);
    assert.throws(() => prefixOf(1n, 129, 6), RangeError);
    assert.throws(() => prefixOf(1n, 24, 4), RangeError);
    assert.throws(() => prefixOf(ipv4(1, 2, 3, 4), 64, 6), RangeError);
  });

  it('is aligned, holds the address, has 2^(bits - length) addresses, and formats as that CIDR', () => {
    fc.assert(
      fc.property(anyPrefix, ([addr, length, family]) => {
        const range = prefixOf(addr, length, family);
        const hostBits = BigInt((family === 4 ? 32 : 128) - length);
        const offset = family === 4 ? IPV4_MAPPED_BASE : 0n;
        assert.equal(range.family, family);
        assert.equal((range.first - offset) % (1n << hostBits), 0n);
        assert.ok(range.first <= addr && addr <= range.last);
        assert.equal(rangeSize(range), 1n << hostBits);
        assert.match(formatIpRange(range), new RegExp(`/${length}$`));
        assert.deepEqual(parsed(formatIpRange(range)), range);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('rangeSize, formatIpRange and rangesOverlap', () => {
  it('counts the addresses of a range', () => {
    assert.equal(rangeSize(parsed('198.51.100.0/24')), 256n);
    assert.equal(rangeSize(parsed('198.51.100.10-198.51.100.20')), 11n);
    assert.equal(rangeSize(parsed('2001:db8::/64')), 1n << 64n);
    assert.equal(rangeSize(parsed('0.0.0.0/0')), 1n << 32n);
  });

  it('counts last - first + 1 for any range and round-trips through its text', () => {
    const anyRange = fc.oneof(fc.tuple(anyIpv4, anyIpv4), fc.tuple(anyIpv6, anyIpv6)).map(([a, b]): IpRange => {
      const family: IpFamily = a >= 1n << 64n ? 6 : 4;
      return a <= b ? { family, first: a, last: b } : { family, first: b, last: a };
    });
    fc.assert(
      fc.property(anyRange, (range) => {
        assert.equal(rangeSize(range), range.last - range.first + 1n);
        assert.ok(rangeSize(range) >= 1n);
        assert.deepEqual(parsed(formatIpRange(range)), range);
      }),
      { numRuns: 3000 },
    );
  });

  it('finds overlaps, including a shared edge address, and never across families', () => {
    const a = parsed('198.51.100.0/25');
    assert.equal(rangesOverlap(a, parsed('198.51.100.127-198.51.100.200')), true);
    assert.equal(rangesOverlap(a, parsed('198.51.100.128/25')), false);
    assert.equal(rangesOverlap(a, parsed('198.51.100.0/24')), true);
    assert.equal(rangesOverlap(parsed('198.51.100.0/24'), a), true);
    assert.equal(rangesOverlap(a, parsed('2001:db8::/64')), false);
  });

  it('overlap is symmetric and agrees with a shared member', () => {
    const small = fc.tuple(fc.nat({ max: 40 }), fc.nat({ max: 40 })).map(([x, y]): IpRange => ({
      family: 4,
      first: IPV4_MAPPED_BASE + BigInt(Math.min(x, y)),
      last: IPV4_MAPPED_BASE + BigInt(Math.max(x, y)),
    }));
    fc.assert(
      fc.property(small, small, (a, b) => {
        let shared = false;
        for (let x = a.first; x <= a.last; x++) if (x >= b.first && x <= b.last) shared = true;
        assert.equal(rangesOverlap(a, b), shared);
        assert.equal(rangesOverlap(b, a), shared);
      }),
    );
  });
});
