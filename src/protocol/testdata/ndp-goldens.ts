// NDP golden frames written from the RFC 4861 figures, and the frame edits the NDP tests make to them (bytes
// changed, message replaced, ICMPv6 checksum recomputed). Shared by the neighbor-discovery tests.
import { fromHex } from './hex-bytes.ts';
import { icmpv6Checksum } from '../ndp/icmpv6-checksum.ts';
import { type NeighborSolicitation } from '../ndp/neighbor-discovery.ts';

// RFC goldens: RFC 7042 documentation MACs, 2001:db8::/32 addresses. Checksums were computed by a separate Python
// implementation and confirmed by tcpdump -vv ("[icmp6 sum ok]").
export const MAC_1 = '00:00:5e:00:53:01';
export const MAC_2 = '00:00:5e:00:53:02';
export const ADDR_1 = 0x2001_0db8_0000_0000_0000_0000_0000_0001n;
export const ADDR_2 = 0x2001_0db8_0000_0000_0000_0000_0000_0002n;
export const SOLICITED_2 = 0xff02_0000_0000_0000_0000_0001_ff00_0002n;
export const ETH_IPV6 = (destination: string, source: string): string => `${destination} ${source} 86dd`;
export const IPV6 = (length: string, source: string, destination: string): string =>
  `60000000 ${length} 3a ff ${source} ${destination}`;
export const HEX_1 = '20010db8000000000000000000000001';
export const HEX_2 = '20010db8000000000000000000000002';
export const HEX_SOLICITED_2 = 'ff0200000000000000000001ff000002';
export const HEX_UNSPECIFIED = '00000000000000000000000000000000';

/** RFC 4861 section 4.3 with the section 4.6.1 source link-layer address option: a multicast solicitation. */
export const RFC_NS = fromHex(`${ETH_IPV6('3333ff000002', '00005e005301')} ${IPV6('0020', HEX_1, HEX_SOLICITED_2)}
  87 00 6d26 00000000 ${HEX_2}  01 01 00005e005301`);
/** RFC 4861 section 4.4: a solicited advertisement, S and O set, with the target link-layer address option. */
export const RFC_NA = fromHex(`${ETH_IPV6('00005e005301', '00005e005302')} ${IPV6('0020', HEX_2, HEX_1)}
  88 00 db70 60000000 ${HEX_2}  02 01 00005e005302`);
/** RFC 4861 section 4.4: the same from a router, R set. */
export const RFC_NA_ROUTER = fromHex(`${ETH_IPV6('00005e005301', '00005e005302')} ${IPV6('0020', HEX_2, HEX_1)}
  88 00 5b70 e0000000 ${HEX_2}  02 01 00005e005302`);
/** RFC 4862 section 5.4.2: Duplicate Address Detection, from :: to the solicited-node group, no options. */
export const RFC_DAD =
  fromHex(`${ETH_IPV6('3333ff000002', '00005e005301')} ${IPV6('0018', HEX_UNSPECIFIED, HEX_SOLICITED_2)}
  87 00 4ceb 00000000 ${HEX_2}`);
/** RFC 7527 section 4.1 (enhanced DAD): the DAD solicitation with a Nonce option (type 14, RFC 3971 section 5.3.2). */
export const RFC_DAD_NONCE =
  fromHex(`${ETH_IPV6('3333ff000002', '00005e005301')} ${IPV6('0020', HEX_UNSPECIFIED, HEX_SOLICITED_2)}
  87 00 35d6 00000000 ${HEX_2}  0e 01 010203040506`);
/** RFC 4861 section 7.2.6: an unsolicited advertisement to all-nodes, O set, S clear. */
export const RFC_UNSOLICITED =
  fromHex(`${ETH_IPV6('333300000001', '00005e005302')} ${IPV6('0020', HEX_2, 'ff020000000000000000000000000001')}
  88 00 4a27 20000000 ${HEX_2}  02 01 00005e005302`);
/** RFC 4861 section 7.2.2: a unicast solicitation (as in NUD) that leaves the source link-layer address out. */
export const RFC_UNICAST_NO_OPTION = fromHex(`${ETH_IPV6('00005e005302', '00005e005301')} ${IPV6('0018', HEX_1, HEX_2)}
  87 00 ef7c 00000000 ${HEX_2}`);
/** RFC 4861 section 4.6: an unrecognized 16-byte option (type 200) before the source link-layer address option. */
export const RFC_UNKNOWN_OPTION =
  fromHex(`${ETH_IPV6('3333ff000002', '00005e005301')} ${IPV6('0030', HEX_1, HEX_SOLICITED_2)}
  87 00 a513 00000000 ${HEX_2}  c8 02 0000000000000000000000000000  01 01 00005e005301`);
export const RFC_GOLDENS = [
  RFC_NS,
  RFC_NA,
  RFC_NA_ROUTER,
  RFC_DAD,
  RFC_DAD_NONCE,
  RFC_UNSOLICITED,
  RFC_UNICAST_NO_OPTION,
  RFC_UNKNOWN_OPTION,
];

export const NS_1_TO_2: NeighborSolicitation = {
  type: 'neighbor-solicitation',
  source: ADDR_1,
  destination: SOLICITED_2,
  target: ADDR_2,
  sourceLinkLayerAddress: MAC_1,
};

// Offsets in an untagged NDP frame: Ethernet 0-13, IPv6 14-53 (hop limit 21), ICMPv6 from 54.
export const ICMP = 54;

/** The frame with its ICMPv6 checksum recomputed, so that a test reaches the checks after the checksum. */
export function resigned(frame: Uint8Array): Uint8Array {
  const copy = frame.slice();
  if (copy.length < ICMP + 4 || copy[12] !== 0x86 || copy[13] !== 0xdd) return copy;
  const view = new DataView(copy.buffer);
  const end = Math.min(copy.length, ICMP + view.getUint16(18));
  if (end < ICMP + 4) return copy;
  view.setUint16(ICMP + 2, 0);
  const address = (offset: number): bigint => (view.getBigUint64(offset) << 64n) | view.getBigUint64(offset + 8);
  view.setUint16(ICMP + 2, icmpv6Checksum(address(22), address(38), copy.subarray(ICMP, end)));
  return copy;
}

/** The frame with bytes replaced at `offset` and, unless told otherwise, the checksum recomputed. */
export function changed(frame: Uint8Array, offset: number, values: number[], resign = true): Uint8Array {
  const copy = frame.slice();
  copy.set(values, offset);
  return resign ? resigned(copy) : copy;
}

/** The frame with the ICMPv6 message replaced (IPv6 payload length adjusted, checksum recomputed). */
export function withMessage(frame: Uint8Array, message: Uint8Array): Uint8Array {
  const copy = new Uint8Array(ICMP + message.length);
  copy.set(frame.subarray(0, ICMP));
  copy.set(message, ICMP);
  new DataView(copy.buffer).setUint16(18, message.length);
  return resigned(copy);
}
