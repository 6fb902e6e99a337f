// NOTIFICATION (RFC 4271 section 4.5): error code, subcode and data; the codes and subcodes of RFC 4271 sections
// 4.5 and 6, RFC 5492 (Unsupported Capability), RFC 6608 (FSM error subcodes), RFC 4486 and RFC 8538 (Cease
// subcodes), RFC 7313 (ROUTE-REFRESH Message Error) and RFC 9003 (the Shutdown Communication in Cease data).
import type { DecodeError, DecodeErrorReason } from '../ethernet/decode-error.ts';

export interface NotificationMessage {
  readonly type: 'notification';
  readonly code: number;
  readonly subcode: number;
  /** Whatever follows the subcode; empty when there is none. */
  readonly data: Uint8Array;
}

export const ERROR_CODE = {
  messageHeader: 1,
  openMessage: 2,
  updateMessage: 3,
  holdTimerExpired: 4,
  finiteStateMachine: 5,
  cease: 6,
  routeRefreshMessage: 7,
} as const;

/** RFC 4271 section 6.1. */
export const HEADER_ERROR = { connectionNotSynchronized: 1, badMessageLength: 2, badMessageType: 3 } as const;

/** RFC 4271 section 6.2, RFC 5492 section 5 (7), RFC 9234 (11). */
export const OPEN_ERROR = {
  unspecific: 0,
  unsupportedVersionNumber: 1,
  badPeerAs: 2,
  badBgpIdentifier: 3,
  unsupportedOptionalParameter: 4,
  unacceptableHoldTime: 6,
  unsupportedCapability: 7,
  roleMismatch: 11,
} as const;

/** RFC 4271 section 6.3. */
export const UPDATE_ERROR = {
  malformedAttributeList: 1,
  unrecognizedWellKnownAttribute: 2,
  missingWellKnownAttribute: 3,
  attributeFlagsError: 4,
  attributeLengthError: 5,
  invalidOriginAttribute: 6,
  invalidNextHopAttribute: 8,
  optionalAttributeError: 9,
  invalidNetworkField: 10,
  malformedAsPath: 11,
} as const;

/** RFC 6608 section 4. */
export const FSM_ERROR = {
  unspecified: 0,
  unexpectedMessageInOpenSent: 1,
  unexpectedMessageInOpenConfirm: 2,
  unexpectedMessageInEstablished: 3,
} as const;

/** RFC 4486 section 4, RFC 8538 section 3.1 (9), RFC 9384 (10). */
export const CEASE = {
  maximumNumberOfPrefixesReached: 1,
  administrativeShutdown: 2,
  peerDeconfigured: 3,
  administrativeReset: 4,
  connectionRejected: 5,
  otherConfigurationChange: 6,
  connectionCollisionResolution: 7,
  outOfResources: 8,
  hardReset: 9,
  bfdDown: 10,
} as const;

/** RFC 7313 section 5. */
export const ROUTE_REFRESH_ERROR = { invalidMessageLength: 1 } as const;

const CODE_NAMES: Readonly<Record<number, string>> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
};

const SUBCODE_NAMES: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: {
    1: 'Unsupported Version Number',
    2: 'Bad Peer AS',
    3: 'Bad BGP Identifier',
    4: 'Unsupported Optional Parameter',
    5: 'Authentication Failure (deprecated)',
    6: 'Unacceptable Hold Time',
    7: 'Unsupported Capability',
    11: 'Role Mismatch',
  },
  3: {
    1: 'Malformed Attribute List',
    2: 'Unrecognized Well-known Attribute',
    3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error',
    5: 'Attribute Length Error',
    6: 'Invalid ORIGIN Attribute',
    7: 'AS Routing Loop (deprecated)',
    8: 'Invalid NEXT_HOP Attribute',
    9: 'Optional Attribute Error',
    10: 'Invalid Network Field',
    11: 'Malformed AS_PATH',
  },
  5: {
    1: 'Receive Unexpected Message in OpenSent State',
    2: 'Receive Unexpected Message in OpenConfirm State',
    3: 'Receive Unexpected Message in Established State',
  },
  6: {
    1: 'Maximum Number of Prefixes Reached',
    2: 'Administrative Shutdown',
    3: 'Peer De-configured',
    4: 'Administrative Reset',
    5: 'Connection Rejected',
    6: 'Other Configuration Change',
    7: 'Connection Collision Resolution',
    8: 'Out of Resources',
    9: 'Hard Reset',
    10: 'BFD Down',
  },
  7: { 1: 'Invalid Message Length' },
};

