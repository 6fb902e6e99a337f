// The native addon (native/beaconlb_native.c, ADR 0004): its surface, loading it once with a message saying how to
// build it when it is missing, and the addon's thrown errors turned into PacketSocketError values. Only the files
// of src/platform that wrap a native call import this (packet-socket.ts, socket-options.ts).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { err, ok, type Result } from '../core/result.ts';

export interface NativePacketSocket {
  send(frame: Uint8Array): number;
  addMembership(mac: Uint8Array): void;
  dropMembership(mac: Uint8Array): void;
  close(): void;
  ref(): void;
  unref(): void;
  stats(): { packets: number; drops: number };
}

export interface NativeOpenOptions {
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
export const NATIVE_ADDON_PATH = fileURLToPath(
  new URL('../../native/build/Release/beaconlb_native.node', import.meta.url),
);

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

export function reasonOf(code: string | undefined): PacketSocketErrorReason {
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
export function fromThrown(e: unknown, context: string): PacketSocketError {
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
  return ['open', 'setTcpMd5', 'createTcpSocket', 'closeFd', 'setIpTtl', 'attachSocketFilter'].every(
    (name) => typeof candidate[name] === 'function',
  );
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

export function addon(): Result<NativeAddon, PacketSocketError> {
  cachedAddon ??= loadNativeAddon();
  return cachedAddon;
}
