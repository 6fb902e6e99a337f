// UDP for BFD single-hop sessions (RFC 5881) on node:dgram: one receiving socket per family on port 3784, with a
// kernel filter that drops every datagram whose IP TTL / IPv6 hop limit is not 255 (section 5, GTSM), since
// node:dgram cannot report the received TTL (IP_RECVTTL); and one sending socket per session, bound to the
// session's local address and a source port from 49152-65535 that stays for the session's life (section 4),
// sending with TTL 255. ADR 0018.
import dgram from 'node:dgram';
import { err, ok, type Result } from '../core/result.ts';
import { BFD_CONTROL_PORT, BFD_SOURCE_PORT_MAX, BFD_SOURCE_PORT_MIN, BFD_TTL } from '../protocol/bfd/control-packet.ts';
import { bpfTtl255Only } from './bpf-program.ts';
import { attachSocketFilter } from './socket-options.ts';

export interface BfdTransportError {
  readonly reason: 'bind-failed' | 'socket-option';
  readonly message: string;
}

/** A datagram to port 3784 that passed the TTL filter. */
export interface ReceivedBfdDatagram {
  readonly bytes: Uint8Array;
  /** The sender's address (IPv4 in dotted form, never IPv4-mapped). */
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

export interface BfdReceiver {
  close(): void;
}

export interface BfdSender {
  /** The source port, fixed for the session. */
  readonly port: number;
  send(bytes: Uint8Array, peerAddress: string): void;
  close(): void;
}

/** The fd of a bound dgram socket (Node keeps it in an internal handle; this is the one place that reads it). */
function dgramFd(socket: dgram.Socket): number | undefined {
  const symbol = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  if (symbol === undefined) return undefined;
  const state = (socket as unknown as Record<symbol, { handle?: { fd?: unknown } } | undefined>)[symbol];
  const fd = state?.handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

function bind(socket: dgram.Socket, port: number, address: string | undefined): Promise<Result<void, Error>> {
  return new Promise((resolve) => {
    const onError = (error: Error): void => {
      resolve(err(error));
    };
    socket.once('error', onError);
    socket.bind({ port, ...(address === undefined ? {} : { address }), exclusive: true }, () => {
      socket.off('error', onError);
      resolve(ok(undefined));
    });
  });
}

const newSocket = (family: 4 | 6): dgram.Socket =>
  dgram.createSocket(family === 4 ? { type: 'udp4' } : { type: 'udp6', ipv6Only: true });

/**
 * Listens on UDP port 3784 of every address of the family. Datagrams arrive only when their TTL / hop limit is 255
 * (the kernel filter is attached right after bind; a datagram queued in between is the only exception).
 */
export async function openBfdReceiver(
  family: 4 | 6,
  onDatagram: (datagram: ReceivedBfdDatagram) => void,
  onError: (error: Error) => void,
  port: number = BFD_CONTROL_PORT,
): Promise<Result<BfdReceiver, BfdTransportError>> {
  const socket = newSocket(family);
  const bound = await bind(socket, port, undefined);
  if (!bound.ok) {
    socket.close();
    return err({ reason: 'bind-failed', message: `binding UDP port ${port} (IPv${family}): ${bound.error.message}` });
  }
  const fd = dgramFd(socket);
  const filter =
    fd === undefined
      ? err({ message: 'no file descriptor on the UDP socket' })
      : attachSocketFilter(fd, bpfTtl255Only(family));
  if (!filter.ok) {
    socket.close();
    return err({
      reason: 'socket-option',
      message: `the TTL 255 filter on UDP port ${port} (IPv${family}): ${filter.error.message}`,
    });
  }
  socket.on('message', (message, remote) => {
    onDatagram({
      bytes: new Uint8Array(message.buffer, message.byteOffset, message.byteLength),
      address: remote.address,
      port: remote.port,
      family,
    });
  });
  socket.on('error', onError);
  return ok({
    close: () => {
      socket.close();
    },
  });
}

/** A sending socket bound to `localAddress` and a free port from 49152-65535 (tries up to 64 random ones). */
export async function openBfdSender(
  family: 4 | 6,
  localAddress: string | undefined,
  random: () => number = Math.random,
  peerPort: number = BFD_CONTROL_PORT,
): Promise<Result<BfdSender, BfdTransportError>> {
  let last = '';
  for (let attempt = 0; attempt < 64; attempt++) {
    const port = BFD_SOURCE_PORT_MIN + Math.floor(random() * (BFD_SOURCE_PORT_MAX - BFD_SOURCE_PORT_MIN + 1));
    const socket = newSocket(family);
    const bound = await bind(socket, port, localAddress);
    if (!bound.ok) {
      socket.close();
      last = bound.error.message;
      if ((bound.error as { code?: unknown }).code === 'EADDRINUSE') continue;
      return err({
        reason: 'bind-failed',
        message: `binding a BFD source port on ${localAddress ?? 'any address'}: ${last}`,
      });
    }
    try {
      socket.setTTL(BFD_TTL);
    } catch (error) {
      socket.close();
      return err({ reason: 'socket-option', message: `TTL ${BFD_TTL} on the BFD socket: ${(error as Error).message}` });
    }
    // Sends to an unreachable peer report errors (ICMP); the session notices the silence, nothing else to do.
    socket.on('error', () => undefined);
    return ok({
      port,
      send: (bytes, peerAddress) => {
        socket.send(bytes, peerPort, peerAddress, () => undefined);
      },
      close: () => {
        socket.close();
      },
    });
  }
  return err({
    reason: 'bind-failed',
    message: `no free BFD source port in ${BFD_SOURCE_PORT_MIN}-${BFD_SOURCE_PORT_MAX}: ${last}`,
  });
}
