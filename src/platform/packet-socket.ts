// Raw Ethernet frames on one interface (AF_PACKET) through the native addon, with classic BPF filters run in the
// kernel, multicast MAC membership, and TCP MD5 (RFC 2385) for BGP sessions. This file is the only TypeScript user
// of native/ (ADR 0004); build the addon with `npm run build:native`.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { err, ok, type Result } from '../core/result.ts';

// ---------------------------------------------------------------------------------------------------------------
// The addon's surface (native/beaconlb_native.c).

interface NativePacketSocket {
  send(frame: Uint8Array): number;
  addMembership(mac: Uint8Array): void;
  dropMembership(mac: Uint8Array): void;
  close(): void;
  ref(): void;
  unref(): void;
  stats(): { packets: number; drops: number };
}

interface NativeOpenOptions {
  onError?: (code: string, message: string) => void;
  ref?: boolean;
  outgoing?: boolean;
  receiveBufferBytes?: number;
}

interface NativeAddon {
  open(
    ifindex: number,
    protocol: number,
    filter: Uint8Array | null,
    onFrame: (frame: Buffer, pktType: number, ifindex: number) => void,
    options?: NativeOpenOptions,
  ): NativePacketSocket;
  setTcpMd5(fd: number, peerAddress: string, key: Uint8Array): void;
  createTcpSocket(family: 4 | 6): number;
  closeFd(fd: number): void;
  setIpTtl(fd: number, ttl: number): void;
  attachSocketFilter(fd: number, filter: Uint8Array): void;
}

/** Where `npm run build:native` puts the addon. */
export const NATIVE_ADDON_PATH = fileURLToPath(new URL('../../native/build/Release/beaconlb_native.node', import.meta.url));

export type PacketSocketErrorReason =
  | 'addon-missing'
  | 'permission-denied'
  | 'no-such-device'
  | 'network-down'
  | 'would-block'
  | 'closed'
  | 'invalid-argument'
  | 'system';

/** An expected failure of the platform: reads well in a log line or an Event. */
export interface PacketSocketError {
  readonly reason: PacketSocketErrorReason;
  readonly message: string;
  /** errno name from the kernel (EPERM, ENODEV, ...) when there is one. */
  readonly code?: string;
}

interface SystemError {
  message: string;
  code?: unknown;
}

function isSystemError(e: unknown): e is SystemError {
  return e instanceof Error;
}

function reasonOf(code: string | undefined): PacketSocketErrorReason {
  switch (code) {
    case 'EPERM':
    case 'EACCES':
      return 'permission-denied';
    case 'ENODEV':
    case 'ENXIO':
      return 'no-such-device';
    case 'ENETDOWN':
      return 'network-down';
    case 'EAGAIN':
    case 'ENOBUFS':
      return 'would-block';
    case 'EBADF':
      return 'closed';
    case 'EINVAL':
    case 'ERR_INVALID_ARG_TYPE':
    case 'ERR_OUT_OF_RANGE':
    case 'ERR_INVALID_IP_ADDRESS':
      return 'invalid-argument';
    default:
      return 'system';
  }
}

/** Turns an error thrown by the addon into a value; anything that is not an Error is a bug and is rethrown. */
function fromThrown(e: unknown, context: string): PacketSocketError {
  if (!isSystemError(e)) throw e;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const reason = reasonOf(code);
  const hint =
    reason === 'permission-denied'
      ? ' (raw packet sockets need CAP_NET_RAW: run the speaker as root or grant it CAP_NET_RAW)'
      : '';
  return code === undefined
    ? { reason, message: `${context}: ${e.message}${hint}` }
    : { reason, message: `${context}: ${e.message}${hint}`, code };
}

function isNativeAddon(value: unknown): value is NativeAddon {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return ['open', 'setTcpMd5', 'createTcpSocket', 'closeFd', 'setIpTtl', 'attachSocketFilter'].every((name) => typeof candidate[name] === 'function');
}

/** Loads the addon at `file` (default: the built one), with a message saying how to build it when it is missing. */
export function loadNativeAddon(file: string = NATIVE_ADDON_PATH): Result<NativeAddon, PacketSocketError> {
  let loaded: unknown;
  try {
    loaded = createRequire(import.meta.url)(file);
  } catch (e) {
    const detail = e instanceof Error ? e.message.split('\n')[0] : String(e);
    return err({
      reason: 'addon-missing',
      message: `native addon not loadable at ${file} (run npm run build:native): ${detail}`,
    });
  }
  if (!isNativeAddon(loaded)) {
    return err({ reason: 'addon-missing', message: `${file} is not the Beacon LB addon (run npm run build:native)` });
  }
  return ok(loaded);
}

let cachedAddon: Result<NativeAddon, PacketSocketError> | undefined;

function addon(): Result<NativeAddon, PacketSocketError> {
  cachedAddon ??= loadNativeAddon();
  return cachedAddon;
}

