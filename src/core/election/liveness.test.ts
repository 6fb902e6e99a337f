import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PeerLiveness, fenceTime, selfFenced, type LeaseState } from './liveness.ts';
import { ownersOf } from './rendezvous-owner.ts';
import { ipv4 } from '../ip/ip-address.ts';

const LEASE_MS = 3000;

/** The live set as a sorted array, for readable assertions. */
function live(tracker: PeerLiveness, now: number, leaseDurationMs = LEASE_MS): string[] {
  return [...tracker.liveNodes(now, leaseDurationMs)];
}

describe('PeerLiveness', () => {
  it('counts a lease seen for the first time as live until it goes stale, whatever its timestamps say', () => {
    const tracker = new PeerLiveness();
    // The version may be an old renewTime: the observer's clock decides, from the moment it first saw the lease.
    assert.equal(tracker.observe('node-b', '2020-01-01T00:00:00.000000Z', 'active', 10_000), true);
    assert.deepEqual(live(tracker, 10_000), ['node-b']);
    assert.deepEqual(live(tracker, 12_999), ['node-b']);
    assert.deepEqual(live(tracker, 13_000), [], 'stale exactly leaseDuration after the change');
  });

  it('is refreshed only by a change: the same version again (a resync) does not renew it', () => {
    const tracker = new PeerLiveness();
    tracker.observe('node-b', 'rv-1', 'active', 0);
    assert.equal(tracker.observe('node-b', 'rv-1', 'active', 2000), false);
    assert.deepEqual(live(tracker, 3000), []);
    assert.equal(tracker.observe('node-b', 'rv-2', 'active', 3500), true);
    assert.deepEqual(live(tracker, 3500), ['node-b'], 'a stale lease that changes is live again');
    assert.deepEqual(live(tracker, 6499), ['node-b']);
    assert.deepEqual(live(tracker, 6500), []);
  });

  it('drops a leaving node at once, and takes it back when it is active again', () => {
    const tracker = new PeerLiveness();
    tracker.observe('node-a', 'rv-1', 'active', 0);
    tracker.observe('node-b', 'rv-1', 'active', 0);
    tracker.observe('node-b', 'rv-2', 'leaving', 500);
    assert.deepEqual(live(tracker, 500), ['node-a']);
    assert.equal(
      tracker.observe('node-b', 'rv-2', 'active', 600),
      true,
      'a new state is a change even with one version',
    );
    assert.deepEqual(live(tracker, 600), ['node-a', 'node-b']);
  });

  it('drops a node whose renewed lease says not ready, and takes it back when it is ready again', () => {
    const tracker = new PeerLiveness();
    tracker.observe('node-a', 'rv-1', 'active', 0);
    tracker.observe('node-b', 'rv-1', 'active', 0);
    tracker.observe('node-b', 'rv-2', 'not-ready', 500);
    tracker.observe('node-b', 'rv-3', 'not-ready', 1000);
    assert.deepEqual(live(tracker, 1000), ['node-a'], 'renewed, yet not live');
    assert.equal(tracker.observe('node-b', 'rv-4', 'active', 1500), true);
    assert.deepEqual(live(tracker, 1500), ['node-a', 'node-b']);
  });

  it('forgets a deleted lease; seen again it counts as first seen', () => {
    const tracker = new PeerLiveness();
    tracker.observe('node-b', 'rv-1', 'active', 0);
    assert.equal(tracker.remove('node-b'), true);
    assert.equal(tracker.remove('node-b'), false);
    assert.deepEqual(live(tracker, 1), []);
    tracker.observe('node-b', 'rv-1', 'active', 5000);
    assert.deepEqual(live(tracker, 5000), ['node-b']);
  });

  it('lists live nodes sorted by name', () => {
    const tracker = new PeerLiveness();
    for (const node of ['node-c', 'node-a', 'node-b']) tracker.observe(node, 'v', 'active', 0);
    assert.deepEqual(live(tracker, 0), ['node-a', 'node-b', 'node-c']);
  });

  it('tells when the live set can next change by staleness', () => {
    const tracker = new PeerLiveness();
    assert.equal(tracker.nextExpiry(0, LEASE_MS), undefined);
    tracker.observe('node-a', 'v1', 'active', 0);
    tracker.observe('node-b', 'v1', 'active', 1000);
    tracker.observe('node-c', 'v1', 'leaving', 100);
    assert.equal(tracker.nextExpiry(1000, LEASE_MS), 3000);
    assert.equal(tracker.nextExpiry(3000, LEASE_MS), 4000, 'node-a is stale at 3000; node-b is next');
    tracker.observe('node-b', 'v2', 'active', 3500);
    assert.equal(tracker.nextExpiry(3500, LEASE_MS), 6500);
    assert.equal(tracker.nextExpiry(6500, LEASE_MS), undefined);
  });

  it('agrees with a model of observation histories at any query time', () => {
    type Step =
      | { kind: 'observe'; node: string; version: string; state: LeaseState; after: number }
      | { kind: 'remove'; node: string; after: number };
    const node = fc.constantFrom('a', 'b', 'c', 'd');
    const step: fc.Arbitrary<Step> = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          kind: fc.constant('observe' as const),
          node,
          version: fc.constantFrom('1', '2', '3'),
          state: fc.constantFrom<LeaseState>('active', 'active', 'leaving', 'not-ready'),
          after: fc.nat({ max: 2000 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), node, after: fc.nat({ max: 2000 }) }) },
    );
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 40 }),
        fc.integer({ min: 1, max: 4000 }),
        fc.nat({ max: 5000 }),
        (steps, leaseMs, lookAhead) => {
          const tracker = new PeerLiveness();
          const history: Array<Step & { at: number }> = [];
          let now = 0;
          for (const s of steps) {
            now += s.after;
            if (s.kind === 'observe') tracker.observe(s.node, s.version, s.state, now);
            else tracker.remove(s.node);
            history.push({ ...s, at: now });

            // Model: a node's observations since its last removal; the lease last changed where the final run of
            // identical (version, state) observations began. Live iff that run is active and younger than the lease.
            const query = now + lookAhead;
            const expected = new Map<string, number>();
            for (const candidate of ['a', 'b', 'c', 'd']) {
              const mine = history.filter((h) => h.node === candidate);
              const lastRemove = mine.findLastIndex((h) => h.kind === 'remove');
              const seen = mine.slice(lastRemove + 1).filter((h) => h.kind === 'observe');
              const last = seen.at(-1);
              if (last === undefined || last.state !== 'active') continue;
              let first = seen.length - 1;
              while (first > 0 && seen[first - 1]!.version === last.version && seen[first - 1]!.state === last.state)
                first--;
              expected.set(candidate, seen[first]!.at);
            }
            const liveAt = (t: number): string[] =>
              [...expected]
                .filter(([, changedAt]) => t < changedAt + leaseMs)
                .map(([n]) => n)
                .sort();
            assert.deepEqual(live(tracker, query, leaseMs), liveAt(query));
            const expiries = [...expected.values()]
              .map((changedAt) => changedAt + leaseMs)
              .filter((expiry) => expiry > query);
            const nextExpiry = tracker.nextExpiry(query, leaseMs);
            assert.equal(nextExpiry, expiries.length === 0 ? undefined : Math.min(...expiries));
            // One timer suffices: the live set holds until nextExpiry and changes there.
            if (nextExpiry !== undefined) {
              assert.deepEqual(live(tracker, nextExpiry - 1, leaseMs), live(tracker, query, leaseMs));
              assert.notDeepEqual(live(tracker, nextExpiry, leaseMs), live(tracker, query, leaseMs));
            } else {
              assert.deepEqual(live(tracker, query + 10 * leaseMs, leaseMs), live(tracker, query, leaseMs));
            }
          }
        },
      ),
    );
  });
});

