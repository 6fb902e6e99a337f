import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IPV4_MAPPED_BASE, familyOf, formatIp, ipv4, parseIp } from './ip-address.ts';
import {
  CANONICAL_TEXTS,
  MAX_ADDRESS as MAX,
  REJECTED_TEXTS,
  VALID_TEXTS,
  fromGroups,
} from './testdata/ip-address-vectors.ts';

/** The parsed value, failing the test on an error. */
function parsed(text: string): bigint {
  const result = parseIp(text);
  if (!result.ok) assert.fail(result.error);
  return result.value;
}

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
  const valid = VALID_TEXTS;
  for (const [section, text, value] of valid) {
    it(`${section}: ${text}`, () => {
      assert.equal(parsed(text), value);
    });
  }

  const rejected = REJECTED_TEXTS;
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
    for (const strings of [
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'grapheme' }),
      addressAlphabet,
    ]) {
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
  const canonical = CANONICAL_TEXTS;
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
