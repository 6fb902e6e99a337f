// Router Discovery (RFC 4861 sections 4.1, 4.2, 6.1.2): the Router Advertisement a router (FRR's zebra for its
// interface-based BGP neighbors) sends on a link, whose IPv6 source is the router's link-local address, and the
// Router Solicitation that asks for one at once. Used to find the peer of an unnumbered BGP session (ADR 0035).
// Decoding applies the validity checks of section 6.1.2; only the fields the speaker needs are kept.
import { ok, type Result } from '../../core/result.ts';
import { decodeFailure, type DecodeError } from '../ethernet/decode-error.ts';
import { ETHERTYPE_IPV6, decodeEthernetFrame, encodeEthernetFrame } from '../ethernet/ethernet-frame.ts';
import { formatMac, ipv6MulticastMac, macBytes, type MacAddress } from '../ethernet/mac-address.ts';
import { ByteWriter } from '../wire/byte-writer.ts';
import { icmpv6Checksum } from './icmpv6-checksum.ts';
import {
  IPV6_ALL_NODES,
  IPV6_UNSPECIFIED,
  NEXT_HEADER_ICMPV6,
  decodeIpv6Packet,
  encodeIpv6Packet,
} from './ipv6-packet.ts';

export const ICMPV6_ROUTER_SOLICITATION = 133;
export const ICMPV6_ROUTER_ADVERTISEMENT = 134;
/** ff02::2, the link-local all-routers multicast address (RFC 4291 section 2.7.1). */
export const IPV6_ALL_ROUTERS = 0xff02_0000_0000_0000_0000_0000_0000_0002n;
/** Router Discovery messages are sent, and accepted only, with hop limit 255 (RFC 4861 section 6.1). */
const HOP_LIMIT = 255;
/** Type, code, checksum, hop limit, flags, router lifetime, reachable time, retrans timer. */
const RA_FIXED_LENGTH = 16;
const OPTION_SOURCE_LINK_LAYER_ADDRESS = 1;
const LINK_LOCAL_PREFIX = 0xfe80n;

/** What a Router Advertisement tells the speaker: who the router is on this link, and for how long. */
export interface RouterAdvertisement {
  /** The router's link-local address (the IPv6 source). */
  readonly router: bigint;
  /** The Ethernet source of the frame. */
  readonly sourceMac: MacAddress;
  /** The Source Link-Layer Address option, when present. */
  readonly sourceLinkLayerAddress?: MacAddress;
  /** Seconds the router is a default router; 0: it is not one (still a router on the link). */
  readonly routerLifetime: number;
  readonly curHopLimit: number;
  readonly managed: boolean;
  readonly otherConfig: boolean;
}

/** A Router Solicitation to encode; from :: it carries no source link-layer address option (section 4.1). */
export interface RouterSolicitationToSend {
  readonly sourceMac: MacAddress;
  /** The interface's link-local address, or :: (IPV6_UNSPECIFIED) when it has none yet. */
  readonly source: bigint;
}

/** True iff addr is in fe80::/10. */
export function isIpv6LinkLocal(addr: bigint): boolean {
  return addr >> 118n === LINK_LOCAL_PREFIX >> 6n;
}

/**
 * Decodes an Ethernet frame carrying an ICMPv6 Router Advertisement and validates it as RFC 4861 section 6.1.2
 * says: link-local source, hop limit 255, checksum, code 0, at least 16 bytes, every option longer than 0. No
 * extension headers (as the BPF filter in front of it). Never throws.
 */
export function decodeRouterAdvertisementFrame(bytes: Uint8Array): Result<RouterAdvertisement, DecodeError> {
  const ethernet = decodeEthernetFrame(bytes);
  if (!ethernet.ok) return ethernet;
  const { source: sourceMac, etherType, payload } = ethernet.value;
  if (etherType !== ETHERTYPE_IPV6) {
    return decodeFailure('unsupported', `RA: frame has EtherType 0x${etherType.toString(16)}, not IPv6 (0x86dd)`);
  }
  const packet = decodeIpv6Packet(payload);
  if (!packet.ok) return packet;
  const { nextHeader, hopLimit, source, destination, payload: message } = packet.value;
  if (nextHeader !== NEXT_HEADER_ICMPV6) {
    return decodeFailure('unsupported', `RA: IPv6 next header ${nextHeader} is not ICMPv6 (58)`);
  }
  if (message.length < 4) return decodeFailure('truncated', `RA: ICMPv6 message has ${message.length} bytes`);
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const type = view.getUint8(0);
  if (type !== ICMPV6_ROUTER_ADVERTISEMENT) {
    return decodeFailure('unsupported', `RA: ICMPv6 type ${type} is not Router Advertisement (134)`);
  }
  if (hopLimit !== HOP_LIMIT) {
    return decodeFailure('invalid', `RA: hop limit ${hopLimit}, not 255: forwarded (RFC 4861 section 6.1.2)`);
  }
  if (!isIpv6LinkLocal(source)) {
    return decodeFailure('invalid', 'RA: the source is not a link-local address (RFC 4861 section 6.1.2)');
  }
  if (icmpv6Checksum(source, destination, message) !== 0) {
    return decodeFailure('invalid', 'RA: the ICMPv6 checksum is wrong (RFC 4443 section 2.3)');
  }
  const code = view.getUint8(1);
  if (code !== 0) return decodeFailure('invalid', `RA: ICMP code ${code}, not 0 (RFC 4861 section 6.1.2)`);
  if (message.length < RA_FIXED_LENGTH) {
    return decodeFailure('truncated', `RA: ${message.length} bytes, at least ${RA_FIXED_LENGTH} are needed`);
  }
  const linkLayer = sourceLinkLayerOption(message, view, RA_FIXED_LENGTH);
  if (!linkLayer.ok) return linkLayer;
  const flags = view.getUint8(5);
  return ok({
    router: source,
    sourceMac,
    ...(linkLayer.value === undefined ? {} : { sourceLinkLayerAddress: linkLayer.value }),
    routerLifetime: view.getUint16(6),
    curHopLimit: view.getUint8(4),
    managed: (flags & 0x80) !== 0,
    otherConfig: (flags & 0x40) !== 0,
  });
}

