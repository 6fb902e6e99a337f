// fast-check arbitraries for BGP messages in canonical form (what the decoder gives back for what the encoder
// writes), and helpers to pick captured messages, for the tests of src/protocol/bgp.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IPV4_MAPPED_BASE } from '../../core/ip/ip-address.ts';
import type { AddressFamily } from '../bgp/address-family.ts';
import type { AsPathSegment, AsPathSegmentType } from '../bgp/as-path.ts';
import { decodeBgpMessage, type BgpMessage } from '../bgp/bgp-message.ts';
import type { Capability } from '../bgp/capability.ts';
import type { BgpPrefix } from '../bgp/nlri-prefix.ts';
import type { BgpDecodeError, NotificationMessage } from '../bgp/notification-message.ts';
import type { Result } from '../../core/result.ts';
import type { OpenMessage, OptionalParameter } from '../bgp/open-message.ts';
import type { BgpCodecContext, PathAttribute } from '../bgp/path-attribute.ts';
import type { RouteRefreshMessage } from '../bgp/route-refresh-message.ts';
import { encodeUpdateMessage, type UpdateMessage } from '../bgp/update-message.ts';
import type { CapturedBgpMessage } from './bgp-captures.ts';
import { fromHex } from './hex-bytes.ts';

/** fc.record with ordinary objects (fast-check 4 makes null-prototype ones, which deepEqual tells apart). */
function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true });
}

export const uint32 = fc.nat({ max: 0xffffffff });
export const ipv4Address = uint32.map((value) => IPV4_MAPPED_BASE + BigInt(value));
/** An IPv4 unicast host address as NEXT_HOP accepts it: not 0.0.0.0, 127/8, multicast or class E. */
export const unicastIpv4 = fc
  .tuple(
    fc.integer({ min: 1, max: 223 }).filter((first) => first !== 127),
    fc.nat({ max: 0xffffff }),
  )
  .map(([first, rest]) => IPV4_MAPPED_BASE + BigInt(first * 0x1000000 + rest));
export const ipv6Address = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
/** An IPv6 next hop for IPv4 NLRI (RFC 8950): outside ::ffff:0:0/96, which the single address space reads as IPv4. */
const ipv6NextHop = ipv6Address.filter((address) => address >> 32n !== 0xffffn);

export const ipv4Prefix: fc.Arbitrary<BgpPrefix> = fc
  .tuple(uint32, fc.integer({ min: 0, max: 32 }))
  .map(([value, length]) => {
    const mask = length === 0 ? 0 : (0xffffffff << (32 - length)) >>> 0;
    return { family: 4, address: IPV4_MAPPED_BASE + BigInt((value & mask) >>> 0), length };
  });

export const ipv6Prefix: fc.Arbitrary<BgpPrefix> = fc
  .tuple(ipv6Address, fc.integer({ min: 0, max: 128 }))
  .map(([value, length]) => {
    const hostBits = (1n << BigInt(128 - length)) - 1n;
    return { family: 6, address: value & ~hostBits, length };
  });

export const prefixOfFamily = (family: AddressFamily): fc.Arbitrary<BgpPrefix> =>
  family === 'ipv4-unicast' ? ipv4Prefix : ipv6Prefix;

const segmentType = (confederation: boolean): fc.Arbitrary<AsPathSegmentType> =>
  confederation
    ? fc.constantFrom('set', 'sequence', 'confed-sequence', 'confed-set')
    : fc.constantFrom('set', 'sequence');

export const asPathSegments = (
  fourOctet: boolean,
  confederation: boolean,
  maxSegments = 5,
): fc.Arbitrary<AsPathSegment[]> =>
  fc.array(
    record({
      type: segmentType(confederation),
      asns: fc.array(fourOctet ? uint32 : fc.nat({ max: 0xffff }), { minLength: 1, maxLength: 12 }),
    }),
    { maxLength: maxSegments },
  );

/** Flags kept from the wire (partial, and extended length on values that fit one byte). */
const keptFlags = (mayBeExtended: boolean): fc.Arbitrary<{ partial?: true; extendedLength?: true }> =>
  record({ partial: fc.boolean(), extendedLength: fc.boolean() }).map(({ partial, extendedLength }) => ({
    ...(partial ? { partial: true as const } : {}),
    ...(extendedLength && mayBeExtended ? { extendedLength: true as const } : {}),
  }));

