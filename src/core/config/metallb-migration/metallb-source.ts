// Reading untrusted parsed YAML: a recognised MetalLB object and readers for its fields, each noting what it cannot read.
import type { LabelSelector } from '../api-types.generated.ts';
import { err, ok, type Result } from '../../result.ts';
import type { Notes } from './migration-notes.ts';

export type Json = Record<string, unknown>;

export const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A MetalLB object recognised by kind and version, with the context every note needs. */
export interface Source {
  kind: 'IPAddressPool' | 'L2Advertisement' | 'BGPAdvertisement' | 'Community' | 'BGPPeer' | 'BFDProfile';
  apiVersion: string;
  name: string;
  namespace: string | undefined;
  labels: Record<string, string> | undefined;
  spec: Json;
  /** `Kind namespace/name`. */
  ref: string;
}

/** Reports the fields of `spec` outside `known`. */
export function unknownFields(source: Source, known: readonly string[], notes: Notes): void {
  for (const key of Object.keys(source.spec)) {
    if (!known.includes(key)) {
      notes.add(
        'UnknownField',
        source.ref,
        `spec.${key}`,
        'not a field this migration knows (a newer MetalLB?); left out',
      );
    }
  }
}

export const absent = (v: unknown): boolean => v === undefined || v === null;

export function readString(v: unknown): Result<string | undefined> {
  if (absent(v)) return ok(undefined);
  return typeof v === 'string' ? ok(v) : err('is not a string');
}

export function readStringList(v: unknown): Result<string[]> {
  if (absent(v)) return ok([]);
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) return err('is not a list of strings');
  return ok(v);
}

export function readBool(v: unknown): Result<boolean | undefined> {
  if (absent(v)) return ok(undefined);
  return typeof v === 'boolean' ? ok(v) : err('is not true or false');
}

export function readInteger(v: unknown): Result<number | undefined> {
  if (absent(v)) return ok(undefined);
  return typeof v === 'number' && Number.isInteger(v) ? ok(v) : err('is not an integer');
}

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
export type Operator = (typeof OPERATORS)[number];
const isOperator = (v: unknown): v is Operator => OPERATORS.includes(v as Operator);

/** A metav1.LabelSelector, checked as MetalLB checks it (LabelSelectorAsSelector). */
function readSelector(v: unknown): Result<LabelSelector> {
  if (!isRecord(v)) return err('is not a label selector');
  const selector: LabelSelector = {};
  if (!absent(v['matchLabels'])) {
    const labels = v['matchLabels'];
    if (!isRecord(labels) || !Object.values(labels).every((x) => typeof x === 'string'))
      return err('matchLabels is not a map of strings');
    if (Object.keys(labels).length > 0) selector.matchLabels = { ...(labels as Record<string, string>) };
  }
  if (!absent(v['matchExpressions'])) {
    const expressions = v['matchExpressions'];
    if (!Array.isArray(expressions)) return err('matchExpressions is not a list');
    const out: NonNullable<LabelSelector['matchExpressions']> = [];
    for (const e of expressions) {
      if (!isRecord(e) || typeof e['key'] !== 'string' || e['key'] === '') return err('a match expression has no key');
      const operator = e['operator'];
      if (!isOperator(operator))
        return err(`operator ${JSON.stringify(operator)} is not In, NotIn, Exists or DoesNotExist`);
      const values = readStringList(e['values']);
      if (!values.ok) return err(`values of ${e['key']} ${values.error}`);
      const needsValues = operator === 'In' || operator === 'NotIn';
      if (needsValues && values.value.length === 0) return err(`${operator} on ${e['key']} needs at least one value`);
      if (!needsValues && values.value.length > 0) return err(`${operator} on ${e['key']} takes no values`);
      out.push({ key: e['key'], operator, ...(needsValues ? { values: [...values.value] } : {}) });
    }
    if (out.length > 0) selector.matchExpressions = out;
  }
  return ok(selector);
}

export function readSelectorList(v: unknown): Result<LabelSelector[]> {
  if (absent(v)) return ok([]);
  if (!Array.isArray(v)) return err('is not a list of label selectors');
  const out: LabelSelector[] = [];
  for (const [i, s] of v.entries()) {
    const parsed = readSelector(s);
    if (!parsed.ok) return err(`[${i}] ${parsed.error}`);
    out.push(parsed.value);
  }
  return ok(out);
}

/**
 * Reads one field; on a malformed value records an InvalidValue note (ending in `consequence`: what becomes of the
 * field or the object) and returns undefined.
 */
export function field<T>(
  source: Source,
  key: string,
  reader: (v: unknown) => Result<T>,
  notes: Notes,
  consequence: string,
): { value: T } | undefined {
  const parsed = reader(source.spec[key]);
  if (parsed.ok) return { value: parsed.value };
  notes.add('InvalidValue', source.ref, `spec.${key}`, `${parsed.error}; ${consequence}`);
  return undefined;
}

export const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
export const INTERFACE_NAME = /^[^\s/:]+$/;
