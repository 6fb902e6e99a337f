// Neighbor Discovery for IPv6 (RFC 4861), the two messages of address resolution: Neighbor Solicitation (section
// 4.3) and Neighbor Advertisement (section 4.4), with the Source/Target Link-Layer Address options for Ethernet
// (section 4.6.1, RFC 2464 section 6). Three layers: the ICMPv6 message (for a raw ICMPv6 socket), the IPv6
// packet, and the Ethernet frame (for an AF_PACKET socket). Decoding applies the validity checks of section 7.1.
import { ok, type Result } from '../../core/result.ts';
import { decodeFailure, type DecodeError } from '../ethernet/decode-error.ts';
import {
  ETHERTYPE_IPV6,
  decodeEthernetFrame,
  encodeEthernetFrame,
  type EthernetEncodeOptions,
  type VlanTag,
} from '../ethernet/ethernet-frame.ts';
import { formatMac, ipv6MulticastMac, type MacAddress } from '../ethernet/mac-address.ts';
import { ByteReader } from '../wire/byte-reader.ts';
import { ByteWriter } from '../wire/byte-writer.ts';
import { icmpv6Checksum } from './icmpv6-checksum.ts';
import {
  IPV6_ALL_NODES,
  IPV6_UNSPECIFIED,
  NEXT_HEADER_ICMPV6,
  decodeIpv6Packet,
  encodeIpv6Packet,
  isIpv6Multicast,
} from './ipv6-packet.ts';

export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
/** Sent with, and accepted only with, hop limit 255: proof the packet was not forwarded (RFC 4861 section 7.1). */
export const NDP_HOP_LIMIT = 255;

const OPTION_SOURCE_LINK_LAYER_ADDRESS = 1;
const OPTION_TARGET_LINK_LAYER_ADDRESS = 2;
/** Type, code, checksum, 4 bytes of flags/reserved, 16 bytes of target address. */
const FIXED_LENGTH = 24;
const CHECKSUM_OFFSET = 2;
const TARGET_OFFSET = 8;
/** A link-layer address option for Ethernet: type, length 1 (8 octets), 6-byte MAC. */
const LINK_LAYER_OPTION_LENGTH = 8;
const FLAG_ROUTER = 0x80;
const FLAG_SOLICITED = 0x40;
const FLAG_OVERRIDE = 0x20;
/** ff02::1:ff00:0/104, the solicited-node multicast prefix (RFC 4291 section 2.7.1). */
const SOLICITED_NODE_PREFIX = 0xff02_0000_0000_0000_0000_0001_ff00_0000n;
const OTHER_ICMPV6_TYPES: Readonly<Record<number, string>> = {
  1: 'Destination Unreachable',
  2: 'Packet Too Big',
  3: 'Time Exceeded',
  4: 'Parameter Problem',
  128: 'Echo Request',
  129: 'Echo Reply',
  130: 'MLD Query',
  131: 'MLD Report',
  132: 'MLD Done',
  133: 'Router Solicitation',
  134: 'Router Advertisement',
  137: 'Redirect',
  143: 'MLDv2 Report',
};

/**
 * The IPv6 fields beside the message that a decoder needs (RFC 4861 section 7.1 checks hop limit and checksum) and
 * that an encoder writes. trafficClass and flowLabel are present only when not 0: Linux's kernel sends 0, ndisc6
 * sets a flow label, and keeping it lets a decoded message re-encode to the same bytes.
 */
interface NdpIpFields {
  readonly source: bigint;
  readonly destination: bigint;
  readonly trafficClass?: number;
  readonly flowLabel?: number;
}

/** RFC 4861 section 4.3. */
export interface NeighborSolicitation extends NdpIpFields {
  readonly type: 'neighbor-solicitation';
  /** Whose link-layer address is asked for; never multicast. */
  readonly target: bigint;
  /** Absent from DAD (source ::) and allowed to be absent from unicast solicitations. */
  readonly sourceLinkLayerAddress?: MacAddress;
}

