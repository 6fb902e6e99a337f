// The BFD Control packet (RFC 5880 section 4.1, mandatory section; 4.2 for the optional authentication section),
// carried in UDP to port 3784 for single-hop sessions (RFC 5881). Pure: Uint8Array in and out, DataView over
// the given bytes (byteOffset respected), never throws on input from the wire.
//
// The decoder applies the checks of RFC 5880 section 6.8.6 that need no session (version, lengths, Detect Mult,
// Multipoint, My Discriminator, P and F together); the rest (session selection, authentication) is the session's.
import { err, ok, type Result } from '../../core/result.ts';
import type { DecodeError } from '../ethernet/decode-error.ts';

/** RFC 5880 section 4.1 "Sta": the sender's session state. */
export type BfdState = 'AdminDown' | 'Down' | 'Init' | 'Up';

export const BFD_STATE_CODES: Readonly<Record<BfdState, number>> = { AdminDown: 0, Down: 1, Init: 2, Up: 3 };
const STATES_BY_CODE: readonly BfdState[] = ['AdminDown', 'Down', 'Init', 'Up'];

/** RFC 5880 section 4.1 diagnostic codes (9-31 are reserved and decoded as numbers). */
export const BFD_DIAGNOSTIC = {
  none: 0,
  controlDetectionTimeExpired: 1,
  echoFunctionFailed: 2,
  neighborSignaledSessionDown: 3,
  forwardingPlaneReset: 4,
  pathDown: 5,
  concatenatedPathDown: 6,
  administrativelyDown: 7,
  reverseConcatenatedPathDown: 8,
} as const;

const DIAGNOSTIC_NAMES: readonly string[] = [
  'No Diagnostic',
  'Control Detection Time Expired',
  'Echo Function Failed',
  'Neighbor Signaled Session Down',
  'Forwarding Plane Reset',
  'Path Down',
  'Concatenated Path Down',
  'Administratively Down',
  'Reverse Concatenated Path Down',
];

/** The diagnostic code in words, as RFC 5880 names it ("reserved (12)" for the others). */
export function describeDiagnostic(code: number): string {
  return DIAGNOSTIC_NAMES[code] ?? `reserved (${code})`;
}

export const BFD_VERSION = 1;
/** The mandatory section. */
export const BFD_MANDATORY_LENGTH = 24;
/** RFC 5881 section 4: single-hop control packets go to this UDP port. */
export const BFD_CONTROL_PORT = 3784;
/** RFC 5881 section 4: the source port of a session's packets, fixed for its lifetime, from this range. */
export const BFD_SOURCE_PORT_MIN = 49152;
export const BFD_SOURCE_PORT_MAX = 65535;
/** RFC 5881 section 5: sent with TTL / hop limit 255, and packets with any other value are discarded. */
export const BFD_TTL = 255;

/** RFC 5880 section 4.2: the optional authentication section, kept raw (authentication is not supported). */
export interface BfdAuthentication {
  /** 1 Simple Password, 2 Keyed MD5, 3 Meticulous Keyed MD5, 4 Keyed SHA1, 5 Meticulous Keyed SHA1. */
  readonly type: number;
  /** The section after Auth Type and Auth Len. */
  readonly data: Uint8Array;
}

export interface BfdControlPacket {
  readonly diagnostic: number;
  readonly state: BfdState;
  /** P: the sender asks for a packet with F set (a Poll Sequence, section 6.5). */
  readonly poll: boolean;
  /** F: the answer to a Poll. */
  readonly final: boolean;
  /** C: the sender's BFD does not share fate with its control plane. */
  readonly controlPlaneIndependent: boolean;
  /** D: the sender wishes to run Demand mode. */
  readonly demand: boolean;
  readonly detectMultiplier: number;
  readonly myDiscriminator: number;
  /** 0 while the sender has not heard from us. */
  readonly yourDiscriminator: number;
  /** Microseconds. */
  readonly desiredMinTxInterval: number;
  /** Microseconds; 0: the sender wants no periodic control packets. */
  readonly requiredMinRxInterval: number;
  /** Microseconds; 0: the sender does not take echo packets. */
  readonly requiredMinEchoRxInterval: number;
  /** Present when the A bit is set. */
  readonly authentication?: BfdAuthentication;
}

const UINT32_MAX = 0xffff_ffff;

