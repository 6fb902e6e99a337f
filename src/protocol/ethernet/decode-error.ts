// Why a decoder refused its input, as a value that reads well in a log line. Shared by every codec in src/protocol:
// decoders never throw on bytes from the wire, they return Result<Message, DecodeError>.
/**
 * - `truncated`: fewer bytes than the headers or their length fields call for.
 * - `unsupported`: well formed, but outside what the codec handles on purpose (another EtherType, hardware type,
 *   ICMPv6 type, a second VLAN tag, a link-layer address that is not Ethernet). Usually not worth a warning.
 * - `malformed`: breaks the format itself (IPv6 version not 6, an option of length 0 or running past the end).
 * - `invalid`: well formed but fails the protocol's validity checks (RFC 4861 section 7.1: hop limit, checksum,
 *   code, multicast target, the rules for the unspecified source); the RFC says to discard it silently.
 */
export type DecodeErrorReason = 'truncated' | 'unsupported' | 'malformed' | 'invalid';

export interface DecodeError {
  readonly reason: DecodeErrorReason;
  /** Names the protocol and the offending field, e.g. "ARP: hardware type 6 is not Ethernet (1)". */
  readonly message: string;
}

/** A failed decode with this reason and message. */
export function decodeFailure(reason: DecodeErrorReason, message: string): { ok: false; error: DecodeError } {
  return { ok: false, error: { reason, message } };
}

/**
 * The 'truncated' failure of input shorter than its fixed header, e.g. "IPv6: packet has 20 bytes, the header alone
 * needs 40".
 */
export function headerTruncated(
  protocol: string,
  unit: string,
  length: number,
  headerLength: number,
): { ok: false; error: DecodeError } {
  return decodeFailure('truncated', `${protocol}: ${unit} has ${length} bytes, the header alone needs ${headerLength}`);
}
