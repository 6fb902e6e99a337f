// ARP (RFC 826) for Ethernet and IPv4 only: hardware type 1, protocol type 0x0800, lengths 6 and 4, operations
// request (1) and reply (2). Plus the frames around it and the packets the layer-2 speaker sends: replies and
// gratuitous ARP (RFC 5227 section 3 announcements).
import { ok, type Result } from '../../core/result.ts';
import { decodeFailure, type DecodeError } from '../ethernet/decode-error.ts';
import {
  ETHERTYPE_ARP,
  decodeEthernetFrame,
  encodeEthernetFrame,
  type EthernetEncodeOptions,
  type VlanTag,
} from '../ethernet/ethernet-frame.ts';
import { BROADCAST_MAC, MAC_LENGTH, ZERO_MAC, type MacAddress } from '../ethernet/mac-address.ts';
import { ByteReader } from '../wire/byte-reader.ts';
import { ByteWriter } from '../wire/byte-writer.ts';

export type ArpOperation = 'request' | 'reply';

export interface ArpPacket {
  readonly op: ArpOperation;
  readonly senderMac: MacAddress;
  /** An IPv4 address in the single address space (IPv4-mapped), as src/core/ip keeps it. */
  readonly senderIp: bigint;
  readonly targetMac: MacAddress;
  readonly targetIp: bigint;
}

/** An ARP packet with the Ethernet header it travels in. */
export interface ArpFrame {
  readonly destination: MacAddress;
  readonly source: MacAddress;
  readonly vlan?: VlanTag;
  readonly packet: ArpPacket;
}

/** 8 bytes of fixed header and two (MAC, IPv4) pairs. */
export const ARP_PACKET_LENGTH = 28;
const FIXED_HEADER_LENGTH = 8;
const IPV4_LENGTH = 4;
const HARDWARE_TYPE_ETHERNET = 1;
const PROTOCOL_TYPE_IPV4 = 0x0800;
const OPERATION_CODES: Readonly<Record<ArpOperation, number>> = { request: 1, reply: 2 };
const OPERATION_NAMES: Readonly<Record<number, string>> = {
  3: 'RARP request',
  4: 'RARP reply',
  8: 'InARP request',
  9: 'InARP reply',
};

/** The 28 bytes of an Ethernet/IPv4 ARP packet; throws RangeError on a non-IPv4 address or non-canonical MAC (bugs). */
export function encodeArpPacket(packet: ArpPacket): Uint8Array {
  return new ByteWriter()
    .u16(HARDWARE_TYPE_ETHERNET)
    .u16(PROTOCOL_TYPE_IPV4)
    .u8(MAC_LENGTH)
    .u8(IPV4_LENGTH)
    .u16(OPERATION_CODES[packet.op])
    .mac(packet.senderMac)
    .ipv4(packet.senderIp, 'ARP sender address')
    .mac(packet.targetMac)
    .ipv4(packet.targetIp, 'ARP target address')
    .finish();
}

/**
 * Decodes an ARP packet from the start of `bytes`; bytes after the 28 it needs (Ethernet padding) are ignored.
 * Other hardware or protocol types, address lengths and operations are 'unsupported'. Never throws.
 */
