// TCP for BGP sessions: Node's net module for all I/O, with the socket options Node lacks set through the native
// addon before the first segment leaves: TCP MD5 signatures (RFC 2385) and the IP TTL (1 for single-hop eBGP, 255
// for multihop). Active side: the addon creates the fd, the options go on it, `new net.Socket({ fd })` connects it.
// Passive side: one listener per port, keys set on the listening fd (accepted connections inherit them). ADR 0004.
import net from 'node:net';
import { err, ok, type Result } from '../core/result.ts';
import { closeTcpSocket, createTcpSocket, setIpTtl, setTcpMd5 } from './socket-options.ts';

export interface ConnectOptions {
  peerAddress: string;
  port: number;
  /** Local address to bind before connecting. */
  sourceAddress?: string;
  /** The interface (scope) of a link-local peerAddress. */
  interface?: string;
  /** Absent: no MD5. Never logged. */
  md5Key?: Uint8Array;
  /** 1 to 255; absent: the kernel default. */
  ttl?: number;
  /** Give up connecting after this long. */
  timeoutMs: number;
}

export interface TransportError {
  readonly reason: 'socket-option' | 'connect-failed';
  readonly message: string;
}

/** The part of net.Socket a BGP session uses (a test double implements it too). */
export type BgpSocket = net.Socket;

/** A socket whose options are set, connecting; 'connect' or 'error'/'close' follow. */
export function connectBgpSocket(o: ConnectOptions): Result<BgpSocket, TransportError> {
  const family = net.isIPv6(o.peerAddress) ? 6 : 4;
  const fd = createTcpSocket(family);
  if (!fd.ok) return err({ reason: 'socket-option', message: fd.error.message });
  const options = applyOptions(fd.value, o.peerAddress, o.md5Key, o.ttl);
  if (!options.ok) {
    closeTcpSocket(fd.value);
    return options;
  }
  const socket = new net.Socket({ fd: fd.value, readable: true, writable: true });
  socket.setNoDelay(true);
  socket.setTimeout(o.timeoutMs, () => {
    socket.destroy(
      new Error(
        `no answer from ${o.peerAddress}:${o.port} within ${o.timeoutMs} ms${o.md5Key ? ' (with TCP MD5, a wrong password looks like this too)' : ''}`,
      ),
    );
  });
  socket.once('connect', () => socket.setTimeout(0));
  const host = o.interface === undefined ? o.peerAddress : `${o.peerAddress}%${o.interface}`;
  socket.connect({ port: o.port, host, ...(o.sourceAddress === undefined ? {} : { localAddress: o.sourceAddress }) });
  return ok(socket);
}

function applyOptions(
  fd: number,
  peerAddress: string,
  md5Key: Uint8Array | undefined,
  ttl: number | undefined,
): Result<void, TransportError> {
  if (md5Key !== undefined && md5Key.length > 0) {
    const md5 = setTcpMd5(fd, peerAddress, md5Key);
    if (!md5.ok) return err({ reason: 'socket-option', message: md5.error.message });
  }
  if (ttl !== undefined) {
    const set = setIpTtl(fd, ttl);
    if (!set.ok) return err({ reason: 'socket-option', message: set.error.message });
  }
  return ok(undefined);
}

/** Sets the TTL on an accepted connection (the listener's MD5 keys already apply to it). */
export function configureAccepted(socket: BgpSocket, ttl: number | undefined): Result<void, TransportError> {
  socket.setNoDelay(true);
  if (ttl === undefined) return ok(undefined);
  const fd = socketFd(socket);
  if (fd === undefined) return err({ reason: 'socket-option', message: 'the accepted socket has no file descriptor' });
  return applyOptions(fd, '', undefined, ttl);
}

export interface ListenerOptions {
  port: number;
  /** Listen address; absent: all addresses (IPv6 socket, IPv4-mapped too). */
  host?: string;
  onConnection: (socket: BgpSocket) => void;
  onError: (error: Error) => void;
}

/** A listening socket for passive peers, with per-peer MD5 keys. */
export class BgpListener {
  readonly #server: net.Server;
  readonly #keys = new Map<string, Uint8Array>();

  private constructor(server: net.Server) {
    this.#server = server;
  }

  static async listen(o: ListenerOptions): Promise<Result<BgpListener, TransportError>> {
    const server = net.createServer({ noDelay: true }, o.onConnection);
    const listening = await new Promise<Error | undefined>((resolve) => {
      server.once('error', resolve);
      server.listen({ port: o.port, ...(o.host === undefined ? {} : { host: o.host }) }, () => {
        server.off('error', resolve);
        resolve(undefined);
      });
    });
    if (listening)
      return err({ reason: 'connect-failed', message: `cannot listen on port ${o.port}: ${listening.message}` });
    server.on('error', o.onError);
    return ok(new BgpListener(server));
  }

  /** Sets (or with undefined removes) the MD5 key for connections from this peer. */
  setKey(peerAddress: string, key: Uint8Array | undefined): Result<void, TransportError> {
    const fd = socketFd(this.#server);
    if (fd === undefined) return err({ reason: 'socket-option', message: 'the listener has no file descriptor' });
    const had = this.#keys.has(peerAddress);
    if (key === undefined || key.length === 0) {
      if (!had) return ok(undefined);
      this.#keys.delete(peerAddress);
      const removed = setTcpMd5(fd, peerAddress, new Uint8Array(0));
      return removed.ok ? ok(undefined) : err({ reason: 'socket-option', message: removed.error.message });
    }
    const set = setTcpMd5(fd, peerAddress, key);
    if (!set.ok) return err({ reason: 'socket-option', message: set.error.message });
    this.#keys.set(peerAddress, key);
    return ok(undefined);
  }

  /** The TTL / hop limit of the listener's own packets (the SYN-ACK) and, inherited, of the connections it accepts. */
  setTtl(ttl: number): Result<void, TransportError> {
    const fd = socketFd(this.#server);
    if (fd === undefined) return err({ reason: 'socket-option', message: 'the listener has no file descriptor' });
    const set = setIpTtl(fd, ttl);
    return set.ok ? ok(undefined) : err({ reason: 'socket-option', message: set.error.message });
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) =>
      this.#server.close(() => {
        resolve();
      }),
    );
  }
}

/** The fd of a Node socket or server: `_handle.fd` is internal to Node (stable for years); wrapped here only. */
function socketFd(handleOwner: net.Socket | net.Server): number | undefined {
  const handle = (handleOwner as unknown as { _handle?: { fd?: number } })._handle;
  return typeof handle?.fd === 'number' && handle.fd >= 0 ? handle.fd : undefined;
}
