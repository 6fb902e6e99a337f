// Ethernet II frames (IEEE 802.3 clause 3 with an EtherType, RFC 894), optionally with one IEEE 802.1Q VLAN tag.
// The frame as an AF_PACKET socket sees it: destination, source, [tag,] EtherType, payload; no preamble, no FCS.
import { ok, type Result } from '../../core/result.ts';
import { decodeFailure, headerTruncated, type DecodeError } from './decode-error.ts';
import { MAC_LENGTH, formatMac, writeMac, type MacAddress } from './mac-address.ts';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
/** IEEE 802.1Q customer VLAN tag (C-tag) protocol identifier. */
export const ETHERTYPE_VLAN = 0x8100;
/** IEEE 802.1ad service tag (S-tag, "QinQ"); not supported. */
export const ETHERTYPE_QINQ = 0x88a8;

export const ETHERNET_HEADER_LENGTH = 14;
export const VLAN_TAG_LENGTH = 4;
/** The shortest Ethernet frame without its 4-byte FCS: 64 - 4. Shorter frames are padded with zeros. */
export const ETHERNET_MIN_FRAME_LENGTH = 60;
/** EtherType values start here; a smaller value in that field is an IEEE 802.3 length (LLC frames). */
const SMALLEST_ETHERTYPE = 0x0600;
// Tag protocol identifiers that mean "a tag follows", not a payload type; 0x9100 is the old pre-802.1ad QinQ value.
const TAG_TYPES: ReadonlySet<number> = new Set([ETHERTYPE_VLAN, ETHERTYPE_QINQ, 0x9100]);

/** The Tag Control Information of an 802.1Q tag (IEEE 802.1Q-2018 section 9.6). */
export interface VlanTag {
  /** VLAN identifier, 0-4095 (0: priority tag only; 4095: reserved). */
  readonly id: number;
  /** Priority Code Point, 0-7. */
  readonly priority: number;
  /** Drop Eligible Indicator. */
  readonly dropEligible: boolean;
}

export interface EthernetFrame {
  readonly destination: MacAddress;
  readonly source: MacAddress;
  /** Present iff the frame carries an 802.1Q tag. */
  readonly vlan?: VlanTag;
  readonly etherType: number;
  /** Everything after the EtherType, padding included. Decoding returns a view into the input, not a copy. */
  readonly payload: Uint8Array;
}

export interface EthernetEncodeOptions {
  /**
   * Pad with zeros to the 60-byte minimum (default true), as a NIC does on the wire and mdlayher/ethernet does.
   * False gives the bytes Linux software builds and an AF_PACKET capture on veth shows: unpadded.
   */
  readonly padToMinimum?: boolean;
}

/** Encodes a frame; throws RangeError on a field out of range or a non-canonical MAC address (bugs). */
export function encodeEthernetFrame(frame: EthernetFrame, options: EthernetEncodeOptions = {}): Uint8Array {
  checkEtherType(frame.etherType);
  const headerLength = ETHERNET_HEADER_LENGTH + (frame.vlan ? VLAN_TAG_LENGTH : 0);
  const unpadded = headerLength + frame.payload.length;
  const bytes = new Uint8Array(
    options.padToMinimum === false ? unpadded : Math.max(unpadded, ETHERNET_MIN_FRAME_LENGTH),
  );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  writeMac(frame.destination, bytes, 0);
  writeMac(frame.source, bytes, MAC_LENGTH);
  if (frame.vlan) {
    view.setUint16(12, ETHERTYPE_VLAN);
    view.setUint16(14, vlanTci(frame.vlan));
  }
  view.setUint16(headerLength - 2, frame.etherType);
  bytes.set(frame.payload, headerLength);
  return bytes;
}

/** Decodes an Ethernet II frame with at most one 802.1Q tag. Never throws. */
export function decodeEthernetFrame(bytes: Uint8Array): Result<EthernetFrame, DecodeError> {
  if (bytes.length < ETHERNET_HEADER_LENGTH) {
    return headerTruncated('Ethernet', 'frame', bytes.length, ETHERNET_HEADER_LENGTH);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const destination = formatMac(bytes, 0);
  const source = formatMac(bytes, MAC_LENGTH);
  const outerType = view.getUint16(12);
  if (outerType === ETHERTYPE_VLAN) {
    if (bytes.length < ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH) {
      return decodeFailure('truncated', `Ethernet: 802.1Q-tagged frame has ${bytes.length} bytes, its header needs 18`);
    }
    const tci = view.getUint16(14);
    const etherType = view.getUint16(16);
    const problem = unsupportedEtherType(etherType, 'inside the 802.1Q tag');
    if (problem !== undefined) return decodeFailure('unsupported', problem);
    const vlan: VlanTag = { id: tci & 0x0fff, priority: tci >>> 13, dropEligible: (tci & 0x1000) !== 0 };
    return ok({ destination, source, vlan, etherType, payload: bytes.subarray(18) });
  }
  const problem = unsupportedEtherType(outerType, '');
  if (problem !== undefined) return decodeFailure('unsupported', problem);
  return ok({ destination, source, etherType: outerType, payload: bytes.subarray(ETHERNET_HEADER_LENGTH) });
}

/** Why an EtherType field value can not be decoded here, or undefined when it names a payload type. */
function unsupportedEtherType(value: number, where: string): string | undefined {
  const place = where === '' ? '' : ` ${where}`;
  if (value < SMALLEST_ETHERTYPE) {
    return `Ethernet: type/length field ${hex16(value)}${place} is an IEEE 802.3 length (LLC frame), not an EtherType`;
  }
  if (TAG_TYPES.has(value)) {
    return where === ''
      ? `Ethernet: tag type ${hex16(value)} (802.1ad or QinQ service tag) is not supported, only one 802.1Q tag`
      : `Ethernet: a second VLAN tag (${hex16(value)}) ${where}: stacked tags are not supported`;
  }
  return undefined;
}

function vlanTci(vlan: VlanTag): number {
  if (!Number.isInteger(vlan.id) || vlan.id < 0 || vlan.id > 0x0fff)
    throw new RangeError(`VLAN id ${vlan.id} is not 0-4095`);
  if (!Number.isInteger(vlan.priority) || vlan.priority < 0 || vlan.priority > 7) {
    throw new RangeError(`VLAN priority ${vlan.priority} is not 0-7`);
  }
  return (vlan.priority << 13) | (vlan.dropEligible ? 0x1000 : 0) | vlan.id;
}

function checkEtherType(value: number): void {
  if (!Number.isInteger(value) || value < SMALLEST_ETHERTYPE || value > 0xffff) {
    throw new RangeError(`EtherType ${value} is not 0x0600-0xffff`);
  }
  if (TAG_TYPES.has(value))
    throw new RangeError(`EtherType ${hex16(value)} is a tag type: give the frame a vlan instead`);
}

function hex16(value: number): string {
  return `0x${value.toString(16).padStart(4, '0')}`;
}
