// Capabilities advertisement (RFC 5492): code, length, value, carried in OPEN optional parameter 2. Decoded:
// multiprotocol (1, RFC 4760 section 8), route refresh (2, RFC 2918), graceful restart (64, RFC 4724 section 3,
// with the RFC 8538 N bit), extended next hop encoding (5, RFC 8950 section 3), 4-octet AS (65, RFC 6793). Any
// other code is kept as raw bytes.
import { err, ok, type Result } from '../../core/result.ts';
import { describeAfiSafi, type AfiSafi } from './address-family.ts';

export interface MultiprotocolCapability {
  readonly type: 'multiprotocol';
  readonly afi: number;
  readonly safi: number;
}

export interface RouteRefreshCapability {
  readonly type: 'route-refresh';
}

export interface FourOctetAsCapability {
  readonly type: 'four-octet-as';
  readonly asn: number;
}

export interface GracefulRestartFamily extends AfiSafi {
  /** F bit: forwarding state for this family was preserved across the restart. */
  readonly forwardingState: boolean;
}

export interface GracefulRestartCapability {
  readonly type: 'graceful-restart';
  /** R bit: the sender has just restarted. */
  readonly restartState: boolean;
  /** N bit (RFC 8538): the sender applies graceful restart to NOTIFICATIONs too. */
  readonly notification: boolean;
  /** Seconds, 0-4095. */
  readonly restartTime: number;
  readonly families: readonly GracefulRestartFamily[];
}

/** One RFC 8950 tuple: NLRI of this AFI/SAFI may carry a next hop of `nextHopAfi`. */
export interface ExtendedNextHopTuple extends AfiSafi {
  readonly nextHopAfi: number;
}

export interface ExtendedNextHopCapability {
  readonly type: 'extended-next-hop';
  readonly tuples: readonly ExtendedNextHopTuple[];
}

export interface OtherCapability {
  readonly type: 'other';
  readonly code: number;
  readonly value: Uint8Array;
}

export type Capability =
  | MultiprotocolCapability
  | RouteRefreshCapability
  | FourOctetAsCapability
  | GracefulRestartCapability
  | ExtendedNextHopCapability
  | OtherCapability;

export const CAPABILITY_CODES = {
  multiprotocol: 1,
  routeRefresh: 2,
  extendedNextHop: 5,
  extendedMessage: 6,
  gracefulRestart: 64,
  fourOctetAs: 65,
  addPath: 69,
  enhancedRouteRefresh: 70,
  longLivedGracefulRestart: 71,
  fqdn: 73,
  routeRefreshCisco: 128,
} as const;

const CAPABILITY_NAMES: Readonly<Record<number, string>> = {
  1: 'multiprotocol',
  2: 'route refresh',
  5: 'extended next hop',
  6: 'extended message',
  9: 'BGP role',
  64: 'graceful restart',
  65: '4-octet AS',
  69: 'ADD-PATH',
  70: 'enhanced route refresh',
  71: 'long-lived graceful restart',
  73: 'FQDN',
  128: 'route refresh (Cisco, pre-standard)',
};

/** The name of a capability code, e.g. "graceful restart"; "capability N" when unknown. */
export function capabilityName(code: number): string {
  return CAPABILITY_NAMES[code] ?? `capability ${code}`;
}

/** The wire code of a capability. */
export function capabilityCode(capability: Capability): number {
  switch (capability.type) {
    case 'multiprotocol':
      return CAPABILITY_CODES.multiprotocol;
    case 'route-refresh':
      return CAPABILITY_CODES.routeRefresh;
    case 'four-octet-as':
      return CAPABILITY_CODES.fourOctetAs;
    case 'graceful-restart':
      return CAPABILITY_CODES.gracefulRestart;
    case 'extended-next-hop':
      return CAPABILITY_CODES.extendedNextHop;
    case 'other':
      return capability.code;
  }
}