// ---------------------------------------------------------------------------------------------------------------
// Classic BPF (struct sock_filter: u16 code, u8 jt, u8 jf, u32 k; host byte order), run by the kernel per frame.

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
  return [
    instruction(BPF.LD_H_ABS, 0, 0, 12), // EtherType
    instruction(BPF.JMP_JEQ_K, 0, 5, ETHERTYPE_IPV6),
    instruction(BPF.LD_B_ABS, 0, 0, 14 + 6), // IPv6 next header
    instruction(BPF.JMP_JEQ_K, 0, 3, 58),
    instruction(BPF.LD_B_ABS, 0, 0, 14 + 40), // ICMPv6 type
    instruction(BPF.JMP_JEQ_K, 0, 1, 135),
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

// ---------------------------------------------------------------------------------------------------------------
// Interfaces (sysfs of the current network namespace).

const INTERFACE_NAME = /^[^/\s\0]{1,15}$/;

function readInterfaceAttribute(name: string, attribute: string): Result<string, PacketSocketError> {
  if (!INTERFACE_NAME.test(name) || name === '.' || name === '..') {
    return err({ reason: 'invalid-argument', message: `not an interface name: ${JSON.stringify(name)}` });
  }
  try {
    return ok(readFileSync(`/sys/class/net/${name}/${attribute}`, 'utf8').trim());
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ENOENT') return err({ reason: 'no-such-device', message: `no interface ${name}`, code });
    return err(fromThrown(e, `reading /sys/class/net/${name}/${attribute}`));
  }
}

/** The interface's index (/sys/class/net/NAME/ifindex). */
export function interfaceIndex(name: string): Result<number, PacketSocketError> {
  const text = readInterfaceAttribute(name, 'ifindex');
  if (!text.ok) return text;
  const index = Number(text.value);
  return Number.isInteger(index) && index > 0
    ? ok(index)
    : err({ reason: 'system', message: `unexpected ifindex for ${name}: ${text.value}` });
}

/** The interface's MAC address, 6 bytes (/sys/class/net/NAME/address). */
export function interfaceMac(name: string): Result<Uint8Array, PacketSocketError> {
  const text = readInterfaceAttribute(name, 'address');
  if (!text.ok) return text;
  const mac = parseMac(text.value);
  return mac ? ok(mac) : err({ reason: 'system', message: `${name} has no Ethernet address (${text.value})` });
}

/** `aa:bb:cc:dd:ee:ff` as 6 bytes, or undefined when it is not a MAC address. */
export function parseMac(text: string): Uint8Array | undefined {
  const parts = text.split(':');
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-f]{2}$/i.test(p))) return undefined;
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

/** 6 bytes as `aa:bb:cc:dd:ee:ff`. */
export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

// ---------------------------------------------------------------------------------------------------------------
// The socket.

/** Which EtherTypes the socket is bound to; 'all' is ETH_P_ALL. */
export type PacketProtocol = 'arp' | 'ipv6' | 'all';

const PROTOCOL_NUMBER: Record<PacketProtocol, number> = { arp: ETHERTYPE_ARP, ipv6: ETHERTYPE_IPV6, all: 0x0003 };

/** sll_pkttype: to us, broadcast, multicast, to another host (promiscuous), sent by this host. */
export type PacketType = 'host' | 'broadcast' | 'multicast' | 'otherhost' | 'outgoing' | 'other';

const PACKET_TYPES: readonly PacketType[] = ['host', 'broadcast', 'multicast', 'otherhost', 'outgoing'];

export interface FrameMeta {
  readonly ifindex: number;
  readonly pktType: PacketType;
}

export interface PacketSocketOptions {
  readonly ifindex: number;
  readonly protocol: PacketProtocol;
  /** Run by the kernel before a frame is queued; frames it rejects never reach Node. */
  readonly filter?: BpfProgram;
  /** Called for each received frame; the buffer is the frame's own copy. */
  readonly onFrame: (frame: Buffer, meta: FrameMeta) => void;
  /** Receive errors (ENETDOWN when the link goes down, ...); the socket keeps receiving afterwards. */
  readonly onError?: (error: PacketSocketError) => void;
  /** Keep the event loop alive while open (default true), like a listening net.Server. */
  readonly ref?: boolean;
  /** Also deliver frames this host sends (default false). */
  readonly outgoing?: boolean;
  /** SO_RCVBUF; the kernel doubles it and caps it at net.core.rmem_max. */
  readonly receiveBufferBytes?: number;
}

export class PacketSocket implements Disposable {
  readonly ifindex: number;
  readonly protocol: PacketProtocol;
  readonly #native: NativePacketSocket;
  #closed = false;

  private constructor(ifindex: number, protocol: PacketProtocol, native: NativePacketSocket) {
    this.ifindex = ifindex;
    this.protocol = protocol;
    this.#native = native;
  }

