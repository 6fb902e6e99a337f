// NLRI prefixes (RFC 4271 section 4.3, RFC 4760 section 5): one length byte in bits, then the fewest whole bytes
// that hold that many bits. Addresses live in the single 128-bit space of src/core/ip (IPv4 as ::ffff:a.b.c.d).
// Trailing bits past the length are "irrelevant" (RFC 4271 section 4.3): the decoder clears them.
import { familyOf, formatIp, parseIp, type IpFamily } from '../../core/ip/ip-address.ts';
import { prefixOf, type IpRange } from '../../core/ip/ip-range.ts';
import { err, ok, type Result } from '../../core/result.ts';
import { ipv4FromNumber } from '../wire/byte-reader.ts';
import { ipv4Number } from '../wire/byte-writer.ts';

export interface BgpPrefix {
  readonly family: IpFamily;
  /** The first address of the prefix, host bits zero, in the single address space. */
  readonly address: bigint;
  /** Bits: 0-32 for IPv4, 0-128 for IPv6. */
  readonly length: number;
}

const U32 = 0xffffffffn;

/** Bytes a prefix takes on the wire: the length byte and ceil(length / 8). */
export function encodedPrefixLength(prefix: BgpPrefix): number {
  return 1 + ((prefix.length + 7) >> 3);
}

/** Total wire bytes of a list of prefixes. */
export function encodedPrefixesLength(prefixes: readonly BgpPrefix[]): number {
  let total = 0;
  for (const prefix of prefixes) total += 1 + ((prefix.length + 7) >> 3);
  return total;
}

/** Mask of the top `length` bits of a 32-bit word (0 <= length <= 32), as an unsigned number. */
function topBits(length: number): number {
  return length <= 0 ? 0 : length >= 32 ? 0xffffffff : (0xffffffff << (32 - length)) >>> 0;
}

/**
 * Writes a prefix at `offset` and returns the offset after it. Throws RangeError on a length out of range for the
 * family or an address of the other family (bugs): IPv4 prefixes need an IPv4(-mapped) address.
 */
export function writePrefix(bytes: Uint8Array, offset: number, prefix: BgpPrefix): number {
  const { family, address, length } = prefix;
  const bits = family === 4 ? 32 : 128;
  if (!Number.isInteger(length) || length < 0 || length > bits) {
    throw new RangeError(`BGP prefix length ${length} is out of range for IPv${family} (0-${bits})`);
  }
  bytes[offset] = length;
  const count = (length + 7) >> 3;
  if (family === 4) {
    const value = ipv4Number(address, 'BGP IPv4 prefix address');
    for (let index = 0; index < count; index++) bytes[offset + 1 + index] = (value >>> (24 - index * 8)) & 0xff;
    return offset + 1 + count;
  }
  if (address < 0n || address > (1n << 128n) - 1n)
    throw new RangeError(`BGP IPv6 prefix address ${String(address)} is not 128-bit`);
  for (let word = 0; word * 4 < count; word++) {
    const value = Number((address >> BigInt(96 - word * 32)) & U32);
    for (let index = word * 4; index < Math.min(count, word * 4 + 4); index++) {
      bytes[offset + 1 + index] = (value >>> (24 - (index - word * 4) * 8)) & 0xff;
    }
  }
  return offset + 1 + count;
}

/** A list of prefixes as bytes. Throws only on bugs (see writePrefix). */
export function encodePrefixes(prefixes: readonly BgpPrefix[]): Uint8Array {
  const bytes = new Uint8Array(encodedPrefixesLength(prefixes));
  let offset = 0;
  for (const prefix of prefixes) offset = writePrefix(bytes, offset, prefix);
  return bytes;
}

/**
 * The prefixes of one family in bytes[start, end). The error (a reason, no protocol prefix) says why the field is
 * "syntactically incorrect" (RFC 7606 section 5.3): a length past the family's maximum, or a prefix running past
 * the end. Never throws.
 */