/** RFC 4861 section 4.4. */
export interface NeighborAdvertisement extends NdpIpFields {
  readonly type: 'neighbor-advertisement';
  readonly target: bigint;
  readonly router: boolean;
  readonly solicited: boolean;
  readonly override: boolean;
  readonly targetLinkLayerAddress?: MacAddress;
}

export type NdpMessage = NeighborSolicitation | NeighborAdvertisement;

/** What decodeNdpMessage needs from the IPv6 header (from a raw socket: IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT). */
export interface NdpReceivedIpHeader extends NdpIpFields {
  readonly hopLimit: number;
}

/** An NDP message with the Ethernet header it travels in. */
export interface NdpFrame<M extends NdpMessage = NdpMessage> {
  readonly destination: MacAddress;
  readonly source: MacAddress;
  readonly vlan?: VlanTag;
  readonly message: M;
}

/** A frame to encode: without destination, a multicast IPv6 destination maps to its RFC 2464 MAC address. */
export interface NdpFrameToSend {
  readonly destination?: MacAddress;
  readonly source: MacAddress;
  readonly vlan?: VlanTag;
  readonly message: NdpMessage;
}

/** ff02::1:ffXX:XXXX, the solicited-node multicast address of addr: its low 24 bits (RFC 4291 section 2.7.1). */
export function solicitedNodeMulticast(addr: bigint): bigint {
  return SOLICITED_NODE_PREFIX | (addr & 0xff_ffffn);
}

/** True iff addr is in ff02::1:ff00:0/104. */
export function isSolicitedNodeMulticast(addr: bigint): boolean {
  return addr >> 24n === SOLICITED_NODE_PREFIX >> 24n;
}

/**
 * The ICMPv6 message with its checksum. Encoding does not apply the section 7.1 rules (decoding does): it writes
 * what it is given. Throws RangeError on an address outside 128 bits or a non-canonical MAC (bugs).
 */
export function encodeNdpMessage(message: NdpMessage): Uint8Array {
  const isSolicitation = message.type === 'neighbor-solicitation';
  const linkLayerAddress = isSolicitation ? message.sourceLinkLayerAddress : message.targetLinkLayerAddress;
  const flags = isSolicitation
    ? 0
    : (message.router ? FLAG_ROUTER : 0) |
      (message.solicited ? FLAG_SOLICITED : 0) |
      (message.override ? FLAG_OVERRIDE : 0);
  const writer = new ByteWriter()
    .u8(isSolicitation ? ICMPV6_NEIGHBOR_SOLICITATION : ICMPV6_NEIGHBOR_ADVERTISEMENT)
    .u8(0) // code
    .u16(0) // checksum, filled in below
    .u32((flags << 24) >>> 0) // flags and reserved
    .ipv6(message.target, 'NDP target');
  if (linkLayerAddress !== undefined) {
    writer
      .u8(isSolicitation ? OPTION_SOURCE_LINK_LAYER_ADDRESS : OPTION_TARGET_LINK_LAYER_ADDRESS)
      .u8(LINK_LAYER_OPTION_LENGTH / 8)
      .mac(linkLayerAddress);
  }
  const bytes = writer.finish();
  new DataView(bytes.buffer).setUint16(CHECKSUM_OFFSET, icmpv6Checksum(message.source, message.destination, bytes));
  return bytes;
}

/**
 * Decodes an ICMPv6 Neighbor Solicitation or Advertisement and validates it as RFC 4861 sections 7.1.1 and 7.1.2
 * say: hop limit 255, checksum, code 0, at least 24 bytes, target not multicast, every option longer than 0; for a
 * solicitation from :: a solicited-node destination and no source link-layer address option; for an advertisement
 * to a multicast address the Solicited flag clear. Unrecognized options are skipped, as are link-layer address
 * options in the message type they do not belong to and repeats (the first counts). Never throws.
 * Long (~80 lines): the RFC 4861 checks in the order the RFC lists them.
 */
