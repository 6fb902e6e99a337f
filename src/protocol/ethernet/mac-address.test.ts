import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BROADCAST_MAC,
  ZERO_MAC,
  formatMac,
  ipv6MulticastMac,
  isGroupMac,
  isMacAddress,
  macBytes,
  parseMac,
  writeMac,
} from './mac-address.ts';

const anySixBytes = fc.uint8Array({ minLength: 6, maxLength: 6 });

describe('parseMac', () => {
  it('returns the canonical lowercase colon form of colon or hyphen text in either case', () => {
    for (const text of ['02:bb:00:00:00:0a', '02:BB:00:00:00:0A', '02-bb-00-00-00-0a', '02-BB-00-00-00-0A']) {
      assert.deepEqual(parseMac(text), { ok: true, value: '02:bb:00:00:00:0a' });
    }
  });

  it('rejects text that is not six two-digit hex octets with one separator, naming the text', () => {
    for (const text of [
      '',
      '02:bb:00:00:00',
      '02:bb:00:00:00:0a:01',
      '2:bb:0:0:0:a',
      '02:bb-00:00:00:0a',
      '02bb0000000a',
      'gg:bb:00:00:00:0a',
      ' 02:bb:00:00:00:0a',
    ]) {
      const result = parseMac(text);
      assert.equal(result.ok, false, text);
      assert.match(result.error, /is not a MAC address/);
    }
  });

  it('accepts exactly what formatMac can produce, after lowering case', () => {
    fc.assert(
      fc.property(anySixBytes, fc.boolean(), (bytes, upper) => {
        const text = formatMac(bytes);
        assert.deepEqual(parseMac(upper ? text.toUpperCase() : text), { ok: true, value: text });
      }),
    );
  });
});

describe('formatMac and macBytes', () => {
  it('formats six bytes as canonical text and back', () => {
    assert.equal(formatMac(Uint8Array.of(0x33, 0x33, 0xff, 0x00, 0x00, 0x0b)), '33:33:ff:00:00:0b');
    assert.deepEqual(macBytes('33:33:ff:00:00:0b'), Uint8Array.of(0x33, 0x33, 0xff, 0x00, 0x00, 0x0b));
    fc.assert(
      fc.property(anySixBytes, (bytes) => {
        const text = formatMac(bytes);
        assert.ok(isMacAddress(text));
        assert.deepEqual(macBytes(text), bytes);
      }),
    );
  });

  it('reads at an offset and refuses to read past the end', () => {
    const bytes = Uint8Array.of(9, 9, 0x02, 0xbb, 0, 0, 0, 0x0b, 9);
    assert.equal(formatMac(bytes, 2), '02:bb:00:00:00:0b');
    assert.throws(() => formatMac(bytes, 4), RangeError);
    assert.throws(() => formatMac(bytes, -1), RangeError);
  });

  it('writeMac refuses non-canonical text and too little room (bugs, not wire input)', () => {
    const target = new Uint8Array(8);
    writeMac('02:bb:00:00:00:0a', target, 2);
    assert.deepEqual(target, Uint8Array.of(0, 0, 0x02, 0xbb, 0, 0, 0, 0x0a));
    assert.throws(() => {
      writeMac('02:BB:00:00:00:0A', target, 0);
    }, RangeError);
    assert.throws(() => {
      writeMac('02-bb-00-00-00-0a', target, 0);
    }, RangeError);
    assert.throws(() => {
      writeMac('02:bb:00:00:00:0a', target, 3);
    }, RangeError);
  });
});

describe('group addresses', () => {
  it('knows broadcast, zero and the I/G bit', () => {
    assert.equal(BROADCAST_MAC, 'ff:ff:ff:ff:ff:ff');
    assert.equal(ZERO_MAC, '00:00:00:00:00:00');
    assert.equal(isGroupMac(BROADCAST_MAC), true);
    assert.equal(isGroupMac('33:33:00:00:00:01'), true);
    assert.equal(isGroupMac('01:00:5e:00:00:01'), true);
    assert.equal(isGroupMac('02:bb:00:00:00:0a'), false);
    assert.equal(isGroupMac(ZERO_MAC), false);
  });
});

describe('ipv6MulticastMac', () => {
  it('RFC 2464 section 7: 33:33 followed by the last four octets of the address', () => {
    assert.equal(ipv6MulticastMac(0xff02_0000_0000_0000_0000_0000_0000_0001n), '33:33:00:00:00:01');
    assert.equal(ipv6MulticastMac(0xff02_0000_0000_0000_0000_0001_ff00_000bn), '33:33:ff:00:00:0b');
    assert.equal(ipv6MulticastMac(0xff05_0000_0000_0000_0000_0000_0001_0003n), '33:33:00:01:00:03');
  });

  it('is a group address carrying the low 32 bits for every address', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (addr) => {
        const mac = ipv6MulticastMac(addr);
        assert.ok(isMacAddress(mac));
        assert.ok(isGroupMac(mac));
        const bytes = macBytes(mac);
        assert.equal(new DataView(bytes.buffer).getUint32(2), Number(addr & 0xffff_ffffn));
      }),
    );
  });
});
