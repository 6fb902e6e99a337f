// UPDATE (RFC 4271 section 4.3): withdrawn IPv4 routes, path attributes, IPv4 NLRI; IPv6 (and MP IPv4) routes
// travel in MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760). Decoding classifies every input the way RFC 7606 says an
// UPDATE error is handled: ok, treat-as-withdraw, attribute discard, or session reset (with the NOTIFICATION).
// Also: End-of-RIB (RFC 4724 section 2) and the routes an UPDATE announces and withdraws. Packing routes into
// UPDATEs is in update-packing.ts; the attributes of routes passed on (RFC 6793, unrecognized ones) in
// route-propagation.ts. decodeUpdateBody (~160 lines) walks the body once, field after field, collecting the
// RFC 7606 problems it meets and answering with the strongest; split, the offsets and the problems would be
// passed around.
import type { AddressFamily } from './address-family.ts';
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH, decodeHeader, withHeader } from './message-header.ts';
import { decodePrefixes, encodePrefixes, encodedPrefixesLength, type BgpPrefix } from './nlri-prefix.ts';
import { ByteWriter } from '../wire/byte-writer.ts';
import {
  ERROR_CODE,
  HEADER_ERROR,
  UPDATE_ERROR,
  bgpDecodeError,
  type BgpDecodeError,
  type NotificationMessage,
} from './notification-message.ts';
import { decodeAttribute } from './attribute-decoder.ts';
import { encodeAttribute } from './attribute-encoder.ts';
import { ATTRIBUTE_CODES, FLAG_EXTENDED_LENGTH, attributeName } from './attribute-type.ts';
import type { BgpCodecContext, MpReachNlriAttribute, PathAttribute } from './path-attribute.ts';

export interface UpdateMessage {
  readonly type: 'update';
  /** IPv4 unicast prefixes no longer reachable. */
  readonly withdrawnRoutes: readonly BgpPrefix[];
  /** In the order received or to be sent (RFC 7606 section 5.1: MP_REACH/MP_UNREACH first when we send). */
  readonly pathAttributes: readonly PathAttribute[];
  /** IPv4 unicast prefixes reachable with these attributes. */
  readonly nlri: readonly BgpPrefix[];
}

/**
 * How an UPDATE from the wire is to be handled (RFC 7606 section 2):
 * - `ok`: use it.
 * - `treat-as-withdraw`: a malformed attribute (ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF, COMMUNITIES,
 *   LARGE_COMMUNITIES, ...), a missing mandatory one, or attribute lengths that disagree with the total: every
 *   prefix the message announces is to be withdrawn (see prefixesToWithdraw); `update` holds what could be read.
 * - `attribute-discard`: a malformed ATOMIC_AGGREGATE, AGGREGATOR, AS4_PATH or AS4_AGGREGATOR, a repeated
 *   attribute, or LOCAL_PREF from an external peer was dropped; `update` is the rest, to be used.
 * - `session-reset`: the NLRI cannot be found or parsed (lengths past the message, a bad prefix, a malformed or
 *   repeated MP_REACH_NLRI/MP_UNREACH_NLRI) or an unrecognized well-known attribute: send `notification`, close.
 */
export type UpdateDecodeOutcome =
  | { readonly kind: 'ok'; readonly update: UpdateMessage }
  | { readonly kind: 'treat-as-withdraw'; readonly update: UpdateMessage; readonly reason: string }
  | { readonly kind: 'attribute-discard'; readonly update: UpdateMessage; readonly reason: string }
  | { readonly kind: 'session-reset'; readonly notification: NotificationMessage; readonly error: BgpDecodeError };

// ---------------------------------------------------------------------------------------------------------------
// Encoding

/**
 * The whole UPDATE message, header included. Throws RangeError when it would exceed 4096 bytes, when withdrawn
 * routes or NLRI are not IPv4, or when an attribute cannot be encoded (bugs; see announcementUpdates for packing).
 */
