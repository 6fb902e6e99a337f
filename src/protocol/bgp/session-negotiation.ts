// What a session agrees on when the peer's OPEN arrives (RFC 4271 sections 4.2, 6.2 and 8.2.2 OpenSent): version,
// peer AS, BGP identifier (RFC 6286), hold time (the smaller of the two, 0 or at least 3 s) and keepalive time,
// and from the capabilities (RFC 5492): 4-octet AS (RFC 6793), address families in common (RFC 4760), route
// refresh (RFC 2918), the peer's graceful restart parameters (RFC 4724) and extended next hop (RFC 8950: IPv4
// unicast with an IPv6 next hop). A rejection is the NOTIFICATION to send.
import { err, ok, type Result } from '../../core/result.ts';
import {
  ADDRESS_FAMILIES,
  AFI_IPV4,
  AFI_IPV6,
  SAFI_UNICAST,
  addressFamilyOf,
  afiSafiOf,
  type AddressFamily,
} from './address-family.ts';
import { encodeCapability, type Capability } from './capability.ts';
import { ERROR_CODE, OPEN_ERROR, notification, uint16Data, type NotificationMessage } from './notification-message.ts';
import { BGP_VERSION, capabilitiesOf, formatBgpIdentifier, openMessage, type OpenMessage } from './open-message.ts';
import type { BgpCodecContext } from './path-attribute.ts';
import { concatBytes } from '../wire/byte-writer.ts';

export interface GracefulRestartConfig {
  /** Seconds the peer should keep our routes after the session goes down (0-4095). */
  readonly restartTime: number;
  /** R bit: we have just restarted (set on the first session after a restart). */
  readonly restarting?: boolean;
  /** F bit for every family: our forwarding state survived the restart. */
  readonly forwardingState?: boolean;
  /** N bit (RFC 8538): graceful restart applies to NOTIFICATIONs too. */
  readonly notification?: boolean;
}

/**
 * The AS the peer must announce: a number, or, for a router whose AS is not known in advance (dynamic peers, as
 * MetalLB's dynamicASN), `internal` (our own AS: iBGP) or `external` (any AS but ours: eBGP). The kind of session
 * is known before the OPEN either way, as it must be: eBGP TTL and next-hop rules apply from the first packet.
 */
export type PeerAs = number | 'internal' | 'external';

export interface SessionConfig {
  /** Our AS, 2- or 4-octet. */
  readonly localAs: number;
  readonly peerAs: PeerAs;
  /** Our BGP identifier: an IPv4 address (::ffff:a.b.c.d in the single space), not 0.0.0.0. */
  readonly bgpIdentifier: bigint;
  /** Seconds we offer: 0 (no keepalives, no hold timer) or 3-65535. RFC 4271 suggests 90. */
  readonly holdTime: number;
  /** Seconds between KEEPALIVEs when lower than a third of the negotiated hold time. */
  readonly keepaliveTime?: number;
  /** Seconds between connection attempts (RFC 4271 suggests 120). */
  readonly connectRetryTime: number;
  /** Only accept connections, never connect (RFC 4271 PassiveTcpEstablishment). */
  readonly passive: boolean;
  /** Address families to offer (multiprotocol capabilities). */
  readonly families: readonly AddressFamily[];
  /** Offer route refresh (RFC 2918); default true. */
  readonly routeRefresh?: boolean;
  /** Offer graceful restart (RFC 4724) with these parameters. */
  readonly gracefulRestart?: GracefulRestartConfig;
  /**
   * Offer extended next hop (RFC 8950) for IPv4 unicast with an IPv6 next hop (when ipv4-unicast is offered). The
   * speaker sets it on sessions over IPv6 (ADR 0034).
   */
  readonly extendedNextHop?: boolean;
  /**
   * Seconds to wait in Idle before starting again after an error (RFC 4271 IdleHoldTime with
   * DampPeerOscillations: doubled for each consecutive failure, at most 120 s or this value if larger).
   * Without it a session stays Idle after an error until ManualStart or AutomaticStart.
   */
  readonly idleHoldTime?: number;
}

