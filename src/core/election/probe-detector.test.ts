// The probe detector of ADR 0019 on a simulated network: datagrams with random delay (never above the assumed
// bound), loss, directed link cuts, kills and restarts, in 10 ms steps. Safety (P1: a node that answers is down for
// nobody) is checked after every step, in hand-written partitions and in random ones (fast-check); liveness in the
// scenarios (a killed node is down everywhere within about suspectAfter, one cut link costs no failover).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProbeDetector } from './probe-detector.ts';
import { quorums, rankForTarget } from './monitor-ranking.ts';
import type { ProbeMessage, ProbeSend } from './probe-messages.ts';
import { DEFAULT_PROBE_TIMINGS, type ProbeTimings } from './probe-timings.ts';
import { seededRandom } from '../seeded-random.ts';

const STEP_MS = 10;
/** Membership epochs adopted up to 2 s apart (the default 10 s would only make the simulation longer). */
const SIM_TIMINGS: ProbeTimings = { ...DEFAULT_PROBE_TIMINGS, membershipSkewMs: 2000, epochTransitionMs: 6000 };

interface InFlight {
  at: number;
  from: string;
  to: string;
  message: ProbeMessage;
}

class SimulatedNetwork {
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
  /** Datagrams sent, by `sender:kind`. */
  readonly sent = new Map<string, number>();

  /** How long after its start a process reads its first membership record (the speaker reads it with a renewal). */
  readonly #firstReadMs: number;

  readonly #timings: ProbeTimings;

  constructor(count: number, seed = 1, firstReadMs = 0, timings = SIM_TIMINGS) {
    this.#firstReadMs = firstReadMs;
    this.#timings = timings;
    this.names = Array.from({ length: count }, (_, i) => `node-${i + 1}`);
    this.#rng = seededRandom(seed);
    this.#epoch = `epoch-${this.#epochs}`;
    for (const name of this.names) this.start(name);
  }

