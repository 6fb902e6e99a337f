// Small builders for OpenAPI v3 (structural) schemas, so each CRD reads like its documentation and shared
// fragments (label selectors, conditions, durations) are written once. Every field must carry a description:
// `kubectl explain` shows it to users.

export interface CelRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean';
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema;
  enum?: string[];
  default?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: CelRule[];
}

type Extra = Omit<Schema, 'type' | 'description'>;

/** Schemas that the type generator emits as a named interface instead of inline. */
export const namedSchemas = new WeakMap<Schema, string>();
const named = (name: string, schema: Schema): Schema => {
  namedSchemas.set(schema, name);
  return schema;
};

export const str = (description: string, extra: Extra = {}): Schema => ({ type: 'string', description, ...extra });
export const int = (description: string, extra: Extra = {}): Schema => ({ type: 'integer', description, ...extra });
export const bool = (description: string, extra: Extra = {}): Schema => ({ type: 'boolean', description, ...extra });
export const arr = (description: string, items: Schema, extra: Extra = {}): Schema => ({
  type: 'array',
  description,
  items,
  ...extra,
});
export const obj = (description: string, properties: Record<string, Schema>, extra: Extra = {}): Schema => ({
  type: 'object',
  description,
  properties,
  ...extra,
});

/** A map of strings, as in `matchLabels`. */
export const stringMap = (description: string): Schema => ({
  type: 'object',
  description,
  additionalProperties: { type: 'string', maxLength: 63 },
  maxProperties: 64,
});

/** A Kubernetes object name (DNS subdomain). */
export const objectName = (description: string): Schema =>
  str(description, { minLength: 1, maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' });

export const nameList = (description: string): Schema =>
  arr(description, objectName('An object name.'), { maxItems: 64, 'x-kubernetes-list-type': 'set' });

/** metav1.LabelSelector, with its semantic rules checked by CEL so a bad selector is refused at admission. */
export const labelSelector = (description: string): Schema =>
  named(
    'LabelSelector',
    obj(
      `${description} An empty selector matches everything; an absent one is described on the field that uses it.`,
      {
        matchLabels: stringMap('Labels that must all be present with these values.'),
        matchExpressions: arr(
          'Requirements that must all hold.',
          obj(
            'A label requirement.',
            {
              key: str('The label key.', { minLength: 1, maxLength: 317 }),
              operator: str('How the key relates to the values.', { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }),
              values: arr(
                'Values for In and NotIn; must be empty for Exists and DoesNotExist.',
                str('A value.', { maxLength: 63 }),
                {
                  maxItems: 64,
                  'x-kubernetes-list-type': 'atomic',
                },
              ),
            },
            {
              required: ['key', 'operator'],
              'x-kubernetes-validations': [
                {
                  rule: "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",
                  message: 'In and NotIn need at least one value; Exists and DoesNotExist take none',
                },
              ],
            },
          ),
          { maxItems: 32, 'x-kubernetes-list-type': 'atomic' },
        ),
      },
      { 'x-kubernetes-map-type': 'atomic' },
    ),
  );

/** A Go-style duration such as `90s`, `1m30s` or `250ms`; never negative. */
export const duration = (description: string, extra: Extra = {}): Schema =>
  str(`${description} A duration such as 90s, 1m30s or 250ms.`, {
    maxLength: 32,
    pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$',
    ...extra,
  });

export const uint32 = (description: string, extra: Extra = {}): Schema =>
  int(description, { format: 'int64', minimum: 0, maximum: 4294967295, ...extra });

export const asn = (description: string): Schema =>
  int(`${description} 1 to 4294967295 (4-byte ASNs, RFC 6793).`, { format: 'int64', minimum: 1, maximum: 4294967295 });

/** An IPv4 or IPv6 address, checked with the API server's own parser. */
export const ipAddress = (description: string): Schema =>
  str(description, {
    maxLength: 45,
    'x-kubernetes-validations': [{ rule: 'isIP(self)', message: 'must be an IPv4 or IPv6 address' }],
  });

/** metav1.Condition. */
export const conditions: Schema = arr(
  'The latest observations of the object, in the standard Kubernetes condition form.',
  named(
    'Condition',
    obj(
      'One observation.',
      {
        type: str('The aspect observed, such as Ready.', { maxLength: 316 }),
        status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
        observedGeneration: int('The .metadata.generation this observation was made for.', {
          format: 'int64',
          minimum: 0,
        }),
        lastTransitionTime: str('When the status last changed.', { format: 'date-time' }),
        reason: str('A CamelCase reason for the status.', { maxLength: 1024 }),
        message: str('A human readable explanation.', { maxLength: 32768 }),
      },
      { required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'] },
    ),
  ),
  { maxItems: 16, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
);