export function decodeNdpMessage(message: Uint8Array, ip: NdpReceivedIpHeader): Result<NdpMessage, DecodeError> {
  if (message.length < 4)
    return decodeFailure('truncated', `ICMPv6: message has ${message.length} bytes, its header needs 4`);
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const type = view.getUint8(0);
  if (type !== ICMPV6_NEIGHBOR_SOLICITATION && type !== ICMPV6_NEIGHBOR_ADVERTISEMENT) {
    const name = OTHER_ICMPV6_TYPES[type];
    return decodeFailure(
      'unsupported',
      `NDP: ICMPv6 type ${type}${name ? ` (${name})` : ''} is neither Neighbor Solicitation (135) nor Advertisement (136)`,
    );
  }
  const isSolicitation = type === ICMPV6_NEIGHBOR_SOLICITATION;
  const kind = isSolicitation ? 'Neighbor Solicitation' : 'Neighbor Advertisement';
  const section = isSolicitation ? 'RFC 4861 section 7.1.1' : 'RFC 4861 section 7.1.2';
  if (ip.hopLimit !== NDP_HOP_LIMIT) {
    return decodeFailure(
      'invalid',
      `NDP: ${kind} has hop limit ${ip.hopLimit}, not 255: forwarded or from off-link (${section})`,
    );
  }
  if (icmpv6Checksum(ip.source, ip.destination, message) !== 0) {
    return decodeFailure(
      'invalid',
      `NDP: ${kind} checksum 0x${hex(view.getUint16(2), 4)} is wrong (RFC 4443 section 2.3)`,
    );
  }
  const code = view.getUint8(1);
  if (code !== 0) return decodeFailure('invalid', `NDP: ${kind} has ICMP code ${code}, not 0 (${section})`);
  if (message.length < FIXED_LENGTH) {
    return decodeFailure('truncated', `NDP: ${kind} has ${message.length} bytes, at least ${FIXED_LENGTH} are needed`);
  }
  const target = new ByteReader(message, TARGET_OFFSET).ipv6();
  if (isIpv6Multicast(target))
    return decodeFailure('invalid', `NDP: ${kind} target is a multicast address (${section})`);
  const wanted = isSolicitation ? OPTION_SOURCE_LINK_LAYER_ADDRESS : OPTION_TARGET_LINK_LAYER_ADDRESS;
  const linkLayerAddress = findLinkLayerAddress(message, view, wanted, kind);
  if (!linkLayerAddress.ok) return linkLayerAddress;

  const ipFields: NdpIpFields = {
    source: ip.source,
    destination: ip.destination,
    ...(ip.trafficClass ? { trafficClass: ip.trafficClass } : {}),
    ...(ip.flowLabel ? { flowLabel: ip.flowLabel } : {}),
  };
  if (isSolicitation) {
    if (ip.source === IPV6_UNSPECIFIED) {
      if (!isSolicitedNodeMulticast(ip.destination)) {
        return decodeFailure(
          'invalid',
          `NDP: ${kind} from :: must go to a solicited-node multicast address (${section})`,
        );
      }
      if (linkLayerAddress.value !== undefined) {
        return decodeFailure(
          'invalid',
          `NDP: ${kind} from :: must not carry a source link-layer address option (${section})`,
        );
      }
    }
    return ok({
      type: 'neighbor-solicitation',
      ...ipFields,
      target,
      ...(linkLayerAddress.value === undefined ? {} : { sourceLinkLayerAddress: linkLayerAddress.value }),
    });
  }
  const flags = view.getUint8(4);
  const solicited = (flags & FLAG_SOLICITED) !== 0;
  if (solicited && isIpv6Multicast(ip.destination)) {
    return decodeFailure('invalid', `NDP: ${kind} to a multicast address has the Solicited flag set (${section})`);
  }
  return ok({
    type: 'neighbor-advertisement',
    ...ipFields,
    target,
    router: (flags & FLAG_ROUTER) !== 0,
    solicited,
    override: (flags & FLAG_OVERRIDE) !== 0,
    ...(linkLayerAddress.value === undefined ? {} : { targetLinkLayerAddress: linkLayerAddress.value }),
  });
}