const withFlags = <T extends object>(value: fc.Arbitrary<T>, mayBeExtended: boolean): fc.Arbitrary<PathAttribute> =>
  fc
    .tuple(value, keptFlags(mayBeExtended))
    .map(([fields, flags]) => ({ ...fields, ...flags }) as unknown as PathAttribute);

const KNOWN_CODES = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 25, 32]);

const otherAttribute: fc.Arbitrary<PathAttribute> = fc
  .tuple(
    fc.integer({ min: 0, max: 255 }).filter((code) => !KNOWN_CODES.has(code)),
    fc.boolean(),
    fc.boolean(),
    fc.uint8Array({ maxLength: 300 }),
    fc.boolean(),
  )
  .map(([code, transitive, partial, value, extended]) => ({
    type: 'other' as const,
    code,
    flags: 0x80 | (transitive ? 0x40 : 0) | (partial ? 0x20 : 0) | (extended || value.length > 255 ? 0x10 : 0),
    value,
  }));

/** Path attributes of one UPDATE: each type at most once, in random order, all well formed for `context`. */
export const pathAttributes = (context: BgpCodecContext): fc.Arbitrary<PathAttribute[]> => {
  const family = fc.constantFrom<AddressFamily>('ipv4-unicast', 'ipv6-unicast');
  const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });
  return record({
    origin: optional(
      withFlags(record({ type: fc.constant('origin'), origin: fc.constantFrom('igp', 'egp', 'incomplete') }), true),
    ),
    asPath: optional(
      withFlags(
        record({
          type: fc.constant('as-path'),
          segments: asPathSegments(context.fourOctetAs, context.external !== true),
        }),
        false,
      ),
    ),
    nextHop: optional(withFlags(record({ type: fc.constant('next-hop'), nextHop: unicastIpv4 }), true)),
    med: optional(withFlags(record({ type: fc.constant('multi-exit-disc'), med: uint32 }), true)),
    localPref:
      context.external === true
        ? fc.constant(undefined)
        : optional(withFlags(record({ type: fc.constant('local-pref'), localPref: uint32 }), true)),
    atomic: optional(withFlags(record({ type: fc.constant('atomic-aggregate') }), true)),
    aggregator: optional(
      withFlags(
        record({
          type: fc.constant('aggregator'),
          asn: context.fourOctetAs ? uint32 : fc.nat({ max: 0xffff }),
          address: ipv4Address,
        }),
        true,
      ),
    ),
    communities: optional(
      withFlags(
        record({ type: fc.constant('communities'), communities: fc.array(uint32, { minLength: 1, maxLength: 20 }) }),
        false,
      ),
    ),
    large: optional(
      withFlags(
        record({
          type: fc.constant('large-communities'),
          largeCommunities: fc.array(record({ globalAdmin: uint32, localData1: uint32, localData2: uint32 }), {
            minLength: 1,
            maxLength: 8,
          }),
        }),
        false,
      ),
    ),
    mpReach: optional(
      family.chain((f) =>
        withFlags<object>(
          f === 'ipv4-unicast'
            ? fc.oneof(
                record({
                  type: fc.constant('mp-reach-nlri'),
                  family: fc.constant(f),
                  nextHop: ipv4Address,
                  nlri: fc.array(ipv4Prefix, { maxLength: 30 }),
                }),
                // RFC 8950: an IPv6 next hop (16 bytes, or 32 with the link-local one) for IPv4 NLRI.
                record({
                  type: fc.constant('mp-reach-nlri'),
                  family: fc.constant(f),
                  nextHop: ipv6NextHop,
                  nlri: fc.array(ipv4Prefix, { maxLength: 30 }),
                }),
                record({
                  type: fc.constant('mp-reach-nlri'),
                  family: fc.constant(f),
                  nextHop: ipv6NextHop,
                  linkLocalNextHop: ipv6NextHop,
                  nlri: fc.array(ipv4Prefix, { maxLength: 30 }),
                }),
              )
            : fc.oneof(
                record({
                  type: fc.constant('mp-reach-nlri'),
                  family: fc.constant(f),
                  nextHop: ipv6Address,
                  nlri: fc.array(ipv6Prefix, { maxLength: 30 }),
                }),
                record({
                  type: fc.constant('mp-reach-nlri'),
                  family: fc.constant(f),
                  nextHop: ipv6Address,
                  linkLocalNextHop: ipv6Address,
                  nlri: fc.array(ipv6Prefix, { maxLength: 30 }),
                }),
              ),
          false,
        ),
      ),
    ),
    mpUnreach: optional(
      family.chain((f) =>
        withFlags(
          record({
            type: fc.constant('mp-unreach-nlri'),
            family: fc.constant(f),
            withdrawnRoutes: fc.array(prefixOfFamily(f), { maxLength: 30 }),
          }),
          false,
        ),
      ),
    ),
    as4: context.fourOctetAs
      ? fc.constant(undefined)
      : optional(withFlags(record({ type: fc.constant('as4-path'), segments: asPathSegments(true, false) }), false)),
    as4Aggregator: context.fourOctetAs
      ? fc.constant(undefined)
      : optional(withFlags(record({ type: fc.constant('as4-aggregator'), asn: uint32, address: ipv4Address }), true)),
    others: fc.uniqueArray(otherAttribute, {
      maxLength: 3,
      selector: (attribute) => (attribute.type === 'other' ? attribute.code : -1),
    }),
  }).chain((parts) => {
    const { others, ...known } = parts;
    const list = [...Object.values(known).filter((value): value is PathAttribute => value !== undefined), ...others];
    return fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length });
  });
};

