// The BGP message header (RFC 4271 section 4.1): a 16-byte marker of all ones, the total length (19-4096) and the
// message type; and the section 6.1 checks on it, which all end the session with a Message Header Error.
import { err, ok, type Result } from '../../core/result.ts';
import { ERROR_CODE, HEADER_ERROR, bgpDecodeError, uint16Data, type BgpDecodeError } from './notification-message.ts';

export type BgpMessageType = 'open' | 'update' | 'notification' | 'keepalive' | 'route-refresh';

export const MARKER_LENGTH = 16;
export const HEADER_LENGTH = 19;
/** RFC 4271 section 4.1; the RFC 8654 extended message size (65535) is not supported. */
export const MAX_MESSAGE_LENGTH = 4096;

export const MESSAGE_TYPE_CODES: Readonly<Record<BgpMessageType, number>> = {
  open: 1,
  update: 2,
  notification: 3,
  keepalive: 4,
  'route-refresh': 5,
};

const TYPES_BY_CODE: readonly (BgpMessageType | undefined)[] = [
  undefined,
  'open',
  'update',
  'notification',
  'keepalive',
  'route-refresh',
];

/** RFC 4271 section 6.1 (and RFC 2918 section 3 for ROUTE-REFRESH): the shortest message of each type. */
const MINIMUM_LENGTHS: Readonly<Record<BgpMessageType, number>> = {
  open: 29,
  update: 23,
  notification: 21,
  keepalive: 19,
  'route-refresh': 23,
};

export interface BgpHeader {
  readonly type: BgpMessageType;
  /** The whole message, header included. */
  readonly length: number;
}

/** Writes marker, length and type at the start of a buffer of at least 19 bytes. */
export function writeHeader(bytes: Uint8Array, type: BgpMessageType, length: number): void {
  if (!Number.isInteger(length) || length < HEADER_LENGTH || length > MAX_MESSAGE_LENGTH) {
    throw new RangeError(`BGP message length ${length} is outside ${HEADER_LENGTH}-${MAX_MESSAGE_LENGTH}`);
  }
  bytes.fill(0xff, 0, MARKER_LENGTH);
  bytes[16] = length >>> 8;
  bytes[17] = length & 0xff;
  bytes[18] = MESSAGE_TYPE_CODES[type];
}

/** A message of this type with this body: header + body. Throws RangeError past 4096 bytes (a bug). */
export function withHeader(type: BgpMessageType, body: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(HEADER_LENGTH + body.length);
  writeHeader(bytes, type, bytes.length);
  bytes.set(body, HEADER_LENGTH);
  return bytes;
}

/**
 * Checks the header at the start of `bytes` as RFC 4271 section 6.1 says: marker all ones (else Connection Not
 * Synchronized), length 19-4096 and at least the minimum of its type (KEEPALIVE exactly 19; else Bad Message
 * Length, with the length as data), a known type (else Bad Message Type, with the type as data). Bytes shorter
 * than the header, or than its length, are 'truncated' (a stream reader waits for more; see nextMessageLength).
 * Never throws.
 */
export function decodeHeader(bytes: Uint8Array): Result<BgpHeader, BgpDecodeError> {
  if (bytes.length < HEADER_LENGTH) {
    return err(
      bgpDecodeError(
        'truncated',
        `BGP: ${bytes.length} bytes, a header needs ${HEADER_LENGTH}`,
        ERROR_CODE.messageHeader,
        HEADER_ERROR.badMessageLength,
      ),
    );
  }
  const framed = markedLength(bytes);
  if (!framed.ok) return framed;
  const length = framed.value;
  const code = bytes[18] ?? 0;
  const type = TYPES_BY_CODE[code];
  if (type === undefined) {
    return err(
      bgpDecodeError(
        'unsupported',
        `BGP: message type ${code} is unknown`,
        ERROR_CODE.messageHeader,
        HEADER_ERROR.badMessageType,
        Uint8Array.of(code),
      ),
    );
  }
  const minimum = MINIMUM_LENGTHS[type];
  if (type === 'keepalive' ? length !== HEADER_LENGTH : length < minimum) {
    const rule = type === 'keepalive' ? `is exactly ${HEADER_LENGTH}` : `is at least ${minimum}`;
    return err(badLength(`BGP: ${type.toUpperCase()} of length ${length}; its length ${rule}`, length));
  }
  if (bytes.length < length) {
    return err(
      bgpDecodeError(
        'truncated',
        `BGP: ${type.toUpperCase()} of length ${length}, only ${bytes.length} bytes given`,
        ERROR_CODE.messageHeader,
        HEADER_ERROR.badMessageLength,
        uint16Data(length),
      ),
    );
  }
  return ok({ type, length });
}

function badLength(message: string, length: number): BgpDecodeError {
  return bgpDecodeError(
    'malformed',
    message,
    ERROR_CODE.messageHeader,
    HEADER_ERROR.badMessageLength,
    uint16Data(length),
  );
}

/**
 * For a reader of the TCP stream: the length of the message at the start of `buffer` once its header is there
 * (ok(undefined) while fewer than 19 bytes have arrived), or the header error to send when the marker or length
 * is bad. The message is complete when buffer.length >= the length returned. Never throws.
 */
export function nextMessageLength(buffer: Uint8Array): Result<number | undefined, BgpDecodeError> {
  if (buffer.length < HEADER_LENGTH) return ok(undefined);
  return markedLength(buffer);
}

/**
 * The Length field of a header whose 19 bytes are all there, once the marker is all ones (else Connection Not
 * Synchronized) and the length lies in 19-4096 (else Bad Message Length); the checks a message of any type passes
 * before its type is read, shared by decodeHeader and the stream reader's nextMessageLength.
 */
function markedLength(bytes: Uint8Array): Result<number, BgpDecodeError> {
  for (let index = 0; index < MARKER_LENGTH; index++) {
    if (bytes[index] !== 0xff) {
      return err(
        bgpDecodeError(
          'malformed',
          'BGP: marker is not all ones',
          ERROR_CODE.messageHeader,
          HEADER_ERROR.connectionNotSynchronized,
        ),
      );
    }
  }
  const length = ((bytes[16] ?? 0) << 8) | (bytes[17] ?? 0);
  if (length < HEADER_LENGTH || length > MAX_MESSAGE_LENGTH) {
    return err(badLength(`BGP: message length ${length} is outside ${HEADER_LENGTH}-${MAX_MESSAGE_LENGTH}`, length));
  }
  return ok(length);
}
