// Allocator benchmark: the free-address IntervalSet of core/ipam under the loads the controller puts on it.
// Run: node --expose-gc bench/allocator.ts. Prints one JSON object: the measurements and their goals.
//   fill_1M_v4_ms          1,000,000 takeLowest() from an IPv4 /12 (IPv4-mapped values)
//   fill_100k_v6_ms        100,000 takeLowest() from an IPv6 /64
//   take_add_pair_ns_<n>   one take(x) and one add(x, x) at a random x, with n addresses in use and every other
//                          address of the first n released (n/2 single-address free intervals); median of rounds
//   heap_bytes_per_interval_v4 / _v6   heap growth per interval over 100,000 single-address intervals
import { IntervalSet } from '../src/core/ipam/interval-set.ts';
import { IPV4_MAPPED_BASE, ipv4 } from '../src/core/ip/ip-address.ts';
import { parseIpRange } from '../src/core/ip/ip-range.ts';

const ROUNDS = 5;
const PAIRS_PER_ROUND = 100_000;

/** The first and last address of a CIDR, which must be valid. */
function cidr(text: string): [bigint, bigint] {
  const parsed = parseIpRange(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return [parsed.value.first, parsed.value.last];
}

/** Milliseconds taken by fn. */
function timeMs(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

/** The median of some numbers. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** A deterministic xorshift32 stream of integers in [0, bound). */
function randomIntegers(seed: number): (bound: number) => number {
  let x = seed >>> 0 || 1;
  return (bound) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % bound;
  };
}

/** (a) 1,000,000 takeLowest() from 10.0.0.0/12. */
function fillIpv4(): number {
  const [first, last] = cidr('10.0.0.0/12');
  const free = new IntervalSet();
  free.add(first, last);
  let sink = 0n;
  const ms = timeMs(() => {
    for (let i = 0; i < 1_000_000; i++) sink += free.takeLowest()!;
  });
  if (sink === 0n || free.size !== last - first + 1n - 1_000_000n) throw new Error('fill went wrong');
  return ms;
}

/** (b) 100,000 takeLowest() from 2001:db8::/64. */
function fillIpv6(): number {
  const [first, last] = cidr('2001:db8::/64');
  const free = new IntervalSet();
  free.add(first, last);
  let sink = 0n;
  const ms = timeMs(() => {
    for (let i = 0; i < 100_000; i++) sink += free.takeLowest()!;
  });
  if (sink === 0n || free.intervalCount !== 1) throw new Error('fill went wrong');
  return ms;
}

/** (c) ns per take+add pair at a random address with inUse addresses allocated from 10.0.0.0/8, fragmented. */
function takeAddPair(inUse: number): { ns: number; intervals: number } {
  const [first, last] = cidr('10.0.0.0/8');
  const free = new IntervalSet();
  free.add(first, last);
  // Allocate 1.5 n, then release every other address of the first n: n in use, n/2 one-address holes.
  const allocated = Math.floor(inUse * 1.5);
  for (let i = 0; i < allocated; i++) free.takeLowest();
  for (let i = 1; i < inUse; i += 2) free.add(first + BigInt(i), first + BigInt(i));
  const span = allocated + 16;
  const next = randomIntegers(inUse);
  const samples: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const targets: bigint[] = [];
    for (let i = 0; i < PAIRS_PER_ROUND; i++) targets.push(first + BigInt(next(span)));
    const ms = timeMs(() => {
      for (const x of targets) {
        // Either order leaves the set as it was: a free address is taken and given back, a used one the reverse.
        if (free.take(x)) {
          free.add(x, x);
        } else {
          free.add(x, x);
          free.take(x);
        }
      }
    });
    samples.push((ms * 1e6) / PAIRS_PER_ROUND);
  }
  const expectedFree = last - first + 1n - BigInt(inUse);
  if (free.size !== expectedFree) throw new Error(`pairs changed the set: ${free.size} != ${expectedFree}`);
  return { ns: median(samples), intervals: free.intervalCount };
}

/** (d) Heap bytes per interval over 100,000 single-address intervals starting at base. */
function heapBytesPerInterval(base: bigint): number {
  const collect = globalThis.gc;
  if (collect === undefined) return Number.NaN;
  const count = 100_000;
  collect();
  collect();
  const before = process.memoryUsage().heapUsed;
  const set = new IntervalSet();
  for (let i = 0n; i < BigInt(count); i++) set.add(base + 2n * i, base + 2n * i);
  collect();
  collect();
  const after = process.memoryUsage().heapUsed;
  if (set.intervalCount !== count) throw new Error('intervals merged unexpectedly');
  return (after - before) / count;
}

// Warm up the JIT on a small run of each path before measuring.
for (const n of [1000, 2000]) takeAddPair(n);

const pairs = Object.fromEntries(
  [1_000, 10_000, 100_000, 1_000_000].flatMap((n) => {
    const { ns, intervals } = takeAddPair(n);
    const label = n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`;
    return [
      [`take_add_pair_ns_${label}`, Math.round(ns)],
      [`free_intervals_${label}`, intervals],
    ];
  }),
);

const result = {
  fill_1M_v4_ms: Math.round(fillIpv4() * 10) / 10,
  goal_fill_1M_v4_ms: 1000,
  fill_100k_v6_ms: Math.round(fillIpv6() * 10) / 10,
  goal_fill_100k_v6_ms: 100,
  ...pairs,
  goal_take_add_pair_ns: 5000,
  heap_bytes_per_interval_v4: Math.round(heapBytesPerInterval(ipv4(10, 0, 0, 0))),
  heap_bytes_per_interval_v6: Math.round(heapBytesPerInterval(0x20010db8n << 96n)),
  goal_heap_bytes_per_interval: 200,
  rounds: ROUNDS,
  pairs_per_round: PAIRS_PER_ROUND,
  ipv4_mapped_base: `0x${IPV4_MAPPED_BASE.toString(16)}`,
  node: process.version,
};
console.log(JSON.stringify(result));
