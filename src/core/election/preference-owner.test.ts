// Owners by membership preference (ADR 0019, P2): equal to the bounded-load placement when every member is live,
// one failure moves only the failed node's addresses, and views that agree on the answering nodes never give one
// address two answering owners (the load-bounded ownersOf over the live set does; the last test shows it).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ipv4 } from '../ip/ip-address.ts';
import { ownersOf } from './rendezvous-owner.ts';
import { ownersByPreference } from './preference-owner.ts';
import { eligibleAddresses as addresses, workerNames as nodes } from '../../test-support/rendezvous-cases.ts';

describe('owners by membership preference', () => {
  it('with every member live, the owners are the bounded-load placement', () => {
    const members = new Set(nodes(7));
    const input = addresses(200, [...members]);
    assert.deepEqual(
      ownersByPreference({ addresses: input, members, live: members }),
      ownersOf({ addresses: input, live: members }),
    );
  });

  it('a failed member moves only its own addresses, and a member not eligible never owns', () => {
    const all = nodes(10);
    const members = new Set(all);
    const input = [...addresses(300, all), { address: ipv4(203, 0, 113, 1), eligible: ['worker-3'] }];
    const before = ownersByPreference({ addresses: input, members, live: members });
    for (const failed of all) {
      const live = new Set(all.filter((n) => n !== failed));
      const after = ownersByPreference({ addresses: input, members, live });
      for (const [address, owner] of before) {
        if (owner === failed) assert.notEqual(after.get(address), failed);
        else assert.equal(after.get(address), owner, `address ${address} moved though ${owner} is live`);
      }
    }
    assert.equal(
      ownersByPreference({ addresses: input, members, live: new Set(all.filter((n) => n !== 'worker-3')) }).get(
        ipv4(203, 0, 113, 1),
      ),
      undefined,
    );
  });

  it('two views that both contain every answering node never give an address two different answering owners', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 12 }),
        fc.integer({ min: 1, max: 60 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 12, maxLength: 12 }),
        fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
        (n, count, roles, eligibility) => {
          const all = nodes(n);
          const members = new Set(all);
          // role 0: answering (in both views); 1: silent, live in view 1 only; 2: silent, live in view 2 only.
          const answering = new Set(all.filter((_, i) => roles[i] === 0));
          const view1 = new Set(all.filter((_, i) => roles[i] !== 2));
          const view2 = new Set(all.filter((_, i) => roles[i] !== 1));
          const input = addresses(count, all).map((a, i) =>
            eligibility[i % 12] ? a : { ...a, eligible: all.slice(0, 1 + (i % n)) },
          );
          const o1 = ownersByPreference({ addresses: input, members, live: view1 });
          const o2 = ownersByPreference({ addresses: input, members, live: view2 });
          for (const [address, owner1] of o1) {
            const owner2 = o2.get(address);
            if (owner1 !== undefined && owner2 !== undefined && answering.has(owner1) && answering.has(owner2))
              assert.equal(owner1, owner2);
          }
        },
      ),
      { numRuns: 500, seed: 14 },
    );
  });

  it('the load-bounded owners over the live set do not have that property (why ADR 0019 changes the rule)', () => {
    let conflicts = 0;
    const all = nodes(6);
    const input = addresses(60, all);
    for (let silent = 0; silent < all.length; silent++) {
      const view1 = new Set(all);
      const view2 = new Set(all.filter((_, i) => i !== silent));
      const o1 = ownersOf({ addresses: input, live: view1 });
      const o2 = ownersOf({ addresses: input, live: view2 });
      for (const [address, owner1] of o1) {
        const owner2 = o2.get(address);
        if (owner1 !== all[silent] && owner2 !== undefined && owner1 !== owner2) conflicts++;
      }
    }
    assert.ok(conflicts > 0, 'ownersOf moved no address between answering nodes');
  });
});
