// The BGP side of a speaker: one session per BGPPeer selecting this node, kept in step with the plan of
// bgp-plan.ts on every change of the cluster view (a pass: recompute, start/replace/stop sessions, hand each its
// routes; the sessions send only differences). Passive peers share one listener. On stop every session withdraws
// its routes and sends Cease. Session changes become Events on the BGPPeer; plan problems Events on the object.
import type { Clock, Timer } from '../../core/clock.ts';
import { familyOf, formatIp, parseIp } from '../../core/ip/ip-address.ts';
import type { Result } from '../../core/result.ts';
import type { Logger } from '../../platform/logger.ts';
import type { BgpListener, BgpSocket, ConnectOptions, TransportError } from '../../platform/bgp-transport.ts';
import type { InterfaceTable } from '../../platform/network-interfaces.ts';
import { describeNotification } from '../../protocol/bgp/notification-message.ts';
import type { SessionStateName, SessionTransition } from '../../protocol/bgp/session-fsm.ts';
import type { BfdState } from '../../protocol/bfd/control-packet.ts';
import type { BfdChange } from '../bfd/bfd-session.ts';
import type { BfdHandle, BfdPath, BfdSettings } from '../bfd/bfd-sessions.ts';
import type { BgpMetrics } from './bgp-metrics.ts';
import { planBgp, type BgpInputs, type BgpPlanProblem, type PeerPlan } from './bgp-plan.ts';
import { BgpSession, type NextHops } from './bgp-session.ts';
import type { RouterState } from './router-discovery.ts';
import {
  isLinkLocal,
  nodeAddresses,
  resolveInterface,
  sessionSettings,
  type SessionSettings,
} from './session-settings.ts';

export interface BgpTransport {
  connect(options: ConnectOptions): Result<BgpSocket, TransportError>;
  /** A listener for passive peers on this port (one per port), or an error sentence. */
  listen(port: number, onConnection: (socket: BgpSocket) => void): Promise<Result<BgpListener, TransportError>>;
  /** Applies a passive peer's socket options (the TTL) to a connection it opened, before anything is sent on it. */
  configureAccepted(socket: BgpSocket, ttl: number | undefined): Result<void, TransportError>;
}

export interface BgpSpeakerOptions {
  readonly node: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: BgpMetrics;
  readonly inputs: () => BgpInputs;
  readonly interfaceTable: () => InterfaceTable;
  /** A key of a Secret in the speaker's namespace; never logged. */
  readonly password: (name: string, key: string) => string | undefined;
  readonly transport: BgpTransport;
  /** A session changed state or its advertised prefixes may have changed. */
  readonly onSessionsChanged?: () => void;
  readonly recordEvent: (
    kind: 'BGPPeer' | 'BGPAdvertisement' | 'Service',
    name: string,
    type: 'Normal' | 'Warning',
    reason: BgpEventReason,
    message: string,
  ) => void;
  /** After each pass: the UpdateTooLarge message of each BGPAdvertisement this node could not advertise routes of. */
  readonly onOversizedAdvertisements?: (messages: ReadonlyMap<string, string>) => void;
  /** BFD sessions for peers with spec.bfd (src/speaker/bfd); absent: spec.bfd is reported as unsupported. */
  readonly bfd?: BfdTracker;
  /** Router discovery for unnumbered peers (router-discovery.ts); absent: such peers are reported as unsupported. */
  readonly routers?: RouterFinder;
}

/** Finds the router on an interface by its Router Advertisements (RouterDiscovery). */
export interface RouterFinder {
  watch(interfaceName: string): RouterState;
  /** Stops watching the interfaces not named. */
  retain(names: ReadonlySet<string>): void;
  stop(): void;
}

export interface BfdTracker {
  track(
    path: BfdPath,
    settings: BfdSettings,
    listener: (change: BfdChange) => void,
    onError?: (message: string) => void,
  ): BfdHandle;
}