export interface PeerGracefulRestart {
  /** Seconds the peer asks us to keep its routes. */
  readonly restartTime: number;
  /** R bit: the peer has just restarted. */
  readonly restartState: boolean;
  /** Both sides set the N bit (RFC 8538). */
  readonly notification: boolean;
  /** Families in common the peer keeps graceful restart state for, with its F bit. */
  readonly families: readonly { readonly family: AddressFamily; readonly forwardingState: boolean }[];
}

export interface NegotiatedSession {
  readonly peerAs: number;
  readonly peerBgpIdentifier: bigint;
  /** eBGP (peer AS differs from ours). */
  readonly external: boolean;
  /** Seconds; 0 means no keepalives and no hold timer. */
  readonly holdTime: number;
  /** Milliseconds between our KEEPALIVEs; 0 when holdTime is 0. */
  readonly keepaliveTimeMs: number;
  readonly fourOctetAs: boolean;
  /** Families both sides offered. */
  readonly families: readonly AddressFamily[];
  readonly routeRefresh: boolean;
  /** Present when both sides offered graceful restart: the peer's parameters. */
  readonly gracefulRestart?: PeerGracefulRestart;
  /**
   * Both sides offered extended next hop for IPv4 unicast with an IPv6 next hop (RFC 8950) and IPv4 unicast is in
   * common: IPv4 routes may go in MP_REACH_NLRI with an IPv6 next hop.
   */
  readonly extendedNextHop: boolean;
  readonly peerCapabilities: readonly Capability[];
  /** How to encode and decode UPDATEs on this session. */
  readonly codec: BgpCodecContext;
}

export interface OpenRejection {
  readonly notification: NotificationMessage;
  /** Reads well in a log line or an Event. */
  readonly reason: string;
}

/** Whether the session is eBGP: the configured peer AS differs from ours, or the peer is dynamic `external`. */
export function isExternalSession(config: Pick<SessionConfig, 'localAs' | 'peerAs'>): boolean {
  return typeof config.peerAs === 'number' ? config.peerAs !== config.localAs : config.peerAs === 'external';
}

/** Why the AS a peer announced is not acceptable (RFC 4271 section 6.2 Bad Peer AS), or undefined. */
function peerAsProblem(config: SessionConfig, announced: number): string | undefined {
  if (config.peerAs === 'internal') {
    return announced === config.localAs
      ? undefined
      : `peer announced AS ${announced}; an internal peer must announce our AS ${config.localAs}`;
  }
  if (config.peerAs === 'external') {
    return announced !== config.localAs
      ? undefined
      : `peer announced our own AS ${announced}; an external peer must announce another AS`;
  }
  return announced === config.peerAs ? undefined : `peer announced AS ${announced}, configured AS ${config.peerAs}`;
}

/** RFC 4271 section 8.2.2: the hold timer while waiting for the peer's OPEN ("a large value", 4 minutes). */
export const OPEN_HOLD_TIME_MS = 240_000;

/** Problems with a configuration, as sentences; empty when it can be used. */
export function sessionConfigProblems(config: SessionConfig): string[] {
  const problems: string[] = [];
  const asn = (value: number): boolean => Number.isInteger(value) && value >= 1 && value <= 0xffffffff;
  if (!asn(config.localAs)) problems.push(`local AS ${config.localAs} is not 1-4294967295`);
  if (typeof config.peerAs === 'number' && !asn(config.peerAs))
    problems.push(`peer AS ${config.peerAs} is not 1-4294967295`);
  const identifier = config.bgpIdentifier - 0xffff00000000n;
  if (identifier <= 0n || identifier > 0xffffffffn) problems.push('the BGP identifier must be a non-zero IPv4 address');
  if (
    !Number.isInteger(config.holdTime) ||
    config.holdTime < 0 ||
    config.holdTime > 0xffff ||
    config.holdTime === 1 ||
    config.holdTime === 2
  ) {
    problems.push(`hold time ${config.holdTime} is not 0 or 3-65535 seconds`);
  }
  if (config.keepaliveTime !== undefined && !(config.keepaliveTime > 0))
    problems.push(`keepalive time ${config.keepaliveTime} is not positive`);
  if (!(config.connectRetryTime > 0)) problems.push(`connect retry time ${config.connectRetryTime} is not positive`);
  if (config.families.length === 0) problems.push('no address family to offer');
  if (config.gracefulRestart !== undefined) {
    const time = config.gracefulRestart.restartTime;
    if (!Number.isInteger(time) || time < 0 || time > 0xfff)
      problems.push(`graceful restart time ${time} is not 0-4095 seconds`);
  }
  if (config.idleHoldTime !== undefined && !(config.idleHoldTime >= 0))
    problems.push(`idle hold time ${config.idleHoldTime} is negative`);
  return problems;
}

