// The IPv6 header (RFC 8200 section 3) and the addresses in it. Extension headers are not parsed: the payload is
// whatever follows the 40-byte header, and nextHeader says what it is (58 for ICMPv6).
import { ok, type Result } from '../../core/result.ts';
import { decodeFailure, headerTruncated, type DecodeError } from '../ethernet/decode-error.ts';
import { ByteReader } from '../wire/byte-reader.ts';
import { ByteWriter } from '../wire/byte-writer.ts';

export const IPV6_HEADER_LENGTH = 40;
export const NEXT_HEADER_ICMPV6 = 58;
/** The largest payload the 16-bit Payload Length field can state (jumbograms are not supported). */
export const IPV6_MAX_PAYLOAD_LENGTH = 0xffff;

/** The unspecified address ::, the source of Duplicate Address Detection (RFC 4862 section 5.4.2). */
export const IPV6_UNSPECIFIED = 0n;
/** ff02::1, the link-local all-nodes multicast address (RFC 4291 section 2.7.1). */
export const IPV6_ALL_NODES = 0xff02_0000_0000_0000_0000_0000_0000_0001n;

/** Source and destination follow the first 8 bytes of the header. */
const ADDRESSES_OFFSET = 8;
const IP_VERSION = 6;

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

/** Header and payload; throws RangeError on a field out of range or a payload over 65535 bytes (bugs). */
export function encodeIpv6Packet(packet: Ipv6Packet): Uint8Array {
  checkField('traffic class', packet.trafficClass, 0xff);
  checkField('flow label', packet.flowLabel, 0xfffff);
  checkField('next header', packet.nextHeader, 0xff);
  checkField('hop limit', packet.hopLimit, 0xff);
  checkField('payload length', packet.payload.length, IPV6_MAX_PAYLOAD_LENGTH);
  return new ByteWriter()
    .u32(((IP_VERSION << 28) | (packet.trafficClass << 20) | packet.flowLabel) >>> 0)
    .u16(packet.payload.length)
    .u8(packet.nextHeader)
    .u8(packet.hopLimit)
    .ipv6(packet.source, 'IPv6 source')
    .ipv6(packet.destination, 'IPv6 destination')
    .bytes(packet.payload)
    .finish();
}

/**
 * Decodes the header and takes Payload Length bytes after it as the payload; bytes beyond that (link-layer padding)
 * are ignored. Version other than 6 is 'malformed', fewer bytes than Payload Length 'truncated'. Never throws.
 */
export function decodeIpv6Packet(bytes: Uint8Array): Result<Ipv6Packet, DecodeError> {
  if (bytes.length < IPV6_HEADER_LENGTH) return headerTruncated('IPv6', 'packet', bytes.length, IPV6_HEADER_LENGTH);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = view.getUint32(0);
  const version = first >>> 28;
  if (version !== IP_VERSION) return decodeFailure('malformed', `IPv6: version field is ${version}, not 6`);
  const payloadLength = view.getUint16(4);
  const available = bytes.length - IPV6_HEADER_LENGTH;
  if (payloadLength > available) {
    return decodeFailure(
      'truncated',
      `IPv6: payload length says ${payloadLength} bytes, only ${available} follow the header`,
    );
  }
  const addresses = new ByteReader(bytes, ADDRESSES_OFFSET, IPV6_HEADER_LENGTH);
  return ok({
    trafficClass: (first >>> 20) & 0xff,
    flowLabel: first & 0xfffff,
    nextHeader: view.getUint8(6),
    hopLimit: view.getUint8(7),
    source: addresses.ipv6(),
    destination: addresses.ipv6(),
    payload: bytes.subarray(IPV6_HEADER_LENGTH, IPV6_HEADER_LENGTH + payloadLength),
  });
}

function checkField(name: string, value: number, largest: number): void {
  if (!Number.isInteger(value) || value < 0 || value > largest)
    throw new RangeError(`IPv6 ${name} ${value} is not 0-${largest}`);
}
