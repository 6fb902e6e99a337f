// metav1.LabelSelector matching, as the API server defines it. A selector that is not well formed (an unknown
// operator, In/NotIn without values, fields of the wrong type: possible only in objects stored without the current
// schema) matches nothing, as the API server's own LabelSelectorAsSelector refuses such a selector.
import type { LabelSelector } from './api-types.generated.ts';

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** Whether `labels` satisfy `selector`; an empty selector matches everything, a malformed one nothing. */
export function matchesLabelSelector(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const have = labels ?? {};
  const { matchLabels, matchExpressions } = selector as { matchLabels?: unknown; matchExpressions?: unknown };
  if (matchLabels !== undefined && (typeof matchLabels !== 'object' || matchLabels === null || Array.isArray(matchLabels))) return false;
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
        if (!isStringList(values) || values.length === 0 || value === undefined || !values.includes(value)) return false;
        break;
      case 'NotIn':
        if (!isStringList(values) || values.length === 0 || (value !== undefined && values.includes(value))) return false;
        break;
      case 'Exists':
        if ((values !== undefined && !(isStringList(values) && values.length === 0)) || value === undefined) return false;
        break;
      case 'DoesNotExist':
        if ((values !== undefined && !(isStringList(values) && values.length === 0)) || value !== undefined) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
