// Compiles IPPool objects into validated pool configurations: parsed address sets per family (less the buggy
// .0/.255 addresses when asked, less what older pools already hold), selection rules, and the problems found.
import type { IPPool, LabelSelector } from './api-types.generated.ts';
import { thrownText, type ConfigProblem } from './config-problem.ts';
import { wellFormed } from './spec-shape.ts';
import { parseIpRange, type IpRange } from '../ip/ip-range.ts';
import { IntervalSet } from '../ipam/interval-set.ts';
import { PoolAddressSet } from '../ipam/pool-address-set.ts';
import type { IpFamily } from '../ip/ip-address.ts';

export interface PoolConfig {
  name: string;
  /** The entries of spec.addresses that parsed. */
  ranges: IpRange[];
  /** The addresses this pool may hand out, per family: its ranges, less buggy IPs and older pools' addresses. */
  addresses: Record<IpFamily, PoolAddressSet>;
  autoAssign: boolean;
  avoidBuggyIPs: boolean;
  /** spec.drain: no Service starts to use an address of this pool; those who hold one keep it. */
  drain: boolean;
  /** Lower first; undefined after all pools with a priority. */
  priority: number | undefined;
  namespaces: readonly string[] | undefined;
  namespaceSelector: LabelSelector | undefined;
  serviceSelector: LabelSelector | undefined;
  /** Older pools this one overlaps (their addresses are not used by this pool). */
  overlaps: string[];
  /** Entries of spec.addresses that did not parse. */
  invalid: string[];
  generation: number | undefined;
}

export interface CompiledPools {
  pools: Map<string, PoolConfig>;
  problems: ConfigProblem[];
}

/** Older pools first: creation time, then name. Overlapping addresses belong to the older pool. */
function byAge(a: IPPool, b: IPPool): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  return ta < tb ? -1 : ta > tb ? 1 : a.metadata.name.localeCompare(b.metadata.name);
}

export function compilePools(objects: readonly IPPool[]): CompiledPools {
  const pools = new Map<string, PoolConfig>();
  const problems: ConfigProblem[] = [];
  const claimed: Record<IpFamily, IntervalSet> = { 4: new IntervalSet(), 6: new IntervalSet() };
  const owners: Array<{ name: string; range: IpRange }> = [];

  const { valid, malformed } = wellFormed('IPPool', objects);
  for (const bad of malformed) problems.push({ ...bad, reason: 'MalformedObject' });
  for (const pool of valid.sort(byAge)) {
    try {
      compilePool(pool, pools, problems, claimed, owners);
    } catch (error) {
      // A bug: this pool is left out (its Ready condition says why), the others are compiled.
      pools.delete(pool.metadata.name);
      problems.push({
        kind: 'IPPool',
        name: pool.metadata.name,
        reason: 'ProcessingError',
        message: `ignored: compiling it failed: ${thrownText(error)}`,
      });
    }
  }
  return { pools, problems };
}

function compilePool(
  pool: IPPool,
  pools: Map<string, PoolConfig>,
  problems: ConfigProblem[],
  claimed: Record<IpFamily, IntervalSet>,
  owners: Array<{ name: string; range: IpRange }>,
): void {
  const name = pool.metadata.name;
  const ranges: IpRange[] = [];
  const invalid: string[] = [];
  for (const entry of pool.spec.addresses) {
    const parsed = parseIpRange(entry);
    if (parsed.ok) ranges.push(parsed.value);
    else {
      invalid.push(entry);
      problems.push({ kind: 'IPPool', name, reason: 'InvalidAddresses', message: parsed.error });
    }
  }
  const avoidBuggyIPs = pool.spec.avoidBuggyIPs ?? false;
  const intervals: Record<IpFamily, IntervalSet> = { 4: new IntervalSet(), 6: new IntervalSet() };
  const overlaps = new Set<string>();
  for (const range of ranges) {
    const own = new IntervalSet();
    own.add(range.first, range.last);
    if (claimed[range.family].countInRange(range.first, range.last) > 0n) {
      for (const owner of owners) {
        if (
          owner.name !== name &&
          owner.range.family === range.family &&
          owner.range.first <= range.last &&
          range.first <= owner.range.last
        ) {
          overlaps.add(owner.name);
          own.remove(
            owner.range.first > range.first ? owner.range.first : range.first,
            owner.range.last < range.last ? owner.range.last : range.last,
          );
        }
      }
    }
    for (const [lo, hi] of own.intervals()) intervals[range.family].add(lo, hi);
  }
  // avoidBuggyIPs is applied by arithmetic in PoolAddressSet: no per-/24 holes are cut (a /1 would take 2^24).
  const addresses: Record<IpFamily, PoolAddressSet> = {
    4: new PoolAddressSet(intervals[4], avoidBuggyIPs),
    6: new PoolAddressSet(intervals[6], false),
  };
  for (const range of ranges) {
    claimed[range.family].add(range.first, range.last);
    owners.push({ name, range });
  }
  if (overlaps.size > 0) {
    const names = [...overlaps].sort();
    problems.push({
      kind: 'IPPool',
      name,
      reason: 'Overlap',
      message: `addresses overlap with older pool${names.length > 1 ? 's' : ''} ${names.join(', ')}; the overlapping addresses stay with the older pool`,
    });
  }
  pools.set(name, {
    name,
    ranges,
    addresses,
    autoAssign: pool.spec.autoAssign ?? true,
    avoidBuggyIPs,
    drain: pool.spec.drain ?? false,
    priority: pool.spec.allocation?.priority,
    namespaces: pool.spec.allocation?.namespaces,
    namespaceSelector: pool.spec.allocation?.namespaceSelector,
    serviceSelector: pool.spec.allocation?.serviceSelector,
    overlaps: [...overlaps].sort(),
    invalid,
    generation: pool.metadata.generation,
  });
}

/** Pool order for Services that name no pool: priority (lower first, none last), then name. */
export function comparePoolPriority(a: PoolConfig, b: PoolConfig): number {
  const pa = a.priority ?? Number.POSITIVE_INFINITY;
  const pb = b.priority ?? Number.POSITIVE_INFINITY;
  return pa !== pb ? pa - pb : a.name.localeCompare(b.name);
}

/** Which pool's address set holds `addr`, if any. */
export function poolHolding(
  pools: ReadonlyMap<string, PoolConfig>,
  addr: bigint,
  family: IpFamily,
): PoolConfig | undefined {
  for (const pool of pools.values()) if (pool.addresses[family].has(addr)) return pool;
  return undefined;
}