/** The IPv6 packet of an NDP message: next header 58, hop limit 255. Throws on bugs only. */
export function encodeNdpPacket(message: NdpMessage): Uint8Array {
  return encodeIpv6Packet({
    trafficClass: message.trafficClass ?? 0,
    flowLabel: message.flowLabel ?? 0,
    nextHeader: NEXT_HEADER_ICMPV6,
    hopLimit: NDP_HOP_LIMIT,
    source: message.source,
    destination: message.destination,
    payload: encodeNdpMessage(message),
  });
}

/** Decodes an IPv6 packet carrying an NDP message; extension headers before ICMPv6 are 'unsupported'. Never throws. */
export function decodeNdpPacket(bytes: Uint8Array): Result<NdpMessage, DecodeError> {
  const packet = decodeIpv6Packet(bytes);
  if (!packet.ok) return packet;
  const { nextHeader, payload, ...header } = packet.value;
  if (nextHeader !== NEXT_HEADER_ICMPV6) {
    return decodeFailure(
      'unsupported',
      `NDP: IPv6 next header ${nextHeader} is not ICMPv6 (58); extension headers are not supported`,
    );
  }
  return decodeNdpMessage(payload, header);
}

/**
 * The Ethernet frame of an NDP message. Without a destination MAC, a multicast IPv6 destination goes to its
 * RFC 2464 section 7 address (33:33 and the low 32 bits); a unicast one needs the neighbor's MAC (RangeError
 * otherwise: a bug). Throws on bugs only.
 */
export function encodeNdpFrame(frame: NdpFrameToSend, options: EthernetEncodeOptions = {}): Uint8Array {
  const { message } = frame;
  let destination = frame.destination;
  if (destination === undefined) {
    if (!isIpv6Multicast(message.destination)) {
      throw new RangeError('NDP frame to a unicast IPv6 address needs the destination MAC address');
    }
    destination = ipv6MulticastMac(message.destination);
  }
  const ethernet = { destination, source: frame.source, etherType: ETHERTYPE_IPV6, payload: encodeNdpPacket(message) };
  return encodeEthernetFrame(frame.vlan ? { ...ethernet, vlan: frame.vlan } : ethernet, options);
}

/** Decodes an Ethernet frame (one VLAN tag allowed, padding ignored) carrying an NDP message. Never throws. */
export function decodeNdpFrame(bytes: Uint8Array): Result<NdpFrame, DecodeError> {
  const ethernet = decodeEthernetFrame(bytes);
  if (!ethernet.ok) return ethernet;
  const { destination, source, vlan, etherType, payload } = ethernet.value;
  if (etherType !== ETHERTYPE_IPV6) {
    return decodeFailure('unsupported', `NDP: frame has EtherType 0x${hex(etherType, 4)}, not IPv6 (0x86dd)`);
  }
  const message = decodeNdpPacket(payload);
  if (!message.ok) return message;
  return ok(
    vlan ? { destination, source, vlan, message: message.value } : { destination, source, message: message.value },
  );
}

/** Narrows a decoded frame to one carrying a Neighbor Solicitation. */
export function isNeighborSolicitationFrame(frame: NdpFrame): frame is NdpFrame<NeighborSolicitation> {
  return frame.message.type === 'neighbor-solicitation';
}

/**
 * The answer to a Neighbor Solicitation for an address this node answers for (RFC 4861 section 7.2.4): target as
 * asked, Router 0, Override 1, our MAC in a target link-layer address option; to the solicitation's source with
 * Solicited 1, or, when the source is :: (DAD), to all-nodes ff02::1 with Solicited 0. `ourAddress` is the IPv6
 * source, an address of the sending interface; Linux uses the target itself. Linux answers a unicast solicitation
 * without the option and with Override 0 (allowed: section 7.2.4 says "MAY be omitted"); this always includes it.
 */
