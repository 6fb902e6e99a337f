// The BGP side of a speaker: one session per BGPPeer selecting this node, kept in step with the plan of
// bgp-plan.ts on every change of the cluster view (a pass: recompute, start/replace/stop sessions, hand each its
// routes; the sessions send only differences). Passive peers share one listener. On stop every session withdraws
// its routes and sends Cease. Session changes become Events on the BGPPeer; plan problems Events on the object.
// The shared listener (passive-listener.ts), next hops (next-hops.ts) and problems reported once
// (bgp-problem-reports.ts) live apart; the file is still ~510 lines because the pass, BFD tracking and the router
// discovery of unnumbered peers all change the one map of running sessions.
import type { Clock, Timer } from '../../core/clock.ts';
import type { Result } from '../../core/result.ts';
import type { Logger } from '../../platform/logger.ts';
import type { BgpSocket, ConnectOptions, TransportError } from '../../platform/bgp-transport.ts';
import type { InterfaceTable } from '../../platform/network-interfaces.ts';
import { describeNotification } from '../../protocol/bgp/notification-message.ts';
import type { SessionStateName, SessionTransition } from '../../protocol/bgp/session-fsm.ts';
import type { BfdState } from '../../protocol/bfd/control-packet.ts';
import type { BfdChange } from '../bfd/bfd-session.ts';
import type { BfdHandle, BfdPath, BfdSettings } from '../bfd/bfd-sessions.ts';
import type { BgpMetrics } from './bgp-metrics.ts';
import { planBgp, type BgpInputs, type PeerPlan } from './bgp-plan.ts';
import { BgpSession } from './bgp-session.ts';
import { PassiveListener, type ListenerTransport } from './passive-listener.ts';
import { nextHopsFrom } from './next-hops.ts';
import {
  ProblemReports,
  reportKey,
  type BgpEventReason,
  type ObjectKind,
  type PlanReason,
} from './bgp-problem-reports.ts';
import type { RouterState } from './router-discovery.ts';
import { resolveInterface, sessionSettings, type SessionSettings } from './session-settings.ts';

export interface BgpTransport extends ListenerTransport {
  connect(options: ConnectOptions): Result<BgpSocket, TransportError>;
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
  readonly #recordEvent: BgpSpeakerOptions['recordEvent'];
  readonly #onOversizedAdvertisements: ((messages: ReadonlyMap<string, string>) => void) | undefined;
  readonly #bfd: BfdTracker | undefined;
  readonly #routers: RouterFinder | undefined;
  readonly #sessions = new Map<string, Running>();
  /** Problems already reported, so a pass does not repeat an Event. */
  readonly #reports: ProblemReports;
  /** Peers whose first session in this process was started (graceful restart R bit only on the first). */
  readonly #startedOnce = new Set<string>();
  /** Port 179, shared by the passive peers. */
  readonly #passive: PassiveListener;
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
    this.#reports = new ProblemReports(o.log, o.recordEvent);
    this.#passive = new PassiveListener({
      transport: o.transport,
      sessions: () => this.#sessions,
      reportFailure: (peer, message) => {
        this.#reportOnce('BGPPeer', peer, 'ListenFailed', message);
      },
      node: o.node,
      log: o.log,
    });
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
    await this.#passive.stop();
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
    /** Passive peers by address: the listener's MD5 keys and its accept tell peers apart by address alone. */
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
      if (running.settings.config.passive) this.#passive.setKey(name, running.settings.peerAddress, undefined);
      running.bfd?.handle.release();
      void running.session.stop('peer removed');
    }
    this.#routers?.retain(this.#routerInterfaces);
    for (const name of this.#routerOf.keys()) if (!this.#sessions.has(name)) this.#routerOf.delete(name);
    this.#advertised = plan.peers.filter(({ peer }) => this.#sessions.has(peer.metadata.name));
    if (passive) this.#passive.open();
    else this.#passive.close();
    this.#passive.applyTtl();
    this.#reports.forget(inputs, problemsNow);
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
      if (settings.value.config.passive) this.#passive.setKey(name, settings.value.peerAddress, settings.value.md5Key);
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
      nextHops: (local) => nextHopsFrom(this.#interfaceTable(), local, settings.interface),
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
      this.#reports.clear('BGPPeer', peer, 'NextHopUnavailable');
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

  #reportOnce(kind: ObjectKind, name: string, reason: BgpEventReason, message: string): void {
    this.#reports.report(kind, name, reason, message);
  }

  /** How many problems are remembered as reported (bounded by the objects that have one now). */
  get reportedProblems(): number {
    return this.#reports.size;
  }
}
