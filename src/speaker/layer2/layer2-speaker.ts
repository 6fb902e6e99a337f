// The layer-2 speaker on one node: renews its heartbeat Lease, judges its peers' Leases by its own monotonic
// clock, computes the owner of every layer-2 address with the same ranking as every other speaker, and tells the
// announcer which addresses this node answers for. Safety rules of the election (docs/layer2.md):
//  - nothing is announced before the caches synced and the own Lease was renewed once;
//  - a speaker whose renewals fail fences itself (answers nothing) before peers can consider it dead;
//  - on SIGTERM the Lease is marked leaving, peers take over at once, and this node keeps answering for a short
//    overlap before it stops: a rolling restart loses no packets;
//  - a speaker that cannot answer correctly (a stale cache, its announcing link down or its packet sockets broken)
//    stops answering at once and says so in its Lease (layer-2 not ready), so peers take its addresses over; when it
//    is ready again it answers only after its ready Lease came back through its watch and one more renew interval,
//    so peers have let go first;
//  - with a rejoin quiet period (ADR 0036), a speaker that comes back while others serve says so in its Lease and
//    owns only what no settled peer can serve until the period is over: one failure moves its addresses once.
import type { Clock, Timer } from '../../core/clock.ts';
import {
  planLayer2WithProblems,
  type Layer2Address,
  type Layer2Inputs,
  type PlanProblem,
} from '../../core/config/layer2-plan.ts';
import { PeerLiveness, selfFenced } from '../../core/election/liveness.ts';
import { ownersOf } from '../../core/election/rendezvous-owner.ts';
import { ownersByPreference } from '../../core/election/preference-owner.ts';
import { RejoinQuiet } from '../../core/election/rejoin-quiet.ts';
import { stickyOwnersOf } from '../../core/election/sticky-owner.ts';
import { formatIp } from '../../core/ip/ip-address.ts';
import type { Logger } from '../../platform/logger.ts';
import type { InterfaceTable } from '../../platform/network-interfaces.ts';
import { chooseInterfaces } from './interface-choice.ts';

/** Minimum time between two ownership passes (bounds the work of event bursts; adds at most this to reactions). */
const RECOMPUTE_SPACING_MS = 50;
/** A pass costs O(addresses); under a burst the spacing grows to this many times the last pass's cost (at most 1 s). */
const SPACING_PER_PASS_COST = 4;
const MAX_SPACING_MS = 1000;

export interface OwnedAddress {
  interfaces: string[];
  services: string[];
}

export interface Layer2Announcer {
  /** What this node answers for now: newly owned addresses are announced at once, removed ones fall silent at once. */
  update(owned: ReadonlyMap<bigint, OwnedAddress>): void;
}

export interface PeerLeaseView {
  node: string;
  version: string;
  leaving: boolean;
  /** Why the peer says it must not own layer-2 addresses; undefined: ready. */
  layer2NotReady?: string;
  /** In its quiet period after (re)joining (ADR 0036). */
  rejoining?: boolean;
}

/** Why a speaker is not ready for layer 2; the code starts the text it writes into its Lease and its Events. */
export type Layer2NotReadyReason = 'StaleView' | 'LinkDown';

/** Every reason the layer-2 speaker records an Event on a Service with (docs/troubleshooting.md). */
export type Layer2EventReason = 'AddressAnnounced' | 'Layer2NotReady';

export interface Layer2Metrics {
  owned(count: number): void;
  ownershipChange(kind: 'gained' | 'lost'): void;
  fenced(fenced: boolean): void;
  /** Layer-2 readiness changed; `reason` when it became not ready. */
  ready(ready: boolean, reason?: Layer2NotReadyReason): void;
  /** Speakers this node counts live at the last ownership pass (itself included while ready and not fenced). */
  liveSpeakers(count: number): void;
}

/**
 * Liveness by direct probes (ADR 0019; src/speaker/layer2/probe-runner.ts): the membership record, the live set in
 * this node's view and this node's own right to answer.
 */
export interface ProbeLiveness {
  /** The members of the newest membership record (undefined before the first). */
  readonly members: ReadonlySet<string> | undefined;
  live(now: number): Set<string>;
  answering(now: number): boolean;
  /** This node must not answer for a reason outside the detector (Lease fence, not ready): peers are told at once. */
  setCannotAnswer(cannot: boolean): void;
  /** Planned shutdown: peers take over at once. */
  leave(): void;
}

