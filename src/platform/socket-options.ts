// Options the native addon sets on sockets Node owns: TCP MD5 signatures (RFC 2385) and the TTL for BGP, a BPF
// filter for the BFD receivers.
//
// TCP MD5 signatures (RFC 2385) for BGP. The key must be on the socket before the SYN leaves (active side) or on the
// listening socket (passive side). Node creates a TCP socket's fd lazily inside connect(), so the active side gets
// its fd from createTcpSocket(), sets the key, and hands the fd to `new net.Socket({ fd })` before connect().
// Passive side: `server._handle.fd` once listening (accepted sockets inherit the listener's keys). ADR 0004.
import { err, ok, type Result } from '../core/result.ts';
import { addon, fromThrown, type PacketSocketError } from './native-addon.ts';
import { encodeBpfProgram, type BpfProgram } from './bpf-program.ts';

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
