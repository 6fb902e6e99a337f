import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IntervalSet } from './interval-set.ts';
import { IPV4_MAPPED_BASE } from '../ip/ip-address.ts';

/** A set holding the given intervals. */
function setOf(...intervals: Array<[number, number]>): IntervalSet {
  const set = new IntervalSet();
  for (const [lo, hi] of intervals) set.add(BigInt(lo), BigInt(hi));
  return set;
}

/** The intervals of a set as numbers, for readable assertions. */
function intervalsOf(set: IntervalSet): Array<[number, number]> {
  return [...set.intervals()].map(([lo, hi]) => [Number(lo), Number(hi)]);
}

// A treap's height is random: about 3 * log2(n) is its typical ceiling (a random binary search tree's height tends
// to 4.311 ln n = 2.99 log2 n), and small trees cross it now and then: in a measurement of 300,000 random sequences
// like the model test's, 0.13% of sequences crossed 3 * log2(n + 2) at some step and none came near 4 * log2(n + 2).
// So the model test allows factor 4 (a failure means a real imbalance, not bad luck); the fixed-seed tests keep 3.
const TYPICAL_HEIGHT_FACTOR = 3;
const RANDOM_HEIGHT_FACTOR = 4;

/** Asserts every internal invariant: order, heap order, disjoint and non-adjacent intervals, counts, balance. */
function assertSound(set: IntervalSet, heightFactor = TYPICAL_HEIGHT_FACTOR): void {
  assert.deepEqual(set.invariantViolations(), []);
  const bound = heightFactor * Math.log2(set.intervalCount + 2);
  assert.ok(set.treeHeight() <= bound, `height ${set.treeHeight()} > ${bound} for ${set.intervalCount} intervals`);
}

