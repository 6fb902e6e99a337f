import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IntervalSet } from './interval-set.ts';
import { PoolAddressSet, endsInZeroOr255, zeroOr255Between } from './pool-address-set.ts';
import { IPV4_MAPPED_BASE, ipv4 } from '../ip/ip-address.ts';

function setOf(ranges: Array<[bigint, bigint]>): IntervalSet {
  const set = new IntervalSet();
  for (const [lo, hi] of ranges) set.add(lo, hi);
  return set;
}

describe('PoolAddressSet', () => {
  it('counts the .0 and .255 addresses of any interval by arithmetic, as an enumeration would', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 1200 }), (start, length) => {
        const lo = IPV4_MAPPED_BASE + BigInt(start);
        const hi = lo + BigInt(length);
        let counted = 0n;
        for (let x = lo; x <= hi; x++) if (endsInZeroOr255(x)) counted++;
        assert.equal(zeroOr255Between(lo, hi), counted);
      }),
    );
  });

  it('a 0.0.0.0/1 pool with avoidBuggyIPs is one interval: size computed, membership and lowest by arithmetic', () => {
    const set = new PoolAddressSet(setOf([[ipv4(0, 0, 0, 0), ipv4(127, 255, 255, 255)]]), true);
    assert.equal(set.intervalCount, 1);
    assert.equal(set.size, 2n ** 31n - 2n * 2n ** 23n);
    assert.equal(set.has(ipv4(10, 0, 0, 0)), false);
    assert.equal(set.has(ipv4(10, 0, 0, 255)), false);
    assert.equal(set.has(ipv4(10, 0, 0, 1)), true);
    const free = set.freeSet();
    assert.equal(set.takeLowestFrom(free), ipv4(0, 0, 0, 1));
    free.take(ipv4(0, 0, 0, 2));
    for (let i = 3; i <= 254; i++) free.take(ipv4(0, 0, 0, i));
    // .255 and the next .0 are dropped on the way.
    assert.equal(set.takeLowestFrom(free), ipv4(0, 0, 1, 1));
  });

  it('without avoidBuggyIPs every member counts', () => {
    const set = new PoolAddressSet(setOf([[ipv4(198, 51, 100, 0), ipv4(198, 51, 100, 255)]]), false);
    assert.equal(set.size, 256n);
    assert.equal(set.has(ipv4(198, 51, 100, 0)), true);
  });

  it('yields undefined from an exhausted free set that holds only excluded addresses', () => {
    const set = new PoolAddressSet(setOf([[ipv4(198, 51, 100, 255), ipv4(198, 51, 101, 0)]]), true);
    assert.equal(set.size, 0n);
    assert.equal(set.takeLowestFrom(set.freeSet()), undefined);
  });
});
