// One membership epoch of the probe failure detector (ADR 0019, P4) as a node adopted it: the members and each
// member's monitors in that epoch.
import { rankForTarget } from './monitor-ranking.ts';

/** One membership epoch as this node adopted it. */
export interface Epoch {
  readonly id: string;
  readonly generation: number;
  readonly members: readonly string[];
  readonly memberSet: ReadonlySet<string>;
  readonly monitorsOf: ReadonlyMap<string, readonly string[]>;
  readonly adoptedAt: number;
}

/** The epoch `id` of the membership `list` (duplicates dropped, sorted), with up to `monitors` monitors per member. */
export function adoptEpoch(
  list: readonly string[],
  id: string,
  generation: number,
  monitors: number,
  now: number,
): Epoch {
  const members = [...new Set(list)].sort();
  const k = Math.min(monitors, members.length - 1);
  const monitorsOf = new Map(members.map((member) => [member, rankForTarget(member, members).slice(0, k)]));
  return { id, generation, members, memberSet: new Set(members), monitorsOf, adoptedAt: now };
}
