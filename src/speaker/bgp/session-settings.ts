// From a BGPPeer (and the node's addresses and the password Secret) to what one session needs: the FSM's
// SessionConfig and the transport options. Problems come back as sentences for a log line and an Event; a
// session is not started with settings that cannot work (no BGP identifier, a missing password).
import { createHash } from 'node:crypto';
import type { BGPPeer } from '../../core/config/api-types.generated.ts';
import { parseDuration } from '../../core/duration.ts';
import { err, ok, type Result } from '../../core/result.ts';
import { familyOf, formatIp, parseIp, type IpFamily } from '../../core/ip/ip-address.ts';
import type { InterfaceTable } from '../../platform/network-interfaces.ts';
import type { AddressFamily } from '../../protocol/bgp/address-family.ts';
import { isExternalSession, type SessionConfig } from '../../protocol/bgp/session-negotiation.ts';
import type { BfdPath, BfdSettings } from '../bfd/bfd-sessions.ts';
import { interfaceMatches, isInterfacePattern } from '../../core/config/interface-pattern.ts';

export const DEFAULT_BGP_PORT = 179;
export const DEFAULT_HOLD_TIME = '90s';
/** As the CRD's default (the API server fills it in; this covers objects read without defaulting). */
export const DEFAULT_CONNECT_TIME = '10s';
export const DEFAULT_RESTART_TIME = '120s';
/** As the CRD's defaults (MetalLB's BFDProfile defaults too). */
export const DEFAULT_BFD_INTERVAL = '300ms';
export const DEFAULT_BFD_MULTIPLIER = 3;
/** First wait after a session error; doubles per consecutive failure up to 120 s (RFC 4271 DampPeerOscillations). */
export const IDLE_HOLD_SECONDS = 1;

export interface SessionSettings {
  readonly config: SessionConfig;
  readonly peerAddress: string;
  readonly port: number;
  readonly sourceAddress?: string;
  /** The interface of a link-local peer (its scope), spec.interface resolved on this node: the connection goes to peerAddress%interface. */
  readonly interface?: string;
  readonly ttl?: number;
  readonly md5Key?: Uint8Array;
  /** Equal identities: the running session can stay (the password enters only as a hash; BFD does not enter). */
  readonly identity: string;
  /** spec.bfd: the BFD session to track, on the interface whose subnet holds the peer. */
  readonly bfd?: { readonly path: BfdPath; readonly settings: BfdSettings; readonly key: string };
}

export interface SettingsContext {
  readonly interfaces: InterfaceTable;
  /** The password from the peer's Secret; undefined: no Secret or no such key. */
  readonly password: (name: string, key: string) => string | undefined;
  /** Set the graceful restart R bit (the speaker process has just started). */
  readonly restarting: boolean;
  /**
   * An unnumbered peer (interface, no peerAddress): the router's link-local address found on the interface by its
   * Router Advertisements (router-discovery.ts); undefined while none is known.
   */
  readonly discoveredPeer?: string;
}

function seconds(text: string | undefined, fallback: string, field: string): Result<number> {
  const ms = parseDuration(text ?? fallback);
  if (!ms.ok) return err(`${field}: ${ms.error}`);
  return ok(ms.value / 1000);
}

/** Global unicast addresses of the node (no loopback, link-local or IPv4-mapped), per family. */
export function nodeAddresses(table: InterfaceTable, family: IpFamily): bigint[] {
  const result: bigint[] = [];
  for (const iface of table.interfaces) {
    if (iface.name === 'lo') continue;
    for (const a of iface.addresses) {
      if (a.family !== family) continue;
      if (family === 6 && isLinkLocal(a.address)) continue;
      result.push(a.address);
    }
  }
  return result;
}

