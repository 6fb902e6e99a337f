import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DEFAULT_PROBE_TIMINGS } from '../../core/election/probe-timings.ts';
import { probeKey } from '../../platform/probe-key.ts';
import { decodeProbeDatagram, type ProbeKey } from '../../protocol/probe/probe-datagram.ts';
import { ProbeRunner, type ProbeMember, type ProbeRejectReason } from './probe-runner.ts';
import { ManualClock } from '../../test-support/manual-clock.ts';
import { silentLogger } from '../../test-support/silent-logger.ts';

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];
/** Start-up quiet time (voteValidity + maxDelay) plus membershipSkew of the test timings, and some slack. */
const SETTLE_MS = 5000;
/** How long the speakers of a new cluster ran before the first record (the controller's settle time). */
const FIRST_RECORD_SETTLE_MS = 10_000;

const addressOf = (node: string): string => `198.51.100.${11 + NODES.concat('n6').indexOf(node)}`;

/** Speakers on a simulated network: datagrams take 1 ms unless a rule drops them. */
class Net {
  readonly clock = new ManualClock();
  readonly runners = new Map<string, ProbeRunner>();
  readonly rejected: ProbeRejectReason[] = [];
  readonly #byAddress = new Map<string, string>();
  /** Drops a datagram from -> to when true. */
  drop: (from: string, to: string) => boolean = () => false;
  /** Every datagram sent, as captured on the wire (for replays). */
  readonly wire: Array<{ bytes: Uint8Array; to: string }> = [];

  readonly keys: readonly ProbeKey[];
  /** Each node's rejoin quiet period (ADR 0036); 0: off. */
  readonly #quietOf: (node: string) => number;