/** The value bytes of a capability (without code and length). Throws RangeError on fields out of range (bugs). */
export function encodeCapabilityValue(capability: Capability): Uint8Array {
  switch (capability.type) {
    case 'multiprotocol': {
      checkRange('AFI', capability.afi, 0xffff);
      checkRange('SAFI', capability.safi, 0xff);
      return Uint8Array.of(capability.afi >>> 8, capability.afi & 0xff, 0, capability.safi);
    }
    case 'route-refresh':
      return new Uint8Array(0);
    case 'four-octet-as': {
      checkRange('AS number', capability.asn, 0xffffffff);
      const value = new Uint8Array(4);
      new DataView(value.buffer).setUint32(0, capability.asn);
      return value;
    }
    case 'graceful-restart': {
      checkRange('restart time', capability.restartTime, 0xfff);
      const value = new Uint8Array(2 + 4 * capability.families.length);
      const view = new DataView(value.buffer);
      const flags = (capability.restartState ? 0x8 : 0) | (capability.notification ? 0x4 : 0);
      view.setUint16(0, (flags << 12) | capability.restartTime);
      capability.families.forEach((family, index) => {
        checkRange('AFI', family.afi, 0xffff);
        checkRange('SAFI', family.safi, 0xff);
        view.setUint16(2 + index * 4, family.afi);
        view.setUint8(4 + index * 4, family.safi);
        view.setUint8(5 + index * 4, family.forwardingState ? 0x80 : 0);
      });
      return value;
    }
    case 'extended-next-hop': {
      // RFC 8950 section 3: NLRI AFI (2 bytes), NLRI SAFI (2 bytes), next hop AFI (2 bytes) per tuple.
      const value = new Uint8Array(EXTENDED_NEXT_HOP_TUPLE * capability.tuples.length);
      const view = new DataView(value.buffer);
      capability.tuples.forEach((tuple, index) => {
        checkRange('AFI', tuple.afi, 0xffff);
        checkRange('SAFI', tuple.safi, 0xffff);
        checkRange('next hop AFI', tuple.nextHopAfi, 0xffff);
        view.setUint16(index * EXTENDED_NEXT_HOP_TUPLE, tuple.afi);
        view.setUint16(index * EXTENDED_NEXT_HOP_TUPLE + 2, tuple.safi);
        view.setUint16(index * EXTENDED_NEXT_HOP_TUPLE + 4, tuple.nextHopAfi);
      });
      return value;
    }
    case 'other':
      return capability.value;
  }
}

/** Bytes per RFC 8950 tuple. */
const EXTENDED_NEXT_HOP_TUPLE = 6;

/** Code, length and value of a capability. Throws RangeError on a value longer than 255 bytes (a bug). */
export function encodeCapability(capability: Capability): Uint8Array {
  const value = encodeCapabilityValue(capability);
  if (value.length > 255)
    throw new RangeError(`capability ${capabilityCode(capability)} value of ${value.length} bytes exceeds 255`);
  const bytes = new Uint8Array(2 + value.length);
  bytes[0] = capabilityCode(capability);
  bytes[1] = value.length;
  bytes.set(value, 2);
  return bytes;
}

function checkRange(field: string, value: number, maximum: number): void {
  if (!Number.isInteger(value) || value < 0 || value > maximum)
    throw new RangeError(`capability ${field} ${value} is not 0-${maximum}`);
}

/**
 * The capabilities in the value of one Capabilities optional parameter. The error (a reason) names a capability
 * that runs past the parameter, or a known capability whose length does not fit its definition. Never throws.
 */
export function decodeCapabilities(bytes: Uint8Array): Result<Capability[]> {
  const capabilities: Capability[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 2 > bytes.length) return err(`a capability header needs 2 bytes, ${bytes.length - offset} remain`);
    const code = bytes[offset] ?? 0;
    const length = bytes[offset + 1] ?? 0;
    if (offset + 2 + length > bytes.length) {
      return err(`${capabilityName(code)} capability of length ${length} runs past its parameter`);
    }
    const value = bytes.subarray(offset + 2, offset + 2 + length);
    const capability = decodeCapability(code, value);
    if (!capability.ok) return capability;
    capabilities.push(capability.value);
    offset += 2 + length;
  }
  return ok(capabilities);
}

