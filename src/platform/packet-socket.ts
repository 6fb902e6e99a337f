// Raw Ethernet frames on one interface (AF_PACKET) through the native addon (native-addon.ts, ADR 0004), with classic
// BPF filters run in the kernel (bpf-program.ts) and multicast MAC membership. TCP MD5 and the other options on
// sockets Node owns are in socket-options.ts; build the addon with `npm run build:native`.
import { err, ok, type Result } from '../core/result.ts';
import {
  addon,
  fromThrown,
  reasonOf,
  type NativeOpenOptions,
  type NativePacketSocket,
  type PacketSocketError,
} from './native-addon.ts';
import { ETHERTYPE_ARP, ETHERTYPE_IPV6, encodeBpfProgram, type BpfProgram } from './bpf-program.ts';

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
    if (this.#closed)
      return err({ reason: 'closed', message: `${what}: packet socket on ifindex ${this.ifindex} is closed` });
    try {
      return ok(fn());
    } catch (e) {
      return err(fromThrown(e, `${what} on ifindex ${this.ifindex}`));
    }
  }
}