  constructor(keys: readonly ProbeKey[], nodes = NODES, quietOf: (node: string) => number = () => 0) {
    this.keys = keys;
    this.#quietOf = quietOf;
    const members: ProbeMember[] = nodes.map((node) => ({ node, address: addressOf(node), port: 7946 }));
    NODES.concat('n6').forEach((node, i) => this.#byAddress.set(`198.51.100.${11 + i}`, node));
    for (const node of nodes) this.add(node);
    // The processes ran on Lease liveness before the first record (the controller waits until none arrived for 10 s).
    if (nodes.length > 0) this.clock.advance(FIRST_RECORD_SETTLE_MS);
    for (const runner of this.runners.values()) runner.setMembership({ members, epoch: 'e1', generation: 1 });
  }

  add(node: string, keys: readonly ProbeKey[] = this.keys): ProbeRunner {
    const runner = new ProbeRunner({
      node,
      clock: this.clock,
      log: silentLogger(),
      // The defaults, with a membership skew and epoch transition short enough for a test to step through.
      timings: { ...DEFAULT_PROBE_TIMINGS, membershipSkewMs: 500, epochTransitionMs: 1500 },
      send: (bytes, address) => {
        const to = this.#byAddress.get(address);
        if (!to) return;
        this.wire.push({ bytes, to });
        if (this.drop(node, to)) return;
        this.clock.after(1, () => this.runners.get(to)?.receive(bytes, { address: addressOf(node), port: 7946 }));
      },
      keys: () => keys,
      incarnation: BigInt(this.runners.size + 1) * 1000n + BigInt(Math.floor(this.clock.now())),
      wallSecond: () => Math.floor(this.clock.wallTime().getTime() / 1000),
      onChange: () => undefined,
      metrics: { sent: () => undefined, received: () => undefined, rejected: (reason) => this.rejected.push(reason) },
      rejoinQuietMs: this.#quietOf(node),
    });
    this.runners.set(node, runner);
    runner.start();
    return runner;
  }

  /** Advances time 1 ms at a time, checking after each that no answering node is out of any other's live set. */
  run(ms: number): void {
    for (let i = 0; i < ms; i++) {
      this.clock.advance(1);
      const now = this.clock.now();
      for (const [x, rx] of this.runners) {
        if (!rx.answering(now)) continue;
        for (const [y, ry] of this.runners) {
          if (y !== x && ry.answering(now)) {
            assert.ok(ry.live(now).has(x), `at ${now} ms ${x} answers but ${y} counts it not live`);
            // Rule I of ADR 0036: settled in its own view, settled in every answering view.
            if (!rx.rejoining(now).has(x))
              assert.ok(!ry.rejoining(now).has(x), `at ${now} ms ${x} counts itself settled, ${y} counts it rejoining`);
          }
        }
      }
    }
  }

  answering(): string[] {
    return [...this.runners].filter(([, r]) => r.answering(this.clock.now())).map(([n]) => n);
  }
}

describe('ProbeRunner over a simulated network', () => {
  const key = probeKey(randomBytes(32));

  it('all members answer once quiet, and every one sees every other live', () => {
    const net = new Net([key]);
    net.run(SETTLE_MS);
    assert.deepEqual(net.answering(), NODES);
    for (const r of net.runners.values()) assert.deepEqual([...r.live(net.clock.now())].sort(), NODES);
  });

  it('a stopped member (kill -9) leaves every live set within suspectAfter + a probe interval + a tick', () => {
    const net = new Net([key]);
    net.run(SETTLE_MS);
    net.runners.get('n3')!.stop();
    const killed = net.clock.now();
    let gone: number | undefined;
    for (let i = 0; i < 2000 && gone === undefined; i++) {
      net.run(1);
      const now = net.clock.now();
      if ([...net.runners].every(([n, r]) => n === 'n3' || !r.live(now).has('n3'))) gone = now - killed;
    }
    assert.ok(gone !== undefined && gone <= 700, `n3 left the live sets after ${gone} ms`);
    assert.deepEqual(net.answering(), ['n1', 'n2', 'n4', 'n5']);
  });

  it('a member cut from every peer stops answering before any peer counts it down; the others go on', () => {
    const net = new Net([key]);
    net.run(SETTLE_MS);
    net.drop = (from, to) => from === 'n2' || to === 'n2';
    net.run(3000);
    assert.deepEqual(net.answering(), ['n1', 'n3', 'n4', 'n5']);
    for (const [n, r] of net.runners)
      if (n !== 'n2') assert.ok(!r.live(net.clock.now()).has('n2'), `${n} still counts n2 live`);
    net.drop = () => false;
    // Its monitors hold their confirmations back for voteValidity + maxDelay after their last DOWN, and n2 then
    // waits as long after its last FENCED: about 2 x 3 s.
    net.run(2 * 3000 + 1000);
    assert.deepEqual(net.answering(), NODES, 'n2 answers again once its links are back');
  });

  it('a member restarted under the same name (kill -9, then a new process) is confirmed again and answers', () => {
    const net = new Net([key]);
    net.run(SETTLE_MS);
    net.runners.get('n2')!.stop();
    net.run(3000);
    assert.deepEqual(net.answering(), ['n1', 'n3', 'n4', 'n5']);
    const fresh = net.add('n2');
    fresh.setMembership({
      members: NODES.map((node, i) => ({ node, address: `198.51.100.${11 + i}`, port: 7946 })),
      epoch: 'e1',
      generation: 1,
    });
    // The new process answers after its start-up quiet time and membershipSkew, once its monitors confirm ITS ACKs
    // (their highest ACK sequence from the old process must not stand in for them). Its monitors hold their
    // confirmations back for 3 s after their last DOWN, and it waits 3 s after its last FENCED: about 2 x 3 s.
    net.run(2 * 3000 + 1000);
    assert.deepEqual(net.answering(), NODES);
  });

  it('a member that read a newer record first is answered by peers that have not: no DOWN votes, no silence', () => {
    const net = new Net([key], ['n1', 'n3', 'n4', 'n5']);
    net.run(SETTLE_MS);
    const joined = NODES.map((node) => ({ node, address: addressOf(node), port: 7946 }));
    // n2 joins (it monitors n1, n3 and n4 in the new record): it reads the record that lists it; the others read it
    // only later (their next renewal).
    net.add('n2').setMembership({ members: joined, epoch: 'e2', generation: 2 });
    const from = net.wire.length;
    net.run(1500);
    const kinds = net.wire.slice(from).flatMap(({ bytes }) => {
      const d = decodeProbeDatagram(bytes, [key]);
      return d.ok && d.value.from === 'n2' ? [d.value.message.kind] : [];
    });
    assert.ok(kinds.includes('ping'), `n2 probes its targets (sent: ${[...new Set(kinds)].join(', ')})`);
    assert.ok(!kinds.includes('down'), 'n2 votes none of them down: they ACK to where its pings came from');
    for (const n of ['n1', 'n3', 'n4', 'n5'])
      net.runners.get(n)!.setMembership({ members: joined, epoch: 'e2', generation: 2 });
    net.run(SETTLE_MS);
    assert.deepEqual(net.answering().sort(), NODES);
  });

  it('one cut link between two members changes nothing (indirect probes)', () => {
    const net = new Net([key]);
    net.run(SETTLE_MS);
    net.drop = (from, to) => (from === 'n1' && to === 'n2') || (from === 'n2' && to === 'n1');
    net.run(5000);
    assert.deepEqual(net.answering(), NODES);
    for (const r of net.runners.values()) assert.equal(r.live(net.clock.now()).size, NODES.length);
  });

  it('a member whose outgoing datagrams are lost (asymmetric) fences itself before peers count it down', () => {
    const net = new Net([key]);
    net.run(SETTLE_MS);
    net.drop = (from) => from === 'n4';
    net.run(3000);
    assert.deepEqual(net.answering(), ['n1', 'n2', 'n3', 'n5']);
  });

  it('refuses datagrams under another key, and replays of captured ones', () => {
    const net = new Net([key]);
    net.run(1000);
    const stranger = net.add('n6', [probeKey(randomBytes(32))]);
    const before = net.rejected.length;
    // n6 is no member: it sends nothing; forge one datagram from it under its own key through the wire.
    stranger.setMembership({
      members: NODES.concat('n6').map((node, i) => ({ node, address: `198.51.100.${11 + i}`, port: 7946 })),
      epoch: 'e9',
      generation: 9,
    });
    net.run(200);
    assert.ok(net.rejected.slice(before).includes('auth'), `rejections: ${net.rejected.slice(before).join(',')}`);
    const captured = net.wire.find((w) => w.to === 'n1' && net.runners.has(w.to))!;
    const replays = net.rejected.length;
    net.runners.get('n1')!.receive(captured.bytes);
    assert.deepEqual(net.rejected.slice(replays), ['replay']);
  });

  it('a key rotation keeps members live while some sign with the new key and some with the old', () => {
    const next = probeKey(randomBytes(32));
    const rotated = new Net([key], []);
    const members = NODES.map((node, i) => ({ node, address: `198.51.100.${11 + i}`, port: 7946 }));
    for (const node of NODES) rotated.add(node, node === 'n1' || node === 'n2' ? [next, key] : [key, next]);
    rotated.clock.advance(FIRST_RECORD_SETTLE_MS);
    for (const r of rotated.runners.values()) r.setMembership({ members, epoch: 'e1', generation: 1 });
    rotated.run(SETTLE_MS);
    assert.deepEqual(rotated.answering(), NODES);
    assert.equal(rotated.rejected.filter((r) => r === 'auth').length, 0);
  });

  describe('ownership stickiness (ADR 0036): REJOINING claims, signed and encoded like every datagram', () => {
    const QUIET_MS = 8000;
    /** Only n2 has a quiet period: the others honour its claims without one of their own. */
    const quietOf = (node: string): number => (node === 'n2' ? QUIET_MS : 0);
    const rejoiningSeen = (net: Net, member: string): string[] =>
      [...net.runners].filter(([n, r]) => n !== member && r.rejoining(net.clock.now()).has(member)).map(([n]) => n);

    it('a member cut off and back is counted rejoining by every peer before it answers, until its period is over; then settled everywhere', () => {
      const net = new Net([key], NODES, quietOf);
      net.run(SETTLE_MS);
      assert.deepEqual(rejoiningSeen(net, 'n2'), [], 'nobody rejoining in a cluster that started together');
      net.drop = (from, to) => from === 'n2' || to === 'n2';
      net.run(3000);
      net.drop = () => false;
      // Every ms until it answers again: whoever counts it live also holds its claim.
      let answeredAt: number | undefined;
      for (let i = 0; i < 10_000 && answeredAt === undefined; i++) {
        net.run(1);
        const now = net.clock.now();
        for (const [n, r] of net.runners)
          if (n !== 'n2' && r.live(now).has('n2'))
            assert.ok(r.rejoining(now).has('n2'), `at ${now} ms ${n} counts n2 live and settled`);
        if (net.runners.get('n2')!.answering(now)) answeredAt = now;
      }
      assert.ok(answeredAt !== undefined, 'n2 answers again');
      assert.deepEqual(rejoiningSeen(net, 'n2'), ['n1', 'n3', 'n4', 'n5']);
      assert.ok(net.runners.get('n2')!.rejoining(net.clock.now()).has('n2'), 'n2 counts itself rejoining');
      net.run(QUIET_MS + 3000 + 100);
      assert.deepEqual(rejoiningSeen(net, 'n2'), []);
      assert.ok(!net.runners.get('n2')!.rejoining(net.clock.now()).has('n2'), 'n2 settled');
      assert.deepEqual(net.rejected, []);
    });

    it('a restarted member told it replaces a serving process (rejoin) is counted rejoining before it answers; one not told is not', () => {
      for (const told of [true, false]) {
        const net = new Net([key], NODES, quietOf);
        net.run(SETTLE_MS);
        net.runners.get('n2')!.stop();
        net.run(2000);
        const fresh = net.add('n2');
        if (told) fresh.rejoin();
        fresh.setMembership({
          members: NODES.map((node) => ({ node, address: addressOf(node), port: 7946 })),
          epoch: 'e1',
          generation: 1,
        });
        const answered = (() => {
          for (let i = 0; i < 10_000; i++) {
            net.run(1);
            if (fresh.answering(net.clock.now())) return true;
          }
          return false;
        })();
        assert.ok(answered, 'the new process answers');
        assert.deepEqual(rejoiningSeen(net, 'n2'), told ? ['n1', 'n3', 'n4', 'n5'] : [], `told: ${told}`);
      }
    });
  });
});