export interface SessionStatus {
  readonly peer: string;
  readonly peerAddress: string;
  readonly state: SessionStateName;
  /** Clock milliseconds when the state was entered. */
  readonly since: number;
  readonly prefixesAdvertised: number;
  readonly prefixesReceived: number;
  /** The AS the router announced, while Established. */
  readonly peerAs?: number;
  /** The BFD session with the peer, when the BGPPeer asks for BFD. */
  readonly bfdState?: BfdState;
  /** Established with extended next hop (RFC 8950): IPv4 routes go with IPv6 next hops. */
  readonly extendedNextHop?: boolean;
}

interface Running {
  readonly session: BgpSession;
  settings: SessionSettings;
  bfd?: { readonly key: string; readonly handle: BfdHandle } | undefined;
}

const PASSIVE_PORT = 179;

export class BgpSpeaker {
  readonly #node: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: BgpMetrics;
  readonly #inputs: () => BgpInputs;
  readonly #interfaceTable: () => InterfaceTable;
  readonly #password: (name: string, key: string) => string | undefined;
  readonly #transport: BgpTransport;
  readonly #onSessionsChanged: (() => void) | undefined;
  readonly #recordEvent: (
    kind: 'BGPPeer' | 'BGPAdvertisement' | 'Service',
    name: string,
    type: 'Normal' | 'Warning',
    reason: BgpEventReason,
    message: string,
  ) => void;
  readonly #onOversizedAdvertisements: ((messages: ReadonlyMap<string, string>) => void) | undefined;
  readonly #bfd: BfdTracker | undefined;
  readonly #routers: RouterFinder | undefined;
  readonly #sessions = new Map<string, Running>();
  /**
   * Problems already reported, so a pass does not repeat an Event. Bounded: an entry lives only while its object
   * exists, a configuration problem only while the plan still has it, and any other reason keeps one message per
   * object (a new message replaces the old one).
   */
  readonly #reported = new Map<string, ReportedProblem>();
  /** Peers whose first session in this process was started (graceful restart R bit only on the first). */
  readonly #startedOnce = new Set<string>();
  #listener: BgpListener | undefined;
  /** The TTL last set on the listener. */
  #listenerTtl: number | undefined;
  #listening: Promise<void> | undefined;
  #pass: Timer | undefined;
  #ready = false;
  #stopped = false;
  #advertised: readonly PeerPlan[] = [];
  /** Unnumbered peers: the router address last used per peer (a change is an Event: the session moves). */
  readonly #routerOf = new Map<string, string>();
  /** The interfaces router discovery watches in this pass. */
  #routerInterfaces = new Set<string>();

  constructor(o: BgpSpeakerOptions) {
    this.#node = o.node;
    this.#clock = o.clock;
    this.#log = o.log;
    this.#metrics = o.metrics;
    this.#inputs = o.inputs;
    this.#interfaceTable = o.interfaceTable;
    this.#password = o.password;
    this.#transport = o.transport;
    this.#onSessionsChanged = o.onSessionsChanged;
    this.#recordEvent = o.recordEvent;
    this.#onOversizedAdvertisements = o.onOversizedAdvertisements;
    this.#bfd = o.bfd;
    this.#routers = o.routers;
  }

  /** Sessions start once the caches have synced (an early partial view would withdraw and flap routes). */
  start(synced: Promise<void>): void {
    void synced.then(() => {
      this.#ready = true;
      this.changed();
    });
  }

  /** Something the plan depends on changed: one pass soon (changes arriving together share it). */
  changed(): void {
    if (!this.#ready || this.#stopped || this.#pass) return;
    this.#pass = this.#clock.after(0, () => {
      this.#pass = undefined;
      this.#reconcile();
    });
  }

  /** The routes of the last pass per peer with a session (the sessions' Adj-RIB-Out, whatever their state). */
  advertised(): readonly PeerPlan[] {
    return this.#advertised;
  }

  sessions(): SessionStatus[] {
    return [...this.#sessions]
      .map(([peer, running]) => ({ ...running, peer }))
      .map(({ bfd, peer, session, settings }) => ({
        peer,
        peerAddress: settings.peerAddress,
        state: session.state,
        since: session.since,
        prefixesAdvertised: session.prefixesAdvertised,
        prefixesReceived: session.prefixesReceived,
        ...(session.negotiated
          ? { peerAs: session.negotiated.peerAs, extendedNextHop: session.negotiated.extendedNextHop }
          : {}),
        ...(bfd === undefined ? {} : { bfdState: bfd.handle.state() }),
      }));
  }

  /** Withdraws everything and closes every session with Cease; resolves when done (bounded). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#pass?.cancel();
    this.#pass = undefined;
    for (const running of this.#sessions.values()) running.bfd?.handle.release();
    await Promise.all([...this.#sessions.values()].map(({ session }) => session.stop('beaconlb speaker stopping')));
    this.#sessions.clear();
    this.#advertised = [];
    this.#routers?.stop();
    await this.#listener?.close();
    this.#listener = undefined;
  }

  #reconcile(): void {
    if (this.#stopped) return;
    const inputs = this.#inputs();
    let plan: ReturnType<typeof planBgp>;
    try {
      plan = planBgp(inputs, this.#node);
    } catch (error) {
      // A bug (objects are guarded one by one inside): keep the sessions and routes as they are.
      this.#log.error({ err: String(error) }, 'BGP plan failed; sessions keep their routes');
      return;
    }
    const problemsNow = new Set<string>();
    const report = (kind: ObjectKind, name: string, reason: PlanReason, message: string): void => {
      problemsNow.add(reportKey({ kind, name, reason, message }));
      this.#reportOnce(kind, name, reason, message);
    };
    const oversized = new Map<string, string>();
    for (const problem of plan.problems) {
      report(
        problem.kind,
        problem.name,
        problem.reason,
        problem.example === undefined
          ? problem.message
          : `${problem.message}; on node ${this.#node}: ${problem.example}`,
      );
      if (problem.reason === 'UpdateTooLarge') oversized.set(problem.name, problem.message);
    }
    this.#onOversizedAdvertisements?.(oversized);
    const wanted = new Set<string>();
    /** Passive peers by address: the listener's MD5 keys and #accept tell peers apart by address alone. */
    const passiveAt = new Map<string, string>();
    let passive = false;
    this.#routerInterfaces = new Set();
    for (const { peer, routes } of plan.peers) {
      const name = peer.metadata.name;
      try {
        passive = this.#reconcilePeer(name, peer, routes, wanted, passiveAt, report) || passive;
      } catch (error) {
        // A bug: this peer's session is left as it is; the others go on.
        wanted.add(name);
        report(
          'BGPPeer',
          name,
          'ProcessingError',
          `node ${this.#node}: the session could not be updated: ${String(error)}`,
        );
      }
    }
    for (const [name, running] of this.#sessions) {
      if (wanted.has(name)) continue;
      this.#log.info({ peer: name }, 'BGPPeer no longer applies to this node: closing its session');
      this.#sessions.delete(name);
      if (running.settings.config.passive) this.#setListenerKey(name, running.settings.peerAddress, undefined);
      running.bfd?.handle.release();
      void running.session.stop('peer removed');
    }
    this.#routers?.retain(this.#routerInterfaces);
    for (const name of this.#routerOf.keys()) if (!this.#sessions.has(name)) this.#routerOf.delete(name);
    this.#advertised = plan.peers.filter(({ peer }) => this.#sessions.has(peer.metadata.name));
    if (passive) this.#ensureListener();
    else this.#closeListener();
    this.#applyListenerTtl();
    this.#forgetReports(inputs, problemsNow);
    this.#onSessionsChanged?.();
  }

  /** Starts, replaces or updates the session with one peer; returns whether it is passive. */
  #reconcilePeer(
    name: string,
    peer: PeerPlan['peer'],
    routes: PeerPlan['routes'],
    wanted: Set<string>,
    passiveAt: Map<string, string>,
    report: (kind: ObjectKind, name: string, reason: PlanReason, message: string) => void,
  ): boolean {
    let discoveredPeer: string | undefined;
    if (peer.spec.peerAddress === undefined && peer.spec.interface !== undefined) {
      discoveredPeer = this.#discoveredRouter(name, peer.spec.interface, report);
      if (discoveredPeer === undefined) return false;
    }
    const settings = sessionSettings(peer, {
      interfaces: this.#interfaceTable(),
      password: this.#password,
      restarting: !this.#startedOnce.has(name),
      ...(discoveredPeer === undefined ? {} : { discoveredPeer }),
    });
    if (!settings.ok) {
      report('BGPPeer', name, 'InvalidConfiguration', `node ${this.#node}: ${settings.error}`);
      return false;
    }
    if (settings.value.config.passive) {
      const other = passiveAt.get(settings.value.peerAddress);
      if (other !== undefined) {
        report(
          'BGPPeer',
          name,
          'InvalidConfiguration',
          `node ${this.#node}: BGPPeer ${other} is a passive peer at ${settings.value.peerAddress} too; a connection from that address cannot be told apart (on another interface, make one of them active)`,
        );
        return false;
      }
      passiveAt.set(settings.value.peerAddress, name);
    }
    wanted.add(name);
    let running = this.#sessions.get(name);
    if (running && running.settings.identity !== settings.value.identity) {
      this.#log.info({ peer: name }, 'BGPPeer changed: restarting its session');
      running.bfd?.handle.release();
      void running.session.stop('configuration changed');
      running = undefined;
    }
    if (!running) {
      running = { session: this.#newSession(name, settings.value), settings: settings.value };
      this.#sessions.set(name, running);
      this.#startedOnce.add(name);
      running.session.setRoutes(routes);
      running.session.start();
      if (settings.value.config.passive) this.#setListenerKey(name, settings.value.peerAddress, settings.value.md5Key);
    } else {
      running.settings = settings.value;
      running.session.setRoutes(routes);
    }
    this.#trackBfd(name, running);
    return settings.value.config.passive;
  }

  /**
   * The router of an unnumbered peer on this node (ADR 0035): its link-local address on the interface the pattern
   * selects, found by Router Advertisements; undefined (no session yet) while none was heard. A wait longer than the
   * discovery timeout, or discovery that cannot run, is a RouterNotFound Event; a new address an Event too.
   */
  #discoveredRouter(
    name: string,
    entry: string,
    report: (kind: ObjectKind, name: string, reason: PlanReason, message: string) => void,
  ): string | undefined {
    const routers = this.#routers;
    if (routers === undefined) {
      report(
        'BGPPeer',
        name,
        'InvalidConfiguration',
        `node ${this.#node}: unnumbered peering (interface without peerAddress) needs router discovery, which this speaker runs without`,
      );
      return undefined;
    }
    const resolved = resolveInterface(entry, this.#interfaceTable());
    if (!resolved.ok) {
      report('BGPPeer', name, 'InvalidConfiguration', `node ${this.#node}: ${resolved.error}`);
      return undefined;
    }
    const iface = resolved.value;
    this.#routerInterfaces.add(iface);
    const state = routers.watch(iface);
    if (state.kind === 'timed-out' || state.kind === 'failed') {
      this.#reportOnce(
        'BGPPeer',
        name,
        'RouterNotFound',
        state.kind === 'failed'
          ? `node ${this.#node}: ${state.message}`
          : `node ${this.#node}: no IPv6 Router Advertisement on ${iface} in ${Math.round(state.afterMs / 1000)}s: ` +
              'the router must send them there (FRR: neighbor IF interface does); the session opens once one arrives',
      );
    }
    if (state.kind !== 'found') return undefined;
    const before = this.#routerOf.get(name);
    if (before !== state.address) {
      this.#routerOf.set(name, state.address);
      this.#recordEvent(
        'BGPPeer',
        name,
        'Normal',
        'RouterFound',
        `node ${this.#node}: router ${state.address} found on ${iface} by its Router Advertisement` +
          (before === undefined ? '' : ` (was ${before}): the session moves there`),
      );
    }
    return state.address;
  }

  /** Keeps the session's BFD tracking in step with spec.bfd: BFD down tears the BGP session down (ADR 0018). */
  #trackBfd(peer: string, running: Running): void {
    const wanted = running.settings.bfd;
    if (running.bfd?.key === wanted?.key) return;
    running.bfd?.handle.release();
    running.bfd = undefined;
    running.session.bfdUp(); // a session held for the old BFD session is free again
    if (wanted === undefined) return;
    const tracker = this.#bfd;
    if (tracker === undefined) {
      this.#reportOnce(
        'BGPPeer',
        peer,
        'InvalidConfiguration',
        `node ${this.#node}: spec.bfd is set but this speaker runs without BFD`,
      );
      return;
    }
    const address = running.settings.peerAddress;
    running.bfd = {
      key: wanted.key,
      handle: tracker.track(
        wanted.path,
        wanted.settings,
        (change) => {
          if (change.up) {
            this.#recordEvent(
              'BGPPeer',
              peer,
              'Normal',
              'BFDUp',
              `node ${this.#node}: BFD session with ${address} on ${wanted.path.interfaceName} Up`,
            );
            running.session.bfdUp();
          } else {
            const action = change.failure
              ? ': BGP session torn down until BFD is up again'
              : ' (administratively: BGP session kept)';
            this.#recordEvent(
              'BGPPeer',
              peer,
              change.failure ? 'Warning' : 'Normal',
              'BFDDown',
              `node ${this.#node}: BFD session with ${address} down (${change.reason})${action}`,
            );
            if (change.failure) running.session.bfdDown();
          }
          this.#onSessionsChanged?.();
        },
        (message) => {
          this.#reportOnce(
            'BGPPeer',
            peer,
            'BFDFailed',
            `node ${this.#node}: BFD with ${address} cannot run: ${message}`,
          );
        },
      ),
    };
  }

  /** Problems reported so far whose object is gone, or whose configuration problem this pass no longer has. */
  #forgetReports(inputs: BgpInputs, problemsNow: ReadonlySet<string>): void {
    const existing = new Set([
      ...inputs.peers.map((p) => `BGPPeer/${p.metadata.name}`),
      ...inputs.advertisements.map((a) => `BGPAdvertisement/${a.metadata.name}`),
      ...inputs.services.map((s) => `Service/${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''}`),
    ]);
    for (const [key, { kind, name, reason }] of this.#reported) {
      if (!existing.has(`${kind}/${name}`) || (PLAN_REASONS.has(reason) && !problemsNow.has(key)))
        this.#reported.delete(key);
    }
  }

  /** How many problems are remembered as reported (bounded by the objects that have one now). */
  get reportedProblems(): number {
    return this.#reported.size;
  }

  #newSession(peer: string, settings: SessionSettings): BgpSession {
    const log = this.#log.child({ peer, peerAddress: settings.peerAddress });
    return new BgpSession({
      peer,
      config: settings.config,
      clock: this.#clock,
      log,
      metrics: this.#metrics,
      connect: () =>
        this.#transport.connect({
          peerAddress: settings.peerAddress,
          port: settings.port,
          timeoutMs: Math.max(1000, settings.config.connectRetryTime * 1000),
          ...(settings.sourceAddress === undefined ? {} : { sourceAddress: settings.sourceAddress }),
          ...(settings.interface === undefined ? {} : { interface: settings.interface }),
          ...(settings.md5Key === undefined ? {} : { md5Key: settings.md5Key }),
          ...(settings.ttl === undefined ? {} : { ttl: settings.ttl }),
        }),
      nextHops: (local) => this.#nextHops(local, settings.interface),
      onTransition: (transition) => {
        this.#onTransition(peer, settings.peerAddress, transition);
      },
      onUnadvertised: (family, routes, reason) => {
        this.#reportOnce(
          'BGPPeer',
          peer,
          'NextHopUnavailable',
          `node ${this.#node}: ${routes} ${family} route(s) not advertised to ${settings.peerAddress}: ${reason}`,
        );
      },
    });
  }

  #onTransition(peer: string, address: string, t: SessionTransition): void {
    this.#onSessionsChanged?.();
    const who = `node ${this.#node}: session with ${address}`;
    if (t.to === 'Established') {
      // A new session looks for next hops again: a problem it still has is reported again.
      this.#reported.delete(reportKey({ kind: 'BGPPeer', name: peer, reason: 'NextHopUnavailable', message: '' }));
      this.#recordEvent('BGPPeer', peer, 'Normal', 'SessionEstablished', `${who} Established`);
    } else if (t.from === 'Established') {
      const notice = t.sentNotification ?? t.receivedNotification;
      const detail = notice ? ` (${t.sentNotification ? 'sent' : 'received'} ${describeNotification(notice)})` : '';
      this.#recordEvent(
        'BGPPeer',
        peer,
        t.reason === 'manual-stop' ? 'Normal' : 'Warning',
        'SessionDown',
        `${who} down: ${t.reason}${detail}`,
      );
    }
  }

  /**
   * Next hops from the connection's local address: that address for its family, the same interface's for the other.
   * Over a link-local session the IPv6 next hop is a global address of that interface (else of the node; else the
   * link-local one) and the link-local address goes along as the second next hop (RFC 2545 section 3). Whether the
   * IPv4 next hop is on the session's interface decides, with extended next hop, between it and the IPv6 ones.
   */
  #nextHops(local: string | undefined, sessionInterface: string | undefined): NextHops {
    const table = this.#interfaceTable();
    const parsed =
      local === undefined ? undefined : parseIp(local.replace(/^::ffff:(?=\d+\.)/, '').replace(/%.*$/, ''));
    const localIp = parsed?.ok ? parsed.value : undefined;
    const linkLocal = localIp !== undefined && familyOf(localIp) === 6 && isLinkLocal(localIp) ? localIp : undefined;
    // A link-local address may sit on several interfaces: a link-local session names its own.
    const iface =
      sessionInterface !== undefined
        ? table.interfaces.find((i) => i.name === sessionInterface)
        : localIp === undefined
          ? undefined
          : table.interfaces.find((i) => i.addresses.some((a) => a.address === localIp));
    const pick = (family: 4 | 6): bigint | undefined => {
      if (localIp !== undefined && familyOf(localIp) === family && linkLocal === undefined) return localIp;
      const global = nodeAddresses({ ...table, interfaces: iface ? [iface] : [] }, family)[0];
      return global ?? nodeAddresses(table, family)[0] ?? (family === 6 ? linkLocal : undefined);
    };
    const ipv4 = pick(4);
    const ipv6 = pick(6);
    const ipv4OnLink = ipv4 !== undefined && iface?.addresses.some((a) => a.address === ipv4) === true;
    return {
      ...(ipv4 === undefined ? {} : { ipv4, ipv4OnLink }),
      ...(ipv6 === undefined ? {} : { ipv6 }),
      ...(linkLocal === undefined || ipv6 === linkLocal ? {} : { ipv6LinkLocal: linkLocal }),
    };
  }

  #ensureListener(): void {
    if (this.#listener || this.#listening) return;
    this.#listening = this.#transport
      .listen(PASSIVE_PORT, (socket) => {
        this.#accept(socket);
      })
      .then((listener) => {
        if (!listener.ok) {
          const hint = /EACCES|permission/i.test(listener.error.message)
            ? ' (binding port 179 needs CAP_NET_BIND_SERVICE: add it to the speaker DaemonSet for passive peers)'
            : '';
          for (const [peer, { settings }] of this.#sessions) {
            if (settings.config.passive)
              this.#reportOnce('BGPPeer', peer, 'ListenFailed', `node ${this.#node}: ${listener.error.message}${hint}`);
          }
          return;
        }
        this.#listener = listener.value;
        for (const [peer, { settings }] of this.#sessions) {
          if (settings.config.passive) this.#setListenerKey(peer, settings.peerAddress, settings.md5Key);
        }
        this.#listenerTtl = undefined;
        this.#applyListenerTtl();
        if (this.#stopped) void listener.value.close();
      })
      .finally(() => {
        this.#listening = undefined;
      });
  }

  /**
   * The kernel answers a passive peer's SYN from the listener, before the connection reaches #accept: when every
   * passive peer is single-hop eBGP, the listener sends with TTL 1 too, so even the SYN-ACK stays on the link;
   * otherwise with 255 (never less reach than a peer needs; accepted connections then get their peer's own TTL).
   */
  #applyListenerTtl(): void {
    if (!this.#listener) return;
    const passive = [...this.#sessions.values()].filter((r) => r.settings.config.passive);
    const ttl = passive.length > 0 && passive.every((r) => r.settings.ttl === 1) ? 1 : 255;
    if (ttl === this.#listenerTtl) return;
    const set = this.#listener.setTtl(ttl);
    if (set.ok) this.#listenerTtl = ttl;
    else this.#log.warn({ ttl, err: set.error.message }, 'cannot set the TTL of the BGP listener');
  }

  /** Sets (or removes) a passive peer's MD5 key on the listener; a failure is reported on the peer. */
  #setListenerKey(peer: string, address: string, key: Uint8Array | undefined): void {
    const set = this.#listener?.setKey(address, key);
    if (set !== undefined && !set.ok)
      this.#reportOnce(
        'BGPPeer',
        peer,
        'ListenFailed',
        `node ${this.#node}: cannot set the TCP MD5 key for ${address} on the listener: ${set.error.message}`,
      );
  }

  /** No passive peer is left: port 179 is given back (a later passive peer opens it again). */
  #closeListener(): void {
    if (this.#listener === undefined) return;
    void this.#listener.close();
    this.#listener = undefined;
    this.#listenerTtl = undefined;
  }

  #accept(socket: BgpSocket): void {
    // A link-local peer comes with its zone (fe80::1%eth0): it must be the peer's interface.
    const [address, zone] = (socket.remoteAddress?.replace(/^::ffff:(?=\d+\.)/, '') ?? '').split('%');
    const parsed = address ? parseIp(address) : undefined;
    const running = parsed?.ok
      ? [...this.#sessions.values()].find(
          (r) =>
            r.settings.config.passive &&
            r.settings.peerAddress === formatIp(parsed.value) &&
            (r.settings.interface === undefined || zone === undefined || zone === r.settings.interface),
        )
      : undefined;
    const remote = socket.remoteAddress;
    if (!running) {
      this.#log.info({ remote }, 'refusing a BGP connection from an address that is not a passive peer of this node');
      socket.destroy();
      return;
    }
    // The same TTL as the active side (1 for single-hop eBGP, 255 for multihop) before the session sends its OPEN.
    const configured = this.#transport.configureAccepted(socket, running.settings.ttl);
    if (!configured.ok) {
      this.#log.warn(
        { remote, err: configured.error.message },
        'refusing a BGP connection whose socket options cannot be set',
      );
      socket.destroy();
      return;
    }
    running.session.accept(socket);
  }

  #reportOnce(kind: ObjectKind, name: string, reason: BgpEventReason, message: string): void {
    const problem = { kind, name, reason, message };
    const key = reportKey(problem);
    if (this.#reported.get(key)?.message === message) return;
    this.#reported.set(key, problem);
    this.#log.warn(
      { [kind === 'BGPPeer' ? 'peer' : kind === 'Service' ? 'service' : 'advertisement']: name, reason },
      message,
    );
    this.#recordEvent(kind, name, 'Warning', reason, message);
  }
}

