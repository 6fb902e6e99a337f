// Classic BPF (struct sock_filter: u16 code, u8 jt, u8 jf, u32 k; host byte order), run by the kernel per frame:
// the few programs the packet sockets and the BFD receivers attach, and their kernel encoding.

export interface BpfInstruction {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

export type BpfProgram = readonly BpfInstruction[];

/** Opcodes used here (linux/filter.h). */
export const BPF = {
  /** A = u16 at packet[k] (network order) */
  LD_H_ABS: 0x28,
  /** A = u8 at packet[k] */
  LD_B_ABS: 0x30,
  /** pc += A == k ? jt : jf */
  JMP_JEQ_K: 0x15,
  /** accept k bytes of the packet (0 = drop) */
  RET_K: 0x06,
} as const;

/** Accept the whole frame (up to 256 KiB). */
const ACCEPT = 0x40000;

function instruction(code: number, jt: number, jf: number, k: number): BpfInstruction {
  return { code, jt, jf, k };
}

export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;

/** Frames whose EtherType is ARP (0x0806). */
export function bpfArpOnly(): BpfProgram {
  return [
    instruction(BPF.LD_H_ABS, 0, 0, 12),
    instruction(BPF.JMP_JEQ_K, 0, 1, ETHERTYPE_ARP),
    instruction(BPF.RET_K, 0, 0, ACCEPT),
    instruction(BPF.RET_K, 0, 0, 0),
  ];
}

/**
 * IPv6 Neighbor Solicitations: EtherType 0x86dd, next header 58 (ICMPv6, no extension headers), ICMPv6 type 135.
 * The rest of RFC 4861 §7.1.1 validation (hop limit 255, code 0, checksum) belongs to the NDP codec.
 */
export function bpfNeighborSolicitationOnly(): BpfProgram {
  return bpfIcmpv6TypeOnly(135);
}

/**
 * IPv6 Router Advertisements (ICMPv6 type 134, no extension headers): what router discovery for unnumbered BGP
 * peers reads (ADR 0035). The section 6.1.2 validation (hop limit 255, link-local source, checksum) is the codec's.
 */
export function bpfRouterAdvertisementOnly(): BpfProgram {
  return bpfIcmpv6TypeOnly(134);
}

function bpfIcmpv6TypeOnly(type: number): BpfProgram {
  return [
    instruction(BPF.LD_H_ABS, 0, 0, 12), // EtherType
    instruction(BPF.JMP_JEQ_K, 0, 5, ETHERTYPE_IPV6),
    instruction(BPF.LD_B_ABS, 0, 0, 14 + 6), // IPv6 next header
    instruction(BPF.JMP_JEQ_K, 0, 3, 58),
    instruction(BPF.LD_B_ABS, 0, 0, 14 + 40), // ICMPv6 type
    instruction(BPF.JMP_JEQ_K, 0, 1, type),
    instruction(BPF.RET_K, 0, 0, ACCEPT),
    instruction(BPF.RET_K, 0, 0, 0),
  ];
}

/** linux/filter.h SKF_NET_OFF: loads at this offset + n read byte n of the network (IP) header. */
const SKF_NET_OFF = -0x100000;

/**
 * For a UDP socket of the family: datagrams whose IPv4 TTL (IP header byte 8) or IPv6 hop limit (byte 7) is 255,
 * i.e. sent by a neighbor on the link (GTSM, RFC 5082; BFD single hop, RFC 5881 section 5). Everything else is
 * dropped by the kernel before it is queued.
 */
export function bpfTtl255Only(family: 4 | 6): BpfProgram {
  return [
    instruction(BPF.LD_B_ABS, 0, 0, (SKF_NET_OFF + (family === 4 ? 8 : 7)) >>> 0),
    instruction(BPF.JMP_JEQ_K, 0, 1, 255),
    instruction(BPF.RET_K, 0, 0, ACCEPT),
    instruction(BPF.RET_K, 0, 0, 0),
  ];
}

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The program as the kernel's array of struct sock_filter (8 bytes each, host byte order). */
export function encodeBpfProgram(program: BpfProgram): Uint8Array {
  const bytes = new Uint8Array(program.length * 8);
  const view = new DataView(bytes.buffer);
  program.forEach((ins, i) => {
    view.setUint16(i * 8, ins.code, hostIsLittleEndian);
    view.setUint8(i * 8 + 2, ins.jt);
    view.setUint8(i * 8 + 3, ins.jf);
    view.setUint32(i * 8 + 4, ins.k, hostIsLittleEndian);
  });
  return bytes;
}