/** Whether an UPDATE fits the 4096-byte limit (the encoder throws RangeError otherwise). */
function fits(update: UpdateMessage, context: BgpCodecContext): boolean {
  try {
    encodeUpdateMessage(update, context);
    return true;
  } catch (error) {
    if (error instanceof RangeError) return false;
    throw error;
  }
}

export const updateMessage = (context: BgpCodecContext): fc.Arbitrary<UpdateMessage> =>
  record({
    withdrawnRoutes: fc.array(ipv4Prefix, { maxLength: 40 }),
    pathAttributes: pathAttributes(context),
    nlri: fc.array(ipv4Prefix, { maxLength: 40 }),
  })
    .map((fields) => ({ type: 'update' as const, ...fields }))
    .filter((update) => fits(update, context));

export const capability: fc.Arbitrary<Capability> = fc.oneof(
  record({ type: fc.constant('multiprotocol' as const), afi: fc.nat({ max: 0xffff }), safi: fc.nat({ max: 0xff }) }),
  fc.constant({ type: 'route-refresh' as const }),
  record({ type: fc.constant('four-octet-as' as const), asn: uint32 }),
  record({
    type: fc.constant('graceful-restart' as const),
    restartState: fc.boolean(),
    notification: fc.boolean(),
    restartTime: fc.nat({ max: 0xfff }),
    families: fc.array(
      record({ afi: fc.nat({ max: 0xffff }), safi: fc.nat({ max: 0xff }), forwardingState: fc.boolean() }),
      { maxLength: 4 },
    ),
  }),
  record({
    type: fc.constant('extended-next-hop' as const),
    tuples: fc.array(
      record({ afi: fc.nat({ max: 0xffff }), safi: fc.nat({ max: 0xffff }), nextHopAfi: fc.nat({ max: 0xffff }) }),
      { maxLength: 3 },
    ),
  }),
  record({
    type: fc.constant('other' as const),
    code: fc.integer({ min: 0, max: 255 }).filter((code) => ![1, 2, 5, 64, 65].includes(code)),
    value: fc.uint8Array({ maxLength: 12 }),
  }),
);

const optionalParameter: fc.Arbitrary<OptionalParameter> = fc.oneof(
  {
    weight: 4,
    arbitrary: record({
      type: fc.constant('capabilities' as const),
      capabilities: fc.array(capability, { maxLength: 4 }),
    }),
  },
  {
    weight: 1,
    arbitrary: record({
      type: fc.constant('other' as const),
      code: fc.integer({ min: 0, max: 255 }).filter((code) => code !== 2),
      value: fc.uint8Array({ maxLength: 8 }),
    }),
  },
);

