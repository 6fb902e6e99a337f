// Label selectors: the OR of several, as one when the API's form can say it exactly.
import type { LabelSelector } from '../api-types.generated.ts';
import type { Operator, Source } from './metallb-source.ts';
import type { Notes } from './migration-notes.ts';

interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

function requirementsOf(selector: LabelSelector): Requirement[] {
  const fromLabels = Object.entries(selector.matchLabels ?? {}).map(([key, value]): Requirement => ({
    key,
    operator: 'In',
    values: [value],
  }));
  const fromExpressions = (selector.matchExpressions ?? []).map((e): Requirement => ({
    key: e.key,
    operator: e.operator,
    values: [...new Set(e.values ?? [])].sort(),
  }));
  return [...fromLabels, ...fromExpressions];
}

const requirementText = (r: Requirement): string => JSON.stringify([r.key, r.operator, r.values]);

/**
 * One selector matching exactly the objects that at least one of `selectors` matches, when metav1.LabelSelector can
 * express it: duplicates and selectors implied by a more general one drop out; an empty selector matches everything;
 * selectors that differ only in one `key In (...)` requirement on the same key merge into one with the union of the
 * values. Undefined when no single selector is exact (the caller then splits or narrows).
 */
export function unionOfSelectors(selectors: readonly LabelSelector[]): LabelSelector | undefined {
  if (selectors.length === 0) return undefined;
  const sets = selectors.map((s) => ({
    selector: s,
    texts: new Set(requirementsOf(s).map(requirementText)),
    requirements: requirementsOf(s),
  }));
  if (sets.some((s) => s.texts.size === 0)) return {};
  // A selector whose requirements include all of another's matches a subset of it: it adds nothing to the OR.
  const kept = sets.filter(
    (a, i) =>
      !sets.some(
        (b, j) => j !== i && [...b.texts].every((t) => a.texts.has(t)) && (b.texts.size < a.texts.size || j < i),
      ),
  );
  const [first] = kept;
  if (first === undefined) return undefined;
  if (kept.length === 1) return first.selector;
  // All share every requirement but one, and those differing ones are `In` on one key.
  const common = [...first.texts].filter((t) => kept.every((k) => k.texts.has(t)));
  const differing = kept.map((k) => k.requirements.filter((r) => !common.includes(requirementText(r))));
  const singles = differing.map((d) => d[0]);
  if (differing.some((d) => d.length !== 1)) return undefined;
  const key = singles[0]?.key;
  if (key === undefined || !singles.every((r) => r !== undefined && r.key === key && r.operator === 'In'))
    return undefined;
  const values = [...new Set(singles.flatMap((r) => r?.values ?? []))].sort();
  const commonRequirements = first.requirements.filter((r) => common.includes(requirementText(r)));
  return {
    matchExpressions: [
      ...commonRequirements.map((r) => ({
        key: r.key,
        operator: r.operator,
        ...(r.values.length > 0 ? { values: r.values } : {}),
      })),
      { key, operator: 'In' as const, values },
    ],
  };
}

const describeSelector = (s: LabelSelector): string => JSON.stringify(s);

/**
 * The OR of a restriction's selectors as one selector; when that cannot be exact, the first one (narrower than
 * MetalLB, never wider) with a SelectorsNarrowed note.
 */
export function narrowedUnion(
  selectors: readonly LabelSelector[],
  source: Source,
  path: string,
  consequence: string,
  notes: Notes,
): LabelSelector | undefined {
  const [first] = selectors;
  if (first === undefined) return undefined;
  const union = unionOfSelectors(selectors);
  if (union !== undefined) return union;
  notes.add(
    'SelectorsNarrowed',
    source.ref,
    path,
    `Beacon LB takes one selector here and the OR of these ${selectors.length} cannot be written as one; kept only the first ` +
      `(${describeSelector(first)}): ${consequence}`,
  );
  return first;
}

/** For advertisements, where several objects union: one selector when exact, else one object per selector. */
export function choicesFor(selectors: readonly LabelSelector[]): Array<LabelSelector | undefined> {
  if (selectors.length === 0) return [undefined];
  const union = unionOfSelectors(selectors);
  return union !== undefined ? [union] : [...selectors];
}
