// The status the controller writes on L2Advertisements and BGPAdvertisements, once for the cluster (speakers add
// only UpdateTooLarge on BGPAdvertisements): Accepted (the object has its schema's shape; a malformed one is not used
// at all, ADR 0012) and PoolsSelected (which IPPools it applies to now; a name in ipPools that matches no IPPool, or
// no IPPool at all, is False), with the number of pools selected.
import type { Condition, IPPool } from '../core/config/api-types.generated.ts';
import { selectsPool, type PoolChoice } from '../core/config/pool-selection.ts';
import { malformedObject } from '../core/config/spec-shape.ts';

export const ACCEPTED = 'Accepted';
export const POOLS_SELECTED = 'PoolsSelected';
/** The condition types the controller owns on these objects. */
export const CONTROLLER_CONDITIONS: readonly string[] = [ACCEPTED, POOLS_SELECTED];

export interface AdvertisementStatusFields {
  observedGeneration?: number;
  matchingPools: number;
  conditions: Condition[];
}

interface AdvertisementLike {
  metadata?: { name?: string; generation?: number };
  spec?: PoolChoice;
  status?: { conditions?: unknown };
}

const shown = (names: readonly string[]): string =>
  names.length > 10 ? `${names.slice(0, 10).join(', ')} and ${names.length - 10} more` : names.join(', ');

export function advertisementStatus(
  kind: 'L2Advertisement' | 'BGPAdvertisement',
  object: unknown,
  pools: readonly IPPool[],
  now: Date,
): AdvertisementStatusFields {
  const adv = object as AdvertisementLike;
  const generation = typeof adv.metadata?.generation === 'number' ? adv.metadata.generation : undefined;
  const previous = Array.isArray(adv.status?.conditions) ? (adv.status.conditions as unknown[]) : [];
  const condition = (type: string, status: 'True' | 'False', reason: string, message: string): Condition => {
    const before = previous.find(
      (c): c is Condition => typeof c === 'object' && c !== null && (c as Condition).type === type,
    );
    return {
      type,
      status,
      reason,
      message,
      ...(generation === undefined ? {} : { observedGeneration: generation }),
      lastTransitionTime:
        before?.status === status && (before.lastTransitionTime as unknown) !== undefined
          ? before.lastTransitionTime
          : now.toISOString().replace(/\.\d+Z$/, 'Z'),
    };
  };
  const base = generation === undefined ? {} : { observedGeneration: generation };
  const malformed = malformedObject(kind, object);
  if (malformed !== undefined) {
    const text = `not used: ${malformed}`;
    return {
      ...base,
      matchingPools: 0,
      conditions: [
        condition(ACCEPTED, 'False', 'MalformedObject', text),
        condition(POOLS_SELECTED, 'False', 'MalformedObject', text),
      ],
    };
  }
  const choice = adv.spec ?? {};
  const wellFormedPools = pools.filter((p) => malformedObject('IPPool', p) === undefined);
  const selected = wellFormedPools
    .filter((p) => selectsPool(choice, p))
    .map((p) => p.metadata.name)
    .sort();
  const existing = new Set(wellFormedPools.map((p) => p.metadata.name));
  const unknown = (choice.ipPools ?? []).filter((name) => !existing.has(name)).sort();
  const how =
    choice.ipPools === undefined && choice.ipPoolSelector === undefined
      ? 'every IPPool'
      : 'the IPPools it names or selects';
  const accepted = condition(ACCEPTED, 'True', 'Accepted', `in use: applies to ${how}`);
  const poolsSelected =
    unknown.length > 0
      ? condition(
          POOLS_SELECTED,
          'False',
          'UnknownPool',
          `ipPools names ${unknown.length === 1 ? 'an IPPool' : 'IPPools'} that do${unknown.length === 1 ? 'es' : ''} not exist: ${shown(unknown)}` +
            (selected.length > 0 ? `; selects ${shown(selected)}` : ''),
        )
      : selected.length === 0
        ? condition(POOLS_SELECTED, 'False', 'NoMatchingPool', 'selects no IPPool: announces nothing')
        : condition(
            POOLS_SELECTED,
            'True',
            'PoolsSelected',
            `selects ${selected.length} IPPool${selected.length === 1 ? '' : 's'}: ${shown(selected)}`,
          );
  return { ...base, matchingPools: selected.length, conditions: [accepted, poolsSelected] };
}

/** Whether the object's status already says this (transition times aside; other writers' conditions ignored). */
export function statusSays(object: unknown, desired: AdvertisementStatusFields): boolean {
  const status = (object as AdvertisementLike & { status?: { observedGeneration?: unknown; matchingPools?: unknown } })
    .status;
  if (status?.observedGeneration !== desired.observedGeneration || status?.matchingPools !== desired.matchingPools)
    return false;
  const current: unknown[] = Array.isArray(status.conditions) ? (status.conditions as unknown[]) : [];
  const strip = (c: Condition | undefined): string =>
    c === undefined ? '' : JSON.stringify([c.type, c.status, c.reason, c.message, c.observedGeneration]);
  const find = (type: string): Condition | undefined =>
    current.find((x): x is Condition => typeof x === 'object' && x !== null && (x as Condition).type === type);
  return desired.conditions.every((c) => strip(find(c.type)) === strip(c));
}
