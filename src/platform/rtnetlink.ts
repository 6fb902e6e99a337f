// rtnetlink through the npm package netlink@0.3.0 (ADR 0022): dumps of links, addresses and routes on a request
// socket, and the kernel's link, address and route notifications on an event socket. The only runtime importer of
// `netlink`; what leaves this file are plain records, so an upgrade or a move to our own addon stays here.
// Sockets belong to the network namespace of the process that opens them (the speaker runs in the host's).
import { createRtNetlink, type rt, type RtNetlinkSocket } from 'netlink';
import { err, ok, type Result } from '../core/result.ts';

export const AF_INET = 2;
export const AF_INET6 = 10;
export const RT_SCOPE_HOST = 254;
export const RT_TABLE_MAIN = 254;
/** IFLA_OPERSTATE value IF_OPER_DOWN (RFC 2863 operStatus, include/uapi/linux/if.h). */
export const IF_OPER_DOWN = 2;

export interface LinkRecord {
  index: number;
  name: string;
  /** IFLA_ADDRESS (the MAC on Ethernet links); absent on links without one. */
  hardwareAddress: Uint8Array | undefined;
  /** IFF_UP in ifi_flags: administratively up. */
  adminUp: boolean;
  /** IFLA_OPERSTATE (IF_OPER_*), absent when the kernel did not send it. */
  operState: number | undefined;
}

export interface AddressRecord {
  family: number;
  index: number;
  prefixLength: number;
  scope: number;
  /** IFA_LOCAL: the interface's own address (on point-to-point links IFA_ADDRESS is the peer's). */
  local: Uint8Array | undefined;
  /** IFA_ADDRESS. */
  address: Uint8Array | undefined;
}

export interface RouteRecord {
  family: number;
  dstLength: number;
  /** RTA_TABLE when present (32 bits), else rtm_table. */
  table: number;
  /** RTA_OIF: the output interface's index. */
  outputIndex: number | undefined;
}

export interface RtnetlinkDump {
  links: LinkRecord[];
  addresses: AddressRecord[];
  routes: RouteRecord[];
}

const RTM_NEWROUTE = 24;
const RTM_GETROUTE = 26;
/** NLM_F_ROOT | NLM_F_MATCH. */
const NLM_F_DUMP = 0x300;
const RTMSG_LENGTH = 12;
const RTA_OIF = 4;
const RTA_TABLE = 15;
/** The nested and byte-order bits of an attribute type. */
const NLA_TYPE_MASK = 0x3fff;

/**
 * A route from the payload of an RTM_NEWROUTE message (struct rtmsg, then attributes), read here rather than by the
 * package: netlink@0.3.0 throws "Unexpected length for RouteVia" on RTA_VIA (an IPv4 route via an IPv6 next hop,
 * `ip route add 0/0 via inet6 fe80::1 dev eth0`, RFC 8950 / unnumbered BGP), and with it the whole dump. Only
 * the fields a RouteRecord needs are read; undefined for a payload shorter than struct rtmsg.
 */
export function routeRecordFromBytes(payload: Uint8Array): RouteRecord | undefined {
  if (payload.length < RTMSG_LENGTH) return undefined;
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const record: RouteRecord = {
    family: view.getUint8(0),
    dstLength: view.getUint8(1),
    table: view.getUint8(4),
    outputIndex: undefined,
  };
  for (let offset = RTMSG_LENGTH; offset + 4 <= payload.length;) {
    const length = view.getUint16(offset, true);
    const type = view.getUint16(offset + 2, true) & NLA_TYPE_MASK;
    if (length < 4 || offset + length > payload.length) break;
    if (length === 8 && type === RTA_OIF) record.outputIndex = view.getUint32(offset + 4, true);
    if (length === 8 && type === RTA_TABLE) record.table = view.getUint32(offset + 4, true);
    offset += (length + 3) & ~3;
  }
  return record;
}

/** What a notification was about; `resync` means notifications may have been lost (re-read everything). */
export type RtnetlinkChange = 'link' | 'address' | 'default-route' | 'resync';

export function linkRecord(message: rt.LinkMessage): LinkRecord {
  return {
    index: message.data.index ?? 0,
    name: message.attrs.ifname ?? '',
    hardwareAddress: message.attrs.address,
    adminUp: message.data.flags?.up === true,
    operState: message.attrs.operstate,
  };
}