describe('selfFenced', () => {
  it('fences leaseDuration - margin after the last successful renewal was sent', () => {
    const cases: Array<[lastRenew: number, now: number, leaseMs: number, marginMs: number, fenced: boolean]> = [
      [1000, 1000, 3000, 500, false],
      [1000, 3499, 3000, 500, false],
      [1000, 3500, 3000, 500, true],
      [1000, 9000, 3000, 500, true],
      [1000, 3999, 3000, 0, false],
      [1000, 4000, 3000, 0, true],
      [1000, 1000, 3000, 3000, true],
      [1000, 1000, 3000, 4000, true],
    ];
    for (const [lastRenew, now, leaseMs, marginMs, fenced] of cases) {
      assert.equal(
        selfFenced(lastRenew, now, leaseMs, marginMs),
        fenced,
        `renew ${lastRenew}, now ${now}, lease ${leaseMs}, margin ${marginMs}`,
      );
    }
    assert.equal(fenceTime(1000, 3000, 500), 3500);
  });

  it('stops a speaker before any peer can call it dead, however late peers observe its last renewal', () => {
    // One time base (real time; clock drift is what the margin is for). The renewal is sent at `sent`, stored by the
    // API server and seen by a peer at `sent + delay`; then the speaker cannot renew any more.
    fc.assert(
      fc.property(
        fc.nat({ max: 100_000 }),
        fc.nat({ max: 5000 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.nat({ max: 2000 }),
        fc.nat({ max: 20_000 }),
        (sent, delay, leaseMs, marginMs, elapsed) => {
          const peer = new PeerLiveness();
          peer.observe('speaker', 'renewed', 'active', sent + delay);
          const now = sent + elapsed;
          if (!selfFenced(sent, now, leaseMs, marginMs)) assert.ok(peer.liveNodes(now, leaseMs).has('speaker'));
        },
      ),
    );
  });
});

describe('election start-up', () => {
  it('never claims an address another node holds: a restarted speaker counts every lease it sees as live', () => {
    const addresses = Array.from({ length: 20 }, (_, i) => ({
      address: ipv4(203, 0, 113, i),
      eligible: ['node-a', 'node-b'],
    }));
    // node-a has owned its addresses all along; node-b restarts and sees node-a's lease for the first time at 0,
    // even though the lease's renewTime is old by node-b's reckoning.
    const tracker = new PeerLiveness();
    tracker.observe('node-a', 'renewTime=2020-01-01T00:00:00Z', 'active', 0);
    tracker.observe('node-b', 'renewTime=2020-01-01T00:00:09Z', 'active', 0);
    const together = ownersOf({ addresses, live: tracker.liveNodes(0, LEASE_MS) });
    const aloneA = ownersOf({ addresses, live: new Set(['node-a']) });
    assert.ok([...together.values()].includes('node-a'));
    for (const [address, owner] of together) if (owner === 'node-a') assert.equal(aloneA.get(address), 'node-a');
    // node-b keeps renewing; node-a's lease never changes again: node-b takes over only once it is stale.
    tracker.observe('node-b', 'renewTime=2020-01-01T00:00:10Z', 'active', 1000);
    tracker.observe('node-b', 'renewTime=2020-01-01T00:00:11Z', 'active', 2000);
    assert.equal(tracker.nextExpiry(2000, LEASE_MS), 3000);
    const later = ownersOf({ addresses, live: tracker.liveNodes(3000, LEASE_MS) });
    assert.deepEqual(new Set(later.values()), new Set(['node-b']));
  });
});
