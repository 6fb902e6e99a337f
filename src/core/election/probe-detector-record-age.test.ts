// The probe detector of ADR 0019 across membership changes, with what peers report about their records ("Record
// age"): every message carries the generation of its sender's newest record and how long the sender has held it.
// On the simulated network (src/test-support/probe-network.ts), P1 checked after every step.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SIM_TIMINGS, SimulatedNetwork } from '../../test-support/probe-network.ts';

// membershipSkew (10 s) longer than the quiet time after a start or a FENCED (V + Δ = 3 s), so waiting for it shows.
const SLOW_SKEW = { ...SIM_TIMINGS, membershipSkewMs: 10_000, epochTransitionMs: 30_000 };
const QUIET = SIM_TIMINGS.voteValidityMs + SIM_TIMINGS.maxDelayMs;

describe('probe detector: record age (ADR 0019, "Record age")', () => {
  it('a node joining a running cluster answers once every member said it holds the record, not membershipSkew later', () => {
    const net = new SimulatedNetwork(4, 31, 0, SLOW_SKEW);
    net.run(6000);
    net.start('joiner', 5000); // it ran on Lease liveness before the record that lists it
    net.changeMembership([...net.names, 'joiner'], 0);
    const answered = net.runUntil(() => net.answering('joiner'), 20_000);
    assert.ok(answered !== undefined && answered < 1000, `the joiner answers after ${answered} ms`);
    assert.equal(net.violation, undefined);
  });

  it('a joiner waits for a member that has not adopted the record yet (it may still answer for the joiner’s share)', () => {
    const net = new SimulatedNetwork(4, 32, 0, SLOW_SKEW);
    net.run(6000);
    net.start('joiner', 5000);
    net.changeMembership([...net.names, 'joiner'], 0, { 'node-3': 8000 });
    const answered = net.runUntil(() => net.answering('joiner'), 20_000);
    assert.ok(answered !== undefined && answered >= 8000, `the joiner answers after ${answered} ms`);
    assert.equal(net.violation, undefined);
  });

  it('a process restarted in a cluster whose record is old answers after its quiet time, and believes down votes at once', () => {
    const net = new SimulatedNetwork(5, 33, 0, SLOW_SKEW);
    net.changeMembership([...net.names], 0); // generation 2: the first record's exemption does not apply
    net.run(3 * SLOW_SKEW.membershipSkewMs + 2000);
    net.kill('node-2');
    net.run(1000);
    net.start('node-2', 500); // it reads the record with its first renewal, after it started
    const back = net.runUntil(() => net.answering('node-2'), 20_000);
    // Its quiet time after start, and after the FENCED it sent until its monitors (which held it down) confirmed it.
    assert.ok(
      back !== undefined && back >= QUIET && back < SLOW_SKEW.membershipSkewMs,
      `node-2 answers after ${back} ms`,
    );
    net.kill('node-4');
    const down = net.runUntil(() => !net.nodes.get('node-2')!.live(net.now).has('node-4'), 5000);
    assert.ok(down !== undefined && down < 1000, `node-2 counts the killed node-4 down after ${down} ms`);
    assert.equal(net.violation, undefined);
  });

  it('a cluster formed one by one (the first record lists one node): the first node fails over as soon as the others joined', () => {
    const net = new SimulatedNetwork(1, 34, 0, SLOW_SKEW);
    // The others start and read the first record (which does not list them), then the second lists everyone.
    for (const name of ['node-2', 'node-3', 'node-4']) net.start(name);
    net.run(2000);
    net.changeMembership(['node-1', 'node-2', 'node-3', 'node-4'], 0, { 'node-1': 3000 });
    net.run(3000 + QUIET + 1000);
    for (const name of net.names) assert.ok(net.answering(name), `${name} answers`);
    assert.equal(net.sentBy('node-1', 'fenced'), 0, 'node-1 never fenced itself when it began counting its monitors');
    net.kill('node-1');
    const down = net.runUntil(() => net.seeingDown('node-1').length === 3, 5000);
    assert.ok(down !== undefined && down < 1000, `node-1 down everywhere ${down} ms after its kill`);
    assert.equal(net.violation, undefined);
  });

  it('a new member cut off from its peers after it began answering is not taken over while it still answers', () => {
    const net = new SimulatedNetwork(5, 35, 0, SLOW_SKEW);
    net.run(3 * SLOW_SKEW.membershipSkewMs + 2000); // past every start-up limit
    net.start('joiner', 5000); // it held the record before the one that lists it
    net.changeMembership([...net.names, 'joiner'], 2000, { joiner: 0 });
    // Before 2 x membershipSkew: the joiner answers, and its old epoch lists no monitors for it.
    const answered = net.runUntil(() => net.answering('joiner'), 2 * SLOW_SKEW.membershipSkewMs - 3000);
    assert.ok(answered !== undefined, 'the joiner answers');
    net.isolate('joiner');
    const down = net.runUntil(() => net.seeingDown('joiner').length === 5, 3000);
    assert.ok(down !== undefined, 'the cut-off joiner is down for everyone');
    assert.equal(net.violation, undefined);
  });

  it('a joining node is counted not live (FENCED) while it waits, so that others keep answering for its share', () => {
    const net = new SimulatedNetwork(4, 36, 0, SLOW_SKEW);
    net.run(6000);
    net.start('joiner', 5000);
    net.changeMembership([...net.names, 'joiner'], 0, { 'node-3': 6000 });
    net.run(1000);
    assert.ok(!net.answering('joiner'), 'the joiner waits for node-3');
    for (const name of ['node-1', 'node-2', 'node-4'])
      assert.ok(!net.nodes.get(name)!.live(net.now).has('joiner'), `${name} does not count the waiting joiner live`);
    assert.equal(net.violation, undefined);
  });
});