/** The capabilities we offer. */
export function localCapabilities(config: SessionConfig): Capability[] {
  const families = ADDRESS_FAMILIES.filter((family) => config.families.includes(family));
  const capabilities: Capability[] = families.map((family) => ({ type: 'multiprotocol', ...afiSafiOf(family) }));
  if (config.routeRefresh !== false) capabilities.push({ type: 'route-refresh' });
  if (offersExtendedNextHop(config)) capabilities.push({ type: 'extended-next-hop', tuples: [IPV4_OVER_IPV6] });
  if (config.gracefulRestart !== undefined) {
    const restart = config.gracefulRestart;
    capabilities.push({
      type: 'graceful-restart',
      restartState: restart.restarting === true,
      notification: restart.notification === true,
      restartTime: restart.restartTime,
      families: families.map((family) => ({ ...afiSafiOf(family), forwardingState: restart.forwardingState === true })),
    });
  }
  return capabilities;
}

/** The one RFC 8950 tuple we use: IPv4 unicast NLRI with an IPv6 next hop. */
const IPV4_OVER_IPV6 = { afi: AFI_IPV4, safi: SAFI_UNICAST, nextHopAfi: AFI_IPV6 } as const;

function offersExtendedNextHop(config: Pick<SessionConfig, 'extendedNextHop' | 'families'>): boolean {
  return config.extendedNextHop === true && config.families.includes('ipv4-unicast');
}

/** The OPEN we send (with the 4-octet AS capability; My AS is AS_TRANS when our AS needs 4 octets). */
export function localOpen(config: SessionConfig): OpenMessage {
  return openMessage({
    asn: config.localAs,
    holdTime: config.holdTime,
    bgpIdentifier: config.bgpIdentifier,
    capabilities: localCapabilities(config),
  });
}

/**
 * Checks the peer's OPEN against our configuration (RFC 4271 section 6.2) and works out what the session uses.
 * Rejections: Unsupported Version Number (data: 4), Unsupported Optional Parameter, Bad Peer AS, Bad BGP Identifier
 * (zero, or ours on an internal session: RFC 6286 section 2.2), Unacceptable Hold Time (1 or 2 s), and
 * Unsupported Capability when no address family is in common (data: our multiprotocol capabilities).
 * Long (~95 lines): the OPEN checks of RFC 4271 section 6.2 and the capabilities, in the order the RFCs give them.
 */
