// The probe detector of ADR 0019 on a simulated network: datagrams with random delay (never above the assumed
// bound), loss, directed link cuts, kills and restarts, in 10 ms steps. Safety (P1: a node that answers is down for
// nobody) is checked after every step, in hand-written partitions and in random ones (fast-check); liveness in the
// scenarios (a killed node is down everywhere within about suspectAfter, one cut link costs no failover).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { quorums, rankForTarget } from './monitor-ranking.ts';
import { ProbeDetector } from './probe-detector.ts';
import { DEFAULT_PROBE_TIMINGS } from './probe-timings.ts';
import { seededRandom } from '../seeded-random.ts';
import { SIM_TIMINGS, SimulatedNetwork, STEP_MS } from '../../test-support/probe-network.ts';

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