  /** Opens an AF_PACKET socket bound to one interface; the filter is attached before any frame is queued. */
  static open(options: PacketSocketOptions): Result<PacketSocket, PacketSocketError> {
    const native = addon();
    if (!native.ok) return native;
    const { ifindex, protocol, filter, onFrame, onError } = options;
    const nativeOptions: NativeOpenOptions = {
      ref: options.ref ?? true,
      outgoing: options.outgoing ?? false,
      ...(options.receiveBufferBytes === undefined ? {} : { receiveBufferBytes: options.receiveBufferBytes }),
      ...(onError === undefined
        ? {}
        : {
            onError: (code: string, message: string) => {
              onError({ reason: reasonOf(code), message, code });
            },
          }),
    };
    try {
      const socket = native.value.open(
        ifindex,
        PROTOCOL_NUMBER[protocol],
        filter === undefined ? null : encodeBpfProgram(filter),
        (frame, pktType, from) => {
          onFrame(frame, { ifindex: from, pktType: PACKET_TYPES[pktType] ?? 'other' });
        },
        nativeOptions,
      );
      return ok(new PacketSocket(ifindex, protocol, socket));
    } catch (e) {
      return err(fromThrown(e, `opening a packet socket (${protocol}) on ifindex ${ifindex}`));
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one complete Ethernet frame (destination MAC first) on the interface; returns the bytes sent. */
  send(frame: Uint8Array): Result<number, PacketSocketError> {
    return this.#call('send', () => this.#native.send(frame));
  }

  /** Receives frames sent to a multicast MAC, e.g. the solicited-node group 33:33:ff:xx:xx:xx. */
  addMulticast(mac: Uint8Array): Result<void, PacketSocketError> {
    return this.#call('joining multicast group', () => {
      this.#native.addMembership(mac);
    });
  }

  dropMulticast(mac: Uint8Array): Result<void, PacketSocketError> {
    return this.#call('leaving multicast group', () => {
      this.#native.dropMembership(mac);
    });
  }

  /** Since the previous call: frames the filter accepted (delivered or not) and those dropped for a full receive buffer. */
  stats(): Result<{ packets: number; drops: number }, PacketSocketError> {
    return this.#call('reading statistics', () => this.#native.stats());
  }

  /** Lets the process exit while the socket is open (ref() undoes it). */
  unref(): void {
    if (!this.#closed) this.#native.unref();
  }

  ref(): void {
    if (!this.#closed) this.#native.ref();
  }

  /** Stops receiving and closes the socket; safe to call again. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #call<T>(what: string, fn: () => T): Result<T, PacketSocketError> {
    if (this.#closed) return err({ reason: 'closed', message: `${what}: packet socket on ifindex ${this.ifindex} is closed` });
    try {
      return ok(fn());
    } catch (e) {
      return err(fromThrown(e, `${what} on ifindex ${this.ifindex}`));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// TCP MD5 signatures (RFC 2385) for BGP. The key must be on the socket before the SYN leaves (active side) or on the
// listening socket (passive side). Node creates a TCP socket's fd lazily inside connect(), so the active side gets
// its fd from createTcpSocket(), sets the key, and hands the fd to `new net.Socket({ fd })` before connect().
// Passive side: `server._handle.fd` once listening (accepted sockets inherit the listener's keys). ADR 0004.

/** Sets (or with an empty key removes) the MD5 key for one peer on a TCP socket fd; keys are 1 to 80 bytes. */
export function setTcpMd5(fd: number, peerAddress: string, key: Uint8Array): Result<void, PacketSocketError> {
  const native = addon();
  if (!native.ok) return native;
  try {
    native.value.setTcpMd5(fd, peerAddress, key);
    return ok(undefined);
  } catch (e) {
    return err(fromThrown(e, `setting the TCP MD5 key for ${peerAddress}`));
  }
}

/** A fresh non-blocking TCP socket fd for `new net.Socket({ fd })`; closeTcpSocket() it if never handed over. */
export function createTcpSocket(family: 4 | 6): Result<number, PacketSocketError> {
  const native = addon();
  if (!native.ok) return native;
  try {
    return ok(native.value.createTcpSocket(family));
  } catch (e) {
    return err(fromThrown(e, `creating an IPv${family} TCP socket`));
  }
}

/** Sets the IP TTL / IPv6 hop limit (1 to 255) of a socket's outgoing packets. */
export function setIpTtl(fd: number, ttl: number): Result<void, PacketSocketError> {
  const native = addon();
  if (!native.ok) return native;
  try {
    native.value.setIpTtl(fd, ttl);
    return ok(undefined);
  } catch (e) {
    return err(fromThrown(e, `setting TTL ${ttl} on fd ${fd}`));
  }
}

/** Attaches a classic BPF program to a socket fd Node owns (a UDP socket's, see bpfTtl255Only). */
export function attachSocketFilter(fd: number, program: BpfProgram): Result<void, PacketSocketError> {
  const native = addon();
  if (!native.ok) return native;
  try {
    native.value.attachSocketFilter(fd, encodeBpfProgram(program));
    return ok(undefined);
  } catch (e) {
    return err(fromThrown(e, `attaching a socket filter to fd ${fd}`));
  }
}

export function closeTcpSocket(fd: number): Result<void, PacketSocketError> {
  const native = addon();
  if (!native.ok) return native;
  try {
    native.value.closeFd(fd);
    return ok(undefined);
  } catch (e) {
    return err(fromThrown(e, `closing fd ${fd}`));
  }
}