// Long (~130 lines): a BGPPeer's spec read field by field into session settings, each field with its check, in one place.
export function sessionSettings(peer: BGPPeer, context: SettingsContext): Result<SessionSettings> {
  const spec = peer.spec;
  const unnumbered = spec.peerAddress === undefined;
  if (unnumbered && spec.interface === undefined) return err('set peerAddress, or interface for unnumbered peering');
  if (unnumbered && spec.sourceAddress !== undefined)
    return err(
      "sourceAddress needs peerAddress: an unnumbered peer is reached from the interface's link-local address",
    );
  const address = spec.peerAddress ?? context.discoveredPeer;
  if (address === undefined) return err(`no router found on interface ${spec.interface ?? ''} yet`);
  const peerIp = parseIp(address);
  if (!peerIp.ok) return err(`peerAddress: ${peerIp.error}`);
  const peerFamily = familyOf(peerIp.value);
  const linkLocal = isLinkLocal(peerIp.value);
  if (linkLocal !== (spec.interface !== undefined)) {
    return err(
      linkLocal
        ? `peerAddress ${address} is link-local: set interface`
        : 'interface is only for a link-local peerAddress',
    );
  }
  const sessionInterface =
    spec.interface === undefined ? undefined : resolveInterface(spec.interface, context.interfaces);
  if (sessionInterface !== undefined && !sessionInterface.ok) return sessionInterface;
  let sourceAddress = spec.sourceAddress;
  if (spec.sourceInterface !== undefined) {
    const source = sourceOfInterface(spec.sourceInterface, peerFamily, context.interfaces);
    if (!source.ok) return source;
    sourceAddress = source.value;
  }
  const hold = seconds(spec.holdTime, DEFAULT_HOLD_TIME, 'holdTime');
  if (!hold.ok) return hold;
  if (hold.value !== 0 && (hold.value < 3 || hold.value > 65535)) return err('holdTime must be 0 or 3s to 65535s');
  const keepalive = spec.keepaliveTime === undefined ? undefined : seconds(spec.keepaliveTime, '', 'keepaliveTime');
  if (keepalive && !keepalive.ok) return keepalive;
  const connect = seconds(spec.connectTime, DEFAULT_CONNECT_TIME, 'connectTime');
  if (!connect.ok) return connect;
  const restart = seconds(spec.gracefulRestart?.restartTime, DEFAULT_RESTART_TIME, 'gracefulRestart.restartTime');
  if (!restart.ok) return restart;
  if (restart.value > 4095) return err('gracefulRestart.restartTime must be at most 4095s');

  const v4 = nodeAddresses(context.interfaces, 4);
  const v6 = nodeAddresses(context.interfaces, 6);
  const routerId = spec.routerID === undefined ? undefined : ipv4Of(spec.routerID);
  if (spec.routerID !== undefined && routerId === undefined)
    return err(`routerID ${JSON.stringify(spec.routerID)} is not an IPv4 address`);
  const identifier = routerId ?? (sourceAddress === undefined ? undefined : ipv4Of(sourceAddress)) ?? v4[0];
  if (identifier === undefined) return err('the node has no IPv4 address to use as BGP identifier: set routerID');

  // IPv4 unicast always: over IPv4 it is the session's own family, over IPv6 IPv4 routes can go with IPv6 next hops
  // (extended next hop, RFC 8950; ADR 0034), even from a node without IPv4, and over unnumbered sessions.
  const families: AddressFamily[] =
    spec.addressFamilies !== undefined
      ? [...spec.addressFamilies]
      : (['ipv4-unicast', ...(peerFamily === 6 || v6.length > 0 ? ['ipv6-unicast'] : [])] as AddressFamily[]);

  let md5Key: Uint8Array | undefined;
  let passwordHash = '';
  if (spec.passwordSecretRef !== undefined) {
    const key = spec.passwordSecretRef.key ?? 'password';
    const password = context.password(spec.passwordSecretRef.name, key);
    if (password === undefined)
      return err(`the password Secret ${spec.passwordSecretRef.name} (key ${key}) is missing`);
    md5Key = new TextEncoder().encode(password);
    if (md5Key.length === 0 || md5Key.length > 80)
      return err(`the password in Secret ${spec.passwordSecretRef.name} must be 1 to 80 bytes`);
    passwordHash = createHash('sha256').update(md5Key).digest('hex');
  }

  let bfd: SessionSettings['bfd'];
  if (spec.bfd !== undefined) {
    const tx = parseDuration(spec.bfd.transmitInterval ?? DEFAULT_BFD_INTERVAL);
    if (!tx.ok) return err(`bfd.transmitInterval: ${tx.error}`);
    const rx = parseDuration(spec.bfd.receiveInterval ?? DEFAULT_BFD_INTERVAL);
    if (!rx.ok) return err(`bfd.receiveInterval: ${rx.error}`);
    if (linkLocal)
      return err("bfd with a link-local peerAddress is not supported: use the router's global address for BFD peers");
    const path = bfdPath(context.interfaces, peerIp.value, sourceAddress);
    if (!path.ok) return path;
    const settings: BfdSettings = {
      desiredMinTxMs: Math.round(tx.value),
      requiredMinRxMs: Math.round(rx.value),
      detectMultiplier: spec.bfd.detectMultiplier ?? DEFAULT_BFD_MULTIPLIER,
      passive: spec.bfd.passive ?? false,
    };
    bfd = { path: path.value, settings, key: JSON.stringify({ ...path.value, ...settings }) };
  }

  const peerAs = spec.peerASN ?? spec.dynamicASN;
  if (peerAs === undefined) return err('neither peerASN nor dynamicASN is set');
  const ttl = isExternalSession({ localAs: spec.myASN, peerAs }) ? (spec.ebgpMultiHop ? 255 : 1) : undefined;
  const config: SessionConfig = {
    localAs: spec.myASN,
    peerAs,
    bgpIdentifier: identifier,
    holdTime: hold.value,
    ...(keepalive?.ok ? { keepaliveTime: keepalive.value } : {}),
    connectRetryTime: connect.value,
    passive: spec.passive ?? false,
    families,
    routeRefresh: true,
    // ADR 0034: offered on every session over IPv6 (link-local or global); used once the peer offers it too.
    ...(peerFamily === 6 ? { extendedNextHop: true } : {}),
    ...(spec.gracefulRestart?.enabled
      ? {
          gracefulRestart: {
            restartTime: Math.round(restart.value),
            restarting: context.restarting,
            forwardingState: true,
          },
        }
      : {}),
    idleHoldTime: IDLE_HOLD_SECONDS,
  };
  const port = spec.peerPort ?? DEFAULT_BGP_PORT;
  const settings = {
    config,
    peerAddress: formatIp(peerIp.value),
    port,
    ...(sourceAddress === undefined ? {} : { sourceAddress }),
    ...(sessionInterface === undefined ? {} : { interface: sessionInterface.value }),
    ...(ttl === undefined ? {} : { ttl }),
    ...(md5Key === undefined ? {} : { md5Key }),
  };
  // The R bit is left out: a session restarted by a configuration change must not be replaced again for it.
  const identity = JSON.stringify({
    ...config,
    gracefulRestart: config.gracefulRestart ? { restartTime: config.gracefulRestart.restartTime } : undefined,
    bgpIdentifier: String(config.bgpIdentifier),
    peer: settings.peerAddress,
    port,
    source: sourceAddress,
    interface: sessionInterface?.value,
    ttl,
    passwordHash,
  });
  return ok({ ...settings, identity, ...(bfd === undefined ? {} : { bfd }) });
}