describe('IntervalSet', () => {
  it('starts empty', () => {
    const set = new IntervalSet();
    assert.equal(set.size, 0n);
    assert.equal(set.intervalCount, 0);
    assert.equal(set.lowest(), undefined);
    assert.equal(set.takeLowest(), undefined);
    assert.equal(set.take(0n), false);
    assert.equal(set.has(0n), false);
    assert.equal(set.lowestInRange(0n, 10n), undefined);
    assert.equal(set.countInRange(0n, 10n), 0n);
    assert.deepEqual(intervalsOf(set), []);
  });

  it('merges overlapping and adjoining intervals on add', () => {
    const set = setOf([10, 20], [30, 40]);
    assert.deepEqual(intervalsOf(set), [
      [10, 20],
      [30, 40],
    ]);
    set.add(21n, 29n);
    assert.deepEqual(intervalsOf(set), [[10, 40]]);
    set.add(41n, 41n);
    set.add(5n, 9n);
    assert.deepEqual(intervalsOf(set), [[5, 41]]);
    set.add(0n, 100n);
    assert.deepEqual(intervalsOf(set), [[0, 100]]);
    set.add(50n, 60n);
    assert.deepEqual(intervalsOf(set), [[0, 100]]);
    assert.equal(set.size, 101n);
    assertSound(set);
  });

  it('absorbs many intervals in one add', () => {
    const set = setOf([1, 1], [3, 3], [5, 5], [7, 7], [20, 30]);
    set.add(2n, 21n);
    assert.deepEqual(intervalsOf(set), [[1, 30]]);
    assert.equal(set.intervalCount, 1);
    assert.equal(set.size, 30n);
    assertSound(set);
  });

  it('splits an interval on remove and trims the ones it overlaps', () => {
    const set = setOf([0, 100]);
    set.remove(40n, 60n);
    assert.deepEqual(intervalsOf(set), [
      [0, 39],
      [61, 100],
    ]);
    set.remove(30n, 70n);
    assert.deepEqual(intervalsOf(set), [
      [0, 29],
      [71, 100],
    ]);
    set.remove(0n, 0n);
    set.remove(100n, 200n);
    assert.deepEqual(intervalsOf(set), [
      [1, 29],
      [71, 99],
    ]);
    set.remove(-5n, 1000n);
    assert.deepEqual(intervalsOf(set), []);
    assert.equal(set.size, 0n);
    assertSound(set);
  });

  it('takes single members from the ends and the middle of an interval', () => {
    const set = setOf([10, 14]);
    assert.equal(set.take(10n), true);
    assert.equal(set.take(14n), true);
    assert.equal(set.take(12n), true);
    assert.equal(set.take(12n), false);
    assert.equal(set.take(99n), false);
    assert.deepEqual(intervalsOf(set), [
      [11, 11],
      [13, 13],
    ]);
    assert.equal(set.take(11n), true);
    assert.deepEqual(intervalsOf(set), [[13, 13]]);
    assert.equal(set.size, 1n);
    assertSound(set);
  });

  it('takes the lowest member across intervals', () => {
    const set = setOf([5, 6], [9, 9]);
    assert.equal(set.lowest(), 5n);
    assert.deepEqual([set.takeLowest(), set.takeLowest(), set.takeLowest(), set.takeLowest()], [5n, 6n, 9n, undefined]);
    assert.equal(set.size, 0n);
    assert.equal(set.intervalCount, 0);
  });

  it('finds the lowest member within a range', () => {
    const set = setOf([10, 20], [30, 40]);
    assert.equal(set.lowestInRange(0n, 9n), undefined);
    assert.equal(set.lowestInRange(0n, 10n), 10n);
    assert.equal(set.lowestInRange(15n, 100n), 15n);
    assert.equal(set.lowestInRange(21n, 29n), undefined);
    assert.equal(set.lowestInRange(21n, 30n), 30n);
    assert.equal(set.lowestInRange(41n, 1000n), undefined);
  });

  it('counts the members within a range', () => {
    const set = setOf([10, 20], [30, 40], [50, 50]);
    assert.equal(set.countInRange(0n, 1000n), 23n);
    assert.equal(set.countInRange(15n, 35n), 12n);
    assert.equal(set.countInRange(21n, 29n), 0n);
    assert.equal(set.countInRange(50n, 50n), 1n);
  });

  it('holds an IPv6 /64 as one interval and takes from it without enumerating', () => {
    const first = 0x20010db8n << 96n;
    const last = first + (1n << 64n) - 1n;
    const set = new IntervalSet();
    set.add(first, last);
    assert.equal(set.size, 1n << 64n);
    assert.equal(set.intervalCount, 1);
    assert.equal(set.takeLowest(), first);
    assert.equal(set.take(last), true);
    set.remove(first + 100n, first + 100n);
    assert.equal(set.intervalCount, 2);
    assert.equal(set.size, (1n << 64n) - 3n);
    assert.equal(set.lowestInRange(first + 100n, last), first + 101n);
    assert.equal(set.countInRange(first, first + 1000n), 999n);
    assertSound(set);
  });

  it('keeps a clone independent of the original', () => {
    const set = setOf([0, 10], [20, 30]);
    const copy = set.clone();
    copy.take(5n);
    copy.add(11n, 19n);
    set.remove(0n, 0n);
    assert.deepEqual(intervalsOf(set), [
      [1, 10],
      [20, 30],
    ]);
    assert.deepEqual(intervalsOf(copy), [
      [0, 4],
      [6, 30],
    ]);
    assert.equal(set.size, 21n);
    assert.equal(copy.size, 30n);
    assertSound(set);
    assertSound(copy);
  });

  it('throws on lo > hi (a bug)', () => {
    const set = new IntervalSet();
    assert.throws(() => {
      set.add(2n, 1n);
    }, RangeError);
    assert.throws(() => {
      set.remove(2n, 1n);
    }, RangeError);
    assert.throws(() => set.lowestInRange(2n, 1n), RangeError);
    assert.throws(() => set.countInRange(2n, 1n), RangeError);
  });

  it('stays balanced when 50,000 intervals arrive in ascending order, then drains in order', () => {
    const set = new IntervalSet();
    const base = IPV4_MAPPED_BASE;
    for (let i = 0n; i < 50_000n; i++) set.add(base + 2n * i, base + 2n * i);
    assert.equal(set.intervalCount, 50_000);
    assertSound(set);
    for (let i = 0n; i < 25_000n; i++) assert.equal(set.takeLowest(), base + 2n * i);
    assert.equal(set.intervalCount, 25_000);
    assertSound(set);
  });

  it('gives the same shape for the same seed and operations (reproducible)', () => {
    const build = (seed: number): number => {
      const set = new IntervalSet(seed);
      for (let i = 0n; i < 2000n; i++) set.add(i * 3n, i * 3n);
      return set.treeHeight();
    };
    assert.equal(build(7), build(7));
  });

  type Operation =
    | { kind: 'add' | 'remove' | 'lowestInRange' | 'countInRange'; lo: number; hi: number }
    | { kind: 'take' | 'has'; x: number }
    | { kind: 'takeLowest' | 'lowest' | 'clone' };

  const UNIVERSE = 300;
  const point = fc.integer({ min: 0, max: UNIVERSE });
  const span = fc
    .tuple(
      point,
      fc.oneof(
        { weight: 12, arbitrary: fc.integer({ min: 0, max: 3 }) },
        { weight: 3, arbitrary: fc.integer({ min: 0, max: 40 }) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: UNIVERSE }) },
      ),
    )
    .map(([lo, length]) => ({ lo, hi: Math.min(UNIVERSE, lo + length) }));
  const operation: fc.Arbitrary<Operation> = fc.oneof(
    { weight: 4, arbitrary: span.map(({ lo, hi }) => ({ kind: 'add' as const, lo, hi })) },
    { weight: 3, arbitrary: span.map(({ lo, hi }) => ({ kind: 'remove' as const, lo, hi })) },
    { weight: 2, arbitrary: span.map(({ lo, hi }) => ({ kind: 'lowestInRange' as const, lo, hi })) },
    { weight: 1, arbitrary: span.map(({ lo, hi }) => ({ kind: 'countInRange' as const, lo, hi })) },
    { weight: 4, arbitrary: point.map((x) => ({ kind: 'take' as const, x })) },
    { weight: 2, arbitrary: point.map((x) => ({ kind: 'has' as const, x })) },
    { weight: 2, arbitrary: fc.constant({ kind: 'takeLowest' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'lowest' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'clone' as const }) },
  );

  // Up to 150 scattered members to begin with, so that sequences start from many intervals (a deep tree).
  const fragmentedStart = fc.array(point, { maxLength: 150, size: 'max' });
  const seed = fc.integer({ min: 1, max: 0xffffffff });

  /** The intervals a plain set of members forms. */
  function modelIntervals(model: Set<bigint>): Array<[bigint, bigint]> {
    const sorted = [...model].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const intervals: Array<[bigint, bigint]> = [];
    for (const x of sorted) {
      const last = intervals.at(-1);
      if (last !== undefined && last[1] + 1n === x) last[1] = x;
      else intervals.push([x, x]);
    }
    return intervals;
  }

  /** The members of the model within [lo, hi], ascending. */
  function modelMembers(model: Set<bigint>, lo: number, hi: number): bigint[] {
    const members: bigint[] = [];
    for (let x = BigInt(lo); x <= BigInt(hi); x++) if (model.has(x)) members.push(x);
    return members;
  }

  it('matches a Set<bigint> model after every step of 300 random sequences of up to 100 operations', () => {
    fc.assert(
      fc.property(
        fragmentedStart,
        fc.array(operation, { minLength: 1, maxLength: 100, size: 'max' }),
        seed,
        (start, operations, treapSeed) => {
          let set = new IntervalSet(treapSeed);
          const model = new Set<bigint>();
          for (const x of start) {
            set.add(BigInt(x), BigInt(x));
            model.add(BigInt(x));
          }
          for (const op of operations) {
            switch (op.kind) {
              case 'add':
                set.add(BigInt(op.lo), BigInt(op.hi));
                for (let x = op.lo; x <= op.hi; x++) model.add(BigInt(x));
                break;
              case 'remove':
                set.remove(BigInt(op.lo), BigInt(op.hi));
                for (let x = op.lo; x <= op.hi; x++) model.delete(BigInt(x));
                break;
              case 'lowestInRange':
                assert.equal(set.lowestInRange(BigInt(op.lo), BigInt(op.hi)), modelMembers(model, op.lo, op.hi)[0]);
                break;
              case 'countInRange':
                assert.equal(
                  set.countInRange(BigInt(op.lo), BigInt(op.hi)),
                  BigInt(modelMembers(model, op.lo, op.hi).length),
                );
                break;
              case 'take':
                assert.equal(set.take(BigInt(op.x)), model.delete(BigInt(op.x)));
                break;
              case 'has':
                assert.equal(set.has(BigInt(op.x)), model.has(BigInt(op.x)));
                break;
              case 'takeLowest': {
                const expected = modelMembers(model, 0, UNIVERSE)[0];
                assert.equal(set.takeLowest(), expected);
                if (expected !== undefined) model.delete(expected);
                break;
              }
              case 'lowest':
                assert.equal(set.lowest(), modelMembers(model, 0, UNIVERSE)[0]);
                break;
              case 'clone': {
                // Continue on the copy; wreck the original to prove the two share nothing.
                const original = set;
                set = set.clone();
                original.add(0n, BigInt(UNIVERSE));
                original.takeLowest();
                break;
              }
            }
            assert.deepEqual([...set.intervals()], modelIntervals(model));
            assert.equal(set.size, BigInt(model.size));
            assert.equal(set.intervalCount, modelIntervals(model).length);
            assertSound(set, RANDOM_HEIGHT_FACTOR);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
