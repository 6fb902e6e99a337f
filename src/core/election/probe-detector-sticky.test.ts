// Ownership stickiness with the probe detector (ADR 0036, "Probe detector"): a node that comes back while its peers
// serve (after a partition, a fence, a restart) sends REJOINING claims; every node computes owners by
// stickyOwnersByPreference over its live set and the claims it holds. On the simulated network of ADR 0019, with
// P1, rule I (an answering node that counts itself settled is counted rejoining by no answering node) and "no
// address owned by two answering nodes" checked after every step. Moves are counted as changes of the answering
// owner of an address (what a client's neighbor entry follows).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SimulatedNetwork, SIM_TIMINGS } from '../../test-support/probe-network.ts';

const QUIET_MS = 20_000;
/** When no REJOINING of a node is held anywhere any more, after its last one. */
const SETTLE_MS = SIM_TIMINGS.voteValidityMs + SIM_TIMINGS.maxDelayMs;
const ADDRESSES = Array.from({ length: 24 }, (_, i) => 0xc6336440n + BigInt(i));

function network(count: number, seed: number, quietMs: number): SimulatedNetwork {
  const net = new SimulatedNetwork(count, seed, 0, SIM_TIMINGS, quietMs);
  net.addresses = ADDRESSES.map((address) => ({ address, eligible: [...net.names] }));
  return net;
}

/**
 * Runs `ms`, counting per address how often its answering owner changed (a gap without one is no move); returns the
 * number of steps in which some address had no answering owner.
 */
function countMoves(net: SimulatedNetwork, ms: number, last: Map<bigint, string>, moves: Map<bigint, number>): number {
  const end = net.now + ms;
  let gaps = 0;
  while (net.now < end) {
    net.step();
    const owners = net.answeringOwners();
    if (owners.size < ADDRESSES.length) gaps++;
    for (const [address, owner] of owners) {
      const before = last.get(address);
      if (before !== undefined && before !== owner) moves.set(address, (moves.get(address) ?? 0) + 1);
      last.set(address, owner);
    }
  }
  return gaps;
}

