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
// Not here yet: the membership-change window of ADR 0019 (P4; messages of another epoch are ignored), the Lease
// fence (fed in with `leaseFenced`), authentication and encoding (the transport's).

/** The timings of ADR 0019, in milliseconds of the monotonic clock. */
export interface ProbeTimings {
  probeIntervalMs: number;
  probeTimeoutMs: number;
  indirectHelpers: number;
  suspectAfterMs: number;
  fenceMarginMs: number;
  voteValidityMs: number;
  voteRefreshMs: number;
  /** Assumed upper bound on a datagram's delay (later ones are assumed lost). */
  maxDelayMs: number;
  /** Monitors per member (fewer when the membership is smaller). */
  monitors: number;
}

export const DEFAULT_PROBE_TIMINGS: ProbeTimings = {
  probeIntervalMs: 100,
  probeTimeoutMs: 50,
  indirectHelpers: 2,
  suspectAfterMs: 500,
  fenceMarginMs: 200,
  voteValidityMs: 2000,
  voteRefreshMs: 500,
  maxDelayMs: 1000,
  monitors: 3,
};

/** What travels between speakers (authenticated and encoded by the transport). */
export type ProbeMessage =
  /** Probe; `confirmed`: the highest ACK sequence the monitor `for` has received from the target (null: none, or held down). */
  | { kind: 'ping'; epoch: string; seq: number; for: string; confirmed: number | null }
  | { kind: 'ack'; epoch: string; seq: number; ackSeq: number }
  | { kind: 'ping-req'; epoch: string; target: string; seq: number; confirmed: number | null }
  | { kind: 'relay'; epoch: string; target: string; seq: number; ackSeq: number }
  | { kind: 'down'; epoch: string; target: string }
  | { kind: 'fenced'; epoch: string }
  | { kind: 'leaving'; epoch: string };

export interface ProbeSend {
  type: 'send';
  to: string;
  message: ProbeMessage;
}

export type ProbeEvent =
  | { type: 'tick' }
  | { type: 'receive'; from: string; message: ProbeMessage }
  /** The membership record (sorted or not) and its epoch. */
  | { type: 'membership'; members: readonly string[]; epoch: string }
  /** The Lease fence (ADR 0007's rule at the Lease's cadence), decided outside. */
  | { type: 'lease-fenced'; fenced: boolean }
  | { type: 'leave' };

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

