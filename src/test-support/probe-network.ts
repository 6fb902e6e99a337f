// The simulated network the probe detector's tests run on (ADR 0019): datagrams with random delay (never above the
// assumed bound), loss, directed link cuts, kills and restarts, in 10 ms steps; P1 (a node that answers is down for
// nobody) checked after every step, and with `addresses` set the ownership of ADR 0036 too (rule I: a node that
// answers and counts itself settled is counted rejoining by no answering node; no address owned by two answering
// nodes that hold the same membership).
import { preferenceOrders } from '../core/election/preference-owner.ts';
import { ProbeDetector } from '../core/election/probe-detector.ts';
import type { ProbeMessage, ProbeSend } from '../core/election/probe-messages.ts';
import { DEFAULT_PROBE_TIMINGS, type ProbeTimings } from '../core/election/probe-timings.ts';
import { seededRandom } from '../core/seeded-random.ts';

export const STEP_MS = 10;
/** Membership epochs adopted up to 2 s apart (the default 10 s would only make the simulation longer). */
export const SIM_TIMINGS: ProbeTimings = { ...DEFAULT_PROBE_TIMINGS, membershipSkewMs: 2000, epochTransitionMs: 6000 };

interface InFlight {
  at: number;
  from: string;
  /** The sender's process (a restart is a new one). */
  incarnation: number;
  to: string;
  message: ProbeMessage;
}

export class SimulatedNetwork {
  now = 0;
  readonly names: string[];
  readonly nodes = new Map<string, ProbeDetector>();
  readonly alive = new Set<string>();
  /** Directed links that drop everything: `from>to`. */
  readonly cut = new Set<string>();
  loss = 0;
  /** Probability that a datagram takes a long (but at most maxDelay) time. */
  slow = 0;
  #queue: InFlight[] = [];
  readonly #rng: () => number;
  #epoch: string;
  /** Generations start at 1, as the controller's records do. */
  #epochs = 1;
  /** Membership deliveries still to happen (adopted at different times by different nodes). */
  #adoptions: Array<{ at: number; node: string; members: string[]; epoch: string; generation: number }> = [];
  /** First P1 violation seen, if any. */
  violation: string | undefined;
  /** Nodes whose event loop is stalled, until when: no ticks, datagrams to them wait in the queue. */
  readonly frozen = new Map<string, number>();
  /** Nodes that stepped `leave`, and when their hand-over overlap ends (the runner then stops them). */
  readonly leaving = new Map<string, number>();
  /** Datagrams sent, by `sender:kind`. */
  readonly sent = new Map<string, number>();
  /** Per node, its process's incarnation; per receiver, the newest incarnation of each sender it has heard. */
  readonly #incarnation = new Map<string, number>();
  readonly #heard = new Map<string, Map<string, number>>();

  /** How long after its start a process reads its first membership record (the speaker reads it with a renewal). */
  readonly #firstReadMs: number;

  readonly #timings: ProbeTimings;
  /** Every process's rejoin quiet period (ADR 0036); 0: off. */
  readonly #rejoinQuietMs: number;
  /** Layer-2 addresses whose ownership is checked after every step (ADR 0036); none: not checked. */
  addresses: ReadonlyArray<{ address: bigint; eligible: readonly string[] }> = [];
  /** Preference orders by membership (the member list joined). */
  readonly #orders = new Map<string, Map<bigint, string[]>>();

  constructor(count: number, seed = 1, firstReadMs = 0, timings = SIM_TIMINGS, rejoinQuietMs = 0) {
    this.#firstReadMs = firstReadMs;
    this.#timings = timings;
    this.#rejoinQuietMs = rejoinQuietMs;
    this.names = Array.from({ length: count }, (_, i) => `node-${i + 1}`);
    this.#rng = seededRandom(seed);
    this.#epoch = `epoch-${this.#epochs}`;
    for (const name of this.names) this.start(name);
  }

