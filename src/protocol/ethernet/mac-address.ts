// Ethernet (IEEE 802) MAC addresses as text in one canonical form, lowercase "aa:bb:cc:dd:ee:ff": comparable with
// ===, usable as a Map key, printable as is and the same form `ip link` prints. Decoders produce this form; encoders
// accept only this form (anything else is a bug, reported by a RangeError). Text from elsewhere goes through parseMac.
import { err, ok, type Result } from '../../core/result.ts';

/** A MAC address in canonical form: six lowercase two-digit hex octets joined by ":". */
export type MacAddress = string;

export const MAC_LENGTH = 6;
export const BROADCAST_MAC: MacAddress = 'ff:ff:ff:ff:ff:ff';
/** The all-zeros address: what Linux and RFC 5227 put in the ARP target hardware field of requests. */
export const ZERO_MAC: MacAddress = '00:00:00:00:00:00';

const CANONICAL = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
const LENIENT = /^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(?:\1[0-9a-fA-F]{2}){4}$/;
const HEX_OCTETS = Array.from({ length: 256 }, (_, octet) => octet.toString(16).padStart(2, '0'));

/** Two lowercase hex digits for an octet (0-255). */
function hexOctet(octet: number): string {
  return HEX_OCTETS[octet & 0xff] ?? '00';
}

/** True iff text is a MAC address in canonical form. */
export function isMacAddress(text: string): boolean {
  return CANONICAL.test(text);
}

/** Parses "aa:bb:cc:dd:ee:ff" or "AA-BB-CC-DD-EE-FF" (either case, one separator throughout) into canonical form. */
export function parseMac(text: string): Result<MacAddress> {
  if (!LENIENT.test(text)) {
    const shown = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
    return err(`${shown} is not a MAC address: expected six two-digit hex octets separated by ":" or "-"`);
  }
  return ok(text.toLowerCase().replaceAll('-', ':'));
}

/** The MAC address in the six bytes of `bytes` at `offset`; throws RangeError when fewer are there (a bug). */
export function formatMac(bytes: Uint8Array, offset = 0): MacAddress {
  if (!Number.isInteger(offset) || offset < 0 || offset + MAC_LENGTH > bytes.length) {
    throw new RangeError(`no 6-byte MAC address at offset ${offset} of ${bytes.length} bytes`);
  }
  let text = hexOctet(bytes[offset] ?? 0);
  for (let index = 1; index < MAC_LENGTH; index++) text += `:${hexOctet(bytes[offset + index] ?? 0)}`;
  return text;
}

/** Writes mac into `target` at `offset`; throws RangeError on a non-canonical address or too little room (bugs). */
export function writeMac(mac: MacAddress, target: Uint8Array, offset: number): void {
  if (!isMacAddress(mac))
    throw new RangeError(`${JSON.stringify(mac)} is not a canonical MAC address (aa:bb:cc:dd:ee:ff)`);
  if (!Number.isInteger(offset) || offset < 0 || offset + MAC_LENGTH > target.length) {
    throw new RangeError(`no room for a MAC address at offset ${offset} of ${target.length} bytes`);
  }
  for (let index = 0; index < MAC_LENGTH; index++)
    target[offset + index] = Number.parseInt(mac.slice(index * 3, index * 3 + 2), 16);
}

/** The six bytes of a canonical MAC address; throws RangeError on any other text (a bug). */
export function macBytes(mac: MacAddress): Uint8Array {
  const bytes = new Uint8Array(MAC_LENGTH);
  writeMac(mac, bytes, 0);
  return bytes;
}

/** True iff the individual/group bit (least significant bit of the first octet) is set: multicast or broadcast. */
export function isGroupMac(mac: MacAddress): boolean {
  return (Number.parseInt(mac.slice(0, 2), 16) & 1) === 1;
}

/** RFC 2464 section 7: the Ethernet address of IPv6 multicast address addr, 33:33 and its low 32 bits. */
export function ipv6MulticastMac(addr: bigint): MacAddress {
  const low = Number(BigInt.asUintN(32, addr));
  return `33:33:${hexOctet(low >>> 24)}:${hexOctet(low >>> 16)}:${hexOctet(low >>> 8)}:${hexOctet(low)}`;
}
