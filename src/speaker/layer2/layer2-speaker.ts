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
//  - with a rejoin quiet period (ADR 0036), a speaker that comes back while others serve says so (in its Lease with
//    Lease liveness, by the probe detector's REJOINING claims with probes) and owns only what no settled peer can
//    serve until the period is over: one failure moves its addresses once.
// Beside it: its options and contract types (layer2-speaker-options.ts, layer2-announcer.ts, probe-liveness.ts), the
// readiness check (layer2-readiness.ts), what it owns and reports (owned-addresses.ts) and when a pass runs
// (pass-scheduler.ts). Over 400 lines: the rules above share one state (renewals, readiness, the quiet period, the
// fence), and the renewal loop and the pass read and write it both.
import type { Clock, Timer } from '../../core/clock.ts';
import type { Layer2Address, PlanProblem } from '../../core/config/layer2-plan.ts';
import { Layer2PlanCache } from '../../core/config/layer2-plan-cache.ts';
import { PeerLiveness, selfFenced } from '../../core/election/liveness.ts';
import { OwnerTracker, type OwnerPlacement } from '../../core/election/owner-tracker.ts';
import { RejoinQuiet } from '../../core/election/rejoin-quiet.ts';
import { stickyOwnersByPreference, stickyOwnersOf } from '../../core/election/sticky-owner.ts';
import type { Logger } from '../../platform/logger.ts';
import type { InterfaceTable } from '../../platform/network-interfaces.ts';
import { chooseInterfaces } from './interface-choice.ts';
import type { OwnedAddress } from './layer2-announcer.ts';
import { notReadyReason } from './layer2-readiness.ts';
import type { Layer2NotReadyReason, Layer2SpeakerOptions } from './layer2-speaker-options.ts';
import { OwnedAddresses } from './owned-addresses.ts';
import { PassScheduler } from './pass-scheduler.ts';
import type { ProbeLiveness } from './probe-liveness.ts';

export class Layer2Speaker {
  readonly #node: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: Layer2SpeakerOptions['metrics'];
  readonly #inputs: Layer2SpeakerOptions['inputs'];
  readonly #peers: Layer2SpeakerOptions['peers'];
  readonly #renew: Layer2SpeakerOptions['renew'];
  readonly #staleViews: Layer2SpeakerOptions['staleViews'];
  readonly #brokenInterfaces: Layer2SpeakerOptions['brokenInterfaces'];
  readonly #interfaceTable: Layer2SpeakerOptions['interfaceTable'];
  readonly #recordProblem: Layer2SpeakerOptions['recordProblem'];
  readonly #onStaleView: Layer2SpeakerOptions['onStaleView'];
  readonly #onLiveNodes: Layer2SpeakerOptions['onLiveNodes'];
  readonly #onRejoinAtStart: Layer2SpeakerOptions['onRejoinAtStart'];
  readonly #handoverOverlapMs: number;
  readonly #rejoinQuietMs: number | undefined;
  /**
   * The failure detection in force, read on every use: the caller's object itself, as its Lease timings and `probes`
   * may be getters that change when the detection switches (src/cmd/speaker-command.ts, detection-switch.ts).
   */
  readonly #detection: Pick<Layer2SpeakerOptions, 'renewIntervalMs' | 'leaseDurationMs' | 'fenceMarginMs' | 'probes'>;
  readonly #owned: OwnedAddresses;
  readonly #passes: PassScheduler;
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
  #plan: ReadonlyMap<bigint, Layer2Address> = new Map();
  /** The plan and the owners, kept up to date from what changed (ADR 0037). */
  #planner = new Layer2PlanCache();
  readonly #ownerTracker = new OwnerTracker();
  /** The owner tracker missed changes (owners computed another way, or planning failed): recompute all next time. */
  #ownersStale = true;
  /** What the owned addresses were last built from: the interface table and whether this node answered. */
  #ownedTable: InterfaceTable | undefined;
  #answered = false;
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
  /** Fenced until the first renewal succeeds. */
  #wasFenced = true;
  #renewTimer: Timer | undefined;