export interface Layer2SpeakerOptions {
  node: string;
  clock: Clock;
  log: Logger;
  metrics: Layer2Metrics;
  inputs: () => Layer2Inputs;
  peers: () => PeerLeaseView[];
  /** Renews the own Lease (with the reason it is not ready for layer 2, if any); resolves with the resourceVersion written. */
  renew: (
    leaving: boolean,
    timeoutMs: number,
    layer2NotReady: string | undefined,
    rejoining: boolean,
  ) => Promise<string>;
  /** Caches layer 2 reads that are stale (no proof of completeness within the freshness bound), such as `services`. */
  staleViews: () => string[];
  /** Interfaces whose packet sockets failed and could not be reopened. */
  brokenInterfaces: () => ReadonlySet<string>;
  interfaceTable: () => InterfaceTable;
  announcer: Layer2Announcer;
  recordEvent: (service: string, type: 'Normal' | 'Warning', reason: Layer2EventReason, message: string) => void;
  /** An object left out of the plan (malformed, or planning it threw): reported once per message by the caller's Event. */
  recordProblem?: (problem: PlanProblem) => void;
  /** The view went stale (own renewals not seen through the watch): reconnect the watches. */
  onStaleView: () => void;
  renewIntervalMs: number;
  leaseDurationMs: number;
  /** Fence this long before peers could consider this node dead. */
  fenceMarginMs: number;
  /** How long a leaving speaker keeps answering after marking its Lease. */
  handoverOverlapMs: number;
  /** Observes the live set each ownership pass computes (itself included unless fenced): who reports cluster-wide Events, measurements. */
  onLiveNodes?: (live: ReadonlySet<string>) => void;
  /**
   * Failure detection by direct probes (ADR 0019). The Lease is then only the fence and the membership record:
   * `peers` is not read, the live set comes from the probes, owners from the preference order over the membership
   * (ownersByPreference), and `leaseDurationMs - fenceMarginMs` after the send time of the last renewal that
   * succeeded (with the membership read it includes) this node stops answering.
   */
  probes?: ProbeLiveness | undefined;
  /**
   * Ownership stickiness (ADR 0036; Lease detection only): after a restart with a Lease of its own left from before,
   * a Lease fence or a time not ready, while a settled peer serves, this node is rejoining for this long: it writes
   * `beaconlb.io/layer2-rejoining` and owns only addresses no settled peer is eligible for. 0 or absent: off.
   */
  rejoinQuietMs?: number;
}

export class Layer2Speaker {
  readonly #o: Layer2SpeakerOptions;
  readonly #liveness = new PeerLiveness();
  readonly #quiet: RejoinQuiet;
  /** Peers whose Lease carried the rejoining mark at the last pass. */
  #peersRejoining = new Set<string>();
  /** Whether the last renewal sent carried the rejoining mark. */
  #sentRejoining = false;
  /** Whether this node counted itself for ownership at the last pass (for the log line when a quiet period ends). */
  #wasSettled = true;
  /** Peers whose Lease was in the cache at the last pass. */
  #known = new Set<string>();
  #owned = new Map<bigint, OwnedAddress>();
  #plan = new Map<bigint, Layer2Address>();
  /** Problems reported and still present. */
  #reported = new Set<string>();
  #synced = false;
  #leaving = false;
  #stopped = false;
  /** Start time (monotonic) of the last renewal that succeeded: a lower bound of when the server stored it. */
  #lastRenewStart = Number.NEGATIVE_INFINITY;
  #lastWatchRestart = Number.NEGATIVE_INFINITY;
  /** Versions of the own Lease this process wrote, with the send time of their renewal and whether they said ready. */
  readonly #written = new Map<string, { at: number; ready: boolean; rejoining: boolean }>();
  /** Why this node is not ready for layer 2 (the text written into its Lease); undefined: ready. */
  #notReady: string | undefined;
  /** Ready again, waiting to see a ready version of the own Lease come back through the watch. */
  #awaitingReadyEcho = false;
  /** Monotonic time from which this node may answer again after being not ready. */
  #rejoinAt = Number.NEGATIVE_INFINITY;
  #reportedReady: boolean | undefined;
  /** A renewal was asked for while one was in flight: renew again as soon as it ends. */
  #renewAgain = false;
  /** The interface of the default route per family as last seen: it leaves the table with its link. */
  #lastDefaultRoute: InterfaceTable['defaultRoute'] = {};
  #firstRenewOk = Number.NEGATIVE_INFINITY;
  #renewing: Promise<void> | undefined;
  #lastRecompute = Number.NEGATIVE_INFINITY;
  #lastPassCost = 0;
  /** Fenced until the first renewal succeeds. */
  #wasFenced = true;
  #renewTimer: Timer | undefined;
  #inPass = false;
  #expiryTimer: Timer | undefined;
  #recomputeTimer: Timer | undefined;