/**
 * A Router Solicitation (RFC 4861 section 4.1) to ff02::2 in an Ethernet frame (33:33:00:00:00:02), hop limit 255,
 * with the source link-layer address option unless the source is ::. Throws on bugs only (a non-canonical MAC).
 */
export function encodeRouterSolicitationFrame(solicitation: RouterSolicitationToSend): Uint8Array {
  const withOption = solicitation.source !== IPV6_UNSPECIFIED;
  const writer = new ByteWriter().u8(ICMPV6_ROUTER_SOLICITATION).u8(0).u16(0).u32(0);
  if (withOption) {
    writer.u8(OPTION_SOURCE_LINK_LAYER_ADDRESS).u8(1).bytes(macBytes(solicitation.sourceMac));
  }
  return multicastIcmpv6Frame(solicitation.sourceMac, solicitation.source, IPV6_ALL_ROUTERS, writer.finish());
}

/**
 * An ICMPv6 message from `source` to the multicast group `group`, its checksum (bytes 2-3, zero on entry) filled in,
 * in an IPv6 packet with hop limit 255 in an Ethernet frame to the group's MAC.
 */
function multicastIcmpv6Frame(sourceMac: MacAddress, source: bigint, group: bigint, message: Uint8Array): Uint8Array {
  new DataView(message.buffer, message.byteOffset).setUint16(2, icmpv6Checksum(source, group, message));
  const packet = encodeIpv6Packet({
    trafficClass: 0,
    flowLabel: 0,
    nextHeader: NEXT_HEADER_ICMPV6,
    hopLimit: HOP_LIMIT,
    source,
    destination: group,
    payload: message,
  });
  return encodeEthernetFrame({
    destination: ipv6MulticastMac(group),
    source: sourceMac,
    etherType: ETHERTYPE_IPV6,
    payload: packet,
  });
}

/** A Router Advertisement to encode: the node announcing its own link-local address to the router (ADR 0035). */
export interface RouterAdvertisementToSend {
  readonly sourceMac: MacAddress;
  /** The interface's link-local address (RAs come only from one, RFC 4861 section 6.1.2). */
  readonly source: bigint;
  /** 0: not a default router (hosts on the link take no route from it). */
  readonly routerLifetime: number;
  readonly curHopLimit: number;
}

/**
 * A Router Advertisement (RFC 4861 section 4.2) to ff02::1 in an Ethernet frame (33:33:00:00:00:01), hop limit
 * 255, no prefix options, reachable time and retrans timer 0 (unspecified), with the source link-layer address
 * option. Throws RangeError on a source that is not link-local or fields out of range (bugs).
 */
export function encodeRouterAdvertisementFrame(advertisement: RouterAdvertisementToSend): Uint8Array {
  if (!isIpv6LinkLocal(advertisement.source)) throw new RangeError('a Router Advertisement needs a link-local source');
  const message = new ByteWriter()
    .u8(ICMPV6_ROUTER_ADVERTISEMENT)
    .u8(0)
    .u16(0)
    .u8(advertisement.curHopLimit, 'Cur Hop Limit')
    .u8(0)
    .u16(advertisement.routerLifetime, 'Router Lifetime')
    .u32(0)
    .u32(0)
    .u8(OPTION_SOURCE_LINK_LAYER_ADDRESS)
    .u8(1)
    .bytes(macBytes(advertisement.sourceMac))
    .finish();
  return multicastIcmpv6Frame(advertisement.sourceMac, advertisement.source, IPV6_ALL_NODES, message);
}

/** The first Source Link-Layer Address option of an Ethernet length; every option must be longer than 0. */
function sourceLinkLayerOption(
  message: Uint8Array,
  view: DataView,
  start: number,
): Result<MacAddress | undefined, DecodeError> {
  let found: MacAddress | undefined;
  for (let offset = start; offset < message.length;) {
    if (message.length - offset < 2) {
      return decodeFailure('malformed', `RA: ends in a ${message.length - offset}-byte fragment of an option`);
    }
    const type = view.getUint8(offset);
    const length = view.getUint8(offset + 1) * 8;
    if (length === 0) {
      return decodeFailure('malformed', `RA: option ${type} at byte ${offset} has length 0 (RFC 4861 section 4.6)`);
    }
    if (offset + length > message.length) {
      return decodeFailure('truncated', `RA: option ${type} at byte ${offset} runs past the message`);
    }
    if (type === OPTION_SOURCE_LINK_LAYER_ADDRESS && found === undefined && length === 8) {
      found = formatMac(message, offset + 2);
    }
    offset += length;
  }
  return ok(found);
}