  constructor(options: Layer2SpeakerOptions) {
    this.#node = options.node;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#inputs = options.inputs;
    this.#peers = options.peers;
    this.#renew = options.renew;
    this.#staleViews = options.staleViews;
    this.#brokenInterfaces = options.brokenInterfaces;
    this.#interfaceTable = options.interfaceTable;
    this.#recordProblem = options.recordProblem;
    this.#onStaleView = options.onStaleView;
    this.#onLiveNodes = options.onLiveNodes;
    this.#onRejoinAtStart = options.onRejoinAtStart;
    this.#handoverOverlapMs = options.handoverOverlapMs;
    this.#rejoinQuietMs = options.rejoinQuietMs;
    this.#detection = options;
    this.#owned = new OwnedAddresses(options);
    this.#passes = new PassScheduler(options.clock, () => this.#recompute());
    // Read with Lease liveness only (and before the detection switch); with probes the detector keeps the period.
    this.#quiet = new RejoinQuiet(options.rejoinQuietMs ?? 0, options.renewIntervalMs);
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
        const peers = this.#peers();
        if (peers.some((peer) => peer.node === this.#node)) {
          const othersServe = peers.some(
            (p) => p.node !== this.#node && !p.leaving && p.layer2NotReady === undefined && !p.rejoining,
          );
          this.#rejoin(this.#clock.now(), othersServe, 'restarted');
          // With probes the mark travels as the detector's REJOINING claim (ADR 0036): tell it before it answers.
          if (othersServe) this.#onRejoinAtStart?.();
        }
        void this.#renewLoop();
      }
      this.#synced = true;
      this.changed();
    });
  }

  /**
   * Something the speaker reads changed: recompute on the next tick, or, within the spacing of passes (50 ms or
   * more, pass-scheduler.ts), once at its end: a burst of Service events costs a few passes, not one per event.
   */
  changed(): void {
    this.#passes.changed();
  }

  /** Something that may fence this node or move addresses at once changed (the probes' verdicts): recompute now. */
  urgent(): void {
    this.#passes.urgent();
  }

  get owned(): ReadonlyMap<bigint, OwnedAddress> {
    return this.#owned.current;
  }

  /** The plan and owner work done so far (Services planned, addresses evaluated): tests prove passes O(changed). */
  get work(): { servicesPlanned: number; ownerEvaluations: number } {
    return { servicesPlanned: this.#planner.servicesPlanned, ownerEvaluations: this.#ownerTracker.evaluations };
  }

  get plan(): ReadonlyMap<bigint, Layer2Address> {
    return this.#plan;
  }

  /** Planned shutdown: mark the Lease leaving, keep answering for the overlap, then fall silent. */
  async leave(): Promise<void> {
    this.#leaving = true;
    this.#detection.probes?.leave();
    this.#renewTimer?.cancel();
    // A renewal still in flight would clear the leaving mark if it landed after it.
    await this.#renewing;
    try {
      await this.#renew(true, 1000, this.#notReady, this.#sentRejoining);
    } catch (error) {
      this.#log.warn({ err: String(error) }, 'could not mark the lease leaving; peers take over when it goes stale');
    }
    await new Promise<void>((resolve) => this.#clock.after(this.#handoverOverlapMs, resolve));
    this.stop();
  }

  stop(): void {
    this.#stopped = true;
    this.#renewTimer?.cancel();
    this.#passes.stop();
    this.#owned.set(new Map());
  }

  async #renewLoop(): Promise<void> {
    if (this.#stopped || this.#leaving) return;
    const started = this.#clock.now();
    let done: () => void = () => undefined;
    this.#renewing = new Promise((resolve) => (done = resolve));
    const notReady = this.#notReady;
    // Renewing while fenced by the Lease: peers may have dropped this node, so this renewal rejoins.
    // (With probes the detector sees its own fence: it sent FENCED, so its return is a re-join there.)
    if (
      this.#quiet.enabled &&
      !this.#detection.probes &&
      this.#lastRenewStart > Number.NEGATIVE_INFINITY &&
      selfFenced(this.#lastRenewStart, started, this.#detection.leaseDurationMs, this.#detection.fenceMarginMs)
    )
      this.#rejoin(started, this.#othersServe(started), 'renewing after a fence');
    const rejoining = this.#markNow(started);
    this.#sentRejoining = rejoining;
    try {
      const version = await this.#renew(false, this.#detection.renewIntervalMs, notReady, rejoining);
      this.#written.set(version, { at: started, ready: notReady === undefined, rejoining });
      for (const [v, { at }] of this.#written)
        if (at < started - 2 * this.#detection.leaseDurationMs) this.#written.delete(v);
      if (this.#firstRenewOk === Number.NEGATIVE_INFINITY) this.#firstRenewOk = started;
      this.#lastRenewStart = started;
    } catch (error) {
      this.#log.warn({ err: String(error) }, 'heartbeat renewal failed');
    } finally {
      done();
      this.#renewing = undefined;
    }
    this.changed();
    if (this.#halted()) return;
    const again = this.#renewAgain || notReady !== this.#notReady || rejoining !== this.#markNow(this.#clock.now());
    this.#renewAgain = false;
    const next = again ? 0 : Math.max(0, this.#detection.renewIntervalMs - (this.#clock.now() - started));
    this.#renewTimer = this.#clock.after(next, () => void this.#renewLoop());
  }

  /**
   * Whether the own Lease says rejoining: the quiet period's mark with Lease liveness (peers read it there); with
   * probes the detector's own view, for `beaconlb status` only (peers hold the REJOINING claims instead).
   */
  #markNow(now: number): boolean {
    const probes = this.#detection.probes;
    return probes ? probes.rejoining(now).has(this.#node) : this.#quiet.mark(now);
  }

  /** Renews now (readiness changed): peers learn it within one write, not one renew interval. */
  #renewSoon(): void {
    if (this.#halted() || this.#lastRenewStart === Number.NEGATIVE_INFINITY) return;
    if (this.#renewing) {
      this.#renewAgain = true;
      return;
    }
    this.#renewTimer?.cancel();
    this.#renewTimer = this.#clock.after(0, () => void this.#renewLoop());
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
    const renewedInTime = !selfFenced(
      this.#lastRenewStart,
      now,
      this.#detection.leaseDurationMs,
      this.#detection.fenceMarginMs,
    );
    const probes = this.#detection.probes;
    if (probes) {
      // The Lease fence is decided here; the probes' own fence (monitor confirmations) by the detector.
      probes.setCannotAnswer(!renewedInTime || (this.#synced && this.#notReady !== undefined));
      return !renewedInTime || !probes.answering(now);
    }
    const viewFresh = this.#liveness
      .liveNodes(now, this.#detection.leaseDurationMs - this.#detection.fenceMarginMs)
      .has(this.#node);
    // Stale only once a write of ours had time to come back: not at start-up, while the first one travels.
    const hadTime = now - this.#firstRenewOk > this.#detection.leaseDurationMs - this.#detection.fenceMarginMs;
    if (renewedInTime && !viewFresh && hadTime && now - this.#lastWatchRestart > this.#detection.leaseDurationMs) {
      this.#lastWatchRestart = now;
      this.#log.warn({ node: this.#node }, 'own renewals do not come back through the watch; reconnecting watches');
      this.#onStaleView();
    }
    return !renewedInTime || !viewFresh;
  }

  /** One ownership pass, unless leaving or stopped (then false). */
  #recompute(): boolean {
    // Leaving: keep answering for what we own until the overlap ends (leave() then stops everything).
    if (this.#stopped || this.#leaving) return false;
    this.#pass();
    return true;
  }

  /** Observes the Leases, plans, checks readiness and the fence, and sets what this node owns. */
  #pass(): void {
    const now = this.#clock.now();
    const rejoining = this.#observePeers(now);
    const probes = this.#detection.probes;
    const live = probes ? probes.live(now) : this.#liveness.liveNodes(now, this.#detection.leaseDurationMs);
    const planChanged = this.#replan();
    const table = this.#interfaceTable();
    this.#lastDefaultRoute = { ...this.#lastDefaultRoute, ...table.defaultRoute };
    if (this.#synced)
      this.#setNotReady(
        notReadyReason({
          node: this.#node,
          plan: this.#plan,
          table,
          lastDefaultRoute: this.#lastDefaultRoute,
          staleViews: this.#staleViews(),
          brokenInterfaces: this.#brokenInterfaces(),
        }),
      );
    const fenced = this.#checkFence(now, probes);
    const ready = this.#checkReady(now);
    if (fenced || !ready) live.delete(this.#node);
    else live.add(this.#node);
    this.#metrics.liveSpeakers(live.size);
    this.#onLiveNodes?.(live);

    const { owners, moved } = this.#owners(now, live, rejoining, probes, planChanged);
    const started =
      this.#synced && this.#lastRenewStart > Number.NEGATIVE_INFINITY && (!probes || probes.members !== undefined);
    this.#setOwned(started && ready && !fenced, owners, moved, planChanged, table);
    this.#scheduleWake(now, fenced, probes);
  }

  /**
   * What this node answers for: rebuilt from every owner when this node starts answering or the interface table
   * changed, else changed only for the addresses whose owner or plan entry changed (ADR 0037).
   */
  #setOwned(
    answer: boolean,
    owners: ReadonlyMap<bigint, string | undefined>,
    moved: ReadonlySet<bigint> | undefined,
    planChanged: ReadonlySet<bigint> | undefined,
    table: InterfaceTable,
  ): void {
    const ownedFor = (address: bigint): OwnedAddress | undefined => {
      if (owners.get(address) !== this.#node) return undefined;
      const entry = this.#plan.get(address);
      return entry && { interfaces: chooseInterfaces(address, entry.interfaces, table), services: entry.services };
    };
    if (!answer) {
      if (this.#answered || this.#owned.current.size > 0) this.#owned.set(new Map());
    } else if (!this.#answered || moved === undefined || planChanged === undefined || table !== this.#ownedTable) {
      const owned = new Map<bigint, OwnedAddress>();
      for (const [address, owner] of owners) {
        if (owner !== this.#node) continue;
        const entry = ownedFor(address);
        if (entry) owned.set(address, entry);
      }
      this.#owned.set(owned);
    } else {
      const changes = new Map<bigint, OwnedAddress | undefined>();
      for (const address of moved) changes.set(address, ownedFor(address));
      for (const address of planChanged) changes.set(address, ownedFor(address));
      this.#owned.apply(changes);
    }
    this.#answered = answer;
    this.#ownedTable = table;
  }

  /** Feeds the peers' Leases (not read with probes) to the liveness; returns the peers marked rejoining. */
  #observePeers(now: number): Set<string> {
    const seen = new Set<string>();
    const rejoining = new Set<string>();
    for (const peer of this.#detection.probes ? [] : this.#peers()) {
      seen.add(peer.node);
      if (peer.rejoining && peer.node !== this.#node) rejoining.add(peer.node);
      if (peer.node === this.#node) {
        // Our own Lease proves a fresh view only in versions this process wrote (not one left by a previous run).
        const written = this.#written.get(peer.version);
        if (written) {
          this.#liveness.observe(peer.node, peer.version, 'active', now);
          this.#quiet.echoed(written.rejoining, written.at, now);
          if (written.ready && this.#awaitingReadyEcho && this.#notReady === undefined) {
            // Peers see this version about when we do; one renew interval more and they have let go.
            this.#awaitingReadyEcho = false;
            this.#rejoinAt = now + this.#detection.renewIntervalMs;
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
    return rejoining;
  }

  /** Updates the plan; returns the addresses whose entry changed (undefined: any may have). */
  #replan(): ReadonlySet<bigint> | undefined {
    try {
      const planned = this.#planner.update(this.#inputs());
      this.#plan = planned.plan;
      this.#reportProblems(planned.problems);
      return planned.changed;
    } catch (error) {
      // A bug (objects are guarded one by one inside): keep the last plan, so fencing and failover still run; the
      // cache may be half updated, so the next pass plans everything again.
      this.#log.error({ err: String(error) }, 'layer-2 plan failed; keeping the last one');
      this.#plan = new Map(this.#plan);
      this.#planner = new Layer2PlanCache();
      this.#ownersStale = true;
      return undefined;
    }
  }

  /** Whether this node is fenced now; logs and counts a change. */
  #checkFence(now: number, probes: ProbeLiveness | undefined): boolean {
    const fenced = this.#isFenced(now);
    if (fenced !== this.#wasFenced) {
      this.#wasFenced = fenced;
      this.#metrics.fenced(fenced);
      if (fenced && this.#lastRenewStart > Number.NEGATIVE_INFINITY)
        this.#log.warn({ node: this.#node }, 'fenced: answering nothing');
      else if (!fenced)
        this.#log.info(
          { node: this.#node },
          probes ? 'lease renewed and confirmed by monitors; answering' : 'own lease renewed; answering',
        );
    }
    return fenced;
  }

  /** Whether this node is ready for layer 2 now; reports a change once the caches synced. */
  #checkReady(now: number): boolean {
    const ready = this.#notReady === undefined && now >= this.#rejoinAt;
    // Reported once the caches synced: before, readiness is unknown (and nothing is answered anyway).
    if (this.#synced && ready !== this.#reportedReady) {
      this.#reportedReady = ready;
      const reason: Layer2NotReadyReason | undefined =
        this.#notReady === undefined ? undefined : this.#notReady.startsWith('StaleView') ? 'StaleView' : 'LinkDown';
      this.#metrics.ready(ready, reason);
    }
    return ready;
  }

  /**
   * The owner of every planned address: by preference with probes, else sticky (quiet period) or rendezvous; and
   * the addresses whose owner changed (undefined: any may have). Incremental (owner-tracker.ts) except while a
   * member is rejoining.
   */
  #owners(
    now: number,
    live: Set<string>,
    rejoining: Set<string>,
    probes: ProbeLiveness | undefined,
    planChanged: ReadonlySet<bigint> | undefined,
  ): { owners: ReadonlyMap<bigint, string | undefined>; moved: ReadonlySet<bigint> | undefined } {
    // With probes the detector keeps the marks (REJOINING claims, its own quiet period): the first settled live
    // member of each address's order, else its first live member (sticky-owner.ts; with no live member rejoining
    // exactly ownersByPreference, kept up to date from what changed).
    if (probes) {
      const members = probes.members ?? new Set<string>();
      const rejoiningNow = probes.rejoining(now);
      if ([...rejoiningNow].some((node) => live.has(node))) {
        const addresses = [...this.#plan.values()].map((a) => ({ address: a.address, eligible: a.eligible }));
        this.#ownersStale = true;
        return {
          owners: stickyOwnersByPreference({ addresses, members, live, rejoining: rejoiningNow }),
          moved: undefined,
        };
      }
      return this.#trackedOwners(planChanged, { kind: 'preference', members, live });
    }
    // The quiet period ended: write the cleared mark now, not at the next renewal.
    if (this.#sentRejoining && !this.#quiet.mark(now)) this.#renewSoon();
    const settled = this.#quiet.settled(now);
    if (!settled) rejoining.add(this.#node);
    if (settled && !this.#wasSettled)
      this.#log.info({ node: this.#node }, 'quiet period over: counting for ownership again');
    this.#wasSettled = settled;
    // With nobody live rejoining stickyOwnersOf is exactly ownersOf: kept up to date from what changed.
    if (this.#quiet.enabled && [...rejoining].some((node) => live.has(node))) {
      const addresses = [...this.#plan.values()].map((a) => ({ address: a.address, eligible: a.eligible }));
      this.#ownersStale = true;
      return { owners: stickyOwnersOf({ addresses, live, rejoining }), moved: undefined };
    }
    return this.#trackedOwners(planChanged, { kind: 'rendezvous', live });
  }

  /** The owners from the tracker, told what changed in the plan (everything after owners computed another way). */
  #trackedOwners(
    planChanged: ReadonlySet<bigint> | undefined,
    placement: OwnerPlacement,
  ): { owners: ReadonlyMap<bigint, string | undefined>; moved: ReadonlySet<bigint> | undefined } {
    const changed = this.#ownersStale ? undefined : planChanged;
    this.#ownersStale = false;
    const moved = this.#ownerTracker.update(this.#plan, changed, placement);
    return { owners: this.#ownerTracker.owners, moved: changed === undefined ? undefined : moved };
  }

  /** The next pass at the next deadline: a peer's expiry, a stale view, the own fence, the end of a wait. */
  #scheduleWake(now: number, fenced: boolean, probes: ProbeLiveness | undefined): void {
    // With probes the runner wakes the speaker (urgent) when its verdicts change; only the Lease fence is timed here.
    const { leaseDurationMs, fenceMarginMs } = this.#detection;
    const expiry = probes ? undefined : this.#liveness.nextExpiry(now, leaseDurationMs);
    const fenceAt = this.#lastRenewStart + leaseDurationMs - fenceMarginMs;
    const staleViewAt = probes ? undefined : this.#liveness.nextExpiry(now, leaseDurationMs - fenceMarginMs);
    const rejoinAt = this.#rejoinAt > now ? this.#rejoinAt : Number.POSITIVE_INFINITY;
    const wakeAt = Math.min(
      (probes ? undefined : this.#quiet.nextChange(now)) ?? Number.POSITIVE_INFINITY,
      expiry ?? Number.POSITIVE_INFINITY,
      staleViewAt ?? Number.POSITIVE_INFINITY,
      fenced ? Number.POSITIVE_INFINITY : fenceAt,
      rejoinAt,
    );
    // At the deadline itself, not behind the spacing of ordinary passes: fencing must not be late.
    this.#passes.wakeAt(wakeAt, now);
  }

  #setNotReady(reason: string | undefined): void {
    if (reason === this.#notReady) return;
    const was = this.#notReady;
    this.#notReady = reason;
    if (reason !== undefined) {
      this.#awaitingReadyEcho = false;
      this.#rejoinAt = Number.POSITIVE_INFINITY;
      this.#log.warn({ node: this.#node, reason }, 'not ready for layer 2: answering nothing, peers take over');
      this.#owned.reportNotReady(reason);
    } else if (this.#detection.probes) {
      // A quiet period with probes is the detector's: it sent FENCED while not ready, so its return is a re-join.
      // Peers hold this node's FENCED for voteValidity; the detector answers only voteValidity + maxDelay after the
      // last one it sent, so no echo of the Lease is needed.
      this.#awaitingReadyEcho = false;
      this.#rejoinAt = Number.NEGATIVE_INFINITY;
      this.#log.info({ node: this.#node, was }, 'ready for layer 2 again: answering once peers have let go');
    } else {
      this.#awaitingReadyEcho = true;
      this.#rejoinAt = Number.POSITIVE_INFINITY;
      this.#log.info({ node: this.#node, was }, 'ready for layer 2 again: answering once peers have seen it');
      // The ready renewal carries the rejoining mark: peers never count this node ready and settled too early.
      this.#rejoin(this.#clock.now(), this.#othersServe(this.#clock.now()), 'ready again');
    }
    this.#renewSoon();
  }

  /** Another live peer counts for ownership (not rejoining): the cluster runs without this node. */
  #othersServe(now: number): boolean {
    const live = this.#liveness.liveNodes(now, this.#detection.leaseDurationMs);
    return [...live].some((node) => node !== this.#node && !this.#peersRejoining.has(node));
  }

  #rejoin(now: number, othersServe: boolean, why: string): void {
    if (!this.#quiet.enabled) return;
    const wasSettled = this.#quiet.settled(now);
    if (this.#quiet.rejoin(now, othersServe) && wasSettled)
      this.#log.info(
        { node: this.#node, why, quietMs: this.#rejoinQuietMs },
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
      this.#log.warn({ kind: problem.kind, name: problem.name, reason: problem.reason }, problem.message);
      this.#recordProblem?.(problem);
    }
    this.#reported = now;
  }
}