const EMPTY = new Uint8Array(0);

/** A NOTIFICATION with this code, subcode and data (none by default). */
export function notification(code: number, subcode: number, data: Uint8Array = EMPTY): NotificationMessage {
  return { type: 'notification', code, subcode, data };
}

/** The name of an error code, e.g. "Cease"; "error code 9" when unknown. */
export function errorCodeName(code: number): string {
  return CODE_NAMES[code] ?? `error code ${code}`;
}

/** The name of a subcode under its code; "subcode N" when unknown, "unspecific" for 0. */
export function errorSubcodeName(code: number, subcode: number): string {
  return SUBCODE_NAMES[code]?.[subcode] ?? (subcode === 0 ? 'unspecific' : `subcode ${subcode}`);
}

/** "Cease / Administrative Shutdown (6/2)", with a shutdown communication or the data length when present. */
export function describeNotification(message: NotificationMessage): string {
  const names = `${errorCodeName(message.code)} / ${errorSubcodeName(message.code, message.subcode)} (${message.code}/${message.subcode})`;
  const communication = shutdownCommunicationOf(message);
  if (communication !== undefined) return `${names}: ${JSON.stringify(communication)}`;
  return message.data.length > 0 ? `${names}, ${message.data.length} bytes of data` : names;
}

/**
 * RFC 9003: a Cease with subcode Administrative Shutdown or Administrative Reset may carry a UTF-8 message of up to
 * 255 bytes, after a length byte. Undefined when absent or not well formed.
 */
export function shutdownCommunicationOf(message: NotificationMessage): string | undefined {
  if (message.code !== ERROR_CODE.cease) return undefined;
  if (message.subcode !== CEASE.administrativeShutdown && message.subcode !== CEASE.administrativeReset)
    return undefined;
  const length = message.data[0];
  if (length === undefined || length === 0 || message.data.length !== 1 + length) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(message.data.subarray(1));
  } catch {
    return undefined;
  }
}

/** A Cease NOTIFICATION; for administrative shutdown/reset with an RFC 9003 message (cut to 255 UTF-8 bytes). */
export function ceaseNotification(subcode: number, communication?: string): NotificationMessage {
  if (communication === undefined || communication === '') return notification(ERROR_CODE.cease, subcode);
  let text = new TextEncoder().encode(communication);
  if (text.length > 255) {
    let cut = 255;
    while (cut > 0 && ((text[cut] ?? 0) & 0xc0) === 0x80) cut--; // never split a UTF-8 sequence
    text = text.subarray(0, cut);
  }
  const data = new Uint8Array(1 + text.length);
  data[0] = text.length;
  data.set(text, 1);
  return notification(ERROR_CODE.cease, subcode, data);
}

/** The NOTIFICATION body (RFC 4271 section 4.5): code, subcode, data. */
export function encodeNotificationBody(message: NotificationMessage): Uint8Array {
  if (!isByte(message.code) || !isByte(message.subcode)) {
    throw new RangeError(`NOTIFICATION code ${message.code} / subcode ${message.subcode} is not a byte`);
  }
  const body = new Uint8Array(2 + message.data.length);
  body[0] = message.code;
  body[1] = message.subcode;
  body.set(message.data, 2);
  return body;
}

/** Decodes a NOTIFICATION body of at least 2 bytes (the header check guarantees it); any code is accepted. */
export function decodeNotificationBody(body: Uint8Array): NotificationMessage {
  return notification(body[0] ?? 0, body[1] ?? 0, body.slice(2));
}

function isByte(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 255;
}

/**
 * A decode failure that ends the session: the DecodeError (reason and text, for logs) and the NOTIFICATION that
 * RFC 4271 section 6 says to send for it.
 */
export interface BgpDecodeError extends DecodeError {
  readonly notification: NotificationMessage;
}

/** A BgpDecodeError. */
export function bgpDecodeError(
  reason: DecodeErrorReason,
  message: string,
  code: number,
  subcode: number,
  data: Uint8Array = EMPTY,
): BgpDecodeError {
  return { reason, message, notification: notification(code, subcode, data) };
}

/** Two bytes, big-endian: the data of Bad Message Length (the length) or Unsupported Version Number (ours). */
export function uint16Data(value: number): Uint8Array {
  return Uint8Array.of((value >>> 8) & 0xff, value & 0xff);
}
