import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assignOwners, ownersOf, rankNodes, type OwnerInput } from './rendezvous-owner.ts';
import {
  ip,
  shuffled,
  sequentialAddresses,
  nodeNames,
  allEligible,
  anyInput,
} from '../../test-support/rendezvous-cases.ts';

/** The same input with every list (addresses, each eligible list, the live set) in another order. */
function permuted(input: OwnerInput, seed: number): OwnerInput {
  const permutedInput: OwnerInput = {
    addresses: shuffled(input.addresses, seed).map((entry, index) => ({
      address: entry.address,
      eligible: shuffled(entry.eligible, seed + index + 1),
    })),
    live: new Set(shuffled([...input.live], seed + 7)),
  };
  return input.loadFactor === undefined ? permutedInput : { ...permutedInput, loadFactor: input.loadFactor };
}

describe('ownersOf: eligibility', () => {
  const a = ip('198.51.100.10');
  const b = ip('198.51.100.11');
  const v6 = ip('2001:db8::10');

  it('gives an address with no live eligible node no owner', () => {
    const owners = ownersOf({
      addresses: [
        { address: a, eligible: [] },
        { address: b, eligible: ['dead-1', 'dead-2'] },
        { address: v6, eligible: ['live-1'] },
      ],
      live: new Set(['live-1', 'live-2']),
    });
    assert.deepEqual(
      owners,
      new Map([
        [a, undefined],
        [b, undefined],
        [v6, 'live-1'],
      ]),
    );
  });

  it('returns an empty map for no addresses, and every address once', () => {
    assert.deepEqual(ownersOf({ addresses: [], live: new Set(['n1']) }), new Map());
    const owners = ownersOf(allEligible(sequentialAddresses(50), nodeNames(3)));
    assert.equal(owners.size, 50);
  });

  it('never gives an address to a node that is dead or not eligible for it', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const owners = ownersOf(input);
        for (const { address } of input.addresses) assert.ok(owners.has(address));
        assert.equal(owners.size, new Set(input.addresses.map((entry) => entry.address)).size);
        for (const [address, owner] of owners) {
          const eligible = new Set(
            input.addresses.filter((entry) => entry.address === address).flatMap((entry) => entry.eligible),
          );
          const candidates = [...eligible].filter((node) => input.live.has(node));
          if (candidates.length === 0) assert.equal(owner, undefined);
          else assert.ok(owner !== undefined && candidates.includes(owner), `${owner} for ${address}`);
        }
      }),
    );
  });

  it('keeps ETP Local addresses on their one eligible node even above capacity (eligibility wins over balance)', () => {
    const local = sequentialAddresses(40);
    const cluster = sequentialAddresses(80).slice(40);
    const nodes = nodeNames(4);
    const assignment = assignOwners({
      addresses: [
        ...local.map((address) => ({ address, eligible: [nodes[0]!] })),
        ...cluster.map((address) => ({ address, eligible: nodes })),
      ],
      live: new Set(nodes),
    });
    assert.equal(assignment.capacity, Math.ceil((1.25 * 80) / 4));
    for (const address of local) assert.equal(assignment.owners.get(address), nodes[0]);
    // Pinned addresses take their places first, so the pinned node takes none of the others: no avoidable overflow.
    assert.equal(assignment.loads.get(nodes[0]!), 40);
    for (const address of cluster) assert.notEqual(assignment.owners.get(address), nodes[0]);
    for (const node of nodes.slice(1)) assert.ok((assignment.loads.get(node) ?? 0) <= assignment.capacity);
  });

  it('treats a repeated address (a shared IP) as one address eligible on the union of its lists', () => {
    const owners = ownersOf({
      addresses: [
        { address: a, eligible: ['n1'] },
        { address: b, eligible: ['n2'] },
        { address: a, eligible: ['n3', 'n1'] },
      ],
      live: new Set(['n2', 'n3']),
    });
    assert.deepEqual(
      owners,
      new Map([
        [a, 'n3'],
        [b, 'n2'],
      ]),
    );
  });

  it('rejects a load factor below 1 or not finite, and an address outside 128 bits (bugs)', () => {
    for (const loadFactor of [0.5, 0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => ownersOf({ addresses: [], live: new Set(), loadFactor }), RangeError);
    }
    assert.throws(() => ownersOf({ addresses: [{ address: -1n, eligible: ['n'] }], live: new Set(['n']) }), RangeError);
  });
});

describe('ownersOf: agreement', () => {
  it('gives every speaker the same owners whatever the order of addresses, eligible lists and live set', () => {
    fc.assert(
      fc.property(anyInput, fc.integer(), (input, seed) => {
        const expected = assignOwners(input);
        const actual = assignOwners(permuted(input, seed));
        // Same entries in the same (canonical) order, and the same loads.
        assert.deepEqual([...actual.owners], [...expected.owners]);
        assert.deepEqual([...actual.loads], [...expected.loads]);
        assert.equal(actual.capacity, expected.capacity);
      }),
    );
  });

  it('gives the same owners when addresses share one eligible array as when each has its own copy', () => {
    fc.assert(
      fc.property(anyInput, fc.nat(), (input, pick) => {
        // Several addresses (repeated ones included) pointing at a few shared arrays, against private copies.
        const pool = input.addresses.slice(0, 3).map((entry) => entry.eligible);
        fc.pre(pool.length > 0);
        const shared = input.addresses.map((entry, index) => ({
          address: entry.address,
          eligible: pool[(pick + index) % pool.length]!,
        }));
        const copied = shared.map((entry) => ({ address: entry.address, eligible: [...entry.eligible] }));
        assert.deepEqual(
          [...ownersOf({ ...input, addresses: shared })],
          [...ownersOf({ ...input, addresses: copied })],
        );
      }),
    );
    const common = ['n1', 'n2'];
    const owners = ownersOf({
      addresses: [
        { address: 1n, eligible: common },
        { address: 3n, eligible: common },
        { address: 1n, eligible: ['n3'] },
      ],
      live: new Set(['n1', 'n2', 'n3']),
      loadFactor: 100,
    });
    // n3 ranks first for both 1 and 3: 1 gets it through the union, 3 must not (its list is n1, n2 only).
    assert.deepEqual([rankNodes(1n, ['n1', 'n2', 'n3'])[0], rankNodes(3n, ['n1', 'n2', 'n3'])[0]], ['n3', 'n3']);
    assert.equal(owners.get(1n), 'n3');
    assert.equal(owners.get(3n), rankNodes(3n, common)[0], 'merging the twin of 1 left the shared list alone');
    assert.deepEqual(common, ['n1', 'n2']);
  });

  it('is plain rendezvous hashing when the bound never binds', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const owners = ownersOf({ ...input, loadFactor: Math.max(1, input.addresses.length * 10) });
        for (const [address, owner] of owners) {
          const eligible = input.addresses
            .filter((entry) => entry.address === address)
            .flatMap((entry) => entry.eligible);
          assert.equal(
            owner,
            rankNodes(
              address,
              eligible.filter((node) => input.live.has(node)),
            )[0],
          );
        }
      }),
    );
  });
});
