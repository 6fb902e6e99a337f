// Advertisements: one MetalLB object may become several Beacon LB objects (one pool choice and one selector per field).
import type { LabelSelector } from '../api-types.generated.ts';
import { field, OBJECT_NAME, readSelectorList, readStringList, type Source } from './metallb-source.ts';
import { choicesFor } from './selector-union.ts';
import type { Notes } from './migration-notes.ts';

type PoolChoice = { ipPools: string[] } | { ipPoolSelector: LabelSelector } | Record<string, never>;

export function poolChoices(source: Source, notes: Notes): PoolChoice[] | undefined {
  const leftOut = 'advertisement left out';
  const names = field(source, 'ipAddressPools', readStringList, notes, leftOut);
  const selectors = field(source, 'ipAddressPoolSelectors', readSelectorList, notes, leftOut);
  if (!names || !selectors) return undefined;
  const bad = names.value.find((n) => !OBJECT_NAME.test(n));
  if (bad !== undefined) {
    notes.notA(source.ref, 'spec.ipAddressPools', bad, 'an object name', leftOut);
    return undefined;
  }
  const choices: PoolChoice[] = [];
  if (names.value.length > 0) choices.push({ ipPools: [...new Set(names.value)] });
  if (selectors.value.length > 0)
    for (const s of choicesFor(selectors.value)) if (s) choices.push({ ipPoolSelector: s });
  return choices.length > 0 ? choices : [{}];
}

/** Names for the objects one MetalLB object became: its own name first, then name-2, name-3 (skipping taken names). */
export function splitNames(name: string, count: number, taken: Set<string>): string[] {
  const names = [name];
  for (let i = 2; names.length < count; i++) {
    const candidate = `${name}-${i}`;
    if (!taken.has(candidate)) names.push(candidate);
  }
  return names;
}

export function product<A, B, C>(as: readonly A[], bs: readonly B[], cs: readonly C[]): Array<[A, B, C]> {
  return as.flatMap((a) => bs.flatMap((b) => cs.map((c): [A, B, C] => [a, b, c])));
}

export function noteSplit(source: Source, names: readonly string[], notes: Notes): void {
  if (names.length < 2) return;
  notes.add(
    'ObjectSplit',
    source.ref,
    undefined,
    `became ${names.length} objects (${names.join(', ')}): Beacon LB takes one pool choice (names or one selector) and one ` +
      'selector per field, and several advertisements of a pool add up, so together they select what this one did',
  );
}