/** Monitor ranking: a 32-bit mix of FNV-1a over "target\0member" (any deterministic hash every speaker shares works). */
function pairWeight(target: string, member: string): number {
  let h = 0x811c9dc5;
  const text = `${target}\u0000${member}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The other members ranked for `target`: highest weight first, ties by name. */
export function rankForTarget(target: string, members: readonly string[]): string[] {
  return members
    .filter((m) => m !== target)
    .map((m) => ({ m, w: pairWeight(target, m) }))
    .sort((a, b) => b.w - a.w || (a.m < b.m ? -1 : a.m > b.m ? 1 : 0))
    .map((x) => x.m);
}

/** The quorums for K monitors: a down quorum is a majority; a fence quorum meets every down quorum. */
export function quorums(monitors: number): { down: number; fence: number } {
  const down = Math.floor(monitors / 2) + 1;
  return { down, fence: monitors - down + 1 };
}

export class ProbeDetector {
  readonly self: string;
  readonly #t: ProbeTimings;
  readonly #startedAt: number;
  #epoch = '';
  #members: string[] = [];
  /** Monitors of every member, in this epoch. */
  #monitorsOf = new Map<string, string[]>();
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
  #leaseFenced = false;
  #leaving = false;

  constructor(self: string, now: number, timings: ProbeTimings = DEFAULT_PROBE_TIMINGS) {
    this.self = self;
    this.#t = timings;
    this.#startedAt = now;
  }

  /** Whether `leave` was stepped (the runner stops answering after its hand-over overlap). */
  get leaving(): boolean {
    return this.#leaving;
  }

  get members(): readonly string[] {
    return this.#members;
  }

  monitorsOf(member: string): readonly string[] {
    return this.#monitorsOf.get(member) ?? [];
  }

  /** The members this node probes. */
  get targets(): string[] {
    return [...this.#targets.keys()];
  }

  step(event: ProbeEvent, now: number): ProbeSend[] {
    switch (event.type) {
      case 'membership':
        this.#setMembership(event.members, event.epoch, now);
        return this.#tick(now);
      case 'tick':
        return this.#tick(now);
      case 'receive':
        return event.message.epoch === this.#epoch && this.#members.includes(event.from) ? this.#receive(event.from, event.message, now) : [];
      case 'lease-fenced':
        this.#leaseFenced = event.fenced;
        return this.#tick(now);
      case 'leave':
        this.#leaving = true;
        return this.#broadcast({ kind: 'leaving', epoch: this.#epoch });
    }
  }

  /** Whether this node may answer for addresses at `now` (check before every answer). */
  answering(now: number): boolean {
    if (!this.#members.includes(this.self)) return false;
    if (this.#fenceCause(now)) return false;
    const quiet = this.#t.voteValidityMs + this.#t.maxDelayMs;
    return now >= this.#startedAt + quiet && (this.#lastFencedAt === undefined || now >= this.#lastFencedAt + quiet);
  }

  /** Whether `member` is down here: a down quorum of its monitors' votes is held. */
  isDown(member: string, now: number): boolean {
    const monitors = this.#monitorsOf.get(member) ?? [];
    const votes = this.#votes.get(member);
    if (!votes || monitors.length === 0) return false;
    let valid = 0;
    for (const voter of monitors) {
      const at = votes.get(voter);
      if (at !== undefined && now - at < this.#t.voteValidityMs) valid++;
    }
    return valid >= quorums(monitors.length).down;
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

  /** Why this node cannot answer now, if it cannot: the Lease fence, or too few monitors confirming a recent ACK. */
  #fenceCause(now: number): boolean {
    if (this.#leaseFenced) return true;
    const monitors = this.#monitorsOf.get(this.self) ?? [];
    const need = quorums(monitors.length).fence;
    if (monitors.length === 0) return false;
    const freshAfter = now - (this.#t.suspectAfterMs - this.#t.fenceMarginMs);
    let confirmed = 0;
    for (const m of monitors) {
      const at = this.#confirmedAt.get(m);
      if (at !== undefined && at > freshAfter) confirmed++;
    }
    return confirmed < need;
  }

  #setMembership(members: readonly string[], epoch: string, now: number): void {
    if (epoch === this.#epoch) return;
    this.#epoch = epoch;
    this.#members = [...new Set(members)].sort();
    this.#monitorsOf = new Map();
    for (const member of this.#members) {
      const k = Math.min(this.#t.monitors, this.#members.length - 1);
      this.#monitorsOf.set(member, rankForTarget(member, this.#members).slice(0, k));
    }
    const targets = new Set(this.#members.filter((m) => m !== this.self && this.#monitorsOf.get(m)?.includes(this.self)));
    for (const target of this.#targets.keys()) if (!targets.has(target)) this.#targets.delete(target);
    for (const target of targets) {
      if (!this.#targets.has(target)) this.#targets.set(target, { lastAckAt: now, highestAck: null, pending: undefined, lastPingAt: undefined, lastDownAt: undefined });
    }
    // Confirmations and votes of another epoch's monitors do not count (ADR 0019, P4, not yet the joint window).
    for (const m of this.#confirmedAt.keys()) if (!this.#monitorsOf.get(this.self)?.includes(m)) this.#confirmedAt.delete(m);
    this.#votes.clear();
    for (const m of this.#claims.keys()) if (!this.#members.includes(m)) this.#claims.delete(m);
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
    for (const [name, target] of this.#targets) {
      if (now - target.lastAckAt >= this.#t.suspectAfterMs && (target.lastDownAt === undefined || now - target.lastDownAt >= this.#t.voteRefreshMs)) {
        target.lastDownAt = now;
        this.#holdVote(name, this.self, now);
        out.push(...this.#broadcast({ kind: 'down', epoch: this.#epoch, target: name }));
      }
      const confirmed = this.#heldDown(target, now) ? null : target.highestAck;
      if (target.lastPingAt === undefined || now - target.lastPingAt >= this.#t.probeIntervalMs) {
        const seq = ++this.#seq;
        target.pending = { seq, sentAt: now, indirect: false };
        target.lastPingAt = now;
        out.push({ type: 'send', to: name, message: { kind: 'ping', epoch: this.#epoch, seq, for: this.self, confirmed } });
      } else if (target.pending && !target.pending.indirect && now - target.pending.sentAt >= this.#t.probeTimeoutMs) {
        target.pending.indirect = true;
        const helpers = rankForTarget(name, this.#members)
          .filter((m) => m !== this.self)
          .slice(this.#monitorsOf.get(name)?.length ?? 0)
          .slice(0, this.#t.indirectHelpers);
        // Fewer members than monitors + helpers: ask the other monitors.
        const asked = helpers.length ? helpers : (this.#monitorsOf.get(name) ?? []).filter((m) => m !== this.self);
        for (const helper of asked) out.push({ type: 'send', to: helper, message: { kind: 'ping-req', epoch: this.#epoch, target: name, seq: target.pending.seq, confirmed } });
      }
    }
    for (const [seq, p] of this.#proxied) if (now - p.sentAt > this.#t.probeIntervalMs) this.#proxied.delete(seq);
    for (const [seq, at] of this.#ackSentAt) if (now - at > 2 * this.#t.suspectAfterMs) this.#ackSentAt.delete(seq);
    if (this.#members.includes(this.self) && this.#fenceCause(now) && (this.#lastFencedAt === undefined || now - this.#lastFencedAt >= this.#t.voteRefreshMs)) {
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
        if (message.confirmed !== null && this.#monitorsOf.get(this.self)?.includes(message.for)) {
          const sentAt = this.#ackSentAt.get(message.confirmed);
          const known = this.#confirmedAt.get(message.for);
          if (sentAt !== undefined && (known === undefined || sentAt > known)) this.#confirmedAt.set(message.for, sentAt);
        }
        return [{ type: 'send', to: from, message: { kind: 'ack', epoch: this.#epoch, seq: message.seq, ackSeq } }];
      }
      case 'ack': {
        const proxied = this.#proxied.get(message.seq);
        if (proxied && proxied.target === from) {
          this.#proxied.delete(message.seq);
          return [{ type: 'send', to: proxied.monitor, message: { kind: 'relay', epoch: this.#epoch, target: from, seq: proxied.monitorSeq, ackSeq: message.ackSeq } }];
        }
        this.#ackFrom(from, message.seq, message.ackSeq, now);
        return [];
      }
      case 'relay':
        this.#ackFrom(message.target, message.seq, message.ackSeq, now);
        return [];
      case 'ping-req': {
        if (!this.#members.includes(message.target) || message.target === this.self) return [];
        const seq = ++this.#seq;
        this.#proxied.set(seq, { monitor: from, monitorSeq: message.seq, target: message.target, sentAt: now });
        return [{ type: 'send', to: message.target, message: { kind: 'ping', epoch: this.#epoch, seq, for: from, confirmed: message.confirmed } }];
      }
      case 'down': {
        if (this.#monitorsOf.get(message.target)?.includes(from)) this.#holdVote(message.target, from, now);
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
