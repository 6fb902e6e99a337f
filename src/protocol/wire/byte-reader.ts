// One reader for every codec of src/protocol: big-endian integers, IPv4 addresses (into the single address space
// of src/core/ip), IPv6 addresses and MAC addresses, read in order from a Uint8Array that may be a view into a
// larger buffer (byteOffset respected). Decoders check lengths before they read, as RFCs state them per field; a
// read past the end is a bug of the decoder and throws RangeError, which the decoder fuzz campaign would catch.
import { IPV4_MAPPED_BASE } from '../../core/ip/ip-address.ts';
import { formatMac, MAC_LENGTH, type MacAddress } from '../ethernet/mac-address.ts';

/** The IPv4 address with this 32-bit value, in the single address space (::ffff:a.b.c.d). */
export function ipv4FromNumber(value: number): bigint {
  return IPV4_MAPPED_BASE + BigInt(value >>> 0);
}

export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #end: number;
  #offset: number;

  /** Reads `bytes` from `offset` (default 0) up to `end` (default its length). */
  constructor(bytes: Uint8Array, offset = 0, end = bytes.length) {
    if (!Number.isInteger(offset) || !Number.isInteger(end) || offset < 0 || end > bytes.length || offset > end) {
      throw new RangeError(`no bytes ${offset}..${end} in ${bytes.length}`);
    }
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#offset = offset;
    this.#end = end;
  }

  /** Where the next read starts, counted from the start of the bytes given to the constructor. */
  get offset(): number {
    return this.#offset;
  }

  /** Bytes left before the end. */
  get remaining(): number {
    return this.#end - this.#offset;
  }

  u8(): number {
    return this.#view.getUint8(this.#take(1));
  }

  u16(): number {
    return this.#view.getUint16(this.#take(2));
  }

  u32(): number {
    return this.#view.getUint32(this.#take(4));
  }

  /** An IPv4 address (4 bytes) as its IPv4-mapped bigint (::ffff:a.b.c.d). */
  ipv4(): bigint {
    return ipv4FromNumber(this.u32());
  }

  /** An IPv6 address (16 bytes). */
  ipv6(): bigint {
    const at = this.#take(16);
    return (this.#view.getBigUint64(at) << 64n) | this.#view.getBigUint64(at + 8);
  }

  /** A MAC address (6 bytes) in canonical text form. */
  mac(): MacAddress {
    return formatMac(this.#bytes, this.#take(MAC_LENGTH));
  }

  /** The next `length` bytes as a view into the input (no copy). */
  bytes(length: number): Uint8Array {
    const at = this.#take(length);
    return this.#bytes.subarray(at, at + length);
  }

  skip(length: number): this {
    this.#take(length);
    return this;
  }

  #take(length: number): number {
    const at = this.#offset;
    if (!Number.isInteger(length) || length < 0 || at + length > this.#end) {
      throw new RangeError(`reading ${length} bytes at ${at} runs past the end at ${this.#end}`);
    }
    this.#offset = at + length;
    return at;
  }
}
