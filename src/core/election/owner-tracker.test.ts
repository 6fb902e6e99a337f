// The incremental owners (ADR 0037): after any sequence of changes they equal ownersOf / ownersByPreference computed
// from scratch, and one changed address among thousands costs a few evaluations, not thousands.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ownersOf } from './rendezvous-owner.ts';
import { ownersByPreference } from './preference-owner.ts';
import { OwnerTracker, type OwnerPlacement, type TrackedAddressInput } from './owner-tracker.ts';

const NODES = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'];

function address(i: number): bigint {
  return 0x20010db8000a0000000000000000n + BigInt(i);
}

function fromScratch(addresses: ReadonlyMap<bigint, TrackedAddressInput>, placement: OwnerPlacement) {
  const list = [...addresses.values()];
  return placement.kind === 'rendezvous'
    ? ownersOf({ addresses: list, live: placement.live })
    : ownersByPreference({ addresses: list, members: placement.members, live: placement.live });
}

function sorted(map: ReadonlyMap<bigint, string | undefined>): Array<[bigint, string | undefined]> {
  return [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

const step = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    index: fc.nat(40),
    eligible: fc.subarray(NODES, { minLength: 0 }),
  }),
  fc.record({ kind: fc.constant('remove' as const), index: fc.nat(40) }),
  fc.record({ kind: fc.constant('live' as const), live: fc.subarray(NODES) }),
  fc.record({ kind: fc.constant('members' as const), members: fc.subarray(NODES) }),
);

describe('incremental owners', () => {
  for (const kind of ['rendezvous', 'preference'] as const) {
    it(`equal ${kind === 'rendezvous' ? 'ownersOf' : 'ownersByPreference'} after every change, reporting each owner that moved`, () => {
      fc.assert(
        fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
          const tracker = new OwnerTracker();
          const addresses = new Map<bigint, TrackedAddressInput>();
          let live = new Set(NODES);
          let members = new Set(NODES);
          let previous = new Map<bigint, string | undefined>();
          for (const s of steps) {
            const changed: bigint[] = [];
            if (s.kind === 'set') {
              addresses.set(address(s.index), { address: address(s.index), eligible: s.eligible });
              changed.push(address(s.index));
            } else if (s.kind === 'remove') {
              addresses.delete(address(s.index));
              changed.push(address(s.index));
            } else if (s.kind === 'live') live = new Set(s.live);
            else members = new Set(s.members);
            const placement: OwnerPlacement = kind === 'rendezvous' ? { kind, live } : { kind, members, live };
            const moved = tracker.update(addresses, changed, placement);
            const expected = fromScratch(addresses, placement);
            assert.deepEqual(sorted(tracker.owners), sorted(expected));
            for (const a of new Set([...previous.keys(), ...expected.keys()]))
              assert.equal(moved.has(a), previous.get(a) !== expected.get(a) || previous.has(a) !== expected.has(a));
            previous = new Map(expected);
          }
        }),
        { numRuns: 300, seed: 37 },
      );
    });
  }

  it('one address added among 5,000 costs a few evaluations, not 5,000 (both placements)', () => {
    for (const kind of ['rendezvous', 'preference'] as const) {
      const nodes = new Set(['n0', 'n1', 'n2']);
      const placement: OwnerPlacement =
        kind === 'rendezvous' ? { kind, live: nodes } : { kind, members: nodes, live: nodes };
      const addresses = new Map<bigint, TrackedAddressInput>();
      for (let i = 0; i < 5000; i++) addresses.set(address(i), { address: address(i), eligible: [...nodes] });
      const tracker = new OwnerTracker();
      tracker.update(addresses, undefined, placement);
      const before = tracker.evaluations;
      addresses.set(address(5000), { address: address(5000), eligible: [...nodes] });
      const moved = tracker.update(addresses, [address(5000)], placement);
      assert.deepEqual([...moved], [address(5000)]);
      assert.ok(tracker.evaluations - before <= 4, `${kind}: ${tracker.evaluations - before} evaluations`);
      assert.deepEqual(sorted(tracker.owners), sorted(fromScratch(addresses, placement)));
    }
  });

  it('a node failing moves and evaluates only its own addresses (preference), not all of them', () => {
    const members = new Set(['n0', 'n1', 'n2']);
    const addresses = new Map<bigint, TrackedAddressInput>();
    for (let i = 0; i < 3000; i++) addresses.set(address(i), { address: address(i), eligible: [...members] });
    const tracker = new OwnerTracker();
    tracker.update(addresses, undefined, { kind: 'preference', members, live: members });
    const ownedByN1 = [...tracker.owners.values()].filter((o) => o === 'n1').length;
    const before = tracker.evaluations;
    const live = new Set(['n0', 'n2']);
    const moved = tracker.update(addresses, [], { kind: 'preference', members, live });
    assert.equal(moved.size, ownedByN1);
    assert.ok(tracker.evaluations - before <= ownedByN1, `${tracker.evaluations - before} > ${ownedByN1}`);
    assert.deepEqual(sorted(tracker.owners), sorted(fromScratch(addresses, { kind: 'preference', members, live })));
  });
});
