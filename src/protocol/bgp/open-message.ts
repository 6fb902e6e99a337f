// OPEN (RFC 4271 section 4.2): version, my AS (AS_TRANS when the 4-octet AS does not fit, RFC 6793), hold time,
// BGP identifier and optional parameters; parameter 2 carries capabilities (RFC 5492). The optional parameters are
// kept as they came (one capability per parameter as FRR sends them, or all in one as gobgpd and BIRD do) so that
// re-encoding gives the same bytes. The RFC 9072 extended optional parameters length is not supported.
import { familyOf, formatIp } from '../../core/ip/ip-address.ts';
import { ByteReader } from '../wire/byte-reader.ts';
import { ByteWriter } from '../wire/byte-writer.ts';
import { err, ok, type Result } from '../../core/result.ts';
import { AS_TRANS } from './as-path.ts';
import { decodeCapabilities, encodeCapability, type Capability } from './capability.ts';
import { ERROR_CODE, OPEN_ERROR, bgpDecodeError, type BgpDecodeError } from './notification-message.ts';

export const BGP_VERSION = 4;
export const CAPABILITIES_PARAMETER = 2;

export type OptionalParameter =
  | { readonly type: 'capabilities'; readonly capabilities: readonly Capability[] }
  | { readonly type: 'other'; readonly code: number; readonly value: Uint8Array };

export interface OpenMessage {
  readonly type: 'open';
  readonly version: number;
  /** The 2-octet My Autonomous System field: the AS, or AS_TRANS (23456) when it needs 4 octets. */
  readonly myAs: number;
  /** Seconds: 0 (no keepalives) or at least 3. */
  readonly holdTime: number;
  /** The BGP Identifier as an IPv4 address in the single address space (::ffff:a.b.c.d). */
  readonly bgpIdentifier: bigint;
  readonly optionalParameters: readonly OptionalParameter[];
}

export interface OpenOptions {
  /** The speaker's AS, 2- or 4-octet. */
  readonly asn: number;
  readonly holdTime: number;
  readonly bgpIdentifier: bigint;
  /** Capabilities besides 4-octet AS, which is always added (with `asn`). */
  readonly capabilities: readonly Capability[];
}

/**
 * An OPEN for version 4: My AS is `asn` or AS_TRANS, a 4-octet AS capability is added, and each capability goes in
 * its own optional parameter, the layout every implementation reads (RFC 5492 section 4 allows both).
 */
export function openMessage(options: OpenOptions): OpenMessage {
  const capabilities: Capability[] = [
    ...options.capabilities.filter((capability) => capability.type !== 'four-octet-as'),
    { type: 'four-octet-as', asn: options.asn },
  ];
  return {
    type: 'open',
    version: BGP_VERSION,
    myAs: options.asn <= 0xffff ? options.asn : AS_TRANS,
    holdTime: options.holdTime,
    bgpIdentifier: options.bgpIdentifier,
    optionalParameters: capabilities.map((capability) => ({ type: 'capabilities', capabilities: [capability] })),
  };
}

/** Every capability of an OPEN, across its optional parameters, in order. */
export function capabilitiesOf(open: OpenMessage): Capability[] {
  return open.optionalParameters.flatMap((parameter) =>
    parameter.type === 'capabilities' ? [...parameter.capabilities] : [],
  );
}

/** The speaker's AS: the 4-octet AS capability when present (RFC 6793 section 4.1), else My AS. */
export function speakerAsOf(open: OpenMessage): number {
  const capability = capabilitiesOf(open).find((c) => c.type === 'four-octet-as');
  return capability?.type === 'four-octet-as' ? capability.asn : open.myAs;
}

/** "198.51.100.1" for a BGP identifier in the single address space. */
export function formatBgpIdentifier(identifier: bigint): string {
  return familyOf(identifier) === 4 ? formatIp(identifier) : `invalid identifier ${String(identifier)}`;
}

/** The OPEN body. Throws RangeError on fields out of range or parameters over 255 bytes (bugs). */
export function encodeOpenBody(open: OpenMessage): Uint8Array {
  const writer = new ByteWriter()
    .u8(open.version, 'OPEN version')
    .u16(open.myAs, 'OPEN My AS')
    .u16(open.holdTime, 'OPEN hold time')
    .ipv4(open.bgpIdentifier, 'OPEN BGP identifier');
  writer.fork();
  for (const parameter of open.optionalParameters) {
    writer.u8(parameter.type === 'capabilities' ? CAPABILITIES_PARAMETER : parameter.code).fork();
    if (parameter.type === 'capabilities')
      for (const capability of parameter.capabilities) writer.bytes(encodeCapability(capability));
    else writer.bytes(parameter.value);
    writer.join(1, 'OPEN optional parameter');
  }
  return writer.join(1, 'OPEN optional parameters').finish();
}

/**
 * Decodes an OPEN body (the header check guarantees at least 10 bytes). Only the layout is checked here: the
 * optional parameters must fill the body exactly and capabilities must be well formed (else OPEN Message Error,
 * unspecific subcode). Version, AS, hold time and identifier are checked by negotiation (session-negotiation.ts),
 * which sends the specific subcodes of RFC 4271 section 6.2. Never throws.
 */
export function decodeOpenBody(body: Uint8Array): Result<OpenMessage, BgpDecodeError> {
  if (body.length < 10) return err(openError('truncated', `OPEN body of ${body.length} bytes; it needs 10`));
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const parametersLength = view.getUint8(9);
  if (10 + parametersLength !== body.length) {
    return err(
      openError(
        'malformed',
        `OPEN optional parameters length ${parametersLength} does not match the ${body.length - 10} bytes after it`,
      ),
    );
  }
  const optionalParameters: OptionalParameter[] = [];
  let offset = 10;
  while (offset < body.length) {
    if (offset + 2 > body.length)
      return err(openError('malformed', 'OPEN optional parameter header runs past the message'));
    const code = view.getUint8(offset);
    const length = view.getUint8(offset + 1);
    if (offset + 2 + length > body.length)
      return err(openError('malformed', `OPEN optional parameter ${code} of length ${length} runs past the message`));
    const value = body.subarray(offset + 2, offset + 2 + length);
    if (code === CAPABILITIES_PARAMETER) {
      const capabilities = decodeCapabilities(value);
      if (!capabilities.ok) return err(openError('malformed', `OPEN: ${capabilities.error}`));
      optionalParameters.push({ type: 'capabilities', capabilities: capabilities.value });
    } else {
      optionalParameters.push({ type: 'other', code, value: value.slice() });
    }
    offset += 2 + length;
  }
  return ok({
    type: 'open',
    version: view.getUint8(0),
    myAs: view.getUint16(1),
    holdTime: view.getUint16(3),
    bgpIdentifier: new ByteReader(body, 5).ipv4(),
    optionalParameters,
  });
}

function openError(reason: 'truncated' | 'malformed', message: string): BgpDecodeError {
  return bgpDecodeError(reason, message, ERROR_CODE.openMessage, OPEN_ERROR.unspecific);
}
