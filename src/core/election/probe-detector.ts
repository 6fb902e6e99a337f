// Failure detection by direct probes with monitor quorums (ADR 0019), as a state machine without I/O: the caller
// feeds it ticks, received datagrams and membership changes with its monotonic time, and sends what it returns.
//
// Every member X has K monitors (the K other members ranked highest by a hash of (X, m)). A monitor probes X every
// probeInterval; without an ACK within probeTimeout it asks helpers to probe X for it (indirect probe) and they
// relay X's ACK. A monitor that has received no ACK from X, directly or relayed, for suspectAfter votes X down:
// DOWN to every member, repeated every voteRefresh while it lasts, held by receivers for voteValidity. X is down
// for a receiver holding votes from a down quorum (a majority of X's monitors). Probes carry the monitor's
// confirmation: the highest ACK sequence it has received from X. X answers only while a fence quorum of its
// monitors (K + 1 − down quorum, so any fence quorum meets any down quorum) has confirmed an ACK that X sent within
// suspectAfter − fenceMargin; after a DOWN a monitor withholds confirmations for voteValidity + maxDelay, and after
// its own FENCED (sent while it cannot answer) X waits as long, so no stale claim is held anywhere when X answers
// again; a (re)started process answers and confirms nothing for as long (it cannot know what its predecessor
// claimed or voted). Together (ADR 0019, P1): a node that answers is down for nobody.
//
// Membership changes (ADR 0019, P4): speakers adopt a new epoch up to membershipSkew apart. An old epoch stays
// active for epochTransition after the new one is adopted: messages of either are accepted, targets of both are
// probed, and a member is down only with a down quorum in EVERY active epoch that has it. A node's fence quorum is
// counted in the old epoch until membershipSkew x 2 after adopting the new one, then in the new one (and the old
// while active): every speaker that may have dropped the old epoch holds the new one by then, and the new monitors
// have adopted it (epochTransition >= 3 x membershipSkew), or at once when it has no monitors in the epoch before
// (a new member, or one listed alone). A node new to the membership answers only when every speaker knows it (sends
// FENCED meanwhile, so others keep its share).
// Record age (ADR 0019): every message reports its sender's newest generation and how long it has held it. So a
// receiver knows that record was published at least that long ago and that the sender holds it; the waits above
// count from the earliest publication so proved instead of this node's own adoption, and end early when every
// member said it holds the record (or, for down votes after a start, a newer one). A monitor keeps probing the
// targets of a dropped epoch for membershipSkew more: a target that adopted the next one later still counts it.
// Stalls (ADR 0019, "Event-loop stalls"): a step that comes more than probeInterval after the previous one means this
// node's own event loop (or clock) stalled. It does not count the stalled interval against its targets (their
// silence is measured without it, so a vote waits for suspectAfter of time in which this node listened), and for
// stallGrace (suspectAfter - fenceMargin) after the stall it sends no FENCED, so the datagrams queued during the stall
// are read and answered before it judges itself. `answering` is not relaxed: a node answers only with a fence quorum.
// Stickiness (ADR 0036, "Probe detector"): with a rejoin quiet period, a node that stopped answering after it had
// answered (it sent FENCED: peers may have taken its share), or a process told `rejoin` (it replaces one that served),
// is *rejoining* when it comes back while another live member is settled in its view: it sends REJOINING to every
// member (from while it is still fenced, so peers hold the mark before they count it live again) until the quiet
// period after its return is over; receivers hold the claim for voteValidity; it counts itself settled only
// voteValidity + maxDelay after its last REJOINING, when nobody holds one (rule I of sticky-owner.ts).
// Not here: the Lease fence (fed in with `lease-fenced`), authentication and encoding (src/protocol/probe); the
// timings, messages, monitor ranking and epochs (probe-timings.ts, probe-messages.ts, monitor-ranking.ts,
// membership-epoch.ts), what the reports tell about record ages (record-ages.ts). Over 600 lines: one state machine
// whose handlers share its targets, votes, claims and epochs (the fence, the votes and the stickiness marks are read
// together by `answering`, `live` and the tick); a split would pass that state from one part to the next.
import { adoptEpoch, type Epoch } from './membership-epoch.ts';
import { RecordAges } from './record-ages.ts';
import { quorums, rankForTarget } from './monitor-ranking.ts';
import type { ProbeEvent, ProbeMessage, ProbeSend, RecordReport } from './probe-messages.ts';
import { DEFAULT_PROBE_TIMINGS, type ProbeTimings } from './probe-timings.ts';

