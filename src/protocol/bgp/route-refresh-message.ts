// ROUTE-REFRESH (RFC 2918 section 3): AFI, a reserved byte (the message subtype of RFC 7313: 0 normal request,
// 1 BoRR, 2 EoRR) and SAFI; the body is exactly 4 bytes.
import { err, ok, type Result } from '../../core/result.ts';
import { ERROR_CODE, ROUTE_REFRESH_ERROR, bgpDecodeError, type BgpDecodeError } from './notification-message.ts';
import { ByteWriter } from '../wire/byte-writer.ts';

export interface RouteRefreshMessage {
  readonly type: 'route-refresh';
  readonly afi: number;
  readonly safi: number;
  /** RFC 7313 message subtype (RFC 2918 "Reserved"): 0 for a plain request. */
  readonly subtype: number;
}

/** The 4-byte body. Throws RangeError on fields out of range (bugs). */
export function encodeRouteRefreshBody(message: RouteRefreshMessage): Uint8Array {
  return new ByteWriter(4)
    .u16(message.afi, 'ROUTE-REFRESH AFI')
    .u8(message.subtype, 'ROUTE-REFRESH subtype')
    .u8(message.safi, 'ROUTE-REFRESH SAFI')
    .finish();
}

/**
 * Decodes the body; any length but 4 is ROUTE-REFRESH Message Error / Invalid Message Length with the whole
 * message as data (RFC 7313 section 5; ORF entries, RFC 5291, are not supported). Never throws.
 */
export function decodeRouteRefreshBody(
  body: Uint8Array,
  message: Uint8Array,
): Result<RouteRefreshMessage, BgpDecodeError> {
  if (body.length !== 4) {
    return err(
      bgpDecodeError(
        'malformed',
        `ROUTE-REFRESH body of ${body.length} bytes; it is 4`,
        ERROR_CODE.routeRefreshMessage,
        ROUTE_REFRESH_ERROR.invalidMessageLength,
        message.slice(),
      ),
    );
  }
  return ok({
    type: 'route-refresh',
    afi: ((body[0] ?? 0) << 8) | (body[1] ?? 0),
    subtype: body[2] ?? 0,
    safi: body[3] ?? 0,
  });
}