  /**
   * A new membership, adopted by each running node at a random moment within the skew, or `adoptAfter[node]`
   * milliseconds from now.
   */
  changeMembership(
    members: readonly string[],
    skewMs = SIM_TIMINGS.membershipSkewMs,
    adoptAfter: Readonly<Record<string, number>> = {},
  ): void {
    this.names.splice(0, this.names.length, ...members);
    this.#epoch = `epoch-${++this.#epochs}`;
    for (const node of this.alive)
      this.#adoptions.push({
        at: this.now + (adoptAfter[node] ?? this.#rng() * skewMs),
        node,
        members: [...members],
        epoch: this.#epoch,
        generation: this.#epochs,
      });
  }

  /**
   * Starts `name`'s process (again), `startedMsAgo` before now (a speaker runs before it reads a record); `rejoin`:
   * told that it replaces an earlier process that served (the speaker found its own Lease, ADR 0036).
   */
  start(name: string, startedMsAgo = 0, rejoin = false): void {
    const detector = new ProbeDetector(name, this.now - startedMsAgo, this.#timings, this.#rejoinQuietMs);
    this.nodes.set(name, detector);
    this.alive.add(name);
    this.#incarnation.set(name, (this.#incarnation.get(name) ?? 0) + 1);
    this.#heard.delete(name);
    if (rejoin) this.#send(name, detector.step({ type: 'rejoin' }, this.now));
    if (this.#firstReadMs > 0) {
      const [members, epoch, generation] = [[...this.names], this.#epoch, this.#epochs];
      this.#adoptions.push({ at: this.now + this.#firstReadMs, node: name, members, epoch, generation });
      return;
    }
    this.#send(
      name,
      detector.step(
        { type: 'membership', members: this.names, epoch: this.#epoch, generation: this.#epochs },
        this.now,
      ),
    );
  }

  kill(name: string): void {
    this.alive.delete(name);
    this.leaving.delete(name);
  }

  /** SIGTERM: `name` says LEAVING to every member, answers on for the hand-over overlap, then stops. */
  leave(name: string, overlapMs = 1000): void {
    this.#send(name, this.#node(name).step({ type: 'leave' }, this.now));
    this.leaving.set(name, this.now + overlapMs);
  }

  isolate(name: string, inbound = true, outbound = true): void {
    for (const other of this.names) {
      if (other === name) continue;
      if (outbound) this.cut.add(`${name}>${other}`);
      if (inbound) this.cut.add(`${other}>${name}`);
    }
  }

  /**
   * One of the faults the random tests draw, by name: a directed link cut (a > b), an isolation (both ways, inbound
   * or outbound only), a heal, a kill, a stall of `x` × 2 s, loss `x`, slow datagrams with probability `x` / 4.
   * Returns false for any other kind (the test applies its own).
   */
  fault(kind: string, a: string, b: string, x: number): boolean {
    if (kind === 'cut') {
      if (a !== b) this.cut.add(`${a}>${b}`);
    } else if (kind === 'isolate') this.isolate(a);
    else if (kind === 'isolate-in') this.isolate(a, true, false);
    else if (kind === 'isolate-out') this.isolate(a, false, true);
    else if (kind === 'heal') this.heal();
    else if (kind === 'kill') this.kill(a);
    else if (kind === 'stall') this.stall(a, x * 2000);
    else if (kind === 'loss') this.loss = x;
    else if (kind === 'slow') this.slow = x / 4;
    else return false;
    return true;
  }

  heal(): void {
    this.cut.clear();
  }

  /** Stalls `name`'s event loop for `ms` (GC, CPU starvation): it runs nothing, and reads its datagrams afterwards. */
  stall(name: string, ms: number): void {
    this.frozen.set(name, Math.max(this.frozen.get(name) ?? 0, this.now + ms));
  }

  sentBy(name: string, kind: ProbeMessage['kind']): number {
    return this.sent.get(`${name}:${kind}`) ?? 0;
  }

  #send(from: string, actions: readonly ProbeSend[]): void {
    for (const action of actions) {
      const key = `${from}:${action.message.kind}`;
      this.sent.set(key, (this.sent.get(key) ?? 0) + 1);
      if (this.cut.has(`${from}>${action.to}`) || this.#rng() < this.loss) continue;
      const delay = this.#rng() < this.slow ? this.#rng() * DEFAULT_PROBE_TIMINGS.maxDelayMs : 0.1 + this.#rng() * 2;
      const incarnation = this.#incarnation.get(from) ?? 0;
      this.#queue.push({ at: this.now + delay, from, incarnation, to: action.to, message: action.message });
    }
  }

  /** Advances one step: delivers what is due (in order of arrival), ticks every live node, checks P1. */
  step(): void {
    this.now += STEP_MS;
    for (const [name, until] of this.leaving) if (until <= this.now) this.kill(name);
    // A node waking from a stall runs its timers (the tick) before it reads the datagrams queued meanwhile.
    const woke = new Set<string>();
    for (const [name, until] of this.frozen) {
      if (until > this.now) continue;
      this.frozen.delete(name);
      woke.add(name);
      if (this.alive.has(name)) this.#send(name, this.#node(name).step({ type: 'tick' }, this.now));
    }
    for (const a of this.#adoptions.filter((x) => x.at <= this.now && !this.frozen.has(x.node))) {
      if (this.alive.has(a.node))
        this.#send(
          a.node,
          this.#node(a.node).step(
            { type: 'membership', members: a.members, epoch: a.epoch, generation: a.generation },
            this.now,
          ),
        );
    }
    this.#adoptions = this.#adoptions.filter((x) => x.at > this.now || this.frozen.has(x.node));
    this.#queue.sort((a, b) => a.at - b.at);
    const waiting: InFlight[] = [];
    for (let d = this.#queue[0]; d !== undefined && d.at <= this.now; d = this.#queue[0]) {
      this.#queue.shift();
      if (!this.alive.has(d.to)) continue;
      if (this.frozen.has(d.to)) {
        waiting.push(d);
        continue;
      }
      const node = this.#node(d.to);
      const at = woke.has(d.to) ? this.now : d.at;
      // As the runner does (probe-runner.ts): a sender's new incarnation is a restart, told to the detector at its
      // first datagram; late datagrams of the incarnations it replaced are dropped.
      let heard = this.#heard.get(d.to);
      if (!heard) this.#heard.set(d.to, (heard = new Map<string, number>()));
      const known = heard.get(d.from);
      if (known !== undefined && d.incarnation < known) continue;
      heard.set(d.from, d.incarnation);
      if (known !== undefined && d.incarnation > known)
        this.#send(d.to, node.step({ type: 'restarted', member: d.from }, at));
      this.#send(d.to, node.step({ type: 'receive', from: d.from, message: d.message }, at));
    }
    this.#queue.push(...waiting);
    for (const name of this.alive)
      if (!this.frozen.has(name) && !woke.has(name))
        this.#send(name, this.#node(name).step({ type: 'tick' }, this.now));
    this.#checkP1();
    this.#checkOwnership();
  }

  run(ms: number): void {
    const end = this.now + ms;
    while (this.now < end) this.step();
  }

  /** Runs until `done` holds (returns the time it took) or `ms` passed (returns undefined). */
  runUntil(done: () => boolean, ms: number): number | undefined {
    const start = this.now;
    while (this.now - start < ms) {
      this.step();
      if (done()) return this.now - start;
    }
    return undefined;
  }

  answering(name: string): boolean {
    return this.alive.has(name) && !this.frozen.has(name) && this.#node(name).answering(this.now);
  }

  /** Which running nodes answer for each of `addresses`: those that may answer and own it in their own view. */
  answerers(): Map<bigint, string[]> {
    const out = new Map<bigint, string[]>(this.addresses.map((a) => [a.address, []]));
    for (const name of this.alive) {
      if (!this.answering(name)) continue;
      for (const [address, owner] of this.ownersSeenBy(name)) if (owner === name) out.get(address)?.push(name);
    }
    return out;
  }

  /** Running nodes whose live set lacks `name`. */
  seeingDown(name: string): string[] {
    return [...this.alive].filter((n) => n !== name && !this.#node(n).live(this.now).has(name));
  }

  /** The owner of each address in `name`'s view (first settled live member of its order, else first live). */
  ownersSeenBy(name: string): Map<bigint, string | undefined> {
    const node = this.#node(name);
    const key = node.members.join(',');
    let orders = this.#orders.get(key);
    if (!orders)
      this.#orders.set(key, (orders = preferenceOrders({ addresses: this.addresses, members: new Set(node.members) })));
    const live = node.live(this.now);
    const rejoining = node.rejoining(this.now);
    const owners = new Map<bigint, string | undefined>();
    for (const [address, order] of orders)
      owners.set(address, order.find((n) => live.has(n) && !rejoining.has(n)) ?? order.find((n) => live.has(n)));
    return owners;
  }

  /** The answering node that owns each address in its own view (two: a conflict, reported as a violation). */
  answeringOwners(): Map<bigint, string> {
    const out = new Map<bigint, string>();
    const membershipOf = new Map<bigint, string>();
    for (const name of this.alive) {
      // The hand-over overlap after LEAVING is deliberate (ADR 0019, P2).
      if (!this.answering(name) || this.leaving.has(name)) continue;
      const members = this.#node(name).members.join(',');
      for (const [address, owner] of this.ownersSeenBy(name)) {
        if (owner !== name) continue;
        const other = out.get(address);
        // Speakers holding different records may both answer (ADR 0019, P4: the window of a membership change).
        if (other !== undefined && membershipOf.get(address) === members && !this.violation)
          this.violation = `at ${this.now} ms ${name} and ${other} both answer for ${address}`;
        out.set(address, name);
        membershipOf.set(address, members);
      }
    }
    return out;
  }

  #checkOwnership(): void {
    if (this.violation || this.addresses.length === 0) return;
    for (const x of this.alive) {
      if (!this.answering(x) || !this.#node(x).settled(this.now)) continue;
      for (const y of this.alive)
        if (y !== x && this.answering(y) && this.#node(y).rejoining(this.now).has(x)) {
          this.violation = `at ${this.now} ms ${x} answers as settled while ${y} counts it rejoining (rule I)`;
          return;
        }
    }
    this.answeringOwners();
  }

  #node(name: string): ProbeDetector {
    const node = this.nodes.get(name);
    if (node === undefined) throw new Error(`no simulated node ${name}`);
    return node;
  }

  #checkP1(): void {
    if (this.violation) return;
    for (const x of this.alive) {
      // The hand-over overlap after LEAVING is the one deliberate exception (ADR 0019, P2).
      if (!this.answering(x) || this.leaving.has(x)) continue;
      for (const y of this.alive) {
        if (y === x) continue;
        const other = this.#node(y);
        if (other.isDown(x, this.now)) {
          this.violation = `at ${this.now} ms ${x} answers while ${y} holds a down quorum for it`;
          return;
        }
        // P2's premise: an answering node is in every live set (no FENCED of it is still held anywhere).
        if (!other.live(this.now).has(x)) {
          this.violation = `at ${this.now} ms ${x} answers while ${y} counts it not live`;
          return;
        }
      }
    }
  }
}
