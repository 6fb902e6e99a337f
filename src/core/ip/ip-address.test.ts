import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IPV4_MAPPED_BASE, familyOf, formatIp, ipv4, parseIp } from './ip-address.ts';

/** The parsed value, failing the test on an error. */
function parsed(text: string): bigint {
  const result = parseIp(text);
  if (!result.ok) assert.fail(result.error);
  return result.value;
}

/** The address whose eight 16-bit groups are given, most significant first. */
function fromGroups(groups: readonly number[]): bigint {
  return groups.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

const MAX = (1n << 128n) - 1n;
const anyAddress = fc.bigInt({ min: 0n, max: MAX });
const anyIpv4 = fc.integer({ min: 0, max: 0xffffffff }).map((v) => IPV4_MAPPED_BASE + BigInt(v));
// Groups drawn mostly from 0 so that runs of zeros, ties and single zeros all come up.
const zeroHeavyAddress = fc
  .array(fc.oneof(fc.constant(0), fc.constant(0), fc.constant(1), fc.integer({ min: 0, max: 0xffff })), {
    minLength: 8,
    maxLength: 8,
  })
  .map(fromGroups);

describe('parseIp', () => {
  const valid: Array<[section: string, text: string, value: bigint]> = [
    ['RFC 4291 2.2 (1) full form', 'ABCD:EF01:2345:6789:ABCD:EF01:2345:6789', 0xabcdef0123456789abcdef0123456789n],
    ['RFC 4291 2.2 (1) no leading zeros', '2001:DB8:0:0:8:800:200C:417A', 0x20010db80000000000080800200c417an],
    ['RFC 4291 2.2 (2) unicast compressed', '2001:DB8::8:800:200C:417A', 0x20010db80000000000080800200c417an],
    ['RFC 4291 2.2 (2) multicast', 'FF01:0:0:0:0:0:0:101', 0xff010000000000000000000000000101n],
    ['RFC 4291 2.2 (2) multicast compressed', 'FF01::101', 0xff010000000000000000000000000101n],
    ['RFC 4291 2.2 (2) loopback', '0:0:0:0:0:0:0:1', 1n],
    ['RFC 4291 2.2 (2) loopback compressed', '::1', 1n],
    ['RFC 4291 2.2 (2) unspecified', '0:0:0:0:0:0:0:0', 0n],
    ['RFC 4291 2.2 (2) unspecified compressed', '::', 0n],
    ['RFC 4291 2.2 (3) mixed', '0:0:0:0:0:0:13.1.68.3', 0x0d014403n],
    ['RFC 4291 2.2 (3) mixed compressed', '::13.1.68.3', 0x0d014403n],
    ['RFC 4291 2.2 (3) mixed mapped', '0:0:0:0:0:FFFF:129.144.52.38', ipv4(129, 144, 52, 38)],
    ['RFC 4291 2.2 (3) mixed mapped compressed', '::FFFF:129.144.52.38', ipv4(129, 144, 52, 38)],
    ['RFC 4291 2.5.5.2 IPv4-mapped is the IPv4 address', '::ffff:192.0.2.1', ipv4(192, 0, 2, 1)],
    ['RFC 4291 2.5.5.2 IPv4-mapped in hex', '::ffff:c000:201', ipv4(192, 0, 2, 1)],
    ['RFC 6052 2.1 well-known prefix, embedded IPv4', '64:ff9b::192.0.2.33', 0x64ff9b0000000000000000c0000221n],
    ['RFC 5952 2.1 all forms of one address (a)', '2001:db8:0:0:1:0:0:1', 0x20010db8000000000001000000000001n],
    ['RFC 5952 2.1 all forms of one address (b)', '2001:0db8:0:0:1:0:0:1', 0x20010db8000000000001000000000001n],
    ['RFC 5952 2.1 all forms of one address (c)', '2001:db8::1:0:0:1', 0x20010db8000000000001000000000001n],
    ['RFC 5952 2.1 all forms of one address (d)', '2001:db8::0:1:0:0:1', 0x20010db8000000000001000000000001n],
    ['RFC 5952 2.1 all forms of one address (e)', '2001:0db8::1:0:0:1', 0x20010db8000000000001000000000001n],
    ['RFC 5952 2.1 all forms of one address (f)', '2001:db8:0:0:1::1', 0x20010db8000000000001000000000001n],
    ['RFC 5952 2.1 all forms of one address (g)', '2001:db8:0000:0:1::1', 0x20010db8000000000001000000000001n],
    ['RFC 5952 2.1 all forms of one address (h)', '2001:DB8:0:0:1::1', 0x20010db8000000000001000000000001n],
    ['RFC 4291 2.2 "::" standing for one group at the end', '1:2:3:4:5:6:7::', 0x00010002000300040005000600070000n],
    ['RFC 4291 2.2 "::" standing for one group at the start', '::2:3:4:5:6:7:8', 0x00000002000300040005000600070008n],
    ['RFC 4291 2.2 six groups then IPv4', '1:2:3:4:5:6:10.0.0.1', 0x0001000200030004000500060a000001n],
    ['RFC 5737 IPv4 TEST-NET-1', '192.0.2.0', ipv4(192, 0, 2, 0)],
    ['RFC 5737 IPv4 TEST-NET-2', '198.51.100.7', ipv4(198, 51, 100, 7)],
    ['RFC 5737 IPv4 TEST-NET-3', '203.0.113.255', ipv4(203, 0, 113, 255)],
    ['RFC 791 IPv4 all zeros', '0.0.0.0', IPV4_MAPPED_BASE],
    ['RFC 919 IPv4 limited broadcast', '255.255.255.255', IPV4_MAPPED_BASE + 0xffffffffn],
  ];
  for (const [section, text, value] of valid) {
    it(`${section}: ${text}`, () => {
      assert.equal(parsed(text), value);
    });
  }

  const rejected: Array<[text: string, reason: string]> = [
    ['', 'it is empty'],
    ['198.51.100.256', 'octet 256 is out of range'],
    ['198.51.100.1000', 'octet 1000 is out of range'],
    ['198.51.100', 'has 3'],
    ['198.51.100.1.2', 'has 5'],
    ['198.051.100.1', 'octet 051 has a leading zero'],
    ['198.51..1', 'empty octet'],
    ['198.51.100.-1', 'octet "-1" is not a decimal number'],
    ['0x7f.0.0.1', 'octet "0x7f" is not a decimal number'],
    ['١٩٨.51.100.1', 'is not a decimal number'],
    ['198.51.100.1 ', 'whitespace'],
    [' ::1', 'whitespace'],
    ['fe80::1%eth0', 'zone ids'],
    ['fe80::1%25eth0', 'zone ids'],
    ['[2001:db8::1]', 'brackets'],
    ['2001:db8::1/64', 'not hexadecimal'],
    ['localhost', 'expected a dotted-quad IPv4 address or an IPv6 address'],
    ['1:2:3:4:5:6:7', 'it has 7 groups'],
    ['1:2:3:4:5:6:7:8:9', 'it has 9 groups'],
    ['1:2:3:4:5:6:7:8::', 'at most 7 fit beside "::"'],
    ['::1:2:3:4:5:6:7:8', 'at most 7 fit beside "::"'],
    ['1:2:3:4:5:6:7:1.2.3.4', 'it has 9 groups'],
    ['2001:db8::1::1', '"::" may appear only once'],
    [':::', 'it contains ":::"'],
    ['1:::2', 'it contains ":::"'],
    [':1:2:3:4:5:6:7', 'starts with a single ":"'],
    ['1:2:3:4:5:6:7:', 'ends with a single ":"'],
    ['1:2::3:', 'ends with a single ":"'],
    ['1::2:', 'ends with a single ":"'],
    ['12345::', 'group 12345 has more than 4 hex digits'],
    ['2001:db8::g', 'group "g" is not hexadecimal'],
    ['1.2.3.4::', 'an embedded IPv4 address must come last'],
    ['::1.2.3.4:5', 'an embedded IPv4 address must come last'],
    ['::1.2.3', 'embedded IPv4 address "1.2.3"'],
    ['::ffff:1.2.3.256', 'octet 256 is out of range'],
    ['::ffff:01.2.3.4', 'leading zero'],
    ['ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555', 'longer than any IP address'],
  ];
  for (const [text, reason] of rejected) {
    it(`rejects ${JSON.stringify(text)} (${reason})`, () => {
      const result = parseIp(text);
      assert.equal(result.ok, false, `parsed ${JSON.stringify(text)}`);
      assert.ok(result.error.startsWith(`${JSON.stringify(text)} is not an IP address: `), result.error);
      assert.ok(result.error.includes(reason), `${result.error} lacks ${reason}`);
    });
  }

  it('words its errors for a log line', () => {
    assert.deepEqual(parseIp('198.51.100.256'), {
      ok: false,
      error: '"198.51.100.256" is not an IP address: octet 256 is out of range',
    });
  });

  it('parses an IPv4-mapped IPv6 text to the same value as the IPv4 text', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => {
        const dotted = `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
        const hex = `::ffff:${(v >>> 16).toString(16)}:${(v & 0xffff).toString(16)}`;
        assert.equal(parsed(`::ffff:${dotted}`), parsed(dotted));
        assert.equal(parsed(`0:0:0:0:0:FFFF:${dotted}`), parsed(dotted));
        assert.equal(parsed(hex), parsed(dotted));
      }),
    );
  });

  it('parses any spelling of an address (uppercase, leading zeros, any zero run compressed) to its value', () => {
    const spelling = fc.record({
      address: zeroHeavyAddress,
      upper: fc.boolean(),
      padded: fc.boolean(),
      compressAt: fc.nat({ max: 8 }),
      compressLength: fc.nat({ max: 8 }),
    });
    fc.assert(
      fc.property(spelling, ({ address, upper, padded, compressAt, compressLength }) => {
        const groups: string[] = [];
        for (let shift = 112n; shift >= 0n; shift -= 16n) {
          const text = ((address >> shift) & 0xffffn).toString(16);
          groups.push(padded ? text.padStart(4, '0') : text);
        }
        let text = groups.join(':');
        // Compress the zero run starting at compressAt, if there is one of the chosen length.
        const end = Math.min(8, compressAt + compressLength);
        if (end > compressAt && groups.slice(compressAt, end).every((g) => /^0+$/.test(g))) {
          text = `${groups.slice(0, compressAt).join(':')}::${groups.slice(end).join(':')}`;
        }
        assert.equal(parsed(upper ? text.toUpperCase() : text), address);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary strings (10,000 runs each: UTF-16 units, full Unicode, address alphabet)', () => {
    const addressAlphabet = fc.string({
      unit: fc.constantFrom(...'0123456789abcdefABCDEF:.%/[] -'.split('')),
      maxLength: 50,
    });
    for (const strings of [fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), addressAlphabet]) {
      fc.assert(
        fc.property(strings, (text) => {
          const result = parseIp(text);
          if (result.ok) {
            assert.equal(parsed(formatIp(result.value)), result.value);
          } else {
            assert.equal(typeof result.error, 'string');
          }
        }),
        { numRuns: 10_000 },
      );
    }
  });
});

describe('formatIp', () => {
  const canonical: Array<[section: string, value: bigint, text: string]> = [
    ['RFC 5952 4.1 leading zeros suppressed', fromGroups([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]), '2001:db8::1'],
    ['RFC 5952 4.2.1 "::" used to its maximum', fromGroups([0x2001, 0xdb8, 0, 0, 0, 0, 2, 1]), '2001:db8::2:1'],
    ['RFC 5952 4.2.2 "::" not used for one 16-bit 0 field', fromGroups([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1]), '2001:db8:0:1:1:1:1:1'],
    ['RFC 5952 4.2.3 longest run compressed', fromGroups([0x2001, 0, 0, 1, 0, 0, 0, 1]), '2001:0:0:1::1'],
    ['RFC 5952 4.2.3 first run compressed on a tie', fromGroups([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]), '2001:db8::1:0:0:1'],
    ['RFC 5952 4.3 lowercase', 0x20010db8000000000000000000abcdefn, '2001:db8::ab:cdef'],
    ['RFC 5952 2.2 trailing 0001', fromGroups([0x2001, 0xdb8, 0xaaaa, 0xbbbb, 0xcccc, 0xdddd, 0xeeee, 1]), '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1'],
    ['RFC 5952 2.2 one 0 field before 1', fromGroups([0x2001, 0xdb8, 0xaaaa, 0xbbbb, 0xcccc, 0xdddd, 0, 1]), '2001:db8:aaaa:bbbb:cccc:dddd:0:1'],
    ['RFC 5952 4.2.1 unspecified', 0n, '::'],
    ['RFC 5952 4.2.1 loopback', 1n, '::1'],
    ['RFC 5952 4.2.1 run at the end', fromGroups([1, 0, 0, 0, 0, 0, 0, 0]), '1::'],
    ['RFC 5952 4.2.2 one 0 field at the end', fromGroups([1, 2, 3, 4, 5, 6, 7, 0]), '1:2:3:4:5:6:7:0'],
    ['RFC 5952 4.2.2 one 0 field at the start', fromGroups([0, 2, 3, 4, 5, 6, 7, 8]), '0:2:3:4:5:6:7:8'],
    ['RFC 5952 4.2.3 later run longer', fromGroups([1, 0, 0, 2, 0, 0, 0, 3]), '1:0:0:2::3'],
    ['RFC 5952 4 no zero group', MAX, 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
    ['RFC 4291 2.5.5.2 IPv4-mapped prints as IPv4', ipv4(192, 0, 2, 1), '192.0.2.1'],
    ['RFC 4291 2.5.5.2 IPv4-mapped first', IPV4_MAPPED_BASE, '0.0.0.0'],
    ['RFC 4291 2.5.5.2 below the mapped block is IPv6', IPV4_MAPPED_BASE - 1n, '::fffe:ffff:ffff'],
    ['RFC 4291 2.5.5.2 above the mapped block is IPv6', IPV4_MAPPED_BASE + 0x100000000n, '::1:0:0:0'],
    ['RFC 6052 2.1 well-known prefix prints in hex', 0x64ff9b0000000000000000c0000221n, '64:ff9b::c000:221'],
  ];
  for (const [section, value, text] of canonical) {
    it(`${section}: ${text}`, () => {
      assert.equal(formatIp(value), text);
    });
  }

  it('throws outside the 128-bit space (a bug)', () => {
    assert.throws(() => formatIp(-1n), RangeError);
    assert.throws(() => formatIp(MAX + 1n), RangeError);
  });

  it('round-trips arbitrary 128-bit values: parse(format(x)) === x and format is a fixed point', () => {
    fc.assert(
      fc.property(fc.oneof(anyAddress, zeroHeavyAddress, anyIpv4), (x) => {
        const text = formatIp(x);
        assert.equal(parsed(text), x);
        assert.equal(formatIp(parsed(text)), text);
      }),
      { numRuns: 5000 },
    );
  });

  it('round-trips IPv4 values as dotted quads', () => {
    fc.assert(
      fc.property(anyIpv4, (x) => {
        const text = formatIp(x);
        assert.match(text, /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/);
        assert.equal(parsed(text), x);
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with the WHATWG URL serializer (RFC 5952 form) on IPv6 outside the mapped block', () => {
    fc.assert(
      fc.property(fc.oneof(anyAddress, zeroHeavyAddress), (x) => {
        fc.pre(familyOf(x) === 6);
        const text = formatIp(x);
        assert.equal(new URL(`http://[${text}]/`).hostname, `[${text}]`);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('familyOf and ipv4', () => {
  it('RFC 4291 2.5.5.2: 4 exactly within ::ffff:0:0/96', () => {
    assert.equal(familyOf(IPV4_MAPPED_BASE - 1n), 6);
    assert.equal(familyOf(IPV4_MAPPED_BASE), 4);
    assert.equal(familyOf(IPV4_MAPPED_BASE + 0xffffffffn), 4);
    assert.equal(familyOf(IPV4_MAPPED_BASE + 0x100000000n), 6);
    assert.equal(familyOf(0n), 6);
    assert.equal(familyOf(parsed('2001:db8::1')), 6);
    assert.equal(familyOf(parsed('198.51.100.1')), 4);
  });

  it('builds the value of a.b.c.d and rejects octets out of range (a bug)', () => {
    assert.equal(ipv4(198, 51, 100, 7), IPV4_MAPPED_BASE + 0xc6336407n);
    assert.equal(ipv4(255, 255, 255, 255), IPV4_MAPPED_BASE + 0xffffffffn);
    assert.throws(() => ipv4(256, 0, 0, 0), RangeError);
    assert.throws(() => ipv4(1, 2, 3, -1), RangeError);
    assert.throws(() => ipv4(1, 2, 3, 1.5), RangeError);
  });
});