/** The packet's bytes: 24, plus the authentication section when present. Throws RangeError on bugs (fields out of range). */
export function encodeBfdControlPacket(packet: BfdControlPacket): Uint8Array {
  const check = (field: string, value: number, min: number, max: number): void => {
    if (!Number.isInteger(value) || value < min || value > max)
      throw new RangeError(`BFD ${field} ${value} is not ${min}-${max}`);
  };
  check('diagnostic', packet.diagnostic, 0, 31);
  check('Detect Mult', packet.detectMultiplier, 0, 255);
  check('My Discriminator', packet.myDiscriminator, 0, UINT32_MAX);
  check('Your Discriminator', packet.yourDiscriminator, 0, UINT32_MAX);
  check('Desired Min TX Interval', packet.desiredMinTxInterval, 0, UINT32_MAX);
  check('Required Min RX Interval', packet.requiredMinRxInterval, 0, UINT32_MAX);
  check('Required Min Echo RX Interval', packet.requiredMinEchoRxInterval, 0, UINT32_MAX);
  const auth = packet.authentication;
  if (auth !== undefined) {
    check('Auth Type', auth.type, 0, 255);
    check('Auth Len', auth.data.length + 2, 2, 255 - BFD_MANDATORY_LENGTH);
  }
  const length = BFD_MANDATORY_LENGTH + (auth === undefined ? 0 : auth.data.length + 2);
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, (BFD_VERSION << 5) | packet.diagnostic);
  view.setUint8(
    1,
    (BFD_STATE_CODES[packet.state] << 6) |
      (packet.poll ? 0x20 : 0) |
      (packet.final ? 0x10 : 0) |
      (packet.controlPlaneIndependent ? 0x08 : 0) |
      (auth === undefined ? 0 : 0x04) |
      (packet.demand ? 0x02 : 0),
  );
  view.setUint8(2, packet.detectMultiplier);
  view.setUint8(3, length);
  view.setUint32(4, packet.myDiscriminator);
  view.setUint32(8, packet.yourDiscriminator);
  view.setUint32(12, packet.desiredMinTxInterval);
  view.setUint32(16, packet.requiredMinRxInterval);
  view.setUint32(20, packet.requiredMinEchoRxInterval);
  if (auth !== undefined) {
    bytes[24] = auth.type;
    bytes[25] = auth.data.length + 2;
    bytes.set(auth.data, 26);
  }
  return bytes;
}

const failure = (reason: DecodeError['reason'], message: string): { ok: false; error: DecodeError } =>
  err({ reason, message: `BFD: ${message}` });

/**
 * Decodes the UDP payload of a control packet. Discards as RFC 5880 section 6.8.6 says: version not 1
 * (`unsupported`); Length below 24 (26 with the A bit), past the payload, or an authentication section that does
 * not fit it (`truncated` / `malformed`); Detect Mult 0, the M bit, My Discriminator 0, or P and F both set
 * (section 6.5) (`invalid`). Bytes after Length are ignored. Never throws.
 */
export function decodeBfdControlPacket(bytes: Uint8Array): Result<BfdControlPacket, DecodeError> {
  if (bytes.length < BFD_MANDATORY_LENGTH)
    return failure('truncated', `${bytes.length} bytes, a control packet has at least ${BFD_MANDATORY_LENGTH}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = view.getUint8(0);
  const version = first >>> 5;
  if (version !== BFD_VERSION)
    return failure('unsupported', `version ${version}; only version ${BFD_VERSION} is known`);
  const flags = view.getUint8(1);
  const authenticated = (flags & 0x04) !== 0;
  const length = view.getUint8(3);
  const minimum = authenticated ? BFD_MANDATORY_LENGTH + 2 : BFD_MANDATORY_LENGTH;
  if (length < minimum)
    return failure('malformed', `Length ${length} is below ${minimum}${authenticated ? ' (A bit set)' : ''}`);
  if (length > bytes.length)
    return failure('truncated', `Length ${length}, only ${bytes.length} bytes in the datagram`);
  const detectMultiplier = view.getUint8(2);
  if (detectMultiplier === 0) return failure('invalid', 'Detect Mult is 0');
  if ((flags & 0x01) !== 0) return failure('invalid', 'the Multipoint (M) bit is set');
  const poll = (flags & 0x20) !== 0;
  const final = (flags & 0x10) !== 0;
  if (poll && final) return failure('invalid', 'Poll and Final are both set');
  const myDiscriminator = view.getUint32(4);
  if (myDiscriminator === 0) return failure('invalid', 'My Discriminator is 0');
  let authentication: BfdAuthentication | undefined;
  if (authenticated) {
    const authLength = view.getUint8(25);
    if (authLength < 2 || BFD_MANDATORY_LENGTH + authLength > length) {
      return failure('malformed', `Auth Len ${authLength} does not fit Length ${length}`);
    }
    authentication = { type: view.getUint8(24), data: bytes.slice(26, BFD_MANDATORY_LENGTH + authLength) };
  }
  return ok({
    diagnostic: first & 0x1f,
    state: STATES_BY_CODE[flags >>> 6] ?? 'AdminDown',
    poll,
    final,
    controlPlaneIndependent: (flags & 0x08) !== 0,
    demand: (flags & 0x02) !== 0,
    detectMultiplier,
    myDiscriminator,
    yourDiscriminator: view.getUint32(8),
    desiredMinTxInterval: view.getUint32(12),
    requiredMinRxInterval: view.getUint32(16),
    requiredMinEchoRxInterval: view.getUint32(20),
    ...(authentication === undefined ? {} : { authentication }),
  });
}
