// Runs the failure detector of ADR 0019 on one speaker: steps the pure ProbeDetector (src/core/election) every tick
// and for every datagram, signs and encodes what it returns (src/protocol/probe) and sends it to the member's probe
// address from the membership record; decodes, authenticates and de-duplicates what arrives (ReplayGuard). Tells
// the layer-2 speaker when its live set or its own right to answer changed (checked every tick, so a fence is at
// most one tick late; the speaker also asks `answering(now)` before every ownership pass).
import type { Clock, Timer } from '../../core/clock.ts';
import { ProbeDetector } from '../../core/election/probe-detector.ts';
import type { ProbeEvent, ProbeSend } from '../../core/election/probe-messages.ts';
import { DEFAULT_PROBE_TIMINGS, type ProbeTimings } from '../../core/election/probe-timings.ts';
import { decodeProbeDatagram, encodeProbeDatagram, type ProbeKey } from '../../protocol/probe/probe-datagram.ts';
import { ReplayGuard } from '../../protocol/probe/replay-guard.ts';
import type { Logger } from '../../platform/logger.ts';

/** One member of the membership record: its node and where its detector listens. */
export interface ProbeMember {
  readonly node: string;
  readonly address: string;
  readonly port: number;
}

export interface ProbeMembership {
  readonly members: readonly ProbeMember[];
  /** Identifies the member list (a hash); at most 64 bytes. */
  readonly epoch: string;
  /** Increases with every new record; an older one is ignored. */
  readonly generation: number;
}

export type ProbeRejectReason = 'decode' | 'auth' | 'replay' | 'stale-vote' | 'not-for-us' | 'no-key';

export interface ProbeMetrics {
  sent(count: number): void;
  received(): void;
  rejected(reason: ProbeRejectReason): void;
}

export interface ProbeRunnerOptions {
  node: string;
  clock: Clock;
  log: Logger;
  timings?: ProbeTimings;
  /** Sends bytes to a member's probe address. */
  send: (bytes: Uint8Array, address: string, port: number) => void;
  /** The cluster keys: the first signs, every one is accepted (current, then previous). */
  keys: () => readonly ProbeKey[];
  /** This process's incarnation (random per start): receivers restart their replay windows with it. */
  incarnation: bigint;
  /** Wall-clock seconds (DOWN votes carry them against replays to a restarted receiver). */
  wallSecond: () => number;
  /** The live set or this node's right to answer changed. */
  onChange: () => void;
  metrics?: ProbeMetrics;
  /** Step interval (default a quarter of the probe timeout). */
  tickMs?: number;
  /** Ownership stickiness (ADR 0036): the quiet period after a re-join; 0 or absent: off. */
  rejoinQuietMs?: number;
}

export class ProbeRunner {
  readonly #node: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #sendBytes: ProbeRunnerOptions['send'];
  readonly #keys: ProbeRunnerOptions['keys'];
  readonly #incarnation: bigint;
  readonly #wallSecond: ProbeRunnerOptions['wallSecond'];
  readonly #onChange: ProbeRunnerOptions['onChange'];
  readonly #metrics: ProbeMetrics | undefined;
  readonly #detector: ProbeDetector;
  readonly #guard = new ReplayGuard();
  readonly #tickMs: number;
  #members = new Map<string, ProbeMember>();
  /**
   * Senders not (yet) in a record this node holds, where their authenticated datagrams came from: a monitor that
   * adopted a newer record probes this node before this node reads it, and gets its ACK here. At most 64.
   */
  readonly #strangers = new Map<string, ProbeMember>();
  #memberSet: ReadonlySet<string> | undefined;
  #seq = 0;
  #timer: Timer | undefined;
  #stopped = false;
  #lastAnswering = false;
  #lastNotLive = '';
  #lastRejoining = '';
  #cannotAnswer = false;
  #warnedNoKey = false;
  /** Per member: the incarnation heard last and the ones it replaced (their late datagrams are dropped). */
  readonly #incarnations = new Map<string, { current: bigint; retired: Set<bigint> }>();

  constructor(options: ProbeRunnerOptions) {
    this.#node = options.node;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#sendBytes = options.send;
    this.#keys = options.keys;
    this.#incarnation = options.incarnation;
    this.#wallSecond = options.wallSecond;
    this.#onChange = options.onChange;
    this.#metrics = options.metrics;
    const timings = options.timings ?? DEFAULT_PROBE_TIMINGS;
    this.#tickMs = options.tickMs ?? Math.max(5, Math.floor(timings.probeTimeoutMs / 4));
    this.#detector = new ProbeDetector(options.node, options.clock.now(), timings, options.rejoinQuietMs ?? 0);
  }

