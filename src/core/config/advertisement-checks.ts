// Checks of an advertisement (L2Advertisement or BGPAdvertisement) that the schema's CEL rules make at admission but
// the structural re-check of stored objects (spec-shape.ts) does not: a selector that breaks metav1's rules (In
// without values, Exists with values) and an interface pattern that is not one. The object is still used: the bad
// selector matches nothing (so the advertisement applies to nothing through it: it never announces more than meant),
// a bad pattern matches only an interface of exactly its name; each problem becomes an Event on the object.
import type { LabelSelector } from './api-types.generated.ts';
import { interfacePatternProblem } from './interface-pattern.ts';
import { labelSelectorProblem } from './label-selector.ts';

export interface AdvertisementSpecToCheck {
  ipPoolSelector?: LabelSelector;
  nodeSelector?: LabelSelector;
  serviceSelector?: LabelSelector;
  interfaces?: string[];
}

const CONSEQUENCE = {
  ipPoolSelector: 'it matches no pool, so this advertisement applies to none',
  nodeSelector: 'it matches no node, so no node announces through this advertisement',
  serviceSelector: 'it matches no Service, so this advertisement announces none',
} as const;

/** One sentence per problem, the same on every node for the same object. */
export function advertisementProblems(spec: AdvertisementSpecToCheck): string[] {
  const problems: string[] = [];
  for (const field of ['ipPoolSelector', 'nodeSelector', 'serviceSelector'] as const) {
    const selector = spec[field];
    if (selector === undefined) continue;
    const problem = labelSelectorProblem(selector);
    if (problem !== undefined) problems.push(`${field}: ${problem}; ${CONSEQUENCE[field]}`);
  }
  for (const [i, entry] of (spec.interfaces ?? []).entries()) {
    const problem = interfacePatternProblem(entry);
    if (problem !== undefined)
      problems.push(`interfaces[${i}]: ${problem}; it selects only an interface of exactly that name`);
  }
  return problems;
}