type ObjectKind = 'BGPPeer' | 'BGPAdvertisement' | 'Service';
type PlanReason = BgpPlanProblem['reason'];

/** Every reason the BGP speaker records an Event with (docs/troubleshooting.md, "Every Event reason"). */
export type BgpEventReason =
  | PlanReason
  | 'SessionEstablished'
  | 'SessionDown'
  | 'BFDUp'
  | 'BFDDown'
  | 'BFDFailed'
  | 'ListenFailed'
  | 'NextHopUnavailable'
  | 'RouterFound'
  | 'RouterNotFound';
/** Reasons found by a pass: forgotten once a pass no longer finds them, so they are reported again if they return. */
const PLAN_REASONS: ReadonlySet<string> = new Set<PlanReason>([
  'InvalidConfiguration',
  'MalformedObject',
  'UpdateTooLarge',
  'ProcessingError',
]);

interface ReportedProblem {
  readonly kind: ObjectKind;
  readonly name: string;
  readonly reason: BgpEventReason;
  readonly message: string;
}

/** A configuration problem is one per message (an object can have several at once); other reasons one per object. */
function reportKey(p: ReportedProblem): string {
  return p.reason === 'InvalidConfiguration'
    ? `${p.kind}/${p.name}/${p.reason}/${p.message}`
    : `${p.kind}/${p.name}/${p.reason}`;
}