export function neighborAdvertisementFor(
  ns: NeighborSolicitation,
  ownMac: MacAddress,
  ourAddress: bigint,
): NeighborAdvertisement {
  const fromUnspecified = ns.source === IPV6_UNSPECIFIED;
  return {
    type: 'neighbor-advertisement',
    source: ourAddress,
    destination: fromUnspecified ? IPV6_ALL_NODES : ns.source,
    target: ns.target,
    router: false,
    solicited: !fromUnspecified,
    override: true,
    targetLinkLayerAddress: ownMac,
  };
}

/**
 * neighborAdvertisementFor in a frame, on the solicitation's VLAN, from ownMac. To ff02::1 it goes to
 * 33:33:00:00:00:01; to a unicast source it goes to the solicitation's source link-layer address or, when the
 * solicitation has none, to the Ethernet source it came from. (Linux instead first resolves the soliciting address
 * with a solicitation of its own; the frame's source is where the solicitation came from, so that round trip is
 * skipped.)
 */
export function neighborAdvertisementFrameFor(
  request: NdpFrame<NeighborSolicitation>,
  ownMac: MacAddress,
  ourAddress: bigint,
): NdpFrame<NeighborAdvertisement> {
  const message = neighborAdvertisementFor(request.message, ownMac, ourAddress);
  const destination = isIpv6Multicast(message.destination)
    ? ipv6MulticastMac(message.destination)
    : (request.message.sourceLinkLayerAddress ?? request.source);
  const frame = { destination, source: ownMac, message };
  return request.vlan ? { ...frame, vlan: request.vlan } : frame;
}

/**
 * An unsolicited Neighbor Advertisement (RFC 4861 section 7.2.6) announcing that addr is at mac: to all-nodes
 * ff02::1, Solicited 0, Override 1, Router 0, with the target link-layer address option. The IPv6 source defaults
 * to addr itself, as Linux sends it (ndisc_notify, capture kernelNotify).
 */
export function unsolicitedNeighborAdvertisement(
  mac: MacAddress,
  addr: bigint,
  source: bigint = addr,
): NeighborAdvertisement {
  return {
    type: 'neighbor-advertisement',
    source,
    destination: IPV6_ALL_NODES,
    target: addr,
    router: false,
    solicited: false,
    override: true,
    targetLinkLayerAddress: mac,
  };
}

/** The first link-layer address option of type `wanted` after the fixed part, skipping all others. */
function findLinkLayerAddress(
  message: Uint8Array,
  view: DataView,
  wanted: number,
  kind: string,
): Result<MacAddress | undefined, DecodeError> {
  let found: MacAddress | undefined;
  let offset = FIXED_LENGTH;
  while (offset < message.length) {
    if (message.length - offset < 2) {
      return decodeFailure('malformed', `NDP: ${kind} ends in a ${message.length - offset}-byte fragment of an option`);
    }
    const type = view.getUint8(offset);
    const length = view.getUint8(offset + 1) * 8;
    if (length === 0) {
      return decodeFailure(
        'malformed',
        `NDP: ${kind} option ${type} at byte ${offset} has length 0 (RFC 4861 section 4.6)`,
      );
    }
    if (offset + length > message.length) {
      return decodeFailure(
        'malformed',
        `NDP: ${kind} option ${type} at byte ${offset} is ${length} bytes, only ${message.length - offset} remain`,
      );
    }
    if (type === wanted && found === undefined) {
      if (length !== LINK_LAYER_OPTION_LENGTH) {
        return decodeFailure(
          'unsupported',
          `NDP: ${kind} link-layer address option is ${length} bytes, not Ethernet's ${LINK_LAYER_OPTION_LENGTH} (RFC 2464 section 6)`,
        );
      }
      found = formatMac(message, offset + 2);
    }
    offset += length;
  }
  return ok(found);
}

function hex(value: number, digits: number): string {
  return value.toString(16).padStart(digits, '0');
}