export function decodePrefixes(bytes: Uint8Array, start: number, end: number, family: IpFamily): Result<BgpPrefix[]> {
  const prefixes: BgpPrefix[] = [];
  const maximum = family === 4 ? 32 : 128;
  let offset = start;
  while (offset < end) {
    const length = bytes[offset] ?? 0;
    if (length > maximum) return err(`prefix length ${length} is longer than ${maximum} bits`);
    const count = (length + 7) >> 3;
    if (offset + 1 + count > end) {
      return err(`a /${length} prefix needs ${count} bytes, only ${end - offset - 1} remain`);
    }
    if (family === 4) {
      let value = 0;
      for (let index = 0; index < 4; index++)
        value = value * 256 + (index < count ? (bytes[offset + 1 + index] ?? 0) : 0);
      const masked = (value & topBits(length)) >>> 0;
      prefixes.push({ family: 4, address: ipv4FromNumber(masked), length });
    } else {
      let address = 0n;
      for (let word = 0; word < 4; word++) {
        const wordLength = Math.max(0, Math.min(32, length - word * 32));
        if (wordLength === 0) {
          address <<= BigInt(32 * (4 - word));
          break;
        }
        let value = 0;
        for (let index = 0; index < 4; index++) {
          const at = word * 4 + index;
          value = value * 256 + (at < count ? (bytes[offset + 1 + at] ?? 0) : 0);
        }
        address = (address << 32n) | BigInt((value & topBits(wordLength)) >>> 0);
      }
      prefixes.push({ family: 6, address, length });
    }
    offset += 1 + count;
  }
  return ok(prefixes);
}

/** "203.0.113.0/24", "2001:db8::/32". */
export function formatBgpPrefix(prefix: BgpPrefix): string {
  if (prefix.family === 6 && familyOf(prefix.address) === 4)
    return `::ffff:${formatIp(prefix.address)}/${prefix.length}`;
  return `${formatIp(prefix.address)}/${prefix.length}`;
}

/**
 * Parses "203.0.113.0/24" or "2001:db8::/32" strictly: the length counts IPv4 bits after IPv4 text, and bits past
 * the length must be zero. A plain address is its host prefix (/32 or /128).
 */
export function parseBgpPrefix(text: string): Result<BgpPrefix> {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const address = parseIp(addressText);
  if (!address.ok) return err(`${JSON.stringify(text)} is not a prefix: ${address.error}`);
  const family: IpFamily = addressText.includes(':') ? 6 : 4;
  const bits = family === 4 ? 32 : 128;
  const lengthText = slash === -1 ? String(bits) : text.slice(slash + 1);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lengthText) || Number(lengthText) > bits) {
    return err(`${JSON.stringify(text)} is not a prefix: length ${JSON.stringify(lengthText)} is not 0-${bits}`);
  }
  const length = Number(lengthText);
  if (family === 6 && familyOf(address.value) === 4 && length < 96) {
    return err(`${text} reaches outside the IPv4-mapped block; write IPv4 prefixes in dotted form`);
  }
  const range = family === 4 ? prefixOf(address.value, length, 4) : ipv6Range(address.value, length);
  if (range.first !== address.value) return err(`${text} has bits set past the prefix length`);
  return ok({ family, address: address.value, length });
}

/** The addresses a prefix covers, as a src/core/ip range. */
export function prefixRange(prefix: BgpPrefix): IpRange {
  return prefix.family === 4 ? prefixOf(prefix.address, prefix.length, 4) : ipv6Range(prefix.address, prefix.length);
}

function ipv6Range(address: bigint, length: number): IpRange {
  const mask = (1n << BigInt(128 - length)) - 1n;
  const first = address & ~mask;
  return { family: 6, first, last: first | mask };
}

/** Whether two prefixes are the same route key. */
export function samePrefix(a: BgpPrefix, b: BgpPrefix): boolean {
  return a.family === b.family && a.length === b.length && a.address === b.address;
}