interface TargetState {
  /** When this node started monitoring the target or last received an ACK from it (direct or relayed). */
  lastAckAt: number;
  highestAck: number | null;
  /** The probe not yet answered (cleared by its ACK). */
  pending: { seq: number; sentAt: number; indirect: boolean } | undefined;
  lastPingAt: number | undefined;
  lastDownAt: number | undefined;
}

interface Proxied {
  monitor: string;
  monitorSeq: number;
  target: string;
  sentAt: number;
}

export class ProbeDetector {
  readonly self: string;
  readonly #t: ProbeTimings;
  readonly #startedAt: number;
  /** Active epochs, oldest first; the last is current. */
  #epochs: Epoch[] = [];
  /**
   * Epochs dropped less than membershipSkew ago: their targets are still probed (and confirmed), as a target that
   * adopted the next epoch later than this node counts its fence in the dropped one for up to that much longer.
   */
  #lingering: Array<{ epoch: Epoch; until: number }> = [];
  /** When this node adopted the first epoch of its current run of memberships, and that epoch's generation. */
  #memberSince: number | undefined;
  #memberSinceGeneration = 0;
  /** When this process adopted its first epoch (it knows no predecessor to hold a transition with), and its generation. */
  #firstAdoptedAt: number | undefined;
  /** What peers' reports tell about the records' age (ADR 0019, "Record age"). */
  readonly #ages: RecordAges;
  /** Members this node monitors. */
  readonly #targets = new Map<string, TargetState>();
  #seq = 0;
  #ackSeq = 0;
  /** Send time of each recent ACK of ours, by ACK sequence. */
  readonly #ackSentAt = new Map<number, number>();
  /** Per monitor of ours: send time of the newest ACK of ours it confirmed. */
  readonly #confirmedAt = new Map<string, number>();
  readonly #proxied = new Map<number, Proxied>();
  /** Held DOWN votes: target -> voter -> receipt time. */
  readonly #votes = new Map<string, Map<string, number>>();
  /** Held FENCED / LEAVING claims: member -> receipt time. */
  readonly #claims = new Map<string, number>();
  #lastFencedAt: number | undefined;
  /** Time of the previous step, and until when a stall seen at a step suspends FENCED and DOWN (see the file comment). */
  #lastStepAt: number;
  #stallGraceUntil = Number.NEGATIVE_INFINITY;
  /** When the last stall began and ended: claims and votes read just after it may have arrived during it. */
  #stallBegan = Number.NEGATIVE_INFINITY;
  #stallEnded = Number.NEGATIVE_INFINITY;
  #leaseFenced = false;
  #leaving = false;
  /** Ownership stickiness (ADR 0036): the quiet period after a re-join; 0: off (the claims of others still count). */
  readonly #rejoinQuietMs: number;
  /** Held REJOINING claims: member -> receipt time. */
  readonly #rejoiningClaims = new Map<string, number>();
  /** This process has answered at least once (a later FENCED means peers may have taken its share). */
  #answeredOnce = false;
  /** Away and may have been replaced by peers: the next return to answering is a re-join. */
  #replaced = false;
  /** The quiet period runs until then (pushed forward while away, fixed from the return on). */
  #quietUntil = Number.NEGATIVE_INFINITY;
  #lastRejoiningAt: number | undefined;