export function encodeUpdateMessage(update: UpdateMessage, context: BgpCodecContext): Uint8Array {
  for (const prefix of update.withdrawnRoutes) requireIpv4(prefix, 'withdrawn routes');
  for (const prefix of update.nlri) requireIpv4(prefix, 'NLRI');
  const attributes = update.pathAttributes.map((attribute) => encodeAttribute(attribute, context));
  let attributesLength = 0;
  for (const attribute of attributes) attributesLength += attribute.length;
  const length =
    HEADER_LENGTH +
    4 +
    encodedPrefixesLength(update.withdrawnRoutes) +
    attributesLength +
    encodedPrefixesLength(update.nlri);
  if (length > MAX_MESSAGE_LENGTH)
    throw new RangeError(`UPDATE of ${length} bytes exceeds ${MAX_MESSAGE_LENGTH}; split it (announcementUpdates)`);
  const body = new ByteWriter(length - HEADER_LENGTH)
    .fork()
    .bytes(encodePrefixes(update.withdrawnRoutes))
    .join(2, 'UPDATE withdrawn routes')
    .fork();
  for (const attribute of attributes) body.bytes(attribute);
  body.join(2, 'UPDATE path attributes').bytes(encodePrefixes(update.nlri));
  return withHeader('update', body.finish());
}

/** The UPDATE body alone (after the header). */
export function encodeUpdateBody(update: UpdateMessage, context: BgpCodecContext): Uint8Array {
  return encodeUpdateMessage(update, context).subarray(HEADER_LENGTH);
}