/**
 * The one interface of this node that BGPPeer.spec.interface selects: the interface of that name, or the only one a
 * pattern matches (lo never). None or several: an error naming them, and no session on this node.
 */
export function resolveInterface(entry: string, table: InterfaceTable): Result<string> {
  if (!isInterfacePattern(entry)) {
    return table.interfaces.some((i) => i.name === entry)
      ? ok(entry)
      : err(`interface ${entry} does not exist on this node`);
  }
  const matching = table.interfaces
    .filter((i) => i.name !== 'lo' && interfaceMatches(entry, i.name))
    .map((i) => i.name)
    .sort();
  const [only] = matching;
  if (matching.length === 1 && only !== undefined) return ok(only);
  return err(
    matching.length === 0
      ? `interface pattern ${entry} matches no interface on this node`
      : `interface pattern ${entry} matches ${matching.join(', ')} on this node: a link-local peer is reached over one interface; make the pattern match one`,
  );
}

/**
 * BGPPeer.spec.sourceInterface on this node: the first address of the peer's family on the one interface it selects
 * (IPv6: global, not link-local).
 */
export function sourceOfInterface(entry: string, family: IpFamily, table: InterfaceTable): Result<string> {
  const resolved = resolveInterface(entry, table);
  if (!resolved.ok) return err(`sourceInterface: ${resolved.error}`);
  const iface = table.interfaces.find((i) => i.name === resolved.value);
  const address = iface?.addresses.find((a) => a.family === family && !(family === 6 && isLinkLocal(a.address)));
  if (address === undefined)
    return err(
      `sourceInterface: ${resolved.value} has no ${family === 4 ? 'IPv4' : 'global IPv6'} address to connect from`,
    );
  return ok(formatIp(address.address));
}

/**
 * Single-hop BFD (RFC 5881): the interface with a subnet that holds the peer, and our address there (or the
 * sourceAddress when it is on that interface). A peer on no connected subnet is an error: BFD would need multihop.
 */
export function bfdPath(table: InterfaceTable, peer: bigint, sourceAddress: string | undefined): Result<BfdPath> {
  const family = familyOf(peer);
  const source = sourceAddress === undefined ? undefined : parseIp(sourceAddress);
  for (const iface of table.interfaces) {
    if (iface.name === 'lo') continue;
    for (const a of iface.addresses) {
      if (a.family !== family || (family === 6 && a.address >> 118n === 0x3fan)) continue; // fe80::/10 is on every link
      const bits = family === 4 ? 32 : 128;
      const shift = BigInt(bits - a.prefixLength);
      if (a.prefixLength === bits || a.address >> shift !== peer >> shift || a.address === peer) continue;
      const local = source?.ok && iface.addresses.some((b) => b.address === source.value) ? source.value : a.address;
      return ok({ peerAddress: formatIp(peer), family, interfaceName: iface.name, localAddress: formatIp(local) });
    }
  }
  return err(
    `bfd: ${formatIp(peer)} is on no subnet of this node's interfaces; single-hop BFD (RFC 5881) needs a directly connected router`,
  );
}

/** fe80::/10 (IPv6 link-local unicast). */
export function isLinkLocal(address: bigint): boolean {
  return address >> 118n === 0x3fan;
}

/** The address when `text` is an IPv4 address. */
function ipv4Of(text: string): bigint | undefined {
  const parsed = parseIp(text);
  return parsed.ok && familyOf(parsed.value) === 4 ? parsed.value : undefined;
}
