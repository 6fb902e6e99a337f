// metav1.LabelSelector matching, as the API server defines it. A selector that is not well formed (an unknown
// operator, In/NotIn without values, fields of the wrong type: possible only in objects stored without the current
// schema) matches nothing, as the API server's own LabelSelectorAsSelector refuses such a selector;
// labelSelectorProblem says why, for the condition or Event of the object that holds it.
import type { LabelSelector } from './api-types.generated.ts';

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** Whether `labels` satisfy `selector`; an empty selector matches everything, a malformed one nothing. */
export function matchesLabelSelector(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const have = labels ?? {};
  const { matchLabels, matchExpressions } = selector as { matchLabels?: unknown; matchExpressions?: unknown };
  if (
    matchLabels !== undefined &&
    (typeof matchLabels !== 'object' || matchLabels === null || Array.isArray(matchLabels))
  )
    return false;
  if (matchExpressions !== undefined && !Array.isArray(matchExpressions)) return false;
  for (const [key, value] of Object.entries((matchLabels ?? {}) as Record<string, unknown>)) {
    if (typeof value !== 'string' || have[key] !== value) return false;
  }
  for (const expr of (matchExpressions ?? []) as unknown[]) {
    if (typeof expr !== 'object' || expr === null) return false;
    const { key, operator, values } = expr as { key?: unknown; operator?: unknown; values?: unknown };
    if (typeof key !== 'string') return false;
    const value = have[key];
    switch (operator) {
      case 'In':
        if (!isStringList(values) || values.length === 0 || value === undefined || !values.includes(value))
          return false;
        break;
      case 'NotIn':
        if (!isStringList(values) || values.length === 0 || (value !== undefined && values.includes(value)))
          return false;
        break;
      case 'Exists':
        if ((values !== undefined && !(isStringList(values) && values.length === 0)) || value === undefined)
          return false;
        break;
      case 'DoesNotExist':
        if ((values !== undefined && !(isStringList(values) && values.length === 0)) || value !== undefined)
          return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** Why `selector` is not well formed (it then matches nothing), as a phrase; undefined when it is. */
export function labelSelectorProblem(selector: unknown): string | undefined {
  if (typeof selector !== 'object' || selector === null || Array.isArray(selector)) return 'is not a label selector';
  const { matchLabels, matchExpressions } = selector as { matchLabels?: unknown; matchExpressions?: unknown };
  if (matchLabels !== undefined) {
    if (typeof matchLabels !== 'object' || matchLabels === null || Array.isArray(matchLabels))
      return 'matchLabels is not a map of strings';
    const bad = Object.entries(matchLabels).find(([, v]) => typeof v !== 'string');
    if (bad) return `matchLabels ${bad[0]} is not a string`;
  }
  if (matchExpressions === undefined) return undefined;
  if (!Array.isArray(matchExpressions)) return 'matchExpressions is not a list';
  for (const [i, expr] of (matchExpressions as unknown[]).entries()) {
    if (typeof expr !== 'object' || expr === null) return `matchExpressions[${i}] is not a requirement`;
    const { key, operator, values } = expr as { key?: unknown; operator?: unknown; values?: unknown };
    if (typeof key !== 'string' || key === '') return `matchExpressions[${i}] has no key`;
    if (values !== undefined && !isStringList(values))
      return `matchExpressions[${i}] (${key}): values is not a list of strings`;
    const count = values === undefined ? 0 : values.length;
    if (operator === 'In' || operator === 'NotIn') {
      if (count === 0) return `matchExpressions[${i}] (${key}): ${operator} needs at least one value`;
    } else if (operator === 'Exists' || operator === 'DoesNotExist') {
      if (count > 0) return `matchExpressions[${i}] (${key}): ${operator} takes no values`;
    } else
      return `matchExpressions[${i}] (${key}): operator ${JSON.stringify(operator)} is not In, NotIn, Exists or DoesNotExist`;
  }
  return undefined;
}