function requireIpv4(prefix: BgpPrefix, field: string): void {
  if (prefix.family !== 4)
    throw new RangeError(`UPDATE ${field} carry IPv4 prefixes only; put IPv6 in MP_REACH_NLRI/MP_UNREACH_NLRI`);
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

/** Decodes a whole UPDATE message (header included); a header error or another type is a session reset. Never throws. */
export function decodeUpdateMessage(bytes: Uint8Array, context: BgpCodecContext): UpdateDecodeOutcome {
  const header = decodeHeader(bytes);
  if (!header.ok) return { kind: 'session-reset', notification: header.error.notification, error: header.error };
  if (header.value.type !== 'update') {
    const error = bgpDecodeError(
      'unsupported',
      `BGP: expected an UPDATE, got ${header.value.type.toUpperCase()}`,
      ERROR_CODE.messageHeader,
      HEADER_ERROR.badMessageType,
      Uint8Array.of(bytes[18] ?? 0),
    );
    return { kind: 'session-reset', notification: error.notification, error };
  }
  return decodeUpdateBody(bytes.subarray(HEADER_LENGTH, header.value.length), context);
}

interface Problem {
  readonly handling: 'treat-as-withdraw' | 'attribute-discard';
  readonly reason: string;
}

function reset(
  reason: 'malformed' | 'truncated',
  message: string,
  subcode: number,
  data?: Uint8Array,
): UpdateDecodeOutcome {
  const error = bgpDecodeError(reason, `UPDATE: ${message}`, ERROR_CODE.updateMessage, subcode, data);
  return { kind: 'session-reset', notification: error.notification, error };
}

/** Decodes an UPDATE body (what follows the 19-byte header) and classifies it per RFC 7606. Never throws. */
export function decodeUpdateBody(body: Uint8Array, context: BgpCodecContext): UpdateDecodeOutcome {
  if (body.length < 4)
    return reset(
      'truncated',
      `body of ${body.length} bytes; the two length fields alone take 4`,
      UPDATE_ERROR.malformedAttributeList,
    );
  const withdrawnLength = ((body[0] ?? 0) << 8) | (body[1] ?? 0);
  if (4 + withdrawnLength > body.length) {
    return reset(
      'malformed',
      `Withdrawn Routes Length ${withdrawnLength} runs past the message (RFC 4271 section 6.3)`,
      UPDATE_ERROR.malformedAttributeList,
    );
  }
  const withdrawn = decodePrefixes(body, 2, 2 + withdrawnLength, 4);
  if (!withdrawn.ok)
    return reset(
      'malformed',
      `withdrawn routes: ${withdrawn.error} (RFC 7606 section 5.3)`,
      UPDATE_ERROR.invalidNetworkField,
    );
  const attributesLengthAt = 2 + withdrawnLength;
  const attributesLength = ((body[attributesLengthAt] ?? 0) << 8) | (body[attributesLengthAt + 1] ?? 0);
  const attributesStart = attributesLengthAt + 2;
  const attributesEnd = attributesStart + attributesLength;
  if (attributesEnd > body.length) {
    return reset(
      'malformed',
      `Total Path Attribute Length ${attributesLength} runs past the message (RFC 4271 section 6.3)`,
      UPDATE_ERROR.malformedAttributeList,
    );
  }
  const nlri = decodePrefixes(body, attributesEnd, body.length, 4);
  if (!nlri.ok)
    return reset('malformed', `NLRI: ${nlri.error} (RFC 7606 section 5.3)`, UPDATE_ERROR.invalidNetworkField);

  const problems: Problem[] = [];
  let attributes: PathAttribute[] = [];
  const seen = new Set<number>();
  let complete = true;
  let offset = attributesStart;
  while (offset < attributesEnd) {
    const flags = body[offset] ?? 0;
    const headerLength = flags & FLAG_EXTENDED_LENGTH ? 4 : 3;
    if (offset + headerLength > attributesEnd) {
      problems.push({
        handling: 'treat-as-withdraw',
        reason: `${attributesEnd - offset} bytes left in the path attributes, too few for an attribute header (RFC 7606 section 4)`,
      });
      complete = false;
      break;
    }
    const code = body[offset + 1] ?? 0;
    const length =
      headerLength === 4 ? ((body[offset + 2] ?? 0) << 8) | (body[offset + 3] ?? 0) : (body[offset + 2] ?? 0);
    const valueStart = offset + headerLength;
    const valueEnd = valueStart + length;
    const name = attributeName(code);
    if (valueEnd > attributesEnd) {
      if (code === ATTRIBUTE_CODES['mp-reach-nlri'] || code === ATTRIBUTE_CODES['mp-unreach-nlri']) {
        return reset(
          'malformed',
          `${name} of length ${length} runs past the path attributes`,
          UPDATE_ERROR.attributeLengthError,
          body.slice(offset, attributesEnd),
        );
      }
      problems.push({
        handling: 'treat-as-withdraw',
        reason: `${name} of length ${length} runs past the path attributes (RFC 7606 section 4)`,
      });
      complete = false;
      break;
    }
    if (seen.has(code)) {
      if (code === ATTRIBUTE_CODES['mp-reach-nlri'] || code === ATTRIBUTE_CODES['mp-unreach-nlri']) {
        return reset(
          'malformed',
          `${name} appears more than once (RFC 7606 section 3 (g))`,
          UPDATE_ERROR.malformedAttributeList,
        );
      }
      problems.push({ handling: 'attribute-discard', reason: `repeated ${name} discarded (RFC 7606 section 3 (g))` });
      offset = valueEnd;
      continue;
    }
    seen.add(code);
    const result = decodeAttribute(
      flags,
      code,
      body.subarray(valueStart, valueEnd),
      body.subarray(offset, valueEnd),
      context,
    );
    if (result.ok) {
      attributes.push(result.attribute);
    } else if (result.handling === 'session-reset') {
      const error = bgpDecodeError(
        'malformed',
        `UPDATE: ${result.reason}`,
        ERROR_CODE.updateMessage,
        result.notification.subcode,
        result.notification.data,
      );
      return { kind: 'session-reset', notification: error.notification, error };
    } else {
      const section = result.handling === 'treat-as-withdraw' ? 'treat-as-withdraw' : 'attribute discard';
      problems.push({ handling: result.handling, reason: `${result.reason} (RFC 7606: ${section})` });
    }
    offset = valueEnd;
  }

  const mpReach = attributes.find((attribute): attribute is MpReachNlriAttribute => attribute.type === 'mp-reach-nlri');
  if (complete && (nlri.value.length > 0 || (mpReach !== undefined && mpReach.nlri.length > 0))) {
    const missing = [
      ...(seen.has(ATTRIBUTE_CODES.origin) ? [] : ['ORIGIN']),
      ...(seen.has(ATTRIBUTE_CODES['as-path']) ? [] : ['AS_PATH']),
      ...(nlri.value.length > 0 && !seen.has(ATTRIBUTE_CODES['next-hop']) ? ['NEXT_HOP'] : []),
    ];
    if (missing.length > 0) {
      problems.push({
        handling: 'treat-as-withdraw',
        reason: `missing well-known attribute ${missing.join(', ')} (RFC 7606 section 3 (d))`,
      });
    }
  }
  if (context.external === true && attributes.some((attribute) => attribute.type === 'local-pref')) {
    attributes = attributes.filter((attribute) => attribute.type !== 'local-pref');
    problems.push({
      handling: 'attribute-discard',
      reason: 'LOCAL_PREF from an external peer discarded (RFC 7606 section 7.5)',
    });
  }
  if (
    context.fourOctetAs &&
    attributes.some((attribute) => attribute.type === 'as4-path' || attribute.type === 'as4-aggregator')
  ) {
    attributes = attributes.filter((attribute) => attribute.type !== 'as4-path' && attribute.type !== 'as4-aggregator');
    problems.push({
      handling: 'attribute-discard',
      reason: 'AS4_PATH/AS4_AGGREGATOR between 4-octet AS speakers discarded (RFC 6793 section 3)',
    });
  }

  const update: UpdateMessage = {
    type: 'update',
    withdrawnRoutes: withdrawn.value,
    pathAttributes: attributes,
    nlri: nlri.value,
  };
  if (problems.length === 0) return { kind: 'ok', update };
  const reason = `UPDATE: ${problems.map((problem) => problem.reason).join('; ')}`;
  if (problems.some((problem) => problem.handling === 'treat-as-withdraw'))
    return { kind: 'treat-as-withdraw', update, reason };
  return { kind: 'attribute-discard', update, reason };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading routes

/** Every prefix an UPDATE announces: the IPv4 NLRI field and MP_REACH_NLRI. */
export function announcedPrefixes(update: UpdateMessage): BgpPrefix[] {
  const prefixes = [...update.nlri];
  for (const attribute of update.pathAttributes)
    if (attribute.type === 'mp-reach-nlri') prefixes.push(...attribute.nlri);
  return prefixes;
}

/** Every prefix an UPDATE withdraws: the Withdrawn Routes field and MP_UNREACH_NLRI. */
export function withdrawnPrefixes(update: UpdateMessage): BgpPrefix[] {
  const prefixes = [...update.withdrawnRoutes];
  for (const attribute of update.pathAttributes)
    if (attribute.type === 'mp-unreach-nlri') prefixes.push(...attribute.withdrawnRoutes);
  return prefixes;
}

/** The prefixes to remove after decoding: the withdrawn ones, and with treat-as-withdraw the announced ones too. */
export function prefixesToWithdraw(outcome: UpdateDecodeOutcome): BgpPrefix[] {
  if (outcome.kind === 'session-reset') return [];
  const withdrawn = withdrawnPrefixes(outcome.update);
  return outcome.kind === 'treat-as-withdraw' ? [...withdrawn, ...announcedPrefixes(outcome.update)] : withdrawn;
}

/** The End-of-RIB marker of a family (RFC 4724 section 2): an empty UPDATE, or an empty MP_UNREACH_NLRI. */
export function endOfRib(family: AddressFamily): UpdateMessage {
  const pathAttributes: PathAttribute[] =
    family === 'ipv4-unicast' ? [] : [{ type: 'mp-unreach-nlri', family, withdrawnRoutes: [] }];
  return { type: 'update', withdrawnRoutes: [], pathAttributes, nlri: [] };
}

/** The family whose End-of-RIB this UPDATE is, or undefined. */
export function endOfRibFamily(update: UpdateMessage): AddressFamily | undefined {
  if (update.withdrawnRoutes.length > 0 || update.nlri.length > 0) return undefined;
  if (update.pathAttributes.length === 0) return 'ipv4-unicast';
  const [only] = update.pathAttributes;
  if (update.pathAttributes.length === 1 && only?.type === 'mp-unreach-nlri' && only.withdrawnRoutes.length === 0)
    return only.family;
  return undefined;
}
