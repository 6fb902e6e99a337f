// The bytes the UPDATE tests build UPDATEs of: well-formed ORIGIN, AS_PATH and NEXT_HOP attributes, an NLRI, and
// an UPDATE around withdrawn routes, attributes and NLRI given in hex.
import { fromHex, toHex } from './hex-bytes.ts';

export function hex(bytes: number, width = 2): string {
  return bytes.toString(16).padStart(width * 2, '0');
}

/** An UPDATE message from the hex of its three fields; the lengths are computed. */
export function updateBytes(withdrawn: string, attributes: string, nlri: string): Uint8Array {
  const w = fromHex(withdrawn);
  const a = fromHex(attributes);
  const n = fromHex(nlri);
  const length = 23 + w.length + a.length + n.length;
  return fromHex(
    `${'ff'.repeat(16)} ${hex(length)} 02 ${hex(w.length)} ${toHex(w)} ${hex(a.length)} ${toHex(a)} ${toHex(n)}`,
  );
}

/** ORIGIN IGP, AS_PATH [65001] (4-octet), NEXT_HOP 198.51.100.11: a well-formed base to add to or break. */
export const ORIGIN = '40 01 01 00';
export const AS_PATH = '40 02 06 02 01 0000fde9';
export const NEXT_HOP = '40 03 04 c633640b';
export const NLRI_24 = '18 cb0071'; // 203.0.113.0/24
