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
// again. Together (ADR 0019, P1): a node that answers is down for nobody.
//
// Membership changes (ADR 0019, P4): speakers adopt a new epoch up to membershipSkew apart. An old epoch stays
// active for epochTransition after the new one is adopted: messages of either are accepted, targets of both are
// probed, and a member is down only with a down quorum in EVERY active epoch that has it. A node's fence quorum is
// counted in the old epoch until membershipSkew x 2 after adopting the new one, then in the new one (and the old
// while active): every speaker that may have dropped the old epoch holds the new one by then, and the new monitors
// have adopted it (epochTransition >= 3 x membershipSkew). A node new to the membership answers only
// membershipSkew after adopting it, when every speaker knows it.
// Stalls (ADR 0019, "Event-loop stalls"): a step that comes more than probeInterval after the previous one means this
// node's own event loop (or clock) stalled. It does not count the stalled interval against its targets (their
// silence is measured without it, so a vote waits for suspectAfter of time in which this node listened), and for
// stallGrace (suspectAfter - fenceMargin) after the stall it sends no FENCED, so the datagrams queued during the stall
// are read and answered before it judges itself. `answering` is not relaxed: a node answers only with a fence quorum.
// Not here: the Lease fence (fed in with `lease-fenced`), authentication and encoding (src/protocol/probe); the
// timings, messages, monitor ranking and epochs (probe-timings.ts, probe-messages.ts, monitor-ranking.ts,
// membership-epoch.ts). Over 400 lines: one state machine whose handlers share its targets, votes and epochs.
import { adoptEpoch, type Epoch } from './membership-epoch.ts';
import { quorums, rankForTarget } from './monitor-ranking.ts';
import type { ProbeEvent, ProbeMessage, ProbeSend } from './probe-messages.ts';
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
  /** When this node adopted the first epoch of its current run of memberships, and that epoch's generation. */
  #memberSince: number | undefined;
  #memberSinceGeneration = 0;
  /** When this process adopted its first epoch (it knows no predecessor to hold a transition with). */
  #firstAdoptedAt: number | undefined;
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
  #leaseFenced = false;
  #leaving = false;

  constructor(self: string, now: number, timings: ProbeTimings = DEFAULT_PROBE_TIMINGS) {
    this.self = self;
    this.#t = timings;
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
      this.#epochs.shift();
      changed = true;
    }
    if (changed) this.#syncTargets(now);
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
    this.#noteStall(now);
    this.#prune(now);
    switch (event.type) {
      case 'membership':
        this.#setMembership(event.members, event.epoch, event.generation, now);
        return this.#tick(now);
      case 'tick':
        return this.#tick(now);
      case 'receive':
        // Any sender that is a member of an active epoch: speakers adopt epochs at different moments, and every
        // check below uses this node's own epochs (the tag is for diagnostics), so a newer tag is no risk.
        return this.#epochs.some((e) => e.memberSet.has(event.from))
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
        return [];
      }
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
      for (const target of this.#targets.values()) target.lastAckAt = Math.min(now, target.lastAckAt + gap);
    }
    this.#lastStepAt = Math.max(this.#lastStepAt, now);
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
    return now < this.#memberSince + this.#t.membershipSkewMs && this.#memberSince > this.#startedAt;
  }

  /** Whether `member` is down here: a down quorum of its monitors' votes is held. */
  isDown(member: string, now: number): boolean {
    const votes = this.#votes.get(member);
    if (!votes) return false;
    // A process that started with the newest epoch has no older one to require quorums in; a node that has not
    // adopted it yet counts its fence in the older epoch for up to 3 x membershipSkew (see the file comment).
    if (this.#firstAdoptedAt === undefined || now < this.#firstAdoptedAt + 3 * this.#t.membershipSkewMs) return false;
    let epochs = 0;
    for (const epoch of this.#epochs) {
      if (!epoch.memberSet.has(member)) continue;
      const monitors = epoch.monitorsOf.get(member) ?? [];
      if (monitors.length === 0) return false;
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

  /** Why this node cannot answer now, if it cannot: the Lease fence, or too few monitors confirming a recent ACK. */
  #fenceCause(now: number): boolean {
    if (this.#leaseFenced) return true;
    const freshAfter = now - (this.#t.suspectAfterMs - this.#t.fenceMarginMs);
    const newest = this.#current;
    for (const epoch of this.#epochs) {
      // The newest epoch counts only once its monitors have surely adopted it (unless it is the only one).
      if (epoch === newest && this.#epochs.length > 1 && now < epoch.adoptedAt + 2 * this.#t.membershipSkewMs) continue;
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

  #setMembership(list: readonly string[], id: string, generation: number, now: number): void {
    const current = this.#current;
    if (current && (generation <= current.generation || current.id === id)) return;
    const epoch = adoptEpoch(list, id, generation, this.#t.monitors, now);
    const memberSet = epoch.memberSet;
    if (!memberSet.has(this.self)) this.#memberSince = undefined;
    else if (this.#memberSince === undefined) {
      this.#memberSince = now;
      this.#memberSinceGeneration = generation;
    }
    this.#epochs.push(epoch);
    this.#firstAdoptedAt ??= now;
    this.#syncTargets(now);
    for (const m of this.#claims.keys()) if (!memberSet.has(m)) this.#claims.delete(m);
  }

  /** Probes every member this node monitors in some active epoch, keeping the state of those it already probed. */
  #syncTargets(now: number): void {
    const targets = new Set<string>();
    for (const epoch of this.#epochs) {
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

  #heldDown(target: TargetState, now: number): boolean {
    return target.lastDownAt !== undefined && now < target.lastDownAt + this.#t.voteValidityMs + this.#t.maxDelayMs;
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
    for (const [seq, at] of this.#ackSentAt) if (now - at > 2 * this.#t.suspectAfterMs) this.#ackSentAt.delete(seq);
    if (
      !stalled &&
      this.#current?.memberSet.has(this.self) &&
      this.#fenceCause(now) &&
      (this.#lastFencedAt === undefined || now - this.#lastFencedAt >= this.#t.voteRefreshMs)
    ) {
      this.#lastFencedAt = now;
      out.push(...this.#broadcast({ kind: 'fenced', epoch: this.#epoch }));
    }
    return out;
  }

  #receive(from: string, message: ProbeMessage, now: number): ProbeSend[] {
    switch (message.kind) {
      case 'ping': {
        const ackSeq = ++this.#ackSeq;
        this.#ackSentAt.set(ackSeq, now);
        if (message.confirmed !== null && this.#monitorsInAnyEpoch(this.self, message.for)) {
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
        if (this.#monitorsInAnyEpoch(message.target, from)) this.#holdVote(message.target, from, now);
        return [];
      }
      case 'fenced':
      case 'leaving':
        this.#claims.set(from, now);
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
