// The addresses one pool hands out in one family: its intervals, less (with avoidBuggyIPs) the IPv4 addresses
// ending in .0 and .255. Those are excluded by arithmetic, never enumerated: a 0.0.0.0/1 pool is one interval and
// its size is computed, not counted, so a pool costs the same whatever its prefix length (ADR 0012).
import { IntervalSet } from './interval-set.ts';

/** Whether an IPv4 address (in the single 128-bit space, where IPv4 starts at a multiple of 256) ends in .0 or .255. */
export function endsInZeroOr255(addr: bigint): boolean {
  const last = addr & 0xffn;
  return last === 0n || last === 0xffn;
}

/** How many of 0..n end in .0 or .255 (n >= -1); the IPv4 block starts at a multiple of 256, so offsets agree. */
function zeroOr255UpTo(n: bigint): bigint {
  if (n < 0n) return 0n;
  const count = n + 1n;
  return 2n * (count >> 8n) + ((count & 0xffn) >= 1n ? 1n : 0n);
}

/** How many members of [lo, hi] end in .0 or .255. */
export function zeroOr255Between(lo: bigint, hi: bigint): bigint {
  return zeroOr255UpTo(hi) - zeroOr255UpTo(lo - 1n);
}

export class PoolAddressSet {
  readonly #intervals: IntervalSet;
  readonly #skipsZeroAnd255: boolean;
  readonly #size: bigint;

  /** `intervals` is owned by the set from now on; `skipZeroAnd255` only for IPv4 (avoidBuggyIPs). */
  constructor(intervals: IntervalSet, skipZeroAnd255: boolean) {
    this.#intervals = intervals;
    this.#skipsZeroAnd255 = skipZeroAnd255;
    let size = intervals.size;
    if (skipZeroAnd255) for (const [lo, hi] of intervals.intervals()) size -= zeroOr255Between(lo, hi);
    this.#size = size;
  }

  static empty(): PoolAddressSet {
    return new PoolAddressSet(new IntervalSet(), false);
  }

  /** The number of addresses the pool may hand out. */
  get size(): bigint {
    return this.#size;
  }

  /** The number of intervals of the pool's ranges (the excluded .0/.255 addresses do not split them). */
  get intervalCount(): number {
    return this.#intervals.intervalCount;
  }

  /** Whether the pool hands out `addr`. */
  has(addr: bigint): boolean {
    return this.#intervals.has(addr) && !(this.#skipsZeroAnd255 && endsInZeroOr255(addr));
  }

  /** The intervals of the pool's ranges, ascending; with avoidBuggyIPs they still contain .0 and .255. */
  intervals(): Generator<[bigint, bigint]> {
    return this.#intervals.intervals();
  }

  /**
   * A fresh free set for the allocator: the intervals, with the excluded addresses still inside. Take from it with
   * takeLowestFrom, which drops an excluded address when it comes first, so each is dropped once, when reached.
   */
  freeSet(): IntervalSet {
    return this.#intervals.clone();
  }

  /** Takes the lowest address of `free` that the pool hands out, dropping excluded ones met on the way. */
  takeLowestFrom(free: IntervalSet): bigint | undefined {
    // Each turn removes an excluded address for good, so the loop runs at most once more than there are of them
    // below the result: amortised O(1) per allocation.
    for (;;) {
      const addr = free.takeLowest();
      if (addr === undefined || this.has(addr)) return addr;
    }
  }
}
