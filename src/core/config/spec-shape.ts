// Checks objects of our kinds against the structural part of their CRD schema (api-schemas.generated.ts) before
// anything reads them. The API server enforces the schema on every write, but not on objects written while the
// CRD had none or an older one: those reach the informers as they are stored ("addresses": 7, a missing
// peerAddress, an ASN as a string, an unknown selector operator). Such an object is left out whole and reported;
// every other object is served as usual. CEL rules are not repeated here: the parsers report what they catch.
import { SPEC_SCHEMAS } from './api-schemas.generated.ts';

export interface StructuralSchema {
  readonly type?: 'object' | 'array' | 'string' | 'integer' | 'boolean';
  readonly properties?: Readonly<Record<string, StructuralSchema>>;
  readonly required?: readonly string[];
  readonly items?: StructuralSchema;
  readonly additionalProperties?: StructuralSchema;
  readonly enum?: readonly string[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly maxProperties?: number;
  readonly pattern?: string;
}

export type OurKind = 'IPPool' | 'L2Advertisement' | 'BGPPeer' | 'BGPAdvertisement';

const patterns = new Map<string, RegExp>();

/** A value for a message: JSON, cut short. */
function shown(value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}

const EXPECTED: Readonly<Record<NonNullable<StructuralSchema['type']>, string>> = {
  object: 'an object',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  boolean: 'true or false',
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasType(value: unknown, type: NonNullable<StructuralSchema['type']>): boolean {
  switch (type) {
    case 'object':
      return isPlainObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
  }
}

/** The first way `value` departs from `schema`, naming the field at `path`; undefined when it conforms. */
export function shapeProblem(value: unknown, schema: StructuralSchema, path: string): string | undefined {
  if (schema.type !== undefined && !hasType(value, schema.type)) {
    return `${path} is ${typeName(value)} (${shown(value)}), not ${EXPECTED[schema.type]}`;
  }
  if (typeof value === 'string') {
    if (schema.enum && !schema.enum.includes(value))
      return `${path} is ${shown(value)}, not one of ${schema.enum.join(', ')}`;
    if (schema.minLength !== undefined && value.length < schema.minLength)
      return `${path} is shorter than ${schema.minLength} characters`;
    if (schema.maxLength !== undefined && value.length > schema.maxLength)
      return `${path} is longer than ${schema.maxLength} characters`;
    if (schema.pattern !== undefined) {
      let pattern = patterns.get(schema.pattern);
      if (!pattern) patterns.set(schema.pattern, (pattern = new RegExp(schema.pattern, 'u')));
      if (!pattern.test(value)) return `${path} is ${shown(value)}, which does not match ${schema.pattern}`;
    }
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return `${path} is ${value}, below ${schema.minimum}`;
    if (schema.maximum !== undefined && value > schema.maximum) return `${path} is ${value}, above ${schema.maximum}`;
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      return `${path} has ${value.length} items, fewer than ${schema.minItems}`;
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      return `${path} has ${value.length} items, more than ${schema.maxItems}`;
    if (schema.items) {
      for (const [index, item] of value.entries()) {
        const problem = shapeProblem(item, schema.items, `${path}[${index}]`);
        if (problem) return problem;
      }
    }
  }
  if (isPlainObject(value)) {
    for (const name of schema.required ?? []) if (value[name] === undefined) return `${path}.${name} is missing`;
    const entries = Object.entries(value);
    if (schema.maxProperties !== undefined && entries.length > schema.maxProperties)
      return `${path} has more than ${schema.maxProperties} entries`;
    for (const [name, child] of entries) {
      // Fields the schema does not know are never read (the API server prunes them from new writes).
      const childSchema = schema.properties?.[name] ?? schema.additionalProperties;
      if (childSchema === undefined || child === undefined) continue;
      const problem = shapeProblem(child, childSchema, `${path}.${name}`);
      if (problem) return problem;
    }
  }
  return undefined;
}

const checked = new WeakMap<object, string | null>();

/**
 * Why an object of `kind` read from the API server must not be used (it does not have its schema's shape), or
 * undefined when it may. Cached per object: the informers replace an object on every change.
 */
export function malformedObject(kind: OurKind, object: unknown): string | undefined {
  if (!isPlainObject(object)) return `the ${kind} is ${typeName(object)}, not an object`;
  const cached = checked.get(object);
  if (cached !== undefined) return cached ?? undefined;
  const metadata = object['metadata'];
  let problem: string | undefined;
  if (!isPlainObject(metadata) || typeof metadata['name'] !== 'string') problem = 'metadata.name is missing';
  else {
    const schema = SPEC_SCHEMAS[kind];
    problem = object['spec'] === undefined ? 'spec is missing' : schema && shapeProblem(object['spec'], schema, 'spec');
    if (problem === undefined && isPlainObject(metadata['labels'])) {
      problem = shapeProblem(
        metadata['labels'],
        { type: 'object', additionalProperties: { type: 'string' } },
        'metadata.labels',
      );
    }
  }
  checked.set(object, problem ?? null);
  return problem;
}

/** The objects that have their schema's shape, and a sentence for each that does not. */
export function wellFormed<T extends { metadata: { name: string } }>(
  kind: OurKind,
  objects: readonly T[],
): { valid: T[]; malformed: Array<{ kind: OurKind; name: string; message: string }> } {
  const valid: T[] = [];
  const malformed: Array<{ kind: OurKind; name: string; message: string }> = [];
  for (const object of objects) {
    const problem = malformedObject(kind, object);
    if (problem === undefined) valid.push(object);
    else {
      const name = (object as { metadata?: { name?: unknown } }).metadata?.name;
      malformed.push({
        kind,
        name: typeof name === 'string' ? name : '',
        message: `ignored: ${problem} (it was stored without the current schema)`,
      });
    }
  }
  return { valid, malformed };
}