export function decodeArpPacket(bytes: Uint8Array): Result<ArpPacket, DecodeError> {
  if (bytes.length < FIXED_HEADER_LENGTH) {
    return decodeFailure(
      'truncated',
      `ARP: packet has ${bytes.length} bytes, the fixed header alone needs ${FIXED_HEADER_LENGTH}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hardwareType = view.getUint16(0);
  if (hardwareType !== HARDWARE_TYPE_ETHERNET) {
    return decodeFailure('unsupported', `ARP: hardware type ${hardwareType} is not Ethernet (1)`);
  }
  const protocolType = view.getUint16(2);
  if (protocolType !== PROTOCOL_TYPE_IPV4) {
    return decodeFailure(
      'unsupported',
      `ARP: protocol type 0x${protocolType.toString(16).padStart(4, '0')} is not IPv4 (0x0800)`,
    );
  }
  const hardwareLength = view.getUint8(4);
  const protocolLength = view.getUint8(5);
  if (hardwareLength !== 6 || protocolLength !== 4) {
    return decodeFailure(
      'unsupported',
      `ARP: address lengths ${hardwareLength} (hardware) and ${protocolLength} (protocol) are not Ethernet's 6 and IPv4's 4`,
    );
  }
  const code = view.getUint16(6);
  const op = code === 1 ? 'request' : code === 2 ? 'reply' : undefined;
  if (op === undefined) {
    const name = OPERATION_NAMES[code];
    return decodeFailure(
      'unsupported',
      `ARP: operation ${code}${name ? ` (${name})` : ''} is neither request (1) nor reply (2)`,
    );
  }
  if (bytes.length < ARP_PACKET_LENGTH) {
    return decodeFailure(
      'truncated',
      `ARP: packet has ${bytes.length} bytes, Ethernet/IPv4 ARP needs ${ARP_PACKET_LENGTH}`,
    );
  }
  const addresses = new ByteReader(bytes, FIXED_HEADER_LENGTH, ARP_PACKET_LENGTH);
  return ok({
    op,
    senderMac: addresses.mac(),
    senderIp: addresses.ipv4(),
    targetMac: addresses.mac(),
    targetIp: addresses.ipv4(),
  });
}

/** The Ethernet frame of an ARP packet; padded to 60 bytes unless options say otherwise. Throws on bugs only. */
export function encodeArpFrame(frame: ArpFrame, options: EthernetEncodeOptions = {}): Uint8Array {
  const payload = encodeArpPacket(frame.packet);
  const ethernet = { destination: frame.destination, source: frame.source, etherType: ETHERTYPE_ARP, payload };
  return encodeEthernetFrame(frame.vlan ? { ...ethernet, vlan: frame.vlan } : ethernet, options);
}

/** Decodes an Ethernet frame carrying ARP, padded to 60 bytes or not, with or without one VLAN tag. Never throws. */
export function decodeArpFrame(bytes: Uint8Array): Result<ArpFrame, DecodeError> {
  const ethernet = decodeEthernetFrame(bytes);
  if (!ethernet.ok) return ethernet;
  const { destination, source, vlan, etherType, payload } = ethernet.value;
  if (etherType !== ETHERTYPE_ARP) {
    return decodeFailure(
      'unsupported',
      `ARP: frame has EtherType 0x${etherType.toString(16).padStart(4, '0')}, not ARP (0x0806)`,
    );
  }
  const packet = decodeArpPacket(payload);
  if (!packet.ok) return packet;
  return ok(vlan ? { destination, source, vlan, packet: packet.value } : { destination, source, packet: packet.value });
}

/**
 * The reply to an ARP request for an address this node answers for (RFC 826 "Packet Reception"): sender is us
 * (ownMac, the requested address), target is the requester. Also right for an RFC 5227 probe (sender IP 0.0.0.0):
 * the reply then goes to 0.0.0.0 at the prober's MAC, as Linux does. The caller checks op and target address.
 */
export function arpReply(request: ArpPacket, ownMac: MacAddress): ArpPacket {
  return {
    op: 'reply',
    senderMac: ownMac,
    senderIp: request.targetIp,
    targetMac: request.senderMac,
    targetIp: request.senderIp,
  };
}

/** arpReply in a frame: unicast to the requester's sender hardware address, from ownMac, on the request's VLAN. */
export function arpReplyFrame(request: ArpFrame, ownMac: MacAddress): ArpFrame {
  const packet = arpReply(request.packet, ownMac);
  const frame = { destination: packet.targetMac, source: ownMac, packet };
  return request.vlan ? { ...frame, vlan: request.vlan } : frame;
}

/**
 * Gratuitous ARP as an RFC 5227 section 3 ARP Announcement: a broadcast request with sender IP = target IP = ip and
 * target MAC zero. This is the form to prefer and what `gratuitousArp` sends: RFC 5227 says announcements are
 * requests, every host's ARP module reads a request (it must decide whether to answer), and it is byte for byte the
 * frame the Linux kernel itself sends (arp_notify, capture kernelNotify). `arping -U` sends the same request with
 * target MAC ff:ff:ff:ff:ff:ff, an iputils habit no receiver looks at.
 */
export function gratuitousArpRequest(mac: MacAddress, ip: bigint): ArpFrame {
  return {
    destination: BROADCAST_MAC,
    source: mac,
    packet: { op: 'request', senderMac: mac, senderIp: ip, targetMac: ZERO_MAC, targetIp: ip },
  };
}

/**
 * Gratuitous ARP as a broadcast reply with sender IP = target IP = ip and target MAC = mac: the form of
 * `arping -A` (byte for byte, capture arpingAnswer) and of RFC 5944 section 4.6. For peers that only refresh their
 * cache from replies; MetalLB sends both forms, and so can the speaker.
 */
export function gratuitousArpReply(mac: MacAddress, ip: bigint): ArpFrame {
  return {
    destination: BROADCAST_MAC,
    source: mac,
    packet: { op: 'reply', senderMac: mac, senderIp: ip, targetMac: mac, targetIp: ip },
  };
}

/** The gratuitous ARP to send when taking over an address: the RFC 5227 announcement, gratuitousArpRequest. */
export function gratuitousArp(mac: MacAddress, ip: bigint): ArpFrame {
  return gratuitousArpRequest(mac, ip);
}