export function negotiateSession(config: SessionConfig, open: OpenMessage): Result<NegotiatedSession, OpenRejection> {
  const reject = (subcode: number, reason: string, data?: Uint8Array): Result<NegotiatedSession, OpenRejection> =>
    err({ notification: notification(ERROR_CODE.openMessage, subcode, data), reason: `OPEN rejected: ${reason}` });

  if (open.version !== BGP_VERSION) {
    return reject(
      OPEN_ERROR.unsupportedVersionNumber,
      `BGP version ${open.version}; only version 4 is supported`,
      uint16Data(BGP_VERSION),
    );
  }
  const unknownParameter = open.optionalParameters.find((parameter) => parameter.type === 'other');
  if (unknownParameter?.type === 'other') {
    return reject(
      OPEN_ERROR.unsupportedOptionalParameter,
      `optional parameter ${unknownParameter.code} is not supported`,
    );
  }
  const capabilities = capabilitiesOf(open);
  const fourOctet = capabilities.find((capability) => capability.type === 'four-octet-as');
  const peerAs = fourOctet?.type === 'four-octet-as' ? fourOctet.asn : open.myAs;
  const problem = peerAsProblem(config, peerAs);
  if (problem !== undefined) return reject(OPEN_ERROR.badPeerAs, problem);
  const external = isExternalSession(config);
  if (open.bgpIdentifier === 0xffff00000000n) return reject(OPEN_ERROR.badBgpIdentifier, 'BGP identifier 0.0.0.0');
  if (!external && open.bgpIdentifier === config.bgpIdentifier) {
    return reject(
      OPEN_ERROR.badBgpIdentifier,
      `internal peer uses our own BGP identifier ${formatBgpIdentifier(open.bgpIdentifier)}`,
    );
  }
  if (open.holdTime === 1 || open.holdTime === 2) {
    return reject(OPEN_ERROR.unacceptableHoldTime, `hold time ${open.holdTime} s; it must be 0 or at least 3 s`);
  }

  const peerFamilies = new Set<AddressFamily>();
  let multiprotocol = false;
  for (const capability of capabilities) {
    if (capability.type !== 'multiprotocol') continue;
    multiprotocol = true;
    const family = addressFamilyOf(capability.afi, capability.safi);
    if (family !== undefined) peerFamilies.add(family);
  }
  if (!multiprotocol) peerFamilies.add('ipv4-unicast'); // RFC 4760 section 8: a speaker without the capability does IPv4 unicast
  const families = ADDRESS_FAMILIES.filter((family) => config.families.includes(family) && peerFamilies.has(family));
  if (families.length === 0) {
    const ours = localCapabilities(config).filter((capability) => capability.type === 'multiprotocol');
    const data = concatBytes(ours.map((capability) => encodeCapability(capability)));
    return reject(
      OPEN_ERROR.unsupportedCapability,
      `no address family in common (we offer ${config.families.join(', ')}; the peer ${[...peerFamilies].join(', ') || 'none we know'})`,
      data,
    );
  }

  const holdTime = Math.min(config.holdTime, open.holdTime);
  const third = Math.floor((holdTime * 1000) / 3);
  const configured = config.keepaliveTime === undefined ? undefined : Math.round(config.keepaliveTime * 1000);
  const keepaliveTimeMs =
    holdTime === 0 ? 0 : configured !== undefined && configured > 0 && configured < third ? configured : third;
  const fourOctetAs = fourOctet !== undefined;
  const routeRefresh =
    config.routeRefresh !== false && capabilities.some((capability) => capability.type === 'route-refresh');
  const peerRestart = capabilities.find((capability) => capability.type === 'graceful-restart');
  const extendedNextHop =
    offersExtendedNextHop(config) &&
    families.includes('ipv4-unicast') &&
    capabilities.some(
      (capability) =>
        capability.type === 'extended-next-hop' &&
        capability.tuples.some(
          (t) =>
            t.afi === IPV4_OVER_IPV6.afi &&
            t.safi === IPV4_OVER_IPV6.safi &&
            t.nextHopAfi === IPV4_OVER_IPV6.nextHopAfi,
        ),
    );
  const negotiated: NegotiatedSession = {
    peerAs,
    peerBgpIdentifier: open.bgpIdentifier,
    external,
    holdTime,
    keepaliveTimeMs,
    fourOctetAs,
    families,
    routeRefresh,
    extendedNextHop,
    peerCapabilities: capabilities,
    codec: { fourOctetAs, external },
  };
  if (config.gracefulRestart === undefined || peerRestart?.type !== 'graceful-restart') return ok(negotiated);
  const restartFamilies = peerRestart.families.flatMap((entry) => {
    const family = addressFamilyOf(entry.afi, entry.safi);
    return family !== undefined && families.includes(family)
      ? [{ family, forwardingState: entry.forwardingState }]
      : [];
  });
  return ok({
    ...negotiated,
    gracefulRestart: {
      restartTime: peerRestart.restartTime,
      restartState: peerRestart.restartState,
      notification: peerRestart.notification && config.gracefulRestart.notification === true,
      families: restartFamilies,
    },
  });
}
