// Any BGP message (RFC 4271 section 4): encode with the header, and decode the message at the start of a buffer
// into one classification that a session can act on directly: ok, the two RFC 7606 outcomes that keep an UPDATE
// (treat-as-withdraw, attribute-discard), or session-reset with the NOTIFICATION RFC 4271 section 6 calls for.
import { HEADER_LENGTH, decodeHeader, withHeader } from './message-header.ts';
import {
  decodeNotificationBody,
  encodeNotificationBody,
  type BgpDecodeError,
  type NotificationMessage,
} from './notification-message.ts';
import { decodeOpenBody, encodeOpenBody, type OpenMessage } from './open-message.ts';
import type { BgpCodecContext } from './path-attribute.ts';
import { decodeRouteRefreshBody, encodeRouteRefreshBody, type RouteRefreshMessage } from './route-refresh-message.ts';
import { decodeUpdateBody, encodeUpdateMessage, type UpdateMessage } from './update-message.ts';

export interface KeepaliveMessage {
  readonly type: 'keepalive';
}

export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

export const KEEPALIVE: KeepaliveMessage = { type: 'keepalive' };

/**
 * The outcome of decoding one message from the wire:
 * - `ok`: any message type, well formed (an OPEN is still to be checked by negotiation);
 * - `treat-as-withdraw` / `attribute-discard`: an UPDATE with errors RFC 7606 handles without a reset;
 * - `session-reset`: send `notification` and close; `error` says why, for the log.
 */
export type BgpDecodeOutcome =
  | { readonly kind: 'ok'; readonly message: BgpMessage }
  | { readonly kind: 'treat-as-withdraw'; readonly message: UpdateMessage; readonly reason: string }
  | { readonly kind: 'attribute-discard'; readonly message: UpdateMessage; readonly reason: string }
  | { readonly kind: 'session-reset'; readonly notification: NotificationMessage; readonly error: BgpDecodeError };

/** The bytes of a message, header included. Throws RangeError on fields out of range or more than 4096 bytes (bugs). */
export function encodeBgpMessage(message: BgpMessage, context: BgpCodecContext): Uint8Array {
  switch (message.type) {
    case 'open':
      return withHeader('open', encodeOpenBody(message));
    case 'update':
      return encodeUpdateMessage(message, context);
    case 'notification':
      return withHeader('notification', encodeNotificationBody(message));
    case 'keepalive':
      return withHeader('keepalive', new Uint8Array(0));
    case 'route-refresh':
      return withHeader('route-refresh', encodeRouteRefreshBody(message));
  }
}

/**
 * Decodes the message at the start of `bytes` (bytes after its length are left alone: they belong to the next
 * message). `context` says how the session encodes AS numbers (UPDATEs only). Never throws.
 */
export function decodeBgpMessage(bytes: Uint8Array, context: BgpCodecContext): BgpDecodeOutcome {
  const header = decodeHeader(bytes);
  if (!header.ok) return { kind: 'session-reset', notification: header.error.notification, error: header.error };
  const body = bytes.subarray(HEADER_LENGTH, header.value.length);
  switch (header.value.type) {
    case 'open': {
      const open = decodeOpenBody(body);
      return open.ok
        ? { kind: 'ok', message: open.value }
        : { kind: 'session-reset', notification: open.error.notification, error: open.error };
    }
    case 'update': {
      const outcome = decodeUpdateBody(body, context);
      if (outcome.kind === 'ok') return { kind: 'ok', message: outcome.update };
      if (outcome.kind === 'session-reset') return outcome;
      return { kind: outcome.kind, message: outcome.update, reason: outcome.reason };
    }
    case 'notification':
      return { kind: 'ok', message: decodeNotificationBody(body) };
    case 'keepalive':
      return { kind: 'ok', message: KEEPALIVE };
    case 'route-refresh': {
      const refresh = decodeRouteRefreshBody(body, bytes.subarray(0, header.value.length));
      return refresh.ok
        ? { kind: 'ok', message: refresh.value }
        : { kind: 'session-reset', notification: refresh.error.notification, error: refresh.error };
    }
  }
}