  start(): void {
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  /** The members of the newest record adopted (undefined before the first). */
  get members(): ReadonlySet<string> | undefined {
    return this.#memberSet;
  }

  /** Whether this node may answer at `now` (the detector's fence quorum, quiet times, membership age). */
  answering(now: number): boolean {
    return !this.#stopped && this.#detector.answering(now);
  }

  /** The live members in this node's view, itself included only while it may answer. */
  live(now: number): Set<string> {
    const live = new Set<string>();
    if (!this.#memberSet) return live;
    const notLive = this.#detector.notLive(now);
    for (const member of this.#memberSet) if (member !== this.#node && !notLive.has(member)) live.add(member);
    if (this.answering(now)) live.add(this.#node);
    return live;
  }

  /** Members in their quiet period after a re-join in this node's view (ADR 0036), itself while not settled. */
  rejoining(now: number): Set<string> {
    return this.#detector.rejoining(now);
  }

  /**
   * This process replaces an earlier one of this node that served while peers serve (its own Lease was there at
   * start): with a quiet period, its first return to answering is a re-join.
   */
  rejoin(): void {
    this.#step({ type: 'rejoin' });
    this.#check();
  }

  /** The monitors that probe this node and the members it probes (for logs and status). */
  get targets(): string[] {
    return this.#detector.targets;
  }

  /** A new membership record (from the API, read with every Lease renewal). */
  setMembership(record: ProbeMembership): void {
    const members = new Map(record.members.map((m) => [m.node, m]));
    const known = this.#detector.members;
    this.#step({
      type: 'membership',
      members: [...members.keys()],
      epoch: record.epoch,
      generation: record.generation,
    });
    if (this.#detector.members === known) return;
    for (const node of this.#members.keys()) if (!members.has(node)) this.#guard.forget(node);
    // Addresses of members of older epochs still in transition are kept until they leave every epoch.
    this.#members = new Map([...[...this.#members].filter(([node]) => !members.has(node)), ...members]);
    for (const node of members.keys()) this.#strangers.delete(node);
    this.#memberSet = new Set(this.#detector.members);
    this.#check();
  }

  /** This node must not answer for a reason outside the detector (its Lease fence, not ready): peers hear FENCED. */
  setCannotAnswer(cannot: boolean): void {
    if (cannot === this.#cannotAnswer) return;
    this.#cannotAnswer = cannot;
    this.#step({ type: 'lease-fenced', fenced: cannot });
    this.#check();
  }

  /** Planned shutdown: tells every member at once (they take over before this node stops). */
  leave(): void {
    this.#step({ type: 'leave' });
  }

  /** A datagram from the network, and where it came from. */
  receive(bytes: Uint8Array, source?: { address: string; port: number }): void {
    if (this.#stopped) return;
    const keys = this.#keys();
    if (keys.length === 0) {
      this.#metrics?.rejected('no-key');
      return;
    }
    const decoded = decodeProbeDatagram(bytes, keys);
    if (!decoded.ok) {
      this.#metrics?.rejected(decoded.error.reason === 'invalid' ? 'auth' : 'decode');
      return;
    }
    const d = decoded.value;
    if (d.to !== this.#node) {
      this.#metrics?.rejected('not-for-us');
      return;
    }
    const known = this.#incarnations.get(d.from);
    if (known?.retired.has(d.incarnation)) {
      this.#metrics?.rejected('replay');
      return;
    }
    if (known === undefined) this.#incarnations.set(d.from, { current: d.incarnation, retired: new Set() });
    else if (known.current !== d.incarnation) {
      known.retired.add(known.current);
      if (known.retired.size > 16) known.retired.delete(known.retired.values().next().value ?? 0n);
      known.current = d.incarnation;
      this.#log.info({ node: this.#node, member: d.from }, 'failure detector: member restarted');
      this.#step({ type: 'restarted', member: d.from });
    }
    const verdict = this.#guard.check(d, this.#wallSecond());
    if (verdict !== 'accept') {
      this.#metrics?.rejected(verdict === 'replayed' ? 'replay' : 'stale-vote');
      return;
    }
    this.#metrics?.received();
    if (source && !this.#members.has(d.from)) {
      this.#strangers.delete(d.from);
      this.#strangers.set(d.from, { node: d.from, ...source });
      if (this.#strangers.size > 64) this.#strangers.delete(this.#strangers.keys().next().value ?? '');
    }
    this.#step({ type: 'receive', from: d.from, message: d.message });
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.after(this.#tickMs, () => {
      this.#step({ type: 'tick' });
      this.#check();
      this.#schedule();
    });
  }

  #step(event: ProbeEvent): void {
    if (this.#stopped) return;
    this.#send(this.#detector.step(event, this.#clock.now()));
  }

  /** Calls onChange when this node's right to answer, the members it counts not live or the rejoining ones changed. */
  #check(): void {
    const now = this.#clock.now();
    const answering = this.answering(now);
    const notLive = [...this.#detector.notLive(now)].sort().join(',');
    const rejoining = [...this.#detector.rejoining(now)].sort().join(',');
    if (answering === this.#lastAnswering && notLive === this.#lastNotLive && rejoining === this.#lastRejoining) return;
    if (answering !== this.#lastAnswering)
      this.#log.info(
        { node: this.#node, answering },
        answering ? 'failure detector: answering' : 'failure detector: not answering',
      );
    if (notLive !== this.#lastNotLive)
      this.#log.info({ node: this.#node, notLive }, 'failure detector: live set changed');
    if (rejoining !== this.#lastRejoining)
      this.#log.info({ node: this.#node, rejoining }, 'failure detector: rejoining members changed');
    this.#lastAnswering = answering;
    this.#lastNotLive = notLive;
    this.#lastRejoining = rejoining;
    this.#onChange();
  }

  #send(sends: readonly ProbeSend[]): void {
    if (sends.length === 0) return;
    const key = this.#keys()[0];
    if (!key) {
      if (!this.#warnedNoKey)
        this.#log.warn({ node: this.#node }, 'failure detector: no cluster key yet; sending nothing');
      this.#warnedNoKey = true;
      return;
    }
    this.#warnedNoKey = false;
    const wallSecond = this.#wallSecond();
    let sent = 0;
    for (const { to, message } of sends) {
      const member = this.#members.get(to) ?? this.#strangers.get(to);
      if (!member) continue;
      this.#seq = (this.#seq + 1) >>> 0;
      const bytes = encodeProbeDatagram(
        { incarnation: this.#incarnation, seq: this.#seq, wallSecond, from: this.#node, to, message },
        key,
      );
      this.#sendBytes(bytes, member.address, member.port);
      sent++;
    }
    this.#metrics?.sent(sent);
  }
}