export const openMessage: fc.Arbitrary<OpenMessage> = record({
  type: fc.constant('open' as const),
  version: fc.nat({ max: 255 }),
  myAs: fc.nat({ max: 0xffff }),
  holdTime: fc.nat({ max: 0xffff }),
  bgpIdentifier: ipv4Address,
  optionalParameters: fc.array(optionalParameter, { maxLength: 6 }),
}).filter((open) => {
  // Each parameter at most 255 bytes, all of them at most 255: estimate generously from the generator's sizes.
  let total = 0;
  for (const parameter of open.optionalParameters) {
    const size =
      parameter.type === 'other'
        ? parameter.value.length
        : parameter.capabilities.reduce((sum, c) => sum + 2 + capabilitySize(c), 0);
    if (size > 255) return false;
    total += 2 + size;
  }
  return total <= 255;
});

function capabilitySize(capability: Capability): number {
  switch (capability.type) {
    case 'multiprotocol':
    case 'four-octet-as':
      return 4;
    case 'route-refresh':
      return 0;
    case 'graceful-restart':
      return 2 + 4 * capability.families.length;
    case 'extended-next-hop':
      return 6 * capability.tuples.length;
    case 'other':
      return capability.value.length;
  }
}

export const notificationMessage: fc.Arbitrary<NotificationMessage> = record({
  type: fc.constant('notification' as const),
  code: fc.nat({ max: 255 }),
  subcode: fc.nat({ max: 255 }),
  data: fc.uint8Array({ maxLength: 64 }),
});

export const routeRefreshMessage: fc.Arbitrary<RouteRefreshMessage> = record({
  type: fc.constant('route-refresh' as const),
  afi: fc.nat({ max: 0xffff }),
  safi: fc.nat({ max: 255 }),
  subtype: fc.nat({ max: 255 }),
});

export const bgpMessage = (context: BgpCodecContext): fc.Arbitrary<BgpMessage> =>
  fc.oneof(
    openMessage,
    updateMessage(context),
    notificationMessage,
    fc.constant({ type: 'keepalive' as const }),
    routeRefreshMessage,
  );

export const codecContext: fc.Arbitrary<BgpCodecContext> = record({
  fourOctetAs: fc.boolean(),
  external: fc.boolean(),
}).map(({ fourOctetAs, external }) => (external ? { fourOctetAs, external } : { fourOctetAs }));

// ---------------------------------------------------------------------------------------------------------------
// Captured messages

/** The bytes of every captured message in a list. */
export function capturedBytes(list: readonly CapturedBgpMessage[]): Uint8Array[] {
  return list.map((entry) => fromHex(entry.hex));
}

/** The captured messages of one type (decoded ok with `context`), with the step that provoked each. */
export function capturedOfType<T extends BgpMessage['type']>(
  list: readonly CapturedBgpMessage[],
  type: T,
  context: BgpCodecContext,
): { step: string; session: number; bytes: Uint8Array; message: Extract<BgpMessage, { type: T }> }[] {
  const found: { step: string; session: number; bytes: Uint8Array; message: Extract<BgpMessage, { type: T }> }[] = [];
  for (const entry of list) {
    const bytes = fromHex(entry.hex);
    const outcome = decodeBgpMessage(bytes, context);
    if (outcome.kind === 'session-reset') continue;
    if (outcome.message.type === type)
      found.push({
        step: entry.step,
        session: entry.session,
        bytes,
        message: outcome.message as Extract<BgpMessage, { type: T }>,
      });
  }
  return found;
}

/** The single captured message of a type whose step matches, failing the test when there is not exactly one. */
export function theCaptured<T extends BgpMessage['type']>(
  list: readonly CapturedBgpMessage[],
  type: T,
  context: BgpCodecContext,
  where: (entry: { step: string; session: number; message: Extract<BgpMessage, { type: T }> }) => boolean,
): { bytes: Uint8Array; message: Extract<BgpMessage, { type: T }> } {
  const matches = capturedOfType(list, type, context).filter(where);
  assert.equal(matches.length, 1, `expected one captured ${type}, found ${matches.length}`);
  const [match] = matches;
  if (match === undefined) assert.fail('unreachable');
  return match;
}

/** The error of a failed BGP decode (with its NOTIFICATION), failing the test when it succeeded. */
export function bgpErrorOf<T>(result: Result<T, BgpDecodeError>): BgpDecodeError {
  if (result.ok) assert.fail('decoded, but an error was expected');
  return result.error;
}
