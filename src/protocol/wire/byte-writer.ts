// One writer for every encoder of src/protocol: big-endian integers, IPv4 addresses (from the single address
// space of src/core/ip), IPv6 addresses, MAC addresses and raw bytes appended to a buffer that grows, and
// length-prefixed sections: fork() starts one, join(width) ends it and writes its length, in `width` bytes, before
// it (as protobuf-es's BinaryWriter does with varints). Values that do not fit their field are bugs of the caller
// and throw RangeError naming the field.
import { familyOf, formatIp, IPV4_MAPPED_BASE } from '../../core/ip/ip-address.ts';
import { MAC_LENGTH, writeMac, type MacAddress } from '../ethernet/mac-address.ts';

const LARGEST_IPV6 = (1n << 128n) - 1n;
const INITIAL_CAPACITY = 64;

/** The IPv4 address as its 32-bit number; throws RangeError for an IPv6 address (a bug). */
export function ipv4Number(address: bigint, field: string): number {
  if (familyOf(address) !== 4) {
    const shown = address >= 0n && address <= LARGEST_IPV6 ? formatIp(address) : String(address);
    throw new RangeError(`${field} ${shown} is not an IPv4 address`);
  }
  return Number(address - IPV4_MAPPED_BASE);
}

export class ByteWriter {
  #bytes: Uint8Array;
  #view: DataView;
  #length = 0;
  /** Start offsets of the open length-prefixed sections, innermost last. */
  readonly #forks: number[] = [];

  /** `capacity`: the bytes to expect (a hint: the buffer grows past it); saves copies on hot paths. */
  constructor(capacity = INITIAL_CAPACITY) {
    this.#bytes = new Uint8Array(Math.max(1, capacity));
    this.#view = new DataView(this.#bytes.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  u8(value: number, field = 'octet'): this {
    return this.#unsigned(1, value, field);
  }

  u16(value: number, field = '16-bit field'): this {
    return this.#unsigned(2, value, field);
  }

  u32(value: number, field = '32-bit field'): this {
    return this.#unsigned(4, value, field);
  }

  /** An IPv4 address of the single address space as 4 bytes; throws RangeError for an IPv6 one. */
  ipv4(address: bigint, field = 'IPv4 address'): this {
    return this.u32(ipv4Number(address, field), field);
  }

  /** A 128-bit address as 16 bytes; throws RangeError outside 128 bits. */
  ipv6(address: bigint, field = 'IPv6 address'): this {
    if (address < 0n || address > LARGEST_IPV6)
      throw new RangeError(`${field} ${String(address)} is not a 128-bit address`);
    const at = this.#grow(16);
    this.#view.setBigUint64(at, address >> 64n);
    this.#view.setBigUint64(at + 8, BigInt.asUintN(64, address));
    return this;
  }

  /** A canonical MAC address as 6 bytes; throws RangeError on other text. */
  mac(mac: MacAddress): this {
    const at = this.#grow(MAC_LENGTH);
    writeMac(mac, this.#bytes, at);
    return this;
  }

  bytes(bytes: Uint8Array): this {
    const at = this.#grow(bytes.length);
    this.#bytes.set(bytes, at);
    return this;
  }

  /** Starts a length-prefixed section; end it with join(). */
  fork(): this {
    this.#forks.push(this.#length);
    return this;
  }

  /**
   * Ends the innermost section and writes its length in `width` bytes (big-endian) before it; throws RangeError when
   * the section is longer than `width` bytes can say (the caller's bug: it should have checked or split).
   */
  join(width: 1 | 2, field = 'section'): this {
    const start = this.#forks.pop();
    if (start === undefined) throw new RangeError('join() without fork()');
    const length = this.#length - start;
    checkRange(length, width === 1 ? 0xff : 0xffff, `${field} length`);
    this.#grow(width);
    this.#bytes.copyWithin(start + width, start, this.#length - width);
    if (width === 1) this.#view.setUint8(start, length);
    else this.#view.setUint16(start, length);
    return this;
  }

  /** The bytes written, as a copy of exactly their length; throws RangeError while a section is open. */
  finish(): Uint8Array {
    if (this.#forks.length > 0) throw new RangeError(`${this.#forks.length} section(s) not joined`);
    return this.#bytes.slice(0, this.#length);
  }

  /** A big-endian unsigned integer of `width` bytes; throws RangeError when it does not fit. */
  #unsigned(width: 1 | 2 | 4, value: number, field: string): this {
    checkRange(value, 2 ** (8 * width) - 1, field);
    const at = this.#grow(width);
    if (width === 1) this.#view.setUint8(at, value);
    else if (width === 2) this.#view.setUint16(at, value);
    else this.#view.setUint32(at, value);
    return this;
  }

  /** Reserves `length` bytes at the end and returns their offset. */
  #grow(length: number): number {
    const at = this.#length;
    const needed = at + length;
    if (needed > this.#bytes.length) {
      let capacity = this.#bytes.length * 2;
      while (capacity < needed) capacity *= 2;
      const bytes = new Uint8Array(capacity);
      bytes.set(this.#bytes.subarray(0, at));
      this.#bytes = bytes;
      this.#view = new DataView(bytes.buffer);
    }
    this.#length = needed;
    return at;
  }
}

function checkRange(value: number, largest: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > largest) {
    throw new RangeError(`${field} value ${value} does not fit ${largest.toString(2).length} bits`);
  }
}

/** The parts one after another in a new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const writer = new ByteWriter(length);
  for (const part of parts) writer.bytes(part);
  return writer.finish();
}
