// ByteReader and ByteWriter: what one writes the other reads back, at an offset into a larger buffer too;
// length-prefixed sections nest; values that do not fit and reads past the end are RangeErrors.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIp } from '../../core/ip/ip-address.ts';
import { ByteReader } from './byte-reader.ts';
import { ByteWriter, concatBytes } from './byte-writer.ts';

const ip = (text: string): bigint => {
  const parsed = parseIp(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};

describe('ByteWriter and ByteReader', () => {
  it('write and read integers, addresses and MACs big-endian, in order', () => {
    const bytes = new ByteWriter()
      .u8(0xab)
      .u16(0x0102)
      .u32(0xdeadbeef)
      .ipv4(ip('198.51.100.7'))
      .ipv6(ip('2001:db8::1'))
      .mac('02:00:5e:10:00:01')
      .bytes(Uint8Array.of(9, 8))
      .finish();
    assert.equal(
      Buffer.from(bytes).toString('hex'),
      'ab0102deadbeefc6336407' + '20010db8000000000000000000000001' + '02005e100001' + '0908',
    );
    const reader = new ByteReader(bytes);
    assert.equal(reader.u8(), 0xab);
    assert.equal(reader.u16(), 0x0102);
    assert.equal(reader.u32(), 0xdeadbeef);
    assert.equal(reader.ipv4(), ip('198.51.100.7'));
    assert.equal(reader.ipv6(), ip('2001:db8::1'));
    assert.equal(reader.mac(), '02:00:5e:10:00:01');
    assert.deepEqual(reader.bytes(2), Uint8Array.of(9, 8));
    assert.equal(reader.remaining, 0);
  });

  it('reads a view into a larger buffer from its byteOffset, between offset and end', () => {
    const backing = Uint8Array.of(0xff, 0xff, 0, 0, 0, 1, 0, 2, 0xff);
    const view = backing.subarray(2, 8);
    const reader = new ByteReader(view, 2, 6);
    assert.equal(reader.u16(), 1);
    assert.equal(reader.u16(), 2);
    assert.throws(() => reader.u8(), RangeError);
    assert.throws(() => new ByteReader(view, 0, 7), RangeError);
  });

  it('fork/join writes a section length before the section, nested, in 1 or 2 bytes', () => {
    const writer = new ByteWriter().u8(7).fork().u8(1).fork().bytes(new Uint8Array(300)).join(2).join(2, 'outer');
    const bytes = writer.finish();
    const reader = new ByteReader(bytes);
    assert.equal(reader.u8(), 7);
    assert.equal(reader.u16(), 1 + 2 + 300);
    assert.equal(reader.u8(), 1);
    assert.equal(reader.u16(), 300);
    assert.equal(reader.remaining, 300);
    assert.deepEqual([...new ByteWriter().fork().u8(5).u8(6).join(1).finish()], [2, 5, 6]);
  });

  it('refuses values that do not fit, a section too long for its prefix, an unjoined section', () => {
    assert.throws(() => new ByteWriter().u8(256), RangeError);
    assert.throws(() => new ByteWriter().u16(-1), RangeError);
    assert.throws(() => new ByteWriter().u32(2 ** 32), RangeError);
    assert.throws(() => new ByteWriter().ipv4(ip('2001:db8::1')), /not an IPv4 address/);
    assert.throws(() => new ByteWriter().ipv6(1n << 128n), RangeError);
    assert.throws(() => new ByteWriter().mac('02-00-5e-10-00-01'), RangeError);
    assert.throws(() => new ByteWriter().fork().bytes(new Uint8Array(256)).join(1), /section length value 256/);
    assert.throws(() => new ByteWriter().fork().finish(), /not joined/);
    assert.throws(() => new ByteWriter().join(1), /without fork/);
  });

  it('grows past its first buffer and concatenates parts', () => {
    const parts = Array.from({ length: 50 }, (_, index) => Uint8Array.of(index, index));
    const joined = concatBytes(parts);
    assert.equal(joined.length, 100);
    assert.equal(joined[99], 49);
  });
});

describe('ByteWriter growth', () => {
  it('keeps every write across a reallocation, whatever the width', () => {
    const writer = new ByteWriter();
    for (let index = 0; index < 100; index++)
      writer
        .u8(index & 0xff)
        .u16(index)
        .u32(index)
        .ipv6(BigInt(index));
    const reader = new ByteReader(writer.finish());
    for (let index = 0; index < 100; index++) {
      assert.deepEqual([reader.u8(), reader.u16(), reader.u32(), reader.ipv6()], [index, index, index, BigInt(index)]);
    }
  });
});

describe('IPv6 addresses', () => {
  it('are written and read back at any offset of a view into a larger buffer (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.nat({ max: 8 }), (addr, offset) => {
        const backing = new Uint8Array(40);
        const view = backing.subarray(4, 36);
        view.set(new ByteWriter().ipv6(addr).finish(), offset);
        assert.equal(new ByteReader(view, offset).ipv6(), addr);
      }),
    );
  });
});
