// A pool as the allocation table keeps it: its configuration, its free addresses per family (interval sets), and the
// counts of held and quarantined ones; and which pools serve a Service's request (by name, by selectors and
// namespaces, by priority).
import type { IpFamily } from '../ip/ip-address.ts';
import { comparePoolPriority, type PoolConfig } from '../config/pool-config.ts';
import { matchesLabelSelector } from '../config/label-selector.ts';
import type { ServiceRequest } from '../config/service-request.ts';
import type { IntervalSet } from './interval-set.ts';
import type { AssignContext, FamilyUsage } from './allocation-result.ts';

export interface PoolState {
  config: PoolConfig;
  free: Record<IpFamily, IntervalSet>;
  allocated: Record<IpFamily, number>;
  quarantined: Record<IpFamily, number>;
}

/** A pool with every address free (the table then takes out what is held or quarantined). */
export function newPoolState(config: PoolConfig): PoolState {
  return {
    config,
    free: { 4: config.addresses[4].freeSet(), 6: config.addresses[6].freeSet() },
    allocated: { 4: 0, 6: 0 },
    quarantined: { 4: 0, 6: 0 },
  };
}

/** How many addresses the pool has per family, how many are held, and how many it can still hand out. */
export function poolUsage(state: PoolState): Record<IpFamily, FamilyUsage> {
  const family = (f: IpFamily): FamilyUsage => {
    const total = state.config.addresses[f].size;
    // A draining pool has nothing to hand out.
    return {
      total,
      allocated: state.allocated[f],
      available: state.config.drain ? 0n : total - BigInt(state.allocated[f]),
    };
  };
  return { 4: family(4), 6: family(6) };
}

/** Whether the pool's namespaces and selectors admit the Service. */
export function admits(
  p: PoolConfig,
  request: ServiceRequest,
  namespaceLabels: AssignContext['namespaceLabels'],
): boolean {
  return (
    (p.namespaces === undefined || p.namespaces.includes(request.namespace)) &&
    (p.namespaceSelector === undefined || matchesLabelSelector(p.namespaceSelector, namespaceLabels)) &&
    (p.serviceSelector === undefined || matchesLabelSelector(p.serviceSelector, request.labels))
  );
}

/** The pools that serve `request`, by priority, and the names it asks for that no pool has. */
export function eligiblePools(
  pools: ReadonlyMap<string, PoolState>,
  request: ServiceRequest,
  namespaceLabels: AssignContext['namespaceLabels'],
): { pools: PoolState[]; unknown: string[] } {
  let candidates: PoolState[];
  let unknown: string[] = [];
  if (request.poolNames) {
    unknown = request.poolNames.filter((n) => !pools.has(n));
    candidates = request.poolNames.flatMap((n) => {
      const state = pools.get(n);
      return state ? [state] : [];
    });
  } else if (request.requested.length > 0) candidates = [...pools.values()];
  else candidates = [...pools.values()].filter((s) => s.config.autoAssign);
  return {
    pools: candidates
      .filter((s) => admits(s.config, request, namespaceLabels))
      .sort((a, b) => comparePoolPriority(a.config, b.config)),
    unknown,
  };
}
