// Path attribute types in one table (like GoBGP's BGPAttrType, PathAttrFlags and validate.go): the type code, the
// name RFCs and logs use, the Optional and Transitive bits the attribute must carry (RFC 4271 section 5 and each
// attribute's RFC), and what RFC 7606 wants done with an UPDATE whose copy of it is malformed. Attributes this codec
// keeps raw but RFC 7606 gives length rules for are in the table too, with their rule. Everything else is read from
// here: nothing switches on a bare type code.

export const FLAG_OPTIONAL = 0x80;
export const FLAG_TRANSITIVE = 0x40;
export const FLAG_PARTIAL = 0x20;
export const FLAG_EXTENDED_LENGTH = 0x10;

/** RFC 7606 section 2: what a malformed attribute does to its UPDATE, weakest first. */
export type ErrorHandling = 'attribute-discard' | 'treat-as-withdraw' | 'session-reset';

export interface AttributeDescriptor {
  readonly code: number;
  /** The RFCs' name: "LOCAL_PREF". */
  readonly name: string;
  /** Optional and Transitive bits the attribute must carry. */
  readonly flags: number;
  /** RFC 7606 section 7: the approach for a malformed copy. */
  readonly onMalformed: ErrorHandling;
  /** For attributes kept raw: whether a value of this length is well formed (RFC 7606 sections 7.9 to 7.15). */
  readonly lengthAcceptable?: (length: number) => boolean;
}

const OPTIONAL_TRANSITIVE = FLAG_OPTIONAL | FLAG_TRANSITIVE;
const positiveMultipleOf = (size: number) => (length: number) => length > 0 && length % size === 0;

/** The attributes this codec takes apart, by the `type` of their decoded form. */
export const KNOWN_ATTRIBUTES = {
  origin: { code: 1, name: 'ORIGIN', flags: FLAG_TRANSITIVE, onMalformed: 'treat-as-withdraw' }, // RFC 7606 section 7.1
  'as-path': { code: 2, name: 'AS_PATH', flags: FLAG_TRANSITIVE, onMalformed: 'treat-as-withdraw' }, // 7.2
  'next-hop': { code: 3, name: 'NEXT_HOP', flags: FLAG_TRANSITIVE, onMalformed: 'treat-as-withdraw' }, // 7.3
  'multi-exit-disc': { code: 4, name: 'MULTI_EXIT_DISC', flags: FLAG_OPTIONAL, onMalformed: 'treat-as-withdraw' }, // 7.4
  'local-pref': { code: 5, name: 'LOCAL_PREF', flags: FLAG_TRANSITIVE, onMalformed: 'treat-as-withdraw' }, // 7.5
  'atomic-aggregate': { code: 6, name: 'ATOMIC_AGGREGATE', flags: FLAG_TRANSITIVE, onMalformed: 'attribute-discard' }, // 7.6
  aggregator: { code: 7, name: 'AGGREGATOR', flags: OPTIONAL_TRANSITIVE, onMalformed: 'attribute-discard' }, // 7.7
  communities: { code: 8, name: 'COMMUNITIES', flags: OPTIONAL_TRANSITIVE, onMalformed: 'treat-as-withdraw' }, // 7.8
  'mp-reach-nlri': { code: 14, name: 'MP_REACH_NLRI', flags: FLAG_OPTIONAL, onMalformed: 'session-reset' }, // 7.11
  'mp-unreach-nlri': { code: 15, name: 'MP_UNREACH_NLRI', flags: FLAG_OPTIONAL, onMalformed: 'session-reset' }, // 7.12
  // RFC 6793 section 6 and RFC 7606 section 7.2
  'as4-path': { code: 17, name: 'AS4_PATH', flags: OPTIONAL_TRANSITIVE, onMalformed: 'attribute-discard' },
  'as4-aggregator': { code: 18, name: 'AS4_AGGREGATOR', flags: OPTIONAL_TRANSITIVE, onMalformed: 'attribute-discard' }, // RFC 6793 section 6
  // RFC 8092 section 6
  'large-communities': {
    code: 32,
    name: 'LARGE_COMMUNITIES',
    flags: OPTIONAL_TRANSITIVE,
    onMalformed: 'treat-as-withdraw',
  },
} as const satisfies Record<string, AttributeDescriptor>;

export type KnownAttributeType = keyof typeof KNOWN_ATTRIBUTES;

/** Attributes kept as raw bytes whose length RFC 7606 still checks (route reflection, extended communities). */
const RAW_ATTRIBUTES: readonly AttributeDescriptor[] = [
  {
    code: 9,
    name: 'ORIGINATOR_ID',
    flags: FLAG_OPTIONAL,
    onMalformed: 'treat-as-withdraw',
    lengthAcceptable: (length) => length === 4,
  }, // 7.9
  {
    code: 10,
    name: 'CLUSTER_LIST',
    flags: FLAG_OPTIONAL,
    onMalformed: 'treat-as-withdraw',
    lengthAcceptable: positiveMultipleOf(4),
  }, // 7.10
  {
    code: 16,
    name: 'EXTENDED_COMMUNITIES',
    flags: OPTIONAL_TRANSITIVE,
    onMalformed: 'treat-as-withdraw',
    lengthAcceptable: positiveMultipleOf(8),
  }, // 7.14
  // RFC 7606 section 7.15
  {
    code: 25,
    name: 'IPV6_EXTENDED_COMMUNITIES',
    flags: OPTIONAL_TRANSITIVE,
    onMalformed: 'treat-as-withdraw',
    lengthAcceptable: positiveMultipleOf(20),
  },
];

export const ATTRIBUTE_CODES: Readonly<Record<KnownAttributeType, number>> = Object.fromEntries(
  Object.entries(KNOWN_ATTRIBUTES).map(([type, descriptor]) => [type, descriptor.code]),
) as Record<KnownAttributeType, number>;

const TYPES_BY_CODE: ReadonlyMap<number, KnownAttributeType> = new Map(
  Object.entries(KNOWN_ATTRIBUTES).map(([type, descriptor]) => [descriptor.code, type as KnownAttributeType]),
);

const DESCRIPTORS_BY_CODE: ReadonlyMap<number, AttributeDescriptor> = new Map(
  [...Object.values(KNOWN_ATTRIBUTES), ...RAW_ATTRIBUTES].map((descriptor) => [descriptor.code, descriptor]),
);

/** The decoded type for a code this codec takes apart; undefined for the others. */
export function knownTypeOf(code: number): KnownAttributeType | undefined {
  return TYPES_BY_CODE.get(code);
}

/** "LOCAL_PREF", or "attribute 99" when unknown. */
export function attributeName(code: number): string {
  return DESCRIPTORS_BY_CODE.get(code)?.name ?? `attribute ${code}`;
}

/** The RFC 7606 section 7 approach for a malformed attribute of this code; unknown codes are treated as withdraw. */
export function errorHandlingFor(code: number): ErrorHandling {
  return DESCRIPTORS_BY_CODE.get(code)?.onMalformed ?? 'treat-as-withdraw';
}

/** Length rules RFC 7606 gives for attributes kept raw; any length for codes without one. */
export function rawLengthAcceptable(code: number, length: number): boolean {
  return DESCRIPTORS_BY_CODE.get(code)?.lengthAcceptable?.(length) ?? true;
}