  /** A new membership, adopted by each running node at a random moment within the skew. */
  changeMembership(members: readonly string[], skewMs = SIM_TIMINGS.membershipSkewMs): void {
    this.names.splice(0, this.names.length, ...members);
    this.#epoch = `epoch-${++this.#epochs}`;
    for (const node of this.alive)
      this.#adoptions.push({
        at: this.now + this.#rng() * skewMs,
        node,
        members: [...members],
        epoch: this.#epoch,
        generation: this.#epochs,
      });
  }

  start(name: string): void {
    const detector = new ProbeDetector(name, this.now, this.#timings);
    this.nodes.set(name, detector);
    this.alive.add(name);
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
  }

  isolate(name: string, inbound = true, outbound = true): void {
    for (const other of this.names) {
      if (other === name) continue;
      if (outbound) this.cut.add(`${name}>${other}`);
      if (inbound) this.cut.add(`${other}>${name}`);
    }
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
      this.#queue.push({ at: this.now + delay, from, to: action.to, message: action.message });
    }
  }

  /** Advances one step: delivers what is due (in order of arrival), ticks every live node, checks P1. */
  step(): void {
    this.now += STEP_MS;
    // A node waking from a stall runs its timers (the tick) before it reads the datagrams queued meanwhile.
    const woke = new Set<string>();
    for (const [name, until] of this.frozen) {
      if (until > this.now) continue;
      this.frozen.delete(name);
      woke.add(name);
      if (this.alive.has(name)) this.#send(name, this.nodes.get(name)!.step({ type: 'tick' }, this.now));
    }
    for (const a of this.#adoptions.filter((x) => x.at <= this.now && !this.frozen.has(x.node))) {
      if (this.alive.has(a.node))
        this.#send(
          a.node,
          this.nodes
            .get(a.node)!
            .step({ type: 'membership', members: a.members, epoch: a.epoch, generation: a.generation }, this.now),
        );
    }
    this.#adoptions = this.#adoptions.filter((x) => x.at > this.now || this.frozen.has(x.node));
    this.#queue.sort((a, b) => a.at - b.at);
    const waiting: InFlight[] = [];
    while (this.#queue.length && this.#queue[0]!.at <= this.now) {
      const d = this.#queue.shift()!;
      if (!this.alive.has(d.to)) continue;
      if (this.frozen.has(d.to)) {
        waiting.push(d);
        continue;
      }
      const node = this.nodes.get(d.to)!;
      const at = woke.has(d.to) ? this.now : d.at;
      this.#send(d.to, node.step({ type: 'receive', from: d.from, message: d.message }, at));
    }
    this.#queue.push(...waiting);
    for (const name of this.alive)
      if (!this.frozen.has(name) && !woke.has(name))
        this.#send(name, this.nodes.get(name)!.step({ type: 'tick' }, this.now));
    this.#checkP1();
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
    return this.alive.has(name) && !this.frozen.has(name) && this.nodes.get(name)!.answering(this.now);
  }

  /** Running nodes whose live set lacks `name`. */
  seeingDown(name: string): string[] {
    return [...this.alive].filter((n) => n !== name && !this.nodes.get(n)!.live(this.now).has(name));
  }

  #checkP1(): void {
    if (this.violation) return;
    for (const x of this.alive) {
      if (!this.answering(x)) continue;
      for (const y of this.alive) {
        if (y === x) continue;
        const other = this.nodes.get(y)!;
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

describe('probe detector: monitors and quorums', () => {
  it('every member has min(K, N-1) monitors, ranked the same way everywhere, and a fence quorum meets every down quorum', () => {
    const members = Array.from({ length: 12 }, (_, i) => `n${i}`);
    const a = new ProbeDetector('n0', 0);
    const b = new ProbeDetector('n5', 0);
    a.step({ type: 'membership', members, epoch: 'e', generation: 1 }, 0);
    b.step({ type: 'membership', members: [...members].reverse(), epoch: 'e', generation: 1 }, 0);
    for (const m of members) {
      assert.deepEqual(a.monitorsOf(m), b.monitorsOf(m));
      assert.equal(a.monitorsOf(m).length, 3);
      assert.ok(!a.monitorsOf(m).includes(m));
      assert.deepEqual(a.monitorsOf(m), rankForTarget(m, members).slice(0, 3));
    }
    for (let k = 1; k <= 7; k++) {
      const q = quorums(k);
      assert.ok(q.down + q.fence > k, `K=${k}`);
      assert.ok(q.down > k / 2);
    }
    const pair = new ProbeDetector('x', 0);
    pair.step({ type: 'membership', members: ['x', 'y'], epoch: 'e', generation: 1 }, 0);
    assert.deepEqual(pair.monitorsOf('x'), ['y']);
  });
});

describe('probe detector: scenarios on a simulated network (default timings)', () => {
  it('a healthy cluster: every node answers after start-up and sees every other live; nobody is voted down', () => {
    const net = new SimulatedNetwork(7);
    net.run(6000);
    for (const name of net.names) {
      assert.ok(net.answering(name), `${name} answers`);
      assert.equal(net.nodes.get(name)!.live(net.now).size, 7);
    }
    assert.equal(net.violation, undefined);
  });

  it('kill -9: every other node calls it down within suspectAfter plus a probe interval, and still sees every answering node', () => {
    const net = new SimulatedNetwork(9, 2);
    net.run(6000);
    for (const victim of ['node-3', 'node-7']) {
      net.kill(victim);
      const took = net.runUntil(() => net.seeingDown(victim).length === net.alive.size, 3000);
      assert.ok(
        took !== undefined && took <= DEFAULT_PROBE_TIMINGS.suspectAfterMs + DEFAULT_PROBE_TIMINGS.probeIntervalMs + 50,
        `${victim} down everywhere after ${took} ms`,
      );
      // Every answering node is live everywhere (a node whose monitors both died fences itself: ADR 0019).
      const answering = [...net.alive].filter((n) => net.answering(n));
      for (const name of net.alive)
        for (const other of answering)
          assert.ok(net.nodes.get(name)!.live(net.now).has(other), `${name} sees ${other}`);
    }
    assert.equal(net.violation, undefined);
  });

  it('one cut link between a monitor and its target: indirect probes keep the target live, answering and confirmed', () => {
    const net = new SimulatedNetwork(7, 3);
    net.run(6000);
    const target = 'node-4';
    const monitor = net.nodes.get(target)!.monitorsOf(target)[0]!;
    net.cut.add(`${monitor}>${target}`);
    net.cut.add(`${target}>${monitor}`);
    for (let t = 0; t < 10_000; t += STEP_MS) {
      net.step();
      assert.ok(net.answering(target), `${target} still answers at ${t} ms`);
      assert.deepEqual(net.seeingDown(target), []);
    }
    assert.equal(net.violation, undefined);
  });

  for (const [label, inbound, outbound] of [
    ['both directions', true, true],
    ['inbound only (asymmetric)', true, false],
    ['outbound only (asymmetric)', false, true],
  ] as const) {
    it(`a node cut from all peers, ${label}: it stops answering before anyone calls it down; it comes back after the partition heals`, () => {
      const net = new SimulatedNetwork(7, 4);
      net.run(6000);
      const x = 'node-2';
      net.isolate(x, inbound, outbound);
      let stoppedAt: number | undefined;
      let firstDownAt: number | undefined;
      const start = net.now;
      while (net.now - start < 3000) {
        net.step();
        if (stoppedAt === undefined && !net.answering(x)) stoppedAt = net.now - start;
        if (firstDownAt === undefined && net.seeingDown(x).length > 0) firstDownAt = net.now - start;
      }
      assert.ok(stoppedAt !== undefined && firstDownAt !== undefined, `stopped ${stoppedAt}, down ${firstDownAt}`);
      assert.ok(stoppedAt < firstDownAt, `stopped at ${stoppedAt} ms, first called down at ${firstDownAt} ms`);
      assert.equal(net.seeingDown(x).length, 6);
      net.heal();
      const back = net.runUntil(() => net.answering(x) && net.seeingDown(x).length === 0, 10_000);
      assert.ok(back !== undefined, 'answers again after healing');
      assert.equal(net.violation, undefined);
    });
  }

  it('a monitor that voted its target down and then hears it again withholds its confirmation until its vote expired everywhere (hold-down)', () => {
    const net = new SimulatedNetwork(7, 11);
    net.run(7000);
    const x = 'node-6';
    const [m1, m2] = net.nodes.get(x)!.monitorsOf(x) as [string, string];
    // m1 hears nothing (it still sends): it votes x down while m2 and m3 keep confirming x.
    net.isolate(m1, true, false);
    net.run(700);
    assert.ok(![...net.alive].some((n) => net.nodes.get(n)!.isDown(x, net.now)), 'one vote is no quorum');
    // m1 hears x again; m2 goes deaf and votes too, while m1's vote is still held by the others.
    net.heal();
    net.isolate(m2, true, false);
    net.run(2000);
    assert.equal(net.violation, undefined);
    assert.ok(!net.answering(x), `${x} answers with only m3 confirming (m1 held down)`);
  });

  it('one link losing 60 % in both directions: no failover', () => {
    const net = new SimulatedNetwork(7, 7);
    net.run(6000);
    const target = 'node-5';
    const monitor = net.nodes.get(target)!.monitorsOf(target)[1]!;
    const rng = seededRandom(60);
    let downs = 0;
    for (let t = 0; t < 20_000; t += STEP_MS) {
      // The cut toggles at random each step: 60 % of datagrams on this link are dropped.
      for (const link of [`${monitor}>${target}`, `${target}>${monitor}`]) {
        if (rng() < 0.6) net.cut.add(link);
        else net.cut.delete(link);
      }
      net.step();
      downs += net.seeingDown(target).length;
      assert.ok(net.answering(target));
    }
    assert.equal(downs, 0);
    assert.equal(net.violation, undefined);
  });

  it('10 % loss on every datagram: nobody is voted down and everyone keeps answering', () => {
    const net = new SimulatedNetwork(7, 5);
    net.run(6000);
    net.loss = 0.1;
    let downs = 0;
    for (let t = 0; t < 20_000; t += STEP_MS) {
      net.step();
      for (const name of net.names) downs += net.seeingDown(name).length;
    }
    assert.equal(downs, 0);
    assert.equal(net.violation, undefined);
  });

  it('a node joins (membership adopted up to 2 s apart): nobody fences or is voted down, and the new node answers only after every node has adopted it', () => {
    const net = new SimulatedNetwork(8, 9);
    net.run(6000);
    const joined = [...net.names, 'node-9'];
    net.changeMembership(joined);
    net.start('node-9');
    let answeredAt: number | undefined;
    const start = net.now;
    while (net.now - start < 12_000) {
      net.step();
      for (const name of net.names.filter((n) => n !== 'node-9')) {
        assert.ok(net.answering(name), `${name} answers at ${net.now - start} ms`);
        assert.deepEqual(net.seeingDown(name), []);
      }
      if (answeredAt === undefined && net.answering('node-9')) answeredAt = net.now - start;
    }
    assert.ok(
      answeredAt !== undefined && answeredAt >= SIM_TIMINGS.voteValidityMs + SIM_TIMINGS.maxDelayMs,
      `node-9 answers after ${answeredAt} ms`,
    );
    for (const name of net.names) assert.equal(net.nodes.get(name)!.live(net.now).size, 9);
    assert.equal(net.violation, undefined);
  });

  it('a restarted node answers nothing until its monitors confirm it and the quiet time has passed', () => {
    const net = new SimulatedNetwork(5, 6);
    net.run(6000);
    net.kill('node-1');
    net.run(1000);
    net.start('node-1');
    const quiet = DEFAULT_PROBE_TIMINGS.voteValidityMs + DEFAULT_PROBE_TIMINGS.maxDelayMs;
    const back = net.runUntil(() => net.answering('node-1'), 15_000);
    assert.ok(back !== undefined && back >= quiet, `answers again after ${back} ms`);
    assert.equal(net.violation, undefined);
  });
});

describe('probe detector: start-up (ADR 0019, "Start-up and fallback")', () => {
  it('processes that read the first record (generation 1) after they started answer without waiting membershipSkew', () => {
    const readAt = 4000;
    // membershipSkew longer than the quiet time after a FENCED (V + Δ), so that waiting for it would show.
    const timings = { ...SIM_TIMINGS, membershipSkewMs: 10_000, epochTransitionMs: 30_000 };
    const net = new SimulatedNetwork(5, 21, readAt, timings);
    const answered = net.runUntil(() => net.names.every((n) => net.answering(n)), 20_000);
    const quiet = timings.voteValidityMs + timings.maxDelayMs;
    assert.ok(
      answered !== undefined && answered <= readAt + quiet + 500,
      `all answer ${answered} ms after start (the record was read at ${readAt} ms)`,
    );
    assert.equal(net.violation, undefined);
  });

  it('a process first listed in a later record (a join) still waits membershipSkew after reading it', () => {
    const net = new SimulatedNetwork(4, 22);
    net.run(6000);
    // The joiner's process runs (on Lease liveness) before the record that lists it reaches it.
    net.nodes.set('joiner', new ProbeDetector('joiner', net.now - 5000, SIM_TIMINGS));
    net.alive.add('joiner');
    net.changeMembership([...net.names, 'joiner'], 0);
    net.run(SIM_TIMINGS.membershipSkewMs - 100);
    assert.ok(!net.answering('joiner'), 'the joiner answers before every speaker surely adopted the record');
    assert.equal(net.violation, undefined);
  });
});

describe('probe detector: event-loop stalls (ADR 0019, "Event-loop stalls")', () => {
  const grace = DEFAULT_PROBE_TIMINGS.suspectAfterMs - DEFAULT_PROBE_TIMINGS.fenceMarginMs;

  it('a node stalled 400 ms (under suspectAfter) sends no FENCED, is down nowhere, and answers again within the grace', () => {
    const net = new SimulatedNetwork(5, 11);
    net.run(6000);
    assert.ok(net.answering('node-2'));
    const fencedBefore = net.sentBy('node-2', 'fenced');
    net.stall('node-2', 400);
    net.run(400);
    const back = net.runUntil(() => net.answering('node-2'), 5000);
    assert.ok(back !== undefined && back <= grace, `answers again ${back} ms after the stall`);
    assert.equal(net.sentBy('node-2', 'fenced'), fencedBefore, 'no FENCED');
    assert.deepEqual(net.seeingDown('node-2'), []);
    assert.equal(net.violation, undefined);
  });

  it('a monitor stalled 700 ms votes none of its targets down (its own silence is not theirs); it is voted down itself', () => {
    const net = new SimulatedNetwork(5, 12);
    net.run(6000);
    const downBefore = net.sentBy('node-3', 'down');
    net.stall('node-3', 700);
    net.run(2000);
    assert.equal(net.sentBy('node-3', 'down'), downBefore, 'node-3 sent no DOWN');
    for (const name of net.names) if (name !== 'node-3') assert.ok(net.answering(name), `${name} answers`);
    assert.equal(net.violation, undefined);
  });

  it('every node stalls 380 ms every 5 s (one shared event loop): everyone keeps answering', () => {
    const net = new SimulatedNetwork(10, 13);
    net.run(6000);
    for (let round = 0; round < 8; round++) {
      for (const name of net.names) net.stall(name, 380);
      net.run(380 + grace);
      const answering = net.names.filter((n) => net.answering(n));
      assert.equal(answering.length, 10, `round ${round}: ${answering.length} of 10 answer`);
      net.run(5000 - 380 - grace);
    }
    assert.equal(net.violation, undefined);
  });

  it('a node stalled 1.5 s (over suspectAfter) is voted down and answers only after its monitors confirm it again', () => {
    const net = new SimulatedNetwork(5, 14);
    net.run(6000);
    net.stall('node-4', 1500);
    const down = net.runUntil(() => net.seeingDown('node-4').length === 4, 1500);
    assert.ok(down !== undefined, 'node-4 down everywhere during its stall');
    net.run(1000);
    assert.ok(!net.answering('node-4'), 'not answering while held down');
    assert.equal(net.violation, undefined);
  });
});

describe('probe detector: P1 under random partitions, loss, slow datagrams, kills and restarts', () => {
  it('no node ever answers while another holds a down quorum for it or counts it not live', () => {
    const op = fc.record({
      at: fc.integer({ min: 0, max: 14_000 }),
      kind: fc.constantFrom(
        'cut',
        'isolate-in',
        'isolate-out',
        'isolate',
        'heal',
        'kill',
        'restart',
        'loss',
        'slow',
        'join',
        'remove-dead',
        'stall',
      ),
      a: fc.nat(),
      b: fc.nat(),
      x: fc.double({ min: 0, max: 0.8, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 7 }), fc.integer(), fc.array(op, { maxLength: 12 }), (count, seed, ops) => {
        const net = new SimulatedNetwork(count, seed);
        const pick = (i: number): string => net.names[i % net.names.length]!;
        const todo = [...ops].sort((p, q) => p.at - q.at);
        net.run(3000);
        const start = net.now;
        while (net.now - start < 15_000) {
          while (todo.length && todo[0]!.at <= net.now - start) {
            const o = todo.shift()!;
            const a = pick(o.a);
            const b = pick(o.b);
            if (o.kind === 'cut' && a !== b) net.cut.add(`${a}>${b}`);
            if (o.kind === 'isolate') net.isolate(a);
            if (o.kind === 'isolate-in') net.isolate(a, true, false);
            if (o.kind === 'isolate-out') net.isolate(a, false, true);
            if (o.kind === 'heal') net.heal();
            if (o.kind === 'kill') net.kill(a);
            if (o.kind === 'restart' && !net.alive.has(a)) net.start(a);
            if (o.kind === 'stall') net.stall(a, o.x * 2000);
            if (o.kind === 'loss') net.loss = o.x;
            if (o.kind === 'slow') net.slow = o.x / 4;
            if (o.kind === 'join' && net.names.length < 9) {
              const name = `joiner-${net.names.length}`;
              net.changeMembership([...net.names, name]);
              net.start(name);
            }
            // The controller removes a member only when its Lease expired, i.e. a dead one here.
            if (o.kind === 'remove-dead' && !net.alive.has(a) && net.names.length > 2)
              net.changeMembership(net.names.filter((n) => n !== a));
          }
          net.step();
          if (net.violation) return false;
        }
        return true;
      }),
      { numRuns: 60, seed: 20261207 },
    );
  });
});
