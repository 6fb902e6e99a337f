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

  it('a speaker restarted with a record change (SIGTERM: listed out, then in again) takes a killed node’s addresses at once', () => {
    // Breaks if a process believes no down vote until 3 x membershipSkew after its first record whatever it learns:
    // node-2's first record is the one without it (published seconds before); once the record that lists it again is
    // held everywhere, every member counts its fence in a record node-2 holds. Before: the killed node-4's addresses
    // whose next node is node-2 went unanswered until 3 x skew after node-2's first record (8.2 s here; up to a minute
    // at the default timings).
    const net = withAddresses(new SimulatedNetwork(5, 5, 0, SLOW_SKEW));
    const all = [...net.names];
    net.changeMembership(all, 0); // generation 2: the first record's exemption does not apply
    net.run(4 * SLOW_SKEW.membershipSkewMs);
    net.leave('node-2');
    net.run(2000);
    net.changeMembership(all.filter((n) => n !== 'node-2'));
    net.run(3000);
    net.start('node-2'); // it reads the record without it
    net.run(SLOW_SKEW.membershipSkewMs - 3000);
    net.changeMembership(all); // at least membershipSkew after the previous record, as the controller publishes
    net.run(SLOW_SKEW.membershipSkewMs + 2000);
    assert.deepEqual(unanswered(net), [], 'every address answered before the kill');
    net.kill('node-4');
    const longest = longestUnanswered(net, 15_000);
    assert.ok(longest <= 1000, `an address went unanswered for ${longest} ms after node-4 was killed`);
    assert.equal(net.violation, undefined);
  });

  it('a monitor that dropped the old record earlier keeps probing its targets there while they still count it', () => {
    // Breaks if a monitor stops probing the targets of a record as soon as it drops it: node-1 adopted the join record
    // 9 s after node-5, so for 9 s it still counted its fence in the old record, where node-5 (no monitor of node-1
    // any more) had stopped confirming it; with node-4, its other old monitor, killed, node-1 fenced itself (before:
    // silent 11.5 s, its addresses moved twice) although nothing happened to it.
    const net = new SimulatedNetwork(5, 3, 0, SLOW_SKEW);
    net.changeMembership([...net.names], 0);
    net.run(4 * SLOW_SKEW.membershipSkewMs);
    const before = net.nodes.get('node-1')!.monitorsOf('node-1');
    net.start('joiner', 5000);
    net.changeMembership([...net.names, 'joiner'], 0, { 'node-1': 9000 });
    net.run(SLOW_SKEW.membershipSkewMs);
    const after = net.nodes.get('node-1')!.monitorsOf('node-1');
    assert.deepEqual(before, ['node-4', 'node-2', 'node-5'], 'the scenario’s monitors (seed 3)');
    assert.deepEqual(after, ['node-4', 'joiner', 'node-2'], 'node-5 monitors node-1 in the old record only');
    net.kill('node-4');
    let silentFrom: number | undefined;
    let longest = 0;
    for (let i = 0; i < SLOW_SKEW.epochTransitionMs / 10 + 1000; i++) {
      net.step();
      if (net.answering('node-1')) silentFrom = undefined;
      else longest = Math.max(longest, net.now - (silentFrom ??= net.now));
    }
    assert.equal(longest, 0, `node-1 was silent for ${longest} ms`);
    assert.equal(net.violation, undefined);
  });

  it('a restarted process listed out of its record is not counted live by a node that still holds the record before', () => {
    // Breaks if a process that is no member of its newest record ACKs the pings of monitors that are not ahead of it:
    // node-5 left (SIGTERM), its next process read the record without it, node-1 adopts that record 9 s after the
    // others. The new process's ACKs ended its monitors' down votes, and node-1 counted the silent node-5 live and
    // left its addresses unanswered (before: 5.1 s here, up to membershipSkew).
    const net = new SimulatedNetwork(5, 3, 0, SLOW_SKEW);
    const all = [...net.names];
    net.changeMembership(all, 0);
    net.run(4 * SLOW_SKEW.membershipSkewMs);
    net.leave('node-5');
    net.run(2000);
    net.changeMembership(
      all.filter((n) => n !== 'node-5'),
      0,
      { 'node-1': 9000 },
    );
    net.run(1000);
    net.start('node-5');
    let countedLive = 0;
    for (let i = 0; i < 700; i++) {
      net.step();
      if (net.nodes.get('node-1')!.live(net.now).has('node-5')) countedLive += 10;
    }
    assert.equal(countedLive, 0, `node-1 counted the silent node-5 live for ${countedLive} ms`);
    assert.equal(net.violation, undefined);
  });
});

const ADDRESSES = Array.from({ length: 60 }, (_, i) => 0xc6336470n + BigInt(i));

/** Every node may announce every address; the network then also checks that no two answer for one (ADR 0036). */
function withAddresses(net: SimulatedNetwork): SimulatedNetwork {
  net.addresses = ADDRESSES.map((address) => ({ address, eligible: [...net.names] }));
  return net;
}

/** The addresses no running node answers for. */
function unanswered(net: SimulatedNetwork): bigint[] {
  return [...net.answerers()].filter(([, nodes]) => nodes.length === 0).map(([address]) => address);
}

/** Runs `ms` and returns the longest time any one address went unanswered. */
function longestUnanswered(net: SimulatedNetwork, ms: number): number {
  const since = new Map<bigint, number>();
  let longest = 0;
  for (const end = net.now + ms; net.now < end;) {
    net.step();
    const none = new Set(unanswered(net));
    for (const address of ADDRESSES) {
      if (!none.has(address)) since.delete(address);
      else {
        if (!since.has(address)) since.set(address, net.now);
        longest = Math.max(longest, net.now - (since.get(address) ?? net.now));
      }
    }
  }
  return longest;
}