  constructor(self: string, now: number, timings: ProbeTimings = DEFAULT_PROBE_TIMINGS, rejoinQuietMs = 0) {
    this.self = self;
    this.#t = timings;
    this.#rejoinQuietMs = rejoinQuietMs;
    this.#ages = new RecordAges(timings.membershipSkewMs);
    this.#startedAt = now;
    this.#lastStepAt = now;
    if (timings.epochTransitionMs < 3 * timings.membershipSkewMs)
      throw new RangeError('epochTransitionMs must be at least 3 x membershipSkewMs');
  }

  get #current(): Epoch | undefined {
    return this.#epochs[this.#epochs.length - 1];
  }

  get #epoch(): string {
    return this.#current?.id ?? '';
  }

  get #members(): readonly string[] {
    return this.#current?.members ?? [];
  }

  /** Drops old epochs whose transition is over. */
  #prune(now: number): void {
    let changed = false;
    for (
      let next = this.#epochs[1];
      next && now - next.adoptedAt >= this.#t.epochTransitionMs;
      next = this.#epochs[1]
    ) {
      const dropped = this.#epochs.shift();
      if (dropped) {
        this.#ages.dropped(dropped);
        this.#lingering.push({ epoch: dropped, until: now + this.#t.membershipSkewMs });
      }
      changed = true;
    }
    const lingering = this.#lingering.length;
    this.#lingering = this.#lingering.filter((l) => now < l.until);
    if (changed || this.#lingering.length !== lingering) this.#syncTargets(now);
  }

  /** Whether `voter` monitors `target` in some active epoch. */
  #monitorsInAnyEpoch(target: string, voter: string): boolean {
    return this.#epochs.some((e) => e.monitorsOf.get(target)?.includes(voter) ?? false);
  }

  /** Whether `leave` was stepped (the runner stops answering after its hand-over overlap). */
  get leaving(): boolean {
    return this.#leaving;
  }

  get members(): readonly string[] {
    return this.#members;
  }

  /** The monitors of `member` in the current epoch. */
  monitorsOf(member: string): readonly string[] {
    return this.#current?.monitorsOf.get(member) ?? [];
  }

  /** The members this node probes. */
  get targets(): string[] {
    return [...this.#targets.keys()];
  }

  step(event: ProbeEvent, now: number): ProbeSend[] {
    const sends = this.#handle(event, now);
    const current = this.#current;
    if (!current || sends.length === 0) return sends;
    const report: RecordReport = { generation: current.generation, heldMs: Math.max(0, now - current.adoptedAt) };
    return sends.map((s) => ({ ...s, message: { ...s.message, report } }));
  }

  #handle(event: ProbeEvent, now: number): ProbeSend[] {
    this.#noteStall(now);
    this.#prune(now);
    switch (event.type) {
      case 'membership':
        this.#setMembership(event.members, event.epoch, event.generation, now);
        return this.#tick(now);
      case 'tick':
        return this.#tick(now);
      case 'receive':
        // Any authenticated sender's report and ping (a monitor that adopted a newer record than this node probes
        // it already; an ACK only proves life), anything else from members of an active epoch: speakers adopt
        // epochs at different moments, and every check below uses this node's own epochs (the tag is for
        // diagnostics), so a newer tag is no risk.
        if (event.message.report) this.#ages.note(event.from, event.message.report, now);
        return event.message.kind === 'ping' || this.#epochs.some((e) => e.memberSet.has(event.from))
          ? this.#receive(event.from, event.message, now)
          : [];
      case 'lease-fenced':
        this.#leaseFenced = event.fenced;
        return this.#tick(now);
      case 'restarted': {
        const target = this.#targets.get(event.member);
        if (target) {
          target.highestAck = null;
          target.pending = undefined;
        }
        this.#confirmedAt.delete(event.member);
        this.#ages.forget(event.member);
        return [];
      }
      case 'rejoin':
        if (this.#rejoinQuietMs > 0) this.#replaced = true;
        return this.#tick(now);
      case 'leave':
        this.#leaving = true;
        return this.#broadcast({ kind: 'leaving', epoch: this.#epoch });
    }
  }

  /** A step later than probeInterval after the previous one: this node stalled; judge nobody by the stalled interval. */
  #noteStall(now: number): void {
    const gap = now - this.#lastStepAt;
    if (gap > this.#t.probeIntervalMs) {
      this.#stallGraceUntil = now + this.#t.suspectAfterMs - this.#t.fenceMarginMs;
      this.#stallBegan = this.#lastStepAt;
      this.#stallEnded = now;
      for (const target of this.#targets.values()) target.lastAckAt = Math.min(now, target.lastAckAt + gap);
    }
    this.#lastStepAt = Math.max(this.#lastStepAt, now);
  }

  /**
   * When a claim or vote read at `now` arrived, at the earliest: datagrams read within a probe interval after a stall
   * may have waited in the socket during it. Its sender's quiet time (V + Δ) counts from its sending, so holding it
   * from the stall's start keeps it no longer than the sender assumes (holding it shorter only moves less).
   */
  #receivedAt(now: number): number {
    return now < this.#stallEnded + this.#t.probeIntervalMs ? this.#stallBegan : now;
  }

  /** Whether a recent stall of this node still suspends its FENCED messages. */
  stalledRecently(now: number): boolean {
    return now < this.#stallGraceUntil;
  }

  /** Whether this node may answer for addresses at `now` (check before every answer). */
  answering(now: number): boolean {
    if (!this.#current?.memberSet.has(this.self) || this.#memberSince === undefined) return false;
    if (this.#fenceCause(now)) return false;
    if (this.#newMember(now)) return false;
    const quiet = this.#t.voteValidityMs + this.#t.maxDelayMs;
    return now >= this.#startedAt + quiet && (this.#lastFencedAt === undefined || now >= this.#lastFencedAt + quiet);
  }

  /**
   * A node new to the membership answers only membershipSkew after adopting it, when every speaker knows it (P4
   * rule 4), unless it was listed from the first record on (generation 1): no speaker holds an older record then,
   * and speakers still on Lease liveness are kept apart by the switch's quiet time ("Start-up and fallback").
   */
  #newMember(now: number): boolean {
    if (this.#memberSince === undefined || this.#memberSinceGeneration === 1) return false;
    return !this.#ages.joinKnown(this.#memberSince, now);
  }

  /**
   * Whether `member` surely holds a newer record than this process's first (ADR 0019, "Record age", rule 1): it said
   * so, or this node holds one that every unfenced speaker holds by now (published membershipSkew ago). A member that
   * holds a record newer than F counts its fence in F (no longer the newest) or, when it has no monitors there, in the
   * next one at once; either is a record this node holds (it adopts every record from F on).
   */
  #holdsNewerThanFirst(member: string, now: number): boolean {
    const first = this.#ages.firstGeneration;
    if (this.#ages.reported(member) > first) return true;
    return this.#epochs.some(
      (e) => e.generation > first && now >= this.#ages.publishedBy(e) + this.#t.membershipSkewMs,
    );
  }

  /** Whether `member` is down here: a down quorum of its monitors' votes is held. */
  isDown(member: string, now: number): boolean {
    const votes = this.#votes.get(member);
    if (!votes) return false;
    // A process that started with the newest epoch has no older one to require quorums in; a node that has not
    // adopted it yet counts its fence in an older epoch until 3 x membershipSkew after it was published (see the
    // file comment), unless it is the first record of all (generation 1: there is no older one).
    if (this.#firstAdoptedAt === undefined) return false;
    if (
      this.#ages.firstGeneration !== 1 &&
      now < this.#ages.firstPublishedBy + 3 * this.#t.membershipSkewMs &&
      !this.#holdsNewerThanFirst(member, now)
    )
      return false;
    let epochs = 0;
    for (const [i, epoch] of this.#epochs.entries()) {
      if (!epoch.memberSet.has(member)) continue;
      const monitors = epoch.monitorsOf.get(member) ?? [];
      if (monitors.length === 0) {
        // Listed alone: no quorum can exist here. Skip it once the member surely holds the next epoch, in which it
        // has monitors: from its adoption it counts its fence there (#fenceCause), and this node holds it too.
        const next = this.#epochs[i + 1];
        if (next && (next.monitorsOf.get(member)?.length ?? 0) > 0 && this.#ages.surelyHolds(member, next, now))
          continue;
        return false;
      }
      let valid = 0;
      for (const voter of monitors) {
        const at = votes.get(voter);
        if (at !== undefined && now - at < this.#t.voteValidityMs) valid++;
      }
      if (valid < quorums(monitors.length).down) return false;
      epochs++;
    }
    return epochs > 0;
  }

  /** The live set: members not down and without a held FENCED or LEAVING; this node itself only while it answers. */
  live(now: number): Set<string> {
    const live = new Set<string>();
    for (const member of this.#members) {
      if (member === this.self) {
        if (this.answering(now)) live.add(member);
        continue;
      }
      const claim = this.#claims.get(member);
      if (claim !== undefined && now - claim < this.#t.voteValidityMs) continue;
      if (!this.isDown(member, now)) live.add(member);
    }
    return live;
  }

  /**
   * The members that are not live here (other than this node): the same answer as `live`, found from the held
   * votes and claims only, so a caller can check it on every tick at O(held claims), not O(members).
   */
  notLive(now: number): Set<string> {
    const out = new Set<string>();
    const members = this.#current?.memberSet;
    if (!members) return out;
    for (const [member, at] of this.#claims)
      if (member !== this.self && members.has(member) && now - at < this.#t.voteValidityMs) out.add(member);
    for (const member of this.#votes.keys())
      if (member !== this.self && members.has(member) && !out.has(member) && this.isDown(member, now)) out.add(member);
    return out;
  }

  /**
   * The members in their quiet period after a re-join here (ADR 0036): those whose REJOINING claim is held, and this
   * node itself while it does not count itself settled. Owners: stickyOwnersByPreference over this and the live set.
   */
  rejoining(now: number): Set<string> {
    const out = new Set<string>();
    const members = this.#current?.memberSet;
    if (!members) return out;
    for (const [member, at] of this.#rejoiningClaims)
      if (member !== this.self && members.has(member) && now - at < this.#t.voteValidityMs) out.add(member);
    if (!this.settled(now)) out.add(this.self);
    return out;
  }

  /**
   * Whether this node counts itself for ownership like any live member: not in a quiet period, and no receiver can
   * still hold a REJOINING of its (the last one is voteValidity + maxDelay old: rule I of sticky-owner.ts).
   */
  settled(now: number): boolean {
    if (now < this.#quietUntil) return false;
    const last = this.#lastRejoiningAt;
    return last === undefined || now >= last + this.#t.voteValidityMs + this.#t.maxDelayMs;
  }

  /** Another member is live and settled in this node's view: the cluster runs without it. */
  #othersServe(now: number): boolean {
    const notLive = this.notLive(now);
    const rejoining = this.rejoining(now);
    return this.#members.some((m) => m !== this.self && !notLive.has(m) && !rejoining.has(m));
  }

  /** The quiet period (ADR 0036): begins when a node that may have been replaced comes back, REJOINING while it lasts. */
  #stickiness(now: number, out: ProbeSend[]): void {
    if (this.#rejoinQuietMs <= 0) return;
    const answering = this.answering(now);
    if (this.#replaced) {
      // Pushed forward while away, so the period counts from the return; the claims go out before it.
      if (this.#othersServe(now)) this.#quietUntil = now + this.#rejoinQuietMs;
      if (answering) this.#replaced = false;
    } else if (answering && now < this.#quietUntil && !this.#othersServe(now)) {
      // Nobody else serves any more: the period ends (this node settles once no REJOINING of its is held).
      this.#quietUntil = now;
    }
    if (answering) this.#answeredOnce = true;
    if (
      now < this.#quietUntil &&
      this.#current?.memberSet.has(this.self) &&
      (this.#lastRejoiningAt === undefined || now - this.#lastRejoiningAt >= this.#t.voteRefreshMs)
    ) {
      this.#lastRejoiningAt = now;
      out.push(...this.#broadcast({ kind: 'rejoining', epoch: this.#epoch }));
    }
  }

  /** Why this node cannot answer now, if it cannot: the Lease fence, or too few monitors confirming a recent ACK. */
  #fenceCause(now: number): boolean {
    if (this.#leaseFenced) return true;
    const freshAfter = now - (this.#t.suspectAfterMs - this.#t.fenceMarginMs);
    const newest = this.#current;
    const countNewest = this.#countsNewestAtOnce();
    for (const epoch of this.#epochs) {
      // The newest epoch counts only once its monitors have surely adopted it (unless it is the only one, or this
      // node has no monitors in the one before: then nothing else could fence it).
      if (epoch === newest && !countNewest && now < epoch.adoptedAt + 2 * this.#t.membershipSkewMs) continue;
      const monitors = epoch.monitorsOf.get(this.self);
      if (!monitors || monitors.length === 0) continue;
      let confirmed = 0;
      for (const m of monitors) {
        const at = this.#confirmedAt.get(m);
        if (at !== undefined && at > freshAfter) confirmed++;
      }
      if (confirmed < quorums(monitors.length).fence) return true;
    }
    return false;
  }

  /** Whether the newest epoch counts for this node's fence from its adoption: the only one, or none before it fences. */
  #countsNewestAtOnce(): boolean {
    const previous = this.#epochs[this.#epochs.length - 2];
    return previous === undefined || (previous.monitorsOf.get(this.self)?.length ?? 0) === 0;
  }

  #setMembership(list: readonly string[], id: string, generation: number, now: number): void {
    const current = this.#current;
    if (current && (generation <= current.generation || current.id === id)) return;
    const epoch = adoptEpoch(list, id, generation, this.#t.monitors, now);
    const memberSet = epoch.memberSet;
    let joined = false;
    if (!memberSet.has(this.self)) {
      this.#memberSince = undefined;
      this.#ages.leftMembership();
    } else if (this.#memberSince === undefined) {
      this.#memberSince = now;
      this.#memberSinceGeneration = generation;
      joined = true;
    }
    this.#epochs.push(epoch);
    this.#ages.adopted(epoch, now, joined);
    this.#firstAdoptedAt ??= now;
    if (this.#memberSince !== undefined) this.#ages.awaitJoinReports(epoch.members, this.self);
    // Counting a new epoch's fence at once: its monitors' confirmations may still be on their way (they probe this
    // node since they adopted it), so no FENCED for the grace a stall gets.
    if (this.#epochs.length > 1 && this.#countsNewestAtOnce() && (epoch.monitorsOf.get(this.self)?.length ?? 0) > 0)
      this.#stallGraceUntil = Math.max(this.#stallGraceUntil, now + this.#t.suspectAfterMs - this.#t.fenceMarginMs);
    this.#syncTargets(now);
    for (const m of this.#claims.keys()) if (!memberSet.has(m)) this.#claims.delete(m);
    for (const m of this.#rejoiningClaims.keys()) if (!memberSet.has(m)) this.#rejoiningClaims.delete(m);
    this.#ages.keepOnly((m) => this.#epochs.some((e) => e.memberSet.has(m)));
  }

  /** Probes every member this node monitors in some active epoch, keeping the state of those it already probed. */
  #syncTargets(now: number): void {
    const targets = new Set<string>();
    for (const epoch of [...this.#lingering.map((l) => l.epoch), ...this.#epochs]) {
      for (const [member, monitors] of epoch.monitorsOf)
        if (member !== this.self && monitors.includes(this.self)) targets.add(member);
    }
    for (const target of this.#targets.keys()) if (!targets.has(target)) this.#targets.delete(target);
    for (const target of targets) {
      if (!this.#targets.has(target))
        this.#targets.set(target, {
          lastAckAt: now,
          highestAck: null,
          pending: undefined,
          lastPingAt: undefined,
          lastDownAt: undefined,
        });
    }
  }

  #broadcast(message: ProbeMessage): ProbeSend[] {
    return this.#members.filter((m) => m !== this.self).map((to) => ({ type: 'send', to, message }));
  }

  /**
   * Whether this node withholds its confirmation of `target`: for V + Δ after its last DOWN about it (the hold-down),
   * and for V + Δ after this process started, since it cannot know what its previous incarnation voted (a monitor
   * restarted right after voting would otherwise confirm at once, while its predecessor's vote is still held).
   */
  #heldDown(target: TargetState, now: number): boolean {
    const quiet = this.#t.voteValidityMs + this.#t.maxDelayMs;
    if (now < this.#startedAt + quiet) return true;
    return target.lastDownAt !== undefined && now < target.lastDownAt + quiet;
  }

  #tick(now: number): ProbeSend[] {
    const out: ProbeSend[] = [];
    if (this.#epoch === '') return out;
    const stalled = this.stalledRecently(now);
    for (const [name, target] of this.#targets) {
      if (
        now - target.lastAckAt >= this.#t.suspectAfterMs &&
        (target.lastDownAt === undefined || now - target.lastDownAt >= this.#t.voteRefreshMs)
      ) {
        target.lastDownAt = now;
        this.#holdVote(name, this.self, now);
        out.push(...this.#broadcast({ kind: 'down', epoch: this.#epoch, target: name }));
      }
      const confirmed = this.#heldDown(target, now) ? null : target.highestAck;
      if (target.lastPingAt === undefined || now - target.lastPingAt >= this.#t.probeIntervalMs) {
        const seq = ++this.#seq;
        target.pending = { seq, sentAt: now, indirect: false };
        target.lastPingAt = now;
        out.push({
          type: 'send',
          to: name,
          message: { kind: 'ping', epoch: this.#epoch, seq, for: this.self, confirmed },
        });
      } else if (target.pending && !target.pending.indirect && now - target.pending.sentAt >= this.#t.probeTimeoutMs) {
        target.pending.indirect = true;
        const monitors = this.monitorsOf(name);
        const helpers = rankForTarget(name, this.#members)
          .filter((m) => m !== this.self)
          .slice(monitors.length)
          .slice(0, this.#t.indirectHelpers);
        // Fewer members than monitors + helpers: ask the other monitors.
        const asked = helpers.length ? helpers : monitors.filter((m) => m !== this.self);
        for (const helper of asked)
          out.push({
            type: 'send',
            to: helper,
            message: { kind: 'ping-req', epoch: this.#epoch, target: name, seq: target.pending.seq, confirmed },
          });
      }
    }
    for (const [seq, p] of this.#proxied) if (now - p.sentAt > this.#t.probeIntervalMs) this.#proxied.delete(seq);
    // Expired votes and claims count for nothing (every check compares their age with voteValidity): drop them.
    for (const [target, votes] of this.#votes) {
      for (const [voter, at] of votes) if (now - at >= this.#t.voteValidityMs) votes.delete(voter);
      if (votes.size === 0) this.#votes.delete(target);
    }
    for (const [member, at] of this.#claims) if (now - at >= this.#t.voteValidityMs) this.#claims.delete(member);
    for (const [member, at] of this.#rejoiningClaims)
      if (now - at >= this.#t.voteValidityMs) this.#rejoiningClaims.delete(member);
    for (const [seq, at] of this.#ackSentAt) if (now - at > 2 * this.#t.suspectAfterMs) this.#ackSentAt.delete(seq);
    // Confirmations older than the fence window count for nothing (and strangers' ones must not pile up).
    for (const [m, at] of this.#confirmedAt) if (now - at > 2 * this.#t.suspectAfterMs) this.#confirmedAt.delete(m);
    if (
      !stalled &&
      this.#current?.memberSet.has(this.self) &&
      (this.#fenceCause(now) || this.#newMember(now)) &&
      (this.#lastFencedAt === undefined || now - this.#lastFencedAt >= this.#t.voteRefreshMs)
    ) {
      this.#lastFencedAt = now;
      // Peers drop this node on the claim and serve its share: coming back is a re-join (ADR 0036).
      if (this.#answeredOnce && this.#rejoinQuietMs > 0) this.#replaced = true;
      out.push(...this.#broadcast({ kind: 'fenced', epoch: this.#epoch }));
    }
    this.#stickiness(now, out);
    return out;
  }

  #receive(from: string, message: ProbeMessage, now: number): ProbeSend[] {
    switch (message.kind) {
      case 'ping': {
        // Listed out of this node's newest record (it left, and this is its next process): a monitor whose record is
        // no newer still lists it from before, and must go on voting it down, or its own record would count this
        // silent node live and give it its old addresses until it adopts the newer one (up to membershipSkew).
        const current = this.#current;
        if (
          current &&
          !current.memberSet.has(this.self) &&
          (message.report?.generation ?? Infinity) <= current.generation
        )
          return [];
        const ackSeq = ++this.#ackSeq;
        this.#ackSentAt.set(ackSeq, now);
        // Kept from any sender: #fenceCause counts only those of this node's monitors in each epoch, so a monitor
        // of a record this node has not adopted yet has its confirmation counted from the adoption on.
        if (message.confirmed !== null) {
          const sentAt = this.#ackSentAt.get(message.confirmed);
          const known = this.#confirmedAt.get(message.for);
          if (sentAt !== undefined && (known === undefined || sentAt > known))
            this.#confirmedAt.set(message.for, sentAt);
        }
        return [{ type: 'send', to: from, message: { kind: 'ack', epoch: this.#epoch, seq: message.seq, ackSeq } }];
      }
      case 'ack': {
        const proxied = this.#proxied.get(message.seq);
        if (proxied && proxied.target === from) {
          this.#proxied.delete(message.seq);
          return [
            {
              type: 'send',
              to: proxied.monitor,
              message: {
                kind: 'relay',
                epoch: this.#epoch,
                target: from,
                seq: proxied.monitorSeq,
                ackSeq: message.ackSeq,
              },
            },
          ];
        }
        this.#ackFrom(from, message.seq, message.ackSeq, now);
        return [];
      }
      case 'relay':
        this.#ackFrom(message.target, message.seq, message.ackSeq, now);
        return [];
      case 'ping-req': {
        if (!this.#epochs.some((e) => e.memberSet.has(message.target)) || message.target === this.self) return [];
        const seq = ++this.#seq;
        this.#proxied.set(seq, { monitor: from, monitorSeq: message.seq, target: message.target, sentAt: now });
        return [
          {
            type: 'send',
            to: message.target,
            message: { kind: 'ping', epoch: this.#epoch, seq, for: from, confirmed: message.confirmed },
          },
        ];
      }
      case 'down': {
        if (this.#monitorsInAnyEpoch(message.target, from)) this.#holdVote(message.target, from, this.#receivedAt(now));
        return [];
      }
      case 'fenced':
      case 'leaving':
        this.#claims.set(from, this.#receivedAt(now));
        return [];
      case 'rejoining':
        // Dated like the other claims: held no longer than voteValidity after it arrived (rule I needs no more).
        this.#rejoiningClaims.set(from, this.#receivedAt(now));
        return [];
    }
  }

  #holdVote(target: string, voter: string, now: number): void {
    let votes = this.#votes.get(target);
    if (!votes) this.#votes.set(target, (votes = new Map<string, number>()));
    votes.set(voter, now);
  }

  /** An ACK of `target` reached this node (directly or relayed): any receipt is evidence of life. */
  #ackFrom(target: string, seq: number, ackSeq: number, now: number): void {
    const state = this.#targets.get(target);
    if (!state) return;
    state.lastAckAt = now;
    if (state.highestAck === null || ackSeq > state.highestAck) state.highestAck = ackSeq;
    if (state.pending?.seq === seq) state.pending = undefined;
  }
}