export function addressRecord(message: rt.AddressMessage): AddressRecord {
  return {
    family: message.data.family ?? 0,
    index: message.data.index ?? 0,
    prefixLength: message.data.prefixlen ?? 0,
    scope: message.data.scope ?? 0,
    local: message.attrs.local,
    address: message.attrs.address,
  };
}

export function routeRecord(message: rt.RouteMessage): RouteRecord {
  return {
    family: message.data.family ?? 0,
    dstLength: message.data.dstLen ?? 0,
    table: message.attrs.table ?? message.data.table ?? 0,
    outputIndex: message.attrs.oif,
  };
}

/** The change a notification reports, or undefined for one that does not matter (a route other than a default). */
export function changeOf(message: rt.Message): RtnetlinkChange | undefined {
  switch (message.kind) {
    case 'link':
      return 'link';
    case 'address':
      return 'address';
    case 'route':
      return message.data.dstLen === 0 ? 'default-route' : undefined;
    default:
      return undefined;
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Dumps over one request socket, one at a time: netlink@0.3.0 does not tell concurrent dumps on one socket apart
 * (their parts interleave: "Multipart message not terminated properly"; ADR 0022). A failed or timed-out dump
 * closes the socket (a late answer must not run into the next dump); the next dump opens a new one.
 */
export class RtnetlinkRequests {
  readonly #timeoutMs: number;
  #socket: RtNetlinkSocket | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: { timeoutMs?: number } = {}) {
    this.#timeoutMs = options.timeoutMs ?? 5000;
  }

  /** Links, addresses and the IPv4 and IPv6 routes, each family's routes dumped apart. */
  dump(): Promise<Result<RtnetlinkDump>> {
    const next = this.#queue.then(() => this.#dumpNow());
    this.#queue = next;
    return next;
  }

  close(): void {
    this.#closed = true;
    this.#socket?.socket.close();
    this.#socket = undefined;
  }

  async #dumpNow(): Promise<Result<RtnetlinkDump>> {
    if (this.#closed) return err('rtnetlink: closed');
    try {
      this.#socket ??= createRtNetlink();
      const socket = this.#socket;
      const options = { timeout: this.#timeoutMs };
      const links = (await socket.getLinks(undefined, undefined, options)).map(linkRecord);
      const addresses = (await socket.getAddresses(undefined, undefined, options)).map(addressRecord);
      const routes: RouteRecord[] = [];
      for (const family of [AF_INET, AF_INET6]) {
        // The raw socket: the package's route decoder fails on RTA_VIA (routeRecordFromBytes).
        const request = new Uint8Array(RTMSG_LENGTH);
        request[0] = family;
        const [messages] = await socket.socket.request(RTM_GETROUTE, request, { ...options, flags: NLM_F_DUMP });
        for (const message of messages) {
          const record = message.type === RTM_NEWROUTE ? routeRecordFromBytes(message.data) : undefined;
          if (record !== undefined) routes.push(record);
        }
      }
      return ok({ links, addresses, routes });
    } catch (error) {
      this.#socket?.socket.close();
      this.#socket = undefined;
      return err(`rtnetlink dump: ${reason(error)}`);
    }
  }
}

/**
 * Subscribes to link, address and route notifications (RTNLGRP_LINK, IPV4/IPV6_IFADDR, IPV4/IPV6_ROUTE) and calls
 * `onChange` for each one that matters. A receive error (ENOBUFS: the kernel dropped notifications because we
 * were slow) or a notification the package cannot parse becomes `resync`. The socket does not keep the process
 * alive. Returns the function that closes it, or why it could not be opened.
 */
export function watchRtnetlink(onChange: (change: RtnetlinkChange) => void): Result<() => void> {
  let socket: RtNetlinkSocket;
  try {
    // The package's typings demand both buffer sizes; 0 leaves the kernel's defaults.
    socket = createRtNetlink({ ref: false, recvBufferSize: 0, sendBufferSize: 0 });
    for (const group of ['LINK', 'IPV4_IFADDR', 'IPV6_IFADDR', 'IPV4_ROUTE', 'IPV6_ROUTE'] as const)
      socket.addMembership(group);
  } catch (error) {
    return err(`rtnetlink subscribe: ${reason(error)}`);
  }
  let closed = false;
  const resync = (): void => {
    if (!closed) onChange('resync');
  };
  socket.on('message', (messages) => {
    if (closed) return;
    for (const change of new Set(messages.map(changeOf))) if (change) onChange(change);
  });
  socket.on('invalid', resync);
  socket.socket.on('invalid', resync);
  socket.socket.on('error', resync);
  return ok(() => {
    closed = true;
    socket.socket.close();
  });
}