/** A settled cluster, and the node owning the most addresses with its addresses. */
function settled(net: SimulatedNetwork): { x: string; mine: bigint[]; last: Map<bigint, string> } {
  net.run(6000);
  const last = net.answeringOwners();
  assert.equal(last.size, ADDRESSES.length, 'every address answered before the failure');
  const counts = new Map<string, number>();
  for (const owner of last.values()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  const x = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
  return { x, mine: ADDRESSES.filter((a) => last.get(a) === x), last };
}

const movesOf = (mine: bigint[], moves: Map<bigint, number>): number[] => mine.map((a) => moves.get(a) ?? 0);

describe('probe detector: ownership stickiness (ADR 0036)', () => {
  for (const quietMs of [0, QUIET_MS]) {
    it(`a node cut off for 3 s and healed, quiet period ${quietMs / 1000} s: its addresses move ${quietMs ? 'once (away) within the period, back once after it' : 'twice (away, and back at once)'}`, () => {
      const net = network(5, 7, quietMs);
      const { x, mine, last } = settled(net);
      const moves = new Map<bigint, number>();
      net.isolate(x);
      countMoves(net, 3000, last, moves);
      assert.deepEqual(
        movesOf(mine, moves),
        mine.map(() => 1),
        'each moved away once',
      );
      net.heal();
      const gaps = countMoves(net, 10_000, last, moves);
      assert.ok(net.answering(x), `${x} answers again`);
      assert.equal(net.seeingDown(x).length, 0, `${x} is live everywhere`);
      if (quietMs === 0) {
        assert.deepEqual(
          movesOf(mine, moves),
          mine.map(() => 2),
          'back at once',
        );
        assert.equal(net.sentBy(x, 'rejoining'), 0);
      } else {
        assert.deepEqual(
          movesOf(mine, moves),
          mine.map(() => 1),
          'still with the peers 10 s after the heal',
        );
        // The peers held its REJOINING before its FENCED expired: they never let go of its addresses on its return.
        assert.equal(gaps, 0, 'steps with an address unanswered after the heal');
        for (const name of net.alive) if (name !== x) assert.ok(net.nodes.get(name)!.rejoining(net.now).has(x));
        countMoves(net, QUIET_MS + SETTLE_MS, last, moves);
        assert.deepEqual(
          movesOf(mine, moves),
          mine.map(() => 2),
          'back once the period is over',
        );
        assert.ok(mine.every((a) => last.get(a) === x));
        for (const name of net.alive) assert.equal(net.nodes.get(name)!.rejoining(net.now).size, 0);
      }
      const others = ADDRESSES.filter((a) => !mine.includes(a));
      assert.deepEqual(
        movesOf(others, moves),
        others.map(() => 0),
        'no other address moved',
      );
      assert.equal(net.violation, undefined);
    });
  }

  for (const rejoin of [true, false]) {
    it(`kill -9 and a restart ${rejoin ? 'told it replaces a serving process (its Lease was there)' : 'not told'}: its addresses move ${rejoin ? 'once' : 'twice'} within 10 s`, () => {
      const net = network(5, 11, QUIET_MS);
      const { x, mine, last } = settled(net);
      const moves = new Map<bigint, number>();
      net.kill(x);
      countMoves(net, 2000, last, moves);
      net.start(x, 0, rejoin);
      countMoves(net, 10_000, last, moves);
      assert.ok(net.answering(x), `${x} answers again`);
      assert.deepEqual(
        movesOf(mine, moves),
        mine.map(() => (rejoin ? 1 : 2)),
      );
      assert.equal(net.violation, undefined);
    });
  }

  it('a stall under suspectAfter sends no FENCED: no quiet period, nothing moves', () => {
    const net = network(5, 3, QUIET_MS);
    const { x, last } = settled(net);
    const moves = new Map<bigint, number>();
    net.stall(x, 400);
    countMoves(net, 5000, last, moves);
    assert.equal(net.sentBy(x, 'rejoining'), 0);
    assert.deepEqual(
      [...moves.values()].filter((n) => n > 0),
      [],
    );
    assert.equal(net.violation, undefined);
  });

  it('a new cluster (every node starts together, none told it re-joins) spreads at once: nobody rejoining', () => {
    const net = network(5, 5, QUIET_MS);
    net.run(6000);
    for (const name of net.names) assert.equal(net.sentBy(name, 'rejoining'), 0);
    assert.equal(new Set(net.answeringOwners().values()).size, 5);
    assert.equal(net.violation, undefined);
  });

  it('nobody else serving (the other nodes died while it was cut off): no quiet period, it serves everything', () => {
    const net = network(3, 9, QUIET_MS);
    const { x } = settled(net);
    net.isolate(x);
    net.run(1500);
    for (const name of net.names) if (name !== x) net.kill(name);
    net.run(2500);
    net.heal();
    // Its monitors are dead: it cannot answer by probes until the controller removes them (ADR 0019, 40 s).
    net.changeMembership([x], 0);
    const back = net.runUntil(() => net.answering(x), SIM_TIMINGS.epochTransitionMs + 2 * SETTLE_MS);
    assert.ok(back !== undefined, `${x} answers again`);
    // The period ends at its return; it settles once no REJOINING of its can be held (sent to nobody here).
    net.run(SETTLE_MS + 100);
    assert.ok(net.nodes.get(x)!.settled(net.now), 'settled: nobody else could serve');
    assert.equal(net.answeringOwners().size, ADDRESSES.length);
    assert.equal(net.violation, undefined);
  });

  it('10 % loss while the node rejoins (some claims lost, other nodes fence now and then): it takes none of its addresses back within the period, and no two nodes answer for one', () => {
    const net = network(5, 13, QUIET_MS);
    const { x, mine, last } = settled(net);
    net.isolate(x);
    net.run(3000);
    net.loss = 0.1;
    net.heal();
    const end = net.now + 10_000;
    let answered = false;
    while (net.now < end) {
      net.step();
      answered ||= net.answering(x);
      const owners = net.answeringOwners();
      for (const a of mine) assert.notEqual(owners.get(a), x, `${x} took ${a} back at ${net.now} ms`);
    }
    assert.ok(answered, `${x} answered during the period`);
    assert.equal(last.size, ADDRESSES.length);
    assert.equal(net.violation, undefined);
  });

  it('rule I, P1 and one answering owner per address hold under random partitions, loss, stalls, kills and restarts', () => {
    const op = fc.record({
      at: fc.integer({ min: 0, max: 14_000 }),
      kind: fc.constantFrom(
        'cut',
        'isolate',
        'isolate-in',
        'isolate-out',
        'heal',
        'kill',
        'restart',
        'loss',
        'slow',
        'stall',
      ),
      a: fc.nat(),
      b: fc.nat(),
      x: fc.double({ min: 0, max: 0.8, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.integer(), fc.array(op, { maxLength: 10 }), (count, seed, ops) => {
        // Short periods, so that nodes also settle (and hand back) within the run.
        const net = network(count, seed, 3000);
        const pick = (i: number): string => net.names[i % net.names.length]!;
        const todo = [...ops].sort((p, q) => p.at - q.at);
        net.run(3000);
        const start = net.now;
        while (net.now - start < 16_000) {
          while (todo.length && todo[0]!.at <= net.now - start) {
            const o = todo.shift()!;
            const a = pick(o.a);
            const b = pick(o.b);
            if (net.fault(o.kind, a, b, o.x)) continue;
            if (o.kind === 'restart' && !net.alive.has(a)) net.start(a, o.x > 0.6 ? 500 : 0, o.x > 0.2);
          }
          net.step();
          if (net.violation) return false;
        }
        return true;
      }),
      { numRuns: 30, seed: 20261208 },
    );
  });
});
