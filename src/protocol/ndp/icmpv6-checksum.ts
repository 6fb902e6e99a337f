// The ICMPv6 checksum (RFC 4443 section 2.3): the 16-bit one's complement of the one's complement sum (RFC 1071)
// of the IPv6 pseudo-header (RFC 8200 section 8.1: source, destination, upper-layer length, next header 58) and
// the ICMPv6 message.
import { NEXT_HEADER_ICMPV6 } from './ipv6-packet.ts';

/** The one's complement sum of bytes as big-endian 16-bit words (an odd last byte padded with zero), plus `initial`. */
export function onesComplementSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  const even = bytes.length & ~1;
  for (let index = 0; index < even; index += 2) sum += ((bytes[index] ?? 0) << 8) | (bytes[index + 1] ?? 0);
  if (even !== bytes.length) sum += (bytes[even] ?? 0) << 8;
  return fold(sum);
}

/**
 * The checksum over the pseudo-header and `message` as given. To fill in the field, compute it with the field zero
 * and store the result; to verify a received message, compute it over the message as received: 0 means intact.
 */
export function icmpv6Checksum(source: bigint, destination: bigint, message: Uint8Array): number {
  let sum = addressSum(source) + addressSum(destination);
  // Upper-layer packet length as 32 bits, then three zero bytes and the next header.
  sum += Math.floor(message.length / 0x10000) + (message.length & 0xffff) + NEXT_HEADER_ICMPV6;
  return ~onesComplementSum(message, fold(sum)) & 0xffff;
}

/** True iff the checksum field of a received ICMPv6 message is right for these addresses. */
export function isIcmpv6ChecksumValid(source: bigint, destination: bigint, message: Uint8Array): boolean {
  return icmpv6Checksum(source, destination, message) === 0;
}

/** The sum of the eight 16-bit words of an IPv6 address. */
function addressSum(addr: bigint): number {
  let sum = 0;
  for (let shift = 0n; shift < 128n; shift += 16n) sum += Number((addr >> shift) & 0xffffn);
  return sum;
}

/** Folds carries above 16 bits back in (end-around carry, RFC 1071 section 2). */
function fold(sum: number): number {
  let folded = sum;
  while (folded > 0xffff) folded = (folded & 0xffff) + Math.floor(folded / 0x10000);
  return folded;
}