  constructor(options: Layer2SpeakerOptions) {
    this.#o = options;
    this.#quiet = new RejoinQuiet(options.probes ? 0 : (options.rejoinQuietMs ?? 0), options.renewIntervalMs);
  }

  /**
   * Starts renewing at once; announces only after `synced` resolves. With a rejoin quiet period the first renewal
   * waits for the caches: whether this is a re-join (a Lease of our own left by an earlier run) while a peer serves
   * must be in the first write, or peers would hand our addresses back before the mark arrives.
   */
  start(synced: Promise<void>): void {
    if (!this.#quiet.enabled) void this.#renewLoop();
    void synced.then(() => {
      if (this.#quiet.enabled) {
        const peers = this.#o.peers();
        if (peers.some((peer) => peer.node === this.#o.node)) {
          const othersServe = peers.some(
            (p) => p.node !== this.#o.node && !p.leaving && p.layer2NotReady === undefined && !p.rejoining,
          );
          this.#rejoin(this.#o.clock.now(), othersServe, 'restarted');
        }
        void this.#renewLoop();
      }
      this.#synced = true;
      this.changed();
    });
  }

  /**
   * Something the speaker reads changed: recompute on the next tick, or, within RECOMPUTE_SPACING_MS of the last
   * pass, once at its end: a burst of Service events costs a few passes, not one per event.
   */
  changed(): void {
    if (this.#recomputeTimer || this.#stopped) return;
    const spacing = Math.min(
      MAX_SPACING_MS,
      Math.max(RECOMPUTE_SPACING_MS, this.#lastPassCost * SPACING_PER_PASS_COST),
    );
    const wait = Math.max(0, this.#lastRecompute + spacing - this.#o.clock.now());
    this.#recomputeTimer = this.#o.clock.after(wait, () => {
      this.#recomputeTimer = undefined;
      this.#recompute();
    });
  }

  /** Something that may fence this node or move addresses at once changed (the probes' verdicts): recompute now. */
  urgent(): void {
    if (this.#stopped) return;
    this.#recomputeTimer?.cancel();
    this.#recomputeTimer = undefined;
    // Called from inside a pass (the pass tells the probes about the Lease fence): once more right after it.
    if (this.#inPass)
      this.#recomputeTimer = this.#o.clock.after(0, () => {
        this.#recomputeTimer = undefined;
        this.#recompute();
      });
    else this.#recompute();
  }

  get owned(): ReadonlyMap<bigint, OwnedAddress> {
    return this.#owned;
  }

  get plan(): ReadonlyMap<bigint, Layer2Address> {
    return this.#plan;
  }

  /** Planned shutdown: mark the Lease leaving, keep answering for the overlap, then fall silent. */
  async leave(): Promise<void> {
    this.#leaving = true;
    this.#o.probes?.leave();
    this.#renewTimer?.cancel();
    // A renewal still in flight would clear the leaving mark if it landed after it.
    await this.#renewing;
    try {
      await this.#o.renew(true, 1000, this.#notReady, this.#sentRejoining);
    } catch (error) {
      this.#o.log.warn({ err: String(error) }, 'could not mark the lease leaving; peers take over when it goes stale');
    }
    await new Promise<void>((resolve) => this.#o.clock.after(this.#o.handoverOverlapMs, resolve));
    this.stop();
  }

  stop(): void {
    this.#stopped = true;
    this.#renewTimer?.cancel();
    this.#expiryTimer?.cancel();
    this.#recomputeTimer?.cancel();
    this.#setOwned(new Map());
  }

  async #renewLoop(): Promise<void> {
    if (this.#stopped || this.#leaving) return;
    const started = this.#o.clock.now();
    let done: () => void = () => undefined;
    this.#renewing = new Promise((resolve) => (done = resolve));
    const notReady = this.#notReady;
    // Renewing while fenced by the Lease: peers may have dropped this node, so this renewal rejoins.
    if (
      this.#quiet.enabled &&
      this.#lastRenewStart > Number.NEGATIVE_INFINITY &&
      selfFenced(this.#lastRenewStart, started, this.#o.leaseDurationMs, this.#o.fenceMarginMs)
    )
      this.#rejoin(started, this.#othersServe(started), 'renewing after a fence');
    const rejoining = this.#quiet.mark(started);
    this.#sentRejoining = rejoining;
    try {
      const version = await this.#o.renew(false, this.#o.renewIntervalMs, notReady, rejoining);
      this.#written.set(version, { at: started, ready: notReady === undefined, rejoining });
      for (const [v, { at }] of this.#written) if (at < started - 2 * this.#o.leaseDurationMs) this.#written.delete(v);
      if (this.#firstRenewOk === Number.NEGATIVE_INFINITY) this.#firstRenewOk = started;
      this.#lastRenewStart = started;
    } catch (error) {
      this.#o.log.warn({ err: String(error) }, 'heartbeat renewal failed');
    } finally {
      done();
      this.#renewing = undefined;
    }
    this.changed();
    if (this.#halted()) return;
    const again =
      this.#renewAgain || notReady !== this.#notReady || rejoining !== this.#quiet.mark(this.#o.clock.now());
    this.#renewAgain = false;
    const next = again ? 0 : Math.max(0, this.#o.renewIntervalMs - (this.#o.clock.now() - started));
    this.#renewTimer = this.#o.clock.after(next, () => void this.#renewLoop());
  }

  /** Renews now (readiness changed): peers learn it within one write, not one renew interval. */
  #renewSoon(): void {
    if (this.#halted() || this.#lastRenewStart === Number.NEGATIVE_INFINITY) return;
    if (this.#renewing) {
      this.#renewAgain = true;
      return;
    }
    this.#renewTimer?.cancel();
    this.#renewTimer = this.#o.clock.after(0, () => void this.#renewLoop());
  }

  /**
   * Fenced when the own renewals did not succeed in time (peers may soon call us dead), or when our own view is
   * stale: a renewal we made has not come back through our own Lease watch within leaseDuration - margin. With a
   * stale watch we would also miss peers' renewals and wrongly call them dead, so we must not answer.
   */
  /** Read through a method: the flags change while a renewal awaits. */
  #halted(): boolean {
    return this.#stopped || this.#leaving;
  }

  #isFenced(now: number): boolean {
    const renewedInTime = !selfFenced(this.#lastRenewStart, now, this.#o.leaseDurationMs, this.#o.fenceMarginMs);
    const probes = this.#o.probes;
    if (probes) {
      // The Lease fence is decided here; the probes' own fence (monitor confirmations) by the detector.
      probes.setCannotAnswer(!renewedInTime || (this.#synced && this.#notReady !== undefined));
      return !renewedInTime || !probes.answering(now);
    }
    const viewFresh = this.#liveness.liveNodes(now, this.#o.leaseDurationMs - this.#o.fenceMarginMs).has(this.#o.node);
    // Stale only once a write of ours had time to come back: not at start-up, while the first one travels.
    const hadTime = now - this.#firstRenewOk > this.#o.leaseDurationMs - this.#o.fenceMarginMs;
    if (renewedInTime && !viewFresh && hadTime && now - this.#lastWatchRestart > this.#o.leaseDurationMs) {
      this.#lastWatchRestart = now;
      this.#o.log.warn({ node: this.#o.node }, 'own renewals do not come back through the watch; reconnecting watches');
      this.#o.onStaleView();
    }
    return !renewedInTime || !viewFresh;
  }

  #recompute(): void {
    // Leaving: keep answering for what we own until the overlap ends (leave() then stops everything).
    if (this.#stopped || this.#leaving) return;
    this.#inPass = true;
    try {
      this.#pass();
    } finally {
      this.#inPass = false;
    }
  }

  #pass(): void {
    const now = this.#o.clock.now();
    this.#lastRecompute = now;
    const seen = new Set<string>();
    const rejoining = new Set<string>();
    for (const peer of this.#o.probes ? [] : this.#o.peers()) {
      seen.add(peer.node);
      if (peer.rejoining && peer.node !== this.#o.node) rejoining.add(peer.node);
      if (peer.node === this.#o.node) {
        // Our own Lease proves a fresh view only in versions this process wrote (not one left by a previous run).
        const written = this.#written.get(peer.version);
        if (written) {
          this.#liveness.observe(peer.node, peer.version, 'active', now);
          this.#quiet.echoed(written.rejoining, written.at, now);
          if (written.ready && this.#awaitingReadyEcho && this.#notReady === undefined) {
            // Peers see this version about when we do; one renew interval more and they have let go.
            this.#awaitingReadyEcho = false;
            this.#rejoinAt = now + this.#o.renewIntervalMs;
          }
        }
        continue;
      }
      this.#liveness.observe(
        peer.node,
        peer.version,
        peer.leaving ? 'leaving' : peer.layer2NotReady === undefined ? 'active' : 'not-ready',
        now,
      );
    }
    for (const node of this.#known) if (!seen.has(node)) this.#liveness.remove(node);
    this.#known = seen;
    this.#peersRejoining = rejoining;
    const probes = this.#o.probes;
    const live = probes ? probes.live(now) : this.#liveness.liveNodes(now, this.#o.leaseDurationMs);
    try {
      const planned = planLayer2WithProblems(this.#o.inputs());
      this.#plan = planned.plan;
      this.#reportProblems(planned.problems);
    } catch (error) {
      // A bug (objects are guarded one by one inside): keep the last plan, so fencing and failover still run.
      this.#o.log.error({ err: String(error) }, 'layer-2 plan failed; keeping the last one');
    }
    const table = this.#o.interfaceTable();
    this.#lastDefaultRoute = { ...this.#lastDefaultRoute, ...table.defaultRoute };
    if (this.#synced) this.#setNotReady(this.#notReadyReason(this.#plan, table));
    const fenced = this.#isFenced(now);
    if (fenced !== this.#wasFenced) {
      this.#wasFenced = fenced;
      this.#o.metrics.fenced(fenced);
      if (fenced && this.#lastRenewStart > Number.NEGATIVE_INFINITY)
        this.#o.log.warn({ node: this.#o.node }, 'fenced: answering nothing');
      else if (!fenced)
        this.#o.log.info(
          { node: this.#o.node },
          probes ? 'lease renewed and confirmed by monitors; answering' : 'own lease renewed; answering',
        );
    }
    const ready = this.#notReady === undefined && now >= this.#rejoinAt;
    // Reported once the caches synced: before, readiness is unknown (and nothing is answered anyway).
    if (this.#synced && ready !== this.#reportedReady) {
      this.#reportedReady = ready;
      const reason: Layer2NotReadyReason | undefined =
        this.#notReady === undefined ? undefined : this.#notReady.startsWith('StaleView') ? 'StaleView' : 'LinkDown';
      this.#o.metrics.ready(ready, reason);
    }
    if (fenced || !ready) live.delete(this.#o.node);
    else live.add(this.#o.node);
    this.#o.metrics.liveSpeakers(live.size);
    this.#o.onLiveNodes?.(live);

    const addresses = [...this.#plan.values()].map((a) => ({ address: a.address, eligible: a.eligible }));
    // The quiet period ended: write the cleared mark now, not at the next renewal.
    if (this.#sentRejoining && !this.#quiet.mark(now)) this.#renewSoon();
    const settled = this.#quiet.settled(now);
    if (!settled) rejoining.add(this.#o.node);
    if (settled && !this.#wasSettled)
      this.#o.log.info({ node: this.#o.node }, 'quiet period over: counting for ownership again');
    this.#wasSettled = settled;
    const owners = probes
      ? ownersByPreference({ addresses, members: probes.members ?? new Set(), live })
      : this.#quiet.enabled
        ? stickyOwnersOf({ addresses, live, rejoining })
        : ownersOf({ addresses, live });
    const owned = new Map<bigint, OwnedAddress>();
    const started =
      this.#synced && this.#lastRenewStart > Number.NEGATIVE_INFINITY && (!probes || probes.members !== undefined);
    if (started && ready && !fenced) {
      for (const [address, owner] of owners) {
        if (owner !== this.#o.node) continue;
        const entry = this.#plan.get(address);
        if (!entry) continue;
        owned.set(address, {
          interfaces: chooseInterfaces(address, entry.interfaces, table),
          services: entry.services,
        });
      }
    }
    this.#setOwned(owned);
    this.#lastPassCost = this.#o.clock.now() - now;

    this.#expiryTimer?.cancel();
    // With probes the runner wakes the speaker (urgent) when its verdicts change; only the Lease fence is timed here.
    const expiry = probes ? undefined : this.#liveness.nextExpiry(now, this.#o.leaseDurationMs);
    const fenceAt = this.#lastRenewStart + this.#o.leaseDurationMs - this.#o.fenceMarginMs;
    const staleViewAt = probes
      ? undefined
      : this.#liveness.nextExpiry(now, this.#o.leaseDurationMs - this.#o.fenceMarginMs);
    const rejoinAt = this.#rejoinAt > now ? this.#rejoinAt : Number.POSITIVE_INFINITY;
    const wakeAt = Math.min(
      this.#quiet.nextChange(now) ?? Number.POSITIVE_INFINITY,
      expiry ?? Number.POSITIVE_INFINITY,
      staleViewAt ?? Number.POSITIVE_INFINITY,
      fenced ? Number.POSITIVE_INFINITY : fenceAt,
      rejoinAt,
    );
    if (Number.isFinite(wakeAt)) {
      // At the deadline itself, not behind the spacing of ordinary passes: fencing must not be late.
      this.#expiryTimer = this.#o.clock.after(Math.max(0, wakeAt - now), () => {
        this.#recomputeTimer?.cancel();
        this.#recomputeTimer = undefined;
        this.#recompute();
      });
    }
  }

  /**
   * Why this node cannot answer correctly now, or undefined. A stale cache (ADR 0013); or an address it is eligible
   * for whose every candidate interface (chosen as if every link were up, with the last default route seen) is down
   * or has broken packet sockets. Host addresses (/32, /128) are no subnet an address lies on: kube-proxy's IPVS mode
   * puts every Service address on kube-ipvs0, a link that is always down. An address with no candidate at all is a configuration problem (a Warning Event when
   * owned), not a dead link: it does not make the node give up its other addresses.
   */
  #notReadyReason(plan: ReadonlyMap<bigint, Layer2Address>, table: InterfaceTable): string | undefined {
    const stale = this.#o.staleViews();
    if (stale.length > 0)
      return `StaleView: no proof within the freshness bound that the ${stale.join(', ')} watch is live`;
    const broken = this.#o.brokenInterfaces();
    const usable = new Set(table.interfaces.filter((i) => i.up && !broken.has(i.name)).map((i) => i.name));
    const allUp: InterfaceTable = {
      interfaces: table.interfaces.map((i) => ({
        ...i,
        up: true,
        addresses: i.addresses.filter((a) => a.prefixLength < (a.family === 4 ? 32 : 128)),
      })),
      defaultRoute: this.#lastDefaultRoute,
    };
    const dead = new Set<string>();
    for (const entry of plan.values()) {
      if (!entry.eligible.includes(this.#o.node)) continue;
      const candidates = chooseInterfaces(entry.address, entry.interfaces, allUp);
      if (candidates.length === 0 || candidates.some((name) => usable.has(name))) continue;
      for (const name of candidates) dead.add(name);
    }
    if (dead.size === 0) return undefined;
    const names = [...dead].sort();
    const brokenOnly = names.every((name) => broken.has(name) && table.interfaces.some((i) => i.name === name && i.up));
    return `LinkDown: ${names.join(', ')} ${brokenOnly ? 'has broken packet sockets' : 'is down'}`;
  }

  #setNotReady(reason: string | undefined): void {
    if (reason === this.#notReady) return;
    const was = this.#notReady;
    this.#notReady = reason;
    if (reason !== undefined) {
      this.#awaitingReadyEcho = false;
      this.#rejoinAt = Number.POSITIVE_INFINITY;
      this.#o.log.warn({ node: this.#o.node, reason }, 'not ready for layer 2: answering nothing, peers take over');
      for (const [address, entry] of this.#owned) {
        for (const service of entry.services) {
          this.#o.recordEvent(
            service,
            'Warning',
            'Layer2NotReady',
            `${formatIp(address)} is no longer announced by node ${this.#o.node}: ${reason}`,
          );
        }
      }
    } else if (this.#o.probes) {
      // (No quiet period with probes: the rejoining mark travels in the Lease, which speakers then do not watch.)
      // Peers hold this node's FENCED for voteValidity; the detector answers only voteValidity + maxDelay after the
      // last one it sent, so no echo of the Lease is needed.
      this.#awaitingReadyEcho = false;
      this.#rejoinAt = Number.NEGATIVE_INFINITY;
      this.#o.log.info({ node: this.#o.node, was }, 'ready for layer 2 again: answering once peers have let go');
    } else {
      this.#awaitingReadyEcho = true;
      this.#rejoinAt = Number.POSITIVE_INFINITY;
      this.#o.log.info({ node: this.#o.node, was }, 'ready for layer 2 again: answering once peers have seen it');
      // The ready renewal carries the rejoining mark: peers never count this node ready and settled too early.
      this.#rejoin(this.#o.clock.now(), this.#othersServe(this.#o.clock.now()), 'ready again');
    }
    this.#renewSoon();
  }

  /** Another live peer counts for ownership (not rejoining): the cluster runs without this node. */
  #othersServe(now: number): boolean {
    const live = this.#liveness.liveNodes(now, this.#o.leaseDurationMs);
    return [...live].some((node) => node !== this.#o.node && !this.#peersRejoining.has(node));
  }

  #rejoin(now: number, othersServe: boolean, why: string): void {
    if (!this.#quiet.enabled) return;
    const wasSettled = this.#quiet.settled(now);
    if (this.#quiet.rejoin(now, othersServe) && wasSettled)
      this.#o.log.info(
        { node: this.#o.node, why, quietMs: this.#o.rejoinQuietMs },
        'rejoining: owning only what no settled peer can serve until the quiet period is over',
      );
  }

  /** Each problem once while it lasts (a level-triggered pass finds it again every time). */
  #reportProblems(problems: readonly PlanProblem[]): void {
    const now = new Set<string>();
    for (const problem of problems) {
      const key = `${problem.kind}/${problem.name}/${problem.message}`;
      now.add(key);
      if (this.#reported.has(key)) continue;
      this.#o.log.warn({ kind: problem.kind, name: problem.name, reason: problem.reason }, problem.message);
      this.#o.recordProblem?.(problem);
    }
    this.#reported = now;
  }

  #setOwned(owned: Map<bigint, OwnedAddress>): void {
    const before = this.#owned;
    this.#owned = owned;
    this.#o.announcer.update(owned);
    this.#o.metrics.owned(owned.size);
    for (const [address, entry] of owned) {
      const was = before.get(address);
      if (was && was.interfaces.join() === entry.interfaces.join()) continue;
      this.#o.metrics.ownershipChange('gained');
      const where = entry.interfaces.length ? entry.interfaces.join(', ') : 'no interface (none matches)';
      this.#o.log.info(
        { ip: formatIp(address), node: this.#o.node, interfaces: entry.interfaces, services: entry.services },
        'announcing',
      );
      for (const service of entry.services) {
        this.#o.recordEvent(
          service,
          entry.interfaces.length ? 'Normal' : 'Warning',
          'AddressAnnounced',
          `${formatIp(address)} is announced by node ${this.#o.node} on ${where}`,
        );
      }
    }
    for (const address of before.keys()) {
      if (owned.has(address)) continue;
      this.#o.metrics.ownershipChange('lost');
      this.#o.log.info({ ip: formatIp(address), node: this.#o.node }, 'no longer announcing');
    }
  }
}