function decodeCapability(code: number, value: Uint8Array): Result<Capability> {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  switch (code) {
    case CAPABILITY_CODES.multiprotocol:
      if (value.length !== 4) return err(`multiprotocol capability of length ${value.length}; it is 4`);
      return ok({ type: 'multiprotocol', afi: view.getUint16(0), safi: view.getUint8(3) });
    case CAPABILITY_CODES.routeRefresh:
      if (value.length !== 0) return err(`route refresh capability of length ${value.length}; it is 0`);
      return ok({ type: 'route-refresh' });
    case CAPABILITY_CODES.fourOctetAs:
      if (value.length !== 4) return err(`4-octet AS capability of length ${value.length}; it is 4`);
      return ok({ type: 'four-octet-as', asn: view.getUint32(0) });
    case CAPABILITY_CODES.gracefulRestart: {
      if (value.length < 2 || (value.length - 2) % 4 !== 0) {
        return err(`graceful restart capability of length ${value.length}; it is 2 + 4 per address family`);
      }
      const head = view.getUint16(0);
      const families: GracefulRestartFamily[] = [];
      for (let offset = 2; offset < value.length; offset += 4) {
        families.push({
          afi: view.getUint16(offset),
          safi: view.getUint8(offset + 2),
          forwardingState: (view.getUint8(offset + 3) & 0x80) !== 0,
        });
      }
      return ok({
        type: 'graceful-restart',
        restartState: (head & 0x8000) !== 0,
        notification: (head & 0x4000) !== 0,
        restartTime: head & 0xfff,
        families,
      });
    }
    case CAPABILITY_CODES.extendedNextHop: {
      if (value.length % EXTENDED_NEXT_HOP_TUPLE !== 0) {
        return err(`extended next hop capability of length ${value.length}; it is a multiple of 6 (one tuple each)`);
      }
      const tuples: ExtendedNextHopTuple[] = [];
      for (let offset = 0; offset < value.length; offset += EXTENDED_NEXT_HOP_TUPLE) {
        tuples.push({
          afi: view.getUint16(offset),
          safi: view.getUint16(offset + 2),
          nextHopAfi: view.getUint16(offset + 4),
        });
      }
      return ok({ type: 'extended-next-hop', tuples });
    }
    default:
      return ok({ type: 'other', code, value: value.slice() });
  }
}

/** "multiprotocol AFI 2 / SAFI 1 (ipv6-unicast)", "4-octet AS 4200000000", ... for logs. */
export function describeCapability(capability: Capability): string {
  switch (capability.type) {
    case 'multiprotocol':
      return `multiprotocol ${describeAfiSafi(capability.afi, capability.safi)}`;
    case 'route-refresh':
      return 'route refresh';
    case 'four-octet-as':
      return `4-octet AS ${capability.asn}`;
    case 'graceful-restart': {
      const families = capability.families.map(
        (f) => `${describeAfiSafi(f.afi, f.safi)}${f.forwardingState ? ' F' : ''}`,
      );
      const flags = `${capability.restartState ? ' R' : ''}${capability.notification ? ' N' : ''}`;
      return `graceful restart ${capability.restartTime} s${flags}${families.length > 0 ? ` [${families.join(', ')}]` : ''}`;
    }
    case 'extended-next-hop': {
      const tuples = capability.tuples.map((t) => `${describeAfiSafi(t.afi, t.safi)} next hop AFI ${t.nextHopAfi}`);
      return `extended next hop [${tuples.join(', ')}]`;
    }
    case 'other':
      return `${capabilityName(capability.code)} (${capability.value.length} bytes)`;
  }
}
