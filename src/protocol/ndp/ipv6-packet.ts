// The IPv6 header (RFC 8200 section 3) and the addresses in it. Extension headers are not parsed: the payload is
// whatever follows the 40-byte header, and nextHeader says what it is (58 for ICMPv6).
import { ok, type Result } from '../../core/result.ts';
import { decodeFailure, type DecodeError } from '../ethernet/decode-error.ts';

export const IPV6_HEADER_LENGTH = 40;
export const NEXT_HEADER_ICMPV6 = 58;
/** The largest payload the 16-bit Payload Length field can state (jumbograms are not supported). */
export const IPV6_MAX_PAYLOAD_LENGTH = 0xffff;

/** The unspecified address ::, the source of Duplicate Address Detection (RFC 4862 section 5.4.2). */
export const IPV6_UNSPECIFIED = 0n;
/** ff02::1, the link-local all-nodes multicast address (RFC 4291 section 2.7.1). */
export const IPV6_ALL_NODES = 0xff02_0000_0000_0000_0000_0000_0000_0001n;

const LARGEST_ADDRESS = (1n << 128n) - 1n;

export interface Ipv6Header {
  /** 8 bits (DSCP and ECN). */
  readonly trafficClass: number;
  /** 20 bits. */
  readonly flowLabel: number;
  readonly nextHeader: number;
  readonly hopLimit: number;
  readonly source: bigint;
  readonly destination: bigint;
}

export interface Ipv6Packet extends Ipv6Header {
  /** Exactly Payload Length bytes. Decoding returns a view into the input, not a copy. */
  readonly payload: Uint8Array;
}

/** True iff addr is an IPv6 multicast address, ff00::/8 (RFC 4291 section 2.7). */
export function isIpv6Multicast(addr: bigint): boolean {
  return addr >> 120n === 0xffn;
}

/** The IPv6 address in the 16 bytes at `offset` of `view`. */
export function readIpv6Address(view: DataView, offset: number): bigint {
  return (view.getBigUint64(offset) << 64n) | view.getBigUint64(offset + 8);
}

/** Writes addr into the 16 bytes at `offset` of `view`; throws RangeError outside 128 bits (a bug). */
export function writeIpv6Address(view: DataView, offset: number, addr: bigint): void {
  if (addr < 0n || addr > LARGEST_ADDRESS) throw new RangeError(`${addr} is not a 128-bit IPv6 address`);
  view.setBigUint64(offset, addr >> 64n);
  view.setBigUint64(offset + 8, BigInt.asUintN(64, addr));
}

/** Header and payload; throws RangeError on a field out of range or a payload over 65535 bytes (bugs). */
export function encodeIpv6Packet(packet: Ipv6Packet): Uint8Array {
  checkField('traffic class', packet.trafficClass, 0xff);
  checkField('flow label', packet.flowLabel, 0xfffff);
  checkField('next header', packet.nextHeader, 0xff);
  checkField('hop limit', packet.hopLimit, 0xff);
  checkField('payload length', packet.payload.length, IPV6_MAX_PAYLOAD_LENGTH);
  const bytes = new Uint8Array(IPV6_HEADER_LENGTH + packet.payload.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, ((6 << 28) | (packet.trafficClass << 20) | packet.flowLabel) >>> 0);
  view.setUint16(4, packet.payload.length);
  view.setUint8(6, packet.nextHeader);
  view.setUint8(7, packet.hopLimit);
  writeIpv6Address(view, 8, packet.source);
  writeIpv6Address(view, 24, packet.destination);
  bytes.set(packet.payload, IPV6_HEADER_LENGTH);
  return bytes;
}

/**
 * Decodes the header and takes Payload Length bytes after it as the payload; bytes beyond that (link-layer padding)
 * are ignored. Version other than 6 is 'malformed', fewer bytes than Payload Length 'truncated'. Never throws.
 */
export function decodeIpv6Packet(bytes: Uint8Array): Result<Ipv6Packet, DecodeError> {
  if (bytes.length < IPV6_HEADER_LENGTH) {
    return decodeFailure('truncated', `IPv6: packet has ${bytes.length} bytes, the header alone needs ${IPV6_HEADER_LENGTH}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = view.getUint32(0);
  const version = first >>> 28;
  if (version !== 6) return decodeFailure('malformed', `IPv6: version field is ${version}, not 6`);
  const payloadLength = view.getUint16(4);
  const available = bytes.length - IPV6_HEADER_LENGTH;
  if (payloadLength > available) {
    return decodeFailure('truncated', `IPv6: payload length says ${payloadLength} bytes, only ${available} follow the header`);
  }
  return ok({
    trafficClass: (first >>> 20) & 0xff,
    flowLabel: first & 0xfffff,
    nextHeader: view.getUint8(6),
    hopLimit: view.getUint8(7),
    source: readIpv6Address(view, 8),
    destination: readIpv6Address(view, 24),
    payload: bytes.subarray(IPV6_HEADER_LENGTH, IPV6_HEADER_LENGTH + payloadLength),
  });
}

function checkField(name: string, value: number, largest: number): void {
  if (!Number.isInteger(value) || value < 0 || value > largest) throw new RangeError(`IPv6 ${name} ${value} is not 0-${largest}`);
}
