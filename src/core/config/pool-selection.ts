// Which IPPools an advertisement (L2Advertisement or BGPAdvertisement) applies to: those named in ipPools, plus
// those matching ipPoolSelector; with neither field, every pool.
import type { IPPool, LabelSelector } from './api-types.generated.ts';
import { matchesLabelSelector } from './label-selector.ts';

export interface PoolChoice {
  ipPools?: string[];
  ipPoolSelector?: LabelSelector;
}

export function selectsPool(choice: PoolChoice, pool: IPPool): boolean {
  const byName = choice.ipPools;
  const bySelector = choice.ipPoolSelector;
  if (byName === undefined && bySelector === undefined) return true;
  return (
    (byName?.includes(pool.metadata.name) ?? false) ||
    (bySelector !== undefined && matchesLabelSelector(bySelector, pool.metadata.labels))
  );
}
