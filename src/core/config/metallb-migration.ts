// Translates MetalLB configuration (metallb.io: IPAddressPool, L2Advertisement, BGPAdvertisement, Community,
// BGPPeer v1beta1/v1beta2, BFDProfile) into Beacon LB objects. Pure: parsed objects in, objects and notes out.
// Every difference is a note: something left out (the output does less than MetalLB did until a person acts),
// something translated with a change in meaning, or an input that is not MetalLB configuration at all.
// When an OR of selectors cannot be written as one selector, the translation narrows (keeps the first) and never
// widens: nobody gets an address, a session or an announcement that MetalLB would not have given.
// MetalLB semantics followed here are those of its internal/config and internal/allocator packages (v0.15).
import type { BGPAdvertisement, BGPPeer, IPPool, L2Advertisement, LabelSelector, ObjectMeta } from './api-types.generated.ts';
import { familyOf, parseIp } from '../ip/ip-address.ts';
import { formatIpRange, parseIpRange, prefixOf } from '../ip/ip-range.ts';
import { err, ok, type Result } from '../result.ts';

/** `omitted`: left out, the output does less than MetalLB did; `changed`: translated, but it behaves differently; `skipped`: not MetalLB configuration. */
export type MigrationSeverity = 'omitted' | 'changed' | 'skipped';

export const NOTE_SEVERITY = {
  /** Not a MetalLB configuration object (other API groups, MetalLB's status kinds). */
  NotConfiguration: 'skipped',
  /** A MetalLB kind or version this migration does not translate (AddressPool, OSPF, the old ConfigMap). */
  UnsupportedKind: 'omitted',
  /** No name, or a spec that is not an object. */
  InvalidObject: 'omitted',
  /** A second object of a kind with a name already seen (e.g. the same name in two namespaces). */
  DuplicateObject: 'omitted',
  /** A field this migration does not know (a newer MetalLB?). */
  UnknownField: 'omitted',
  /** A value MetalLB itself would refuse, or one Beacon LB's schema cannot hold. */
  InvalidValue: 'omitted',
  /** Several selectors whose OR no single Beacon LB selector expresses: only the first is kept. */
  SelectorsNarrowed: 'omitted',
  /** BGPAdvertisement.serviceSelectors: Beacon LB's BGPAdvertisement has no Service selector. */
  ServiceSelectorsUnsupported: 'omitted',
  /** BFDProfile.echoMode / echoInterval: Beacon LB's BFD runs asynchronous mode without the echo function. */
  BFDEchoUnsupported: 'omitted',
  /** BGPPeer.bfdProfile on an ebgpMultiHop peer: Beacon LB's BFD is single hop (RFC 5881) only. */
  BFDMultiHopUnsupported: 'omitted',
  /** BGPPeer.bfdProfile naming no BFDProfile (or one that was left out): MetalLB ran that peer without BFD too. */
  BFDProfileMissing: 'omitted',
  /** The BFDProfile's settings were copied into the peer's spec.bfd (Beacon LB has no separate profile object). */
  BFDProfileInlined: 'changed',
  /** BFDProfile.minimumTtl: single-hop BFD takes only TTL 255 (RFC 5881), whatever the profile said. */
  BFDMinimumTtlIgnored: 'changed',
  /** A plain BGPPeer.password: the output references a Secret holding a placeholder. */
  PasswordPlaceholder: 'omitted',
  /** BGPPeer.interface (unnumbered BGP): Beacon LB needs a peerAddress. */
  UnnumberedPeerUnsupported: 'omitted',
  /** BGPPeer.vrf: Beacon LB opens sessions in the node's default VRF. */
  VRFUnsupported: 'omitted',
  /** An advertisement community that is neither a valid community nor a Community alias. */
  UnknownCommunity: 'omitted',
  /** One MetalLB object became several Beacon LB objects (one selector per field). */
  ObjectSplit: 'changed',
  /** A pool with serviceAllocation got a priority so it is still tried before pools without one. */
  PriorityAdded: 'changed',
  /** Priorities renumbered into Beacon LB's range, order kept. */
  PrioritiesRenumbered: 'changed',
  /** An L2Advertisement without interfaces: MetalLB answered on every interface. */
  DefaultInterfaces: 'changed',
  /** L2Advertisement.preferredNodeSelectors: Beacon LB's election has no preferences. */
  PreferredNodesIgnored: 'changed',
  /** BGPPeer.passwordSecret: the Secret must be copied into the BGP password namespace. */
  PasswordSecretToCopy: 'changed',
  /** No holdTime and keepaliveTime: MetalLB's defaults differ from Beacon LB's. */
  TimerDefaults: 'changed',
  /** Timers rounded to whole seconds, or keepaliveTime dropped because it equalled holdTime. */
  TimersAdjusted: 'changed',
  /** BGPPeer.localASN became the peer's myASN. */
  LocalASNAsMyASN: 'changed',
  /** A Community alias replaced by its value. */
  CommunityAliasResolved: 'changed',
} as const satisfies Record<string, MigrationSeverity>;

export type MigrationNoteKind = keyof typeof NOTE_SEVERITY;

export interface MigrationNote {
  kind: MigrationNoteKind;
  severity: MigrationSeverity;
  /** The MetalLB object, as `Kind namespace/name`. */
  object: string;
  /** The field concerned, as a path in the MetalLB object (spec.holdTime); absent when the note is about the object. */
  field?: string;
  message: string;
}

/** A Secret manifest written for a BGPPeer whose MetalLB object held a plain password. */
export interface SecretManifest {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  type: 'Opaque';
  stringData: Record<string, string>;
}

export type MigratedObject = IPPool | L2Advertisement | BGPPeer | BGPAdvertisement | SecretManifest;

export interface MigrationOptions {
  /** The BGP password namespace (beaconlb-bgp-passwords by default): where BGP password Secrets must live. */
  secretNamespace: string;
}

export interface MigrationResult {
  /** In apply order: Secrets, IPPools, L2Advertisements, BGPPeers, BGPAdvertisements; each kind sorted by name. */
  objects: MigratedObject[];
  notes: MigrationNote[];
}

/** What a placeholder Secret holds instead of the password, which is never copied. */
export const PASSWORD_PLACEHOLDER = 'REPLACE-WITH-THE-BGP-PASSWORD';
/** Annotation on every translated object: the MetalLB object it came from. */
export const MIGRATED_FROM_ANNOTATION = 'beaconlb.io/migrated-from';
/** The label the API server sets on every Namespace to its name (Kubernetes 1.22 and later). */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const MAX_PRIORITY = 1_000_000;
const MAX_POOL_ENTRIES = 64;
const MAX_COMMUNITIES = 64;
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const INTERFACE_NAME = /^[^\s/:]+$/;

/** Whether any note means something was left out (the command then exits with 2). */
export function somethingLeftOut(notes: readonly MigrationNote[]): boolean {
  return notes.some((n) => n.severity === 'omitted');
}

/** One line for a terminal: severity, object, field, message. */
export function formatNote(note: MigrationNote): string {
  const label = note.severity === 'omitted' ? 'left out' : note.severity;
  return `${label.padEnd(8)}  ${note.object}${note.field ? ` ${note.field}` : ''}: ${note.message}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading untrusted parsed YAML

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A MetalLB object recognised by kind and version, with the context every note needs. */
interface Source {
  kind: 'IPAddressPool' | 'L2Advertisement' | 'BGPAdvertisement' | 'Community' | 'BGPPeer' | 'BFDProfile';
  apiVersion: string;
  name: string;
  namespace: string | undefined;
  labels: Record<string, string> | undefined;
  spec: Json;
  /** `Kind namespace/name`. */
  ref: string;
}

class Notes {
  readonly list: MigrationNote[] = [];

  add(kind: MigrationNoteKind, object: string, field: string | undefined, message: string): void {
    this.list.push({ kind, severity: NOTE_SEVERITY[kind], object, ...(field === undefined ? {} : { field }), message });
  }
}

/** Reports the fields of `spec` outside `known`. */
function unknownFields(source: Source, known: readonly string[], notes: Notes): void {
  for (const key of Object.keys(source.spec)) {
    if (!known.includes(key)) {
      notes.add('UnknownField', source.ref, `spec.${key}`, 'not a field this migration knows (a newer MetalLB?); left out');
    }
  }
}

const absent = (v: unknown): boolean => v === undefined || v === null;

function readString(v: unknown): Result<string | undefined> {
  if (absent(v)) return ok(undefined);
  return typeof v === 'string' ? ok(v) : err('is not a string');
}

function readStringList(v: unknown): Result<string[]> {
  if (absent(v)) return ok([]);
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) return err('is not a list of strings');
  return ok(v);
}

function readBool(v: unknown): Result<boolean | undefined> {
  if (absent(v)) return ok(undefined);
  return typeof v === 'boolean' ? ok(v) : err('is not true or false');
}

function readInteger(v: unknown): Result<number | undefined> {
  if (absent(v)) return ok(undefined);
  return typeof v === 'number' && Number.isInteger(v) ? ok(v) : err('is not an integer');
}

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
type Operator = (typeof OPERATORS)[number];
const isOperator = (v: unknown): v is Operator => OPERATORS.includes(v as Operator);

/** A metav1.LabelSelector, checked as MetalLB checks it (LabelSelectorAsSelector). */
function readSelector(v: unknown): Result<LabelSelector> {
  if (!isRecord(v)) return err('is not a label selector');
  const selector: LabelSelector = {};
  if (!absent(v['matchLabels'])) {
    const labels = v['matchLabels'];
    if (!isRecord(labels) || !Object.values(labels).every((x) => typeof x === 'string')) return err('matchLabels is not a map of strings');
    if (Object.keys(labels).length > 0) selector.matchLabels = { ...(labels as Record<string, string>) };
  }
  if (!absent(v['matchExpressions'])) {
    const expressions = v['matchExpressions'];
    if (!Array.isArray(expressions)) return err('matchExpressions is not a list');
    const out: NonNullable<LabelSelector['matchExpressions']> = [];
    for (const e of expressions) {
      if (!isRecord(e) || typeof e['key'] !== 'string' || e['key'] === '') return err('a match expression has no key');
      const operator = e['operator'];
      if (!isOperator(operator)) return err(`operator ${JSON.stringify(operator)} is not In, NotIn, Exists or DoesNotExist`);
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

function readSelectorList(v: unknown): Result<LabelSelector[]> {
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
function field<T>(source: Source, key: string, reader: (v: unknown) => Result<T>, notes: Notes, consequence: string): { value: T } | undefined {
  const parsed = reader(source.spec[key]);
  if (parsed.ok) return { value: parsed.value };
  notes.add('InvalidValue', source.ref, `spec.${key}`, `${parsed.error}; ${consequence}`);
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Label selectors: the OR of several, as one when the API's form can say it exactly

interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

function requirementsOf(selector: LabelSelector): Requirement[] {
  const fromLabels = Object.entries(selector.matchLabels ?? {}).map(([key, value]): Requirement => ({ key, operator: 'In', values: [value] }));
  const fromExpressions = (selector.matchExpressions ?? []).map((e): Requirement => ({ key: e.key, operator: e.operator, values: [...new Set(e.values ?? [])].sort() }));
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
  const sets = selectors.map((s) => ({ selector: s, texts: new Set(requirementsOf(s).map(requirementText)), requirements: requirementsOf(s) }));
  if (sets.some((s) => s.texts.size === 0)) return {};
  // A selector whose requirements include all of another's matches a subset of it: it adds nothing to the OR.
  const kept = sets.filter((a, i) =>
    !sets.some((b, j) => j !== i && [...b.texts].every((t) => a.texts.has(t)) && (b.texts.size < a.texts.size || j < i)),
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
  if (key === undefined || !singles.every((r) => r !== undefined && r.key === key && r.operator === 'In')) return undefined;
  const values = [...new Set(singles.flatMap((r) => r?.values ?? []))].sort();
  const commonRequirements = first.requirements.filter((r) => common.includes(requirementText(r)));
  return {
    matchExpressions: [
      ...commonRequirements.map((r) => ({ key: r.key, operator: r.operator, ...(r.values.length > 0 ? { values: r.values } : {}) })),
      { key, operator: 'In' as const, values },
    ],
  };
}

const describeSelector = (s: LabelSelector): string => JSON.stringify(s);

/**
 * The OR of a restriction's selectors as one selector; when that cannot be exact, the first one (narrower than
 * MetalLB, never wider) with a SelectorsNarrowed note.
 */
function narrowedUnion(selectors: readonly LabelSelector[], source: Source, path: string, consequence: string, notes: Notes): LabelSelector | undefined {
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
function choicesFor(selectors: readonly LabelSelector[]): Array<LabelSelector | undefined> {
  if (selectors.length === 0) return [undefined];
  const union = unionOfSelectors(selectors);
  return union !== undefined ? [union] : [...selectors];
}

// ---------------------------------------------------------------------------------------------------------------
// Values

/** A Go time.Duration text (as metav1.Duration holds) in milliseconds; may be negative. */
export function parseGoDuration(text: string): Result<number> {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return ok(0);
  if (rest === '') return err(`"${text}" is not a duration`);
  let total = 0;
  const part = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/u;
  while (rest !== '') {
    const m = part.exec(rest);
    if (!m?.[1] || !m[2]) return err(`"${text}" is not a duration (write e.g. 90s or 1m30s)`);
    total += Number(m[1]) * (units[m[2]] ?? Number.NaN);
    rest = rest.slice(m[0].length);
  }
  return Number.isFinite(total) ? ok(sign * total) : err(`"${text}" is not a duration`);
}

/** A pool entry as Beacon LB's schema accepts it: MetalLB's CIDRs may have host bits set (net.ParseCIDR masks them). */
function poolEntry(text: string): Result<string> {
  const trimmed = text.trim();
  if (!trimmed.includes('/')) {
    const range = parseIpRange(trimmed);
    if (!range.ok) return range;
    const dash = trimmed.indexOf('-');
    return ok(`${trimmed.slice(0, dash).trim()}-${trimmed.slice(dash + 1).trim()}`);
  }
  const exact = parseIpRange(trimmed);
  if (exact.ok) return ok(trimmed);
  const [addressText = '', lengthText = ''] = trimmed.split('/');
  const address = parseIp(addressText);
  const length = Number(lengthText);
  const family = addressText.includes(':') ? 6 : 4;
  if (!address.ok || !/^\d{1,3}$/.test(lengthText) || familyOf(address.value) !== family || length > (family === 4 ? 32 : 128)) return exact;
  return ok(formatIpRange(prefixOf(address.value, length, family)));
}

type MetalLbCommunity = { kind: 'standard' | 'large'; value: string };

/** A community as MetalLB's community.New reads it: `a:b` (16-bit parts) or `large:a:b:c` (32-bit parts). */
function parseMetalLbCommunity(text: string): Result<MetalLbCommunity, 'format' | 'value'> {
  const parts = text.split(':');
  const numbers = (fields: string[], max: number): number[] | undefined => {
    const values = fields.map((f) => (/^\d+$/.test(f) ? Number(f) : Number.NaN));
    return values.every((v) => Number.isSafeInteger(v) && v <= max) ? values : undefined;
  };
  if (parts.length === 2) {
    const values = numbers(parts, 0xffff);
    return values ? ok({ kind: 'standard', value: values.join(':') }) : err('value');
  }
  if (parts.length === 4) {
    if (parts[0] !== 'large') return err('value');
    const values = numbers(parts.slice(1), 0xffffffff);
    return values ? ok({ kind: 'large', value: values.join(':') }) : err('value');
  }
  return err('format');
}

// ---------------------------------------------------------------------------------------------------------------
// Recognising objects

const CONFIG_KINDS: Record<string, readonly string[]> = {
  IPAddressPool: ['v1beta1'],
  L2Advertisement: ['v1beta1'],
  BGPAdvertisement: ['v1beta1'],
  Community: ['v1beta1'],
  BFDProfile: ['v1beta1'],
  BGPPeer: ['v1beta1', 'v1beta2'],
};
const STATUS_KINDS = ['ServiceL2Status', 'ServiceBGPStatus', 'ConfigurationState'];
const KIND_ORDER = ['Community', 'BFDProfile', 'IPAddressPool', 'BGPPeer', 'L2Advertisement', 'BGPAdvertisement'];

function describeInput(v: Json): string {
  const kind = typeof v['kind'] === 'string' ? v['kind'] : '(no kind)';
  const meta = isRecord(v['metadata']) ? v['metadata'] : {};
  const name = typeof meta['name'] === 'string' ? meta['name'] : '(no name)';
  const ns = typeof meta['namespace'] === 'string' ? `${meta['namespace']}/` : '';
  return `${kind} ${ns}${name}`;
}

function recognise(input: unknown, notes: Notes): Source | undefined {
  if (!isRecord(input)) {
    notes.add('InvalidObject', '(document)', undefined, 'not an object; ignored');
    return undefined;
  }
  const ref = describeInput(input);
  const apiVersion = typeof input['apiVersion'] === 'string' ? input['apiVersion'] : '';
  const kind = typeof input['kind'] === 'string' ? input['kind'] : '';
  const [group, version = ''] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group !== 'metallb.io') {
    if (kind === 'ConfigMap' && isRecord(input['data']) && typeof input['data']['config'] === 'string' && /metallb/i.test(ref)) {
      notes.add('UnsupportedKind', ref, undefined, "MetalLB's ConfigMap configuration (before v0.13) is not read; convert it to custom resources with MetalLB's configmaptocrs tool first");
      return undefined;
    }
    notes.add('NotConfiguration', ref, undefined, `${apiVersion || '(no apiVersion)'} is not MetalLB configuration; ignored`);
    return undefined;
  }
  if (STATUS_KINDS.includes(kind)) {
    notes.add('NotConfiguration', ref, undefined, 'a status object written by MetalLB, not configuration; ignored');
    return undefined;
  }
  const versions = CONFIG_KINDS[kind];
  if (versions === undefined) {
    const why = kind === 'AddressPool' ? 'AddressPool was removed in MetalLB v0.14; convert it to IPAddressPool and advertisements first' : `kind ${kind || '(none)'} has no Beacon LB equivalent this migration knows`;
    notes.add('UnsupportedKind', ref, undefined, why);
    return undefined;
  }
  if (!versions.includes(version)) {
    notes.add('UnsupportedKind', ref, undefined, `${apiVersion} is not a version of ${kind} this migration reads (${versions.map((v) => `metallb.io/${v}`).join(', ')})`);
    return undefined;
  }
  const meta = isRecord(input['metadata']) ? input['metadata'] : {};
  const name = meta['name'];
  if (typeof name !== 'string' || !OBJECT_NAME.test(name) || name.length > 253) {
    notes.add('InvalidObject', ref, 'metadata.name', 'missing or not a valid object name; object left out');
    return undefined;
  }
  const spec = absent(input['spec']) ? {} : input['spec'];
  if (!isRecord(spec)) {
    notes.add('InvalidObject', ref, 'spec', 'is not an object; object left out');
    return undefined;
  }
  const rawLabels = meta['labels'];
  const labels = isRecord(rawLabels) && Object.values(rawLabels).every((v) => typeof v === 'string') ? (rawLabels as Record<string, string>) : undefined;
  return {
    kind: kind as Source['kind'],
    apiVersion,
    name,
    namespace: typeof meta['namespace'] === 'string' ? meta['namespace'] : undefined,
    labels: labels && Object.keys(labels).length > 0 ? { ...labels } : undefined,
    spec,
    ref,
  };
}

/** `Kind.metallb.io namespace/name`: the same whichever API version the object was read at. */
const originOf = (source: Source): string => `${source.kind}.metallb.io ${source.namespace ? `${source.namespace}/` : ''}${source.name}`;

function metadataFor(source: Source, name = source.name): ObjectMeta {
  return { name, ...(source.labels ? { labels: { ...source.labels } } : {}), annotations: { [MIGRATED_FROM_ANNOTATION]: originOf(source) } };
}

// ---------------------------------------------------------------------------------------------------------------
// Communities

function communityAliases(sources: readonly Source[], notes: Notes): Map<string, { value: MetalLbCommunity; from: string }> {
  const aliases = new Map<string, { value: MetalLbCommunity; from: string }>();
  for (const source of sources) {
    unknownFields(source, ['communities'], notes);
    const list = source.spec['communities'];
    if (absent(list)) continue;
    if (!Array.isArray(list)) {
      notes.add('InvalidValue', source.ref, 'spec.communities', 'is not a list of {name, value}; no alias read from it');
      continue;
    }
    for (const [i, entry] of list.entries()) {
      const path = `spec.communities[${i}]`;
      if (!isRecord(entry) || typeof entry['name'] !== 'string' || typeof entry['value'] !== 'string') {
        notes.add('InvalidValue', source.ref, path, 'is not {name, value}; left out');
        continue;
      }
      const parsed = parseMetalLbCommunity(entry['value']);
      if (!parsed.ok) {
        notes.add('InvalidValue', source.ref, path, `${JSON.stringify(entry['value'])} is not a community (a:b or large:a:b:c); alias ${entry['name']} left out`);
        continue;
      }
      if (aliases.has(entry['name'])) {
        notes.add('InvalidValue', source.ref, path, `alias ${entry['name']} is defined twice (MetalLB refuses this); the first definition is used`);
        continue;
      }
      aliases.set(entry['name'], { value: parsed.value, from: source.ref });
    }
  }
  return aliases;
}

// ---------------------------------------------------------------------------------------------------------------
// IPAddressPool -> IPPool

interface PoolDraft {
  source: Source;
  pool: IPPool;
  /** MetalLB tries pools with serviceAllocation before those without (internal/allocator pinnedPoolsForService). */
  pinned: boolean;
  priority: number | undefined;
}

const POOL_FIELDS = ['addresses', 'autoAssign', 'avoidBuggyIPs', 'serviceAllocation'];
const ALLOCATION_FIELDS = ['priority', 'namespaces', 'namespaceSelectors', 'serviceSelectors'];

function translatePool(source: Source, notes: Notes): PoolDraft | undefined {
  unknownFields(source, POOL_FIELDS, notes);
  const leftOut = 'pool left out';
  const entries = field(source, 'addresses', readStringList, notes, leftOut);
  const autoAssign = field(source, 'autoAssign', readBool, notes, 'treated as true');
  const avoidBuggyIPs = field(source, 'avoidBuggyIPs', readBool, notes, 'treated as false');
  if (!entries) return undefined;
  const addresses: string[] = [];
  for (const [i, text] of entries.value.entries()) {
    const entry = poolEntry(text);
    if (!entry.ok) notes.add('InvalidValue', source.ref, `spec.addresses[${i}]`, `${entry.error}; left out`);
    else if (addresses.length >= MAX_POOL_ENTRIES) notes.add('InvalidValue', source.ref, `spec.addresses[${i}]`, `Beacon LB takes at most ${MAX_POOL_ENTRIES} entries per pool; left out (put it in a second pool)`);
    else if (!addresses.includes(entry.value)) addresses.push(entry.value);
  }
  if (addresses.length === 0) {
    notes.add('InvalidValue', source.ref, 'spec.addresses', 'no usable address; pool left out');
    return undefined;
  }
  const spec: IPPool['spec'] = { addresses };
  if (autoAssign?.value === false) spec.autoAssign = false;
  if (avoidBuggyIPs?.value === true) spec.avoidBuggyIPs = true;

  const rawAllocation = source.spec['serviceAllocation'];
  let pinned = false;
  let priority: number | undefined;
  if (!absent(rawAllocation)) {
    if (!isRecord(rawAllocation)) {
      notes.add('InvalidValue', source.ref, 'spec.serviceAllocation', `is not an object; ${leftOut}`);
      return undefined;
    }
    pinned = true;
    for (const key of Object.keys(rawAllocation)) {
      if (!ALLOCATION_FIELDS.includes(key)) notes.add('UnknownField', source.ref, `spec.serviceAllocation.${key}`, 'not a field this migration knows (a newer MetalLB?); left out');
    }
    const sub: Source = { ...source, spec: rawAllocation };
    const path = (k: string): string => `serviceAllocation.${k}`;
    const rawPriority = field(sub, 'priority', readInteger, notes, 'no priority');
    const namespaces = field(sub, 'namespaces', readStringList, notes, leftOut);
    const namespaceSelectors = field(sub, 'namespaceSelectors', readSelectorList, notes, leftOut);
    const serviceSelectors = field(sub, 'serviceSelectors', readSelectorList, notes, leftOut);
    if (!namespaces || !namespaceSelectors || !serviceSelectors) return undefined;
    if (rawPriority?.value !== undefined && rawPriority.value > 0) priority = rawPriority.value;
    else if (rawPriority?.value !== undefined && rawPriority.value < 0) {
      notes.add('InvalidValue', source.ref, `spec.${path('priority')}`, 'is negative; MetalLB orders it unpredictably; treated as no priority');
    }
    const allocation: NonNullable<IPPool['spec']['allocation']> = {};
    const nsNames = [...new Set(namespaces.value)];
    const consequence = 'Services admitted only by the others get no address from this pool';
    if (nsNames.length > 0 && namespaceSelectors.value.length > 0) {
      // MetalLB admits a namespace listed by name OR matching a selector; Beacon LB's two fields AND, so both
      // become one selector, the names through the label every Namespace carries.
      const byName: LabelSelector = { matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'In', values: nsNames }] };
      const union = unionOfSelectors([byName, ...namespaceSelectors.value]);
      if (union !== undefined) allocation.namespaceSelector = union;
      else {
        allocation.namespaces = nsNames;
        notes.add(
          'SelectorsNarrowed',
          source.ref,
          `spec.${path('namespaceSelectors')}`,
          `MetalLB admits the namespaces listed OR those matching these selectors, which no single Beacon LB selector expresses; kept the list of namespaces only: ${consequence}`,
        );
      }
    } else if (nsNames.length > 0) allocation.namespaces = nsNames;
    else if (namespaceSelectors.value.length > 0) {
      const selector = narrowedUnion(namespaceSelectors.value, source, `spec.${path('namespaceSelectors')}`, consequence, notes);
      if (selector) allocation.namespaceSelector = selector;
    }
    const serviceSelector = narrowedUnion(serviceSelectors.value, source, `spec.${path('serviceSelectors')}`, consequence, notes);
    if (serviceSelector) allocation.serviceSelector = serviceSelector;
    if (Object.keys(allocation).length > 0) spec.allocation = allocation;
  }
  return {
    source,
    pinned,
    priority,
    pool: { apiVersion: 'beaconlb.io/v1alpha1', kind: 'IPPool', metadata: metadataFor(source), spec },
  };
}

/**
 * Priorities: MetalLB tries pools with serviceAllocation (by priority, those without one last) before every pool
 * without serviceAllocation; Beacon LB puts pools without a priority after all pools with one and orders them by
 * name. A pinned pool without priority therefore gets one after every explicit priority when unpinned pools exist.
 */
function assignPriorities(drafts: readonly PoolDraft[], notes: Notes): void {
  const explicit = [...new Set(drafts.flatMap((d) => (d.priority === undefined ? [] : [d.priority])))].sort((a, b) => a - b);
  const renumber = explicit.length > 0 && (explicit.at(-1) ?? 0) >= MAX_PRIORITY;
  for (const d of drafts) {
    if (d.priority === undefined) continue;
    const value = renumber ? explicit.indexOf(d.priority) + 1 : d.priority;
    if (renumber) {
      notes.add('PrioritiesRenumbered', d.source.ref, 'spec.serviceAllocation.priority', `Beacon LB priorities are 0 to ${MAX_PRIORITY}; ${d.priority} became ${value} (the order of all pools is kept)`);
    }
    d.pool.spec.allocation = { ...d.pool.spec.allocation, priority: value };
  }
  if (!drafts.some((d) => !d.pinned)) return;
  const after = (renumber ? explicit.length : (explicit.at(-1) ?? 0)) + 1;
  for (const d of drafts) {
    if (!d.pinned || d.priority !== undefined) continue;
    d.pool.spec.allocation = { ...d.pool.spec.allocation, priority: after };
    notes.add(
      'PriorityAdded',
      d.source.ref,
      'spec.serviceAllocation',
      `given priority ${after}: MetalLB tries pools with serviceAllocation before pools without it, Beacon LB orders pools ` +
        'without a priority by name after all others',
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Advertisements

type PoolChoice = { ipPools: string[] } | { ipPoolSelector: LabelSelector } | Record<string, never>;

function poolChoices(source: Source, notes: Notes): PoolChoice[] | undefined {
  const leftOut = 'advertisement left out';
  const names = field(source, 'ipAddressPools', readStringList, notes, leftOut);
  const selectors = field(source, 'ipAddressPoolSelectors', readSelectorList, notes, leftOut);
  if (!names || !selectors) return undefined;
  const bad = names.value.find((n) => !OBJECT_NAME.test(n));
  if (bad !== undefined) {
    notes.add('InvalidValue', source.ref, 'spec.ipAddressPools', `${JSON.stringify(bad)} is not an object name; ${leftOut}`);
    return undefined;
  }
  const choices: PoolChoice[] = [];
  if (names.value.length > 0) choices.push({ ipPools: [...new Set(names.value)] });
  if (selectors.value.length > 0) for (const s of choicesFor(selectors.value)) if (s) choices.push({ ipPoolSelector: s });
  return choices.length > 0 ? choices : [{}];
}

/** Names for the objects one MetalLB object became: its own name first, then name-2, name-3 (skipping taken names). */
function splitNames(name: string, count: number, taken: Set<string>): string[] {
  const names = [name];
  for (let i = 2; names.length < count; i++) {
    const candidate = `${name}-${i}`;
    if (!taken.has(candidate)) names.push(candidate);
  }
  return names;
}

function product<A, B, C>(as: readonly A[], bs: readonly B[], cs: readonly C[]): Array<[A, B, C]> {
  return as.flatMap((a) => bs.flatMap((b) => cs.map((c): [A, B, C] => [a, b, c])));
}

const L2_FIELDS = ['ipAddressPools', 'ipAddressPoolSelectors', 'nodeSelectors', 'interfaces', 'serviceSelectors', 'preferredNodeSelectors'];

function translateL2(source: Source, taken: Set<string>, notes: Notes): L2Advertisement[] {
  unknownFields(source, L2_FIELDS, notes);
  const leftOut = 'advertisement left out';
  const pools = poolChoices(source, notes);
  const nodeSelectors = field(source, 'nodeSelectors', readSelectorList, notes, leftOut);
  const serviceSelectors = field(source, 'serviceSelectors', readSelectorList, notes, leftOut);
  const interfaces = field(source, 'interfaces', readStringList, notes, leftOut);
  if (!pools || !nodeSelectors || !serviceSelectors || !interfaces) return [];
  const names: string[] = [];
  for (const [i, name] of interfaces.value.entries()) {
    if (name.length <= 15 && INTERFACE_NAME.test(name)) names.push(name);
    else notes.add('InvalidValue', source.ref, `spec.interfaces[${i}]`, `${JSON.stringify(name)} is not a Linux interface name; left out`);
  }
  if (interfaces.value.length > 0 && names.length === 0) {
    notes.add('InvalidValue', source.ref, 'spec.interfaces', `no valid interface name left; MetalLB could announce on none of them; ${leftOut}`);
    return [];
  }
  if (interfaces.value.length === 0) {
    notes.add(
      'DefaultInterfaces',
      source.ref,
      'spec.interfaces',
      'not set: MetalLB answered ARP/NDP on every interface of the node, Beacon LB answers on the interfaces whose subnet ' +
        'contains the address, else on the default-route interface; list the interfaces to keep answering elsewhere',
    );
  }
  if (!absent(source.spec['preferredNodeSelectors'])) {
    notes.add('PreferredNodesIgnored', source.ref, 'spec.preferredNodeSelectors', "Beacon LB's per-address election (rendezvous hashing over the eligible nodes) has no preferences; left out, every eligible node is equally likely to answer");
  }
  const combos = product(pools, choicesFor(nodeSelectors.value), choicesFor(serviceSelectors.value));
  const objectNames = splitNames(source.name, combos.length, taken);
  noteSplit(source, objectNames, notes);
  return combos.map(([pool, node, service], i): L2Advertisement => ({
    apiVersion: 'beaconlb.io/v1alpha1',
    kind: 'L2Advertisement',
    metadata: metadataFor(source, objectNames[i] ?? source.name),
    spec: {
      ...pool,
      ...(node ? { nodeSelector: node } : {}),
      ...(names.length > 0 ? { interfaces: [...new Set(names)] } : {}),
      ...(service ? { serviceSelector: service } : {}),
    },
  }));
}

function noteSplit(source: Source, names: readonly string[], notes: Notes): void {
  if (names.length < 2) return;
  notes.add(
    'ObjectSplit',
    source.ref,
    undefined,
    `became ${names.length} objects (${names.join(', ')}): Beacon LB takes one pool choice (names or one selector) and one ` +
      'selector per field, and several advertisements of a pool add up, so together they select what this one did',
  );
}

const BGP_ADV_FIELDS = ['aggregationLength', 'aggregationLengthV6', 'localPref', 'communities', 'ipAddressPools', 'ipAddressPoolSelectors', 'nodeSelectors', 'peers', 'serviceSelectors'];

function translateBgpAdvertisement(
  source: Source,
  aliases: ReadonlyMap<string, { value: MetalLbCommunity; from: string }>,
  taken: Set<string>,
  notes: Notes,
): BGPAdvertisement[] {
  unknownFields(source, BGP_ADV_FIELDS, notes);
  const leftOut = 'advertisement left out';
  const serviceSelectors = field(source, 'serviceSelectors', readSelectorList, notes, leftOut);
  if (!serviceSelectors) return [];
  if (serviceSelectors.value.length > 0) {
    notes.add(
      'ServiceSelectorsUnsupported',
      source.ref,
      'spec.serviceSelectors',
      "Beacon LB's BGPAdvertisement has no Service selector, and advertising every Service of its pools would announce " +
        `Services MetalLB kept quiet; ${leftOut}. Move those Services into a pool of their own and advertise that pool`,
    );
    return [];
  }
  const pools = poolChoices(source, notes);
  const nodeSelectors = field(source, 'nodeSelectors', readSelectorList, notes, leftOut);
  const peers = field(source, 'peers', readStringList, notes, leftOut);
  const length = field(source, 'aggregationLength', readInteger, notes, 'left out (32)');
  const lengthV6 = field(source, 'aggregationLengthV6', readInteger, notes, 'left out (128)');
  const localPref = field(source, 'localPref', readInteger, notes, 'left out');
  const communities = field(source, 'communities', readStringList, notes, 'no community is sent');
  if (!pools || !nodeSelectors || !peers) return [];
  const badPeer = peers.value.find((n) => !OBJECT_NAME.test(n));
  if (badPeer !== undefined) {
    notes.add('InvalidValue', source.ref, 'spec.peers', `${JSON.stringify(badPeer)} is not an object name; ${leftOut}`);
    return [];
  }
  const spec: BGPAdvertisement['spec'] = {};
  if (length?.value !== undefined) {
    if (length.value >= 0 && length.value <= 32) spec.aggregationLength = length.value;
    else notes.add('InvalidValue', source.ref, 'spec.aggregationLength', `${length.value} is not 0 to 32; left out (32)`);
  }
  if (lengthV6?.value !== undefined) {
    if (lengthV6.value >= 0 && lengthV6.value <= 128) spec.aggregationLengthV6 = lengthV6.value;
    else notes.add('InvalidValue', source.ref, 'spec.aggregationLengthV6', `${lengthV6.value} is not 0 to 128; left out (128)`);
  }
  if (localPref?.value !== undefined && localPref.value !== 0) {
    if (localPref.value > 0 && localPref.value <= 0xffffffff) spec.localPref = localPref.value;
    else notes.add('InvalidValue', source.ref, 'spec.localPref', `${localPref.value} is not a 32-bit unsigned number; left out`);
  }
  const standard: string[] = [];
  const large: string[] = [];
  for (const [i, text] of (communities?.value ?? []).entries()) {
    const path = `spec.communities[${i}]`;
    const alias = aliases.get(text);
    let value: MetalLbCommunity;
    if (alias) {
      value = alias.value;
      const shown = value.kind === 'large' ? `large community ${value.value}` : value.value;
      notes.add('CommunityAliasResolved', source.ref, path, `alias ${text} (from ${alias.from}) written as ${shown}: Beacon LB has no Community objects, so a later change to the alias does not reach this advertisement`);
    } else {
      const parsed = parseMetalLbCommunity(text);
      if (!parsed.ok) {
        const why = parsed.error === 'format' ? 'neither a community (a:b, large:a:b:c) nor the name of a Community alias' : 'a community with a part out of range';
        notes.add('UnknownCommunity', source.ref, path, `${JSON.stringify(text)} is ${why}; left out`);
        continue;
      }
      value = parsed.value;
    }
    const list = value.kind === 'large' ? large : standard;
    if (list.includes(value.value)) continue;
    if (list.length >= MAX_COMMUNITIES) {
      notes.add('InvalidValue', source.ref, path, `Beacon LB takes at most ${MAX_COMMUNITIES} communities of a type; left out`);
      continue;
    }
    list.push(value.value);
  }
  if (standard.length > 0) spec.communities = standard;
  if (large.length > 0) spec.largeCommunities = large;
  if (peers.value.length > 0) spec.peers = [...new Set(peers.value)];
  const combos = product(pools, choicesFor(nodeSelectors.value), [undefined]);
  const objectNames = splitNames(source.name, combos.length, taken);
  noteSplit(source, objectNames, notes);
  return combos.map(([pool, node], i): BGPAdvertisement => ({
    apiVersion: 'beaconlb.io/v1alpha1',
    kind: 'BGPAdvertisement',
    metadata: metadataFor(source, objectNames[i] ?? source.name),
    spec: { ...pool, ...(node ? { nodeSelector: node } : {}), ...spec },
  }));
}

// ---------------------------------------------------------------------------------------------------------------
// BFDProfile (inlined into each BGPPeer that names it: Beacon LB's BGPPeer carries spec.bfd itself, ADR 0018)

const BFD_PROFILE_FIELDS = ['receiveInterval', 'transmitInterval', 'detectMultiplier', 'echoInterval', 'echoMode', 'passiveMode', 'minimumTtl'];
type BfdSpec = NonNullable<BGPPeer['spec']['bfd']>;

/** A BFDProfile as Beacon LB's spec.bfd; its notes are added once, on the profile. */
function translateBfdProfile(source: Source, notes: Notes): BfdSpec {
  unknownFields(source, BFD_PROFILE_FIELDS, notes);
  const bfd: BfdSpec = {};
  const interval = (key: 'receiveInterval' | 'transmitInterval'): void => {
    const ms = field(source, key, readInteger, notes, 'left out (300ms)')?.value;
    if (ms === undefined) return;
    if (ms >= 10 && ms <= 60_000) bfd[key] = `${ms}ms`;
    else notes.add('InvalidValue', source.ref, `spec.${key}`, `${ms} ms is not 10 to 60000 ms; left out (300ms)`);
  };
  interval('receiveInterval');
  interval('transmitInterval');
  const multiplier = field(source, 'detectMultiplier', readInteger, notes, 'left out (3)')?.value;
  if (multiplier !== undefined) {
    if (multiplier >= 2 && multiplier <= 255) bfd.detectMultiplier = multiplier;
    else notes.add('InvalidValue', source.ref, 'spec.detectMultiplier', `${multiplier} is not 2 to 255; left out (3)`);
  }
  if (field(source, 'passiveMode', readBool, notes, 'treated as false')?.value === true) bfd.passive = true;
  const echo = field(source, 'echoMode', readBool, notes, 'treated as false')?.value === true;
  const echoInterval = field(source, 'echoInterval', readInteger, notes, 'ignored')?.value;
  if (echo) {
    notes.add('BFDEchoUnsupported', source.ref, 'spec.echoMode', 'Beacon LB runs BFD in asynchronous mode without the echo function; detection relies on control packets only (transmitInterval x detectMultiplier)');
  } else if (echoInterval !== undefined) {
    notes.add('BFDEchoUnsupported', source.ref, 'spec.echoInterval', 'no echo function in Beacon LB; ignored (echoMode was off, so nothing changes)');
  }
  const minimumTtl = field(source, 'minimumTtl', readInteger, notes, 'ignored')?.value;
  if (minimumTtl !== undefined) {
    notes.add('BFDMinimumTtlIgnored', source.ref, 'spec.minimumTtl', `single-hop BFD accepts TTL 255 only (RFC 5881 section 5), not down to ${minimumTtl}; MetalLB applied minimumTtl to multihop sessions only`);
  }
  return bfd;
}

// ---------------------------------------------------------------------------------------------------------------
// BGPPeer

const PEER_FIELDS = [
  'myASN', 'peerASN', 'localASN', 'dynamicASN', 'peerAddress', 'interface', 'sourceAddress', 'peerPort', 'holdTime',
  'keepaliveTime', 'connectTime', 'routerID', 'nodeSelectors', 'password', 'passwordSecret', 'bfdProfile',
  'enableGracefulRestart', 'ebgpMultiHop', 'vrf', 'disableMP', 'dualStackAddressFamily',
];
const MAX_ASN = 0xffffffff;

/** A duration field in whole seconds as FRR takes it (truncated); undefined when absent or invalid (noted). */
function seconds(source: Source, key: string, notes: Notes): { seconds: number; rounded: boolean } | undefined {
  const text = field(source, key, readString, notes, 'left out');
  if (text?.value === undefined || text.value === '') return undefined;
  const ms = parseGoDuration(text.value);
  if (!ms.ok || ms.value < 0) {
    notes.add('InvalidValue', source.ref, `spec.${key}`, `${JSON.stringify(text.value)} is not a non-negative duration; left out`);
    return undefined;
  }
  const whole = Math.trunc(ms.value / 1000);
  return { seconds: whole, rounded: whole * 1000 !== ms.value };
}

interface PeerOutput {
  peer: BGPPeer;
  secret: SecretManifest | undefined;
}

function translatePeer(source: Source, secretNamespace: string, bfdProfiles: ReadonlyMap<string, BfdSpec>, notes: Notes): PeerOutput | undefined {
  unknownFields(source, PEER_FIELDS, notes);
  const leftOut = 'peer left out';
  /** An ASN field: undefined when absent, NaN when not an integer (the range checks below then report it once). */
  const asnField = (key: string): number | undefined => {
    const v = source.spec[key];
    return absent(v) ? undefined : typeof v === 'number' && Number.isInteger(v) ? v : Number.NaN;
  };
  const strs = (key: string, consequence: string): string | undefined => field(source, key, readString, notes, consequence)?.value || undefined;
  const bools = (key: string): boolean | undefined => field(source, key, readBool, notes, 'treated as false')?.value;

  const myASN = asnField('myASN');
  const peerASN = asnField('peerASN');
  const localASN = asnField('localASN');
  const dynamicASN = strs('dynamicASN', 'ignored');
  const inRange = (asn: number | undefined): asn is number => asn !== undefined && asn >= 1 && asn <= MAX_ASN;
  if (!inRange(myASN)) {
    notes.add('InvalidValue', source.ref, 'spec.myASN', `missing or not 1 to ${MAX_ASN}; ${leftOut}`);
    return undefined;
  }
  let sessionASN = myASN;
  if (localASN !== undefined && localASN !== 0) {
    if (!inRange(localASN)) {
      notes.add('InvalidValue', source.ref, 'spec.localASN', `not 1 to ${MAX_ASN}; ${leftOut}`);
      return undefined;
    }
    sessionASN = localASN;
    notes.add('LocalASNAsMyASN', source.ref, 'spec.localASN', `Beacon LB sets the ASN per peer: myASN is ${localASN} (the router sees the same ASN as with local-as ... no-prepend replace-as; ${myASN} is not used)`);
  }
  let remote: { peerASN: number } | { dynamicASN: 'internal' | 'external' };
  if (peerASN !== undefined && peerASN !== 0) {
    if (!inRange(peerASN)) {
      notes.add('InvalidValue', source.ref, 'spec.peerASN', `not 1 to ${MAX_ASN}; ${leftOut}`);
      return undefined;
    }
    if (dynamicASN !== undefined) notes.add('InvalidValue', source.ref, 'spec.dynamicASN', 'set together with peerASN (MetalLB refuses this); peerASN is used');
    remote = { peerASN };
  } else if (dynamicASN === 'internal' || dynamicASN === 'external') {
    remote = { dynamicASN }; // the same meaning: internal accepts only our own ASN, external any other
  } else {
    notes.add('InvalidValue', source.ref, 'spec.peerASN', `missing, and dynamicASN is ${dynamicASN === undefined ? 'not set' : JSON.stringify(dynamicASN)}; ${leftOut}`);
    return undefined;
  }

  const address = strs('peerAddress', leftOut);
  const iface = strs('interface', 'ignored');
  if (address === undefined) {
    if (iface !== undefined) {
      notes.add('UnnumberedPeerUnsupported', source.ref, 'spec.interface', `unnumbered BGP over ${iface} is not supported: Beacon LB needs the router's address (a link-local one with interface: ${iface} works); ${leftOut}`);
    } else if (absent(source.spec['peerAddress']) || source.spec['peerAddress'] === '') notes.add('InvalidValue', source.ref, 'spec.peerAddress', `missing; ${leftOut}`);
    return undefined;
  }
  const peerIp = parseIp(address);
  if (!peerIp.ok) {
    notes.add('InvalidValue', source.ref, 'spec.peerAddress', `${peerIp.error}; ${leftOut}`);
    return undefined;
  }
  const family = familyOf(peerIp.value);
  const nodeSelectors = field(source, 'nodeSelectors', readSelectorList, notes, leftOut);
  if (!nodeSelectors) return undefined;

  const spec: BGPPeer['spec'] = { myASN: sessionASN, ...remote, peerAddress: address };
  const port = field(source, 'peerPort', readInteger, notes, 'left out (179)')?.value;
  if (port !== undefined && port !== 0) {
    if (port >= 1 && port <= 65535) spec.peerPort = port;
    else notes.add('InvalidValue', source.ref, 'spec.peerPort', `${port} is not a TCP port; left out (179)`);
  }
  const sourceAddress = strs('sourceAddress', 'left out');
  if (sourceAddress !== undefined) {
    const parsed = parseIp(sourceAddress);
    if (parsed.ok && familyOf(parsed.value) === family) spec.sourceAddress = sourceAddress;
    else notes.add('InvalidValue', source.ref, 'spec.sourceAddress', `${parsed.ok ? 'not of the family of peerAddress' : parsed.error}; left out (the kernel chooses)`);
  }
  translateTimers(source, spec, notes);
  const routerID = strs('routerID', 'left out');
  if (routerID !== undefined) {
    const parsed = parseIp(routerID);
    if (parsed.ok && familyOf(parsed.value) === 4) spec.routerID = routerID;
    else notes.add('InvalidValue', source.ref, 'spec.routerID', 'is not an IPv4 address; left out (the node IPv4 address is used)');
  }
  const nodeSelector = narrowedUnion(nodeSelectors.value, source, 'spec.nodeSelectors', 'nodes matching only the others do not peer with this router', notes);
  if (nodeSelector) spec.nodeSelector = nodeSelector;

  let secret: SecretManifest | undefined;
  const password = field(source, 'password', readString, notes, 'left out')?.value;
  const secretRef = source.spec['passwordSecret'];
  const secretName = isRecord(secretRef) && typeof secretRef['name'] === 'string' && secretRef['name'] !== '' ? secretRef['name'] : undefined;
  if (!absent(secretRef) && secretName === undefined && !(isRecord(secretRef) && Object.keys(secretRef).length === 0)) {
    notes.add('InvalidValue', source.ref, 'spec.passwordSecret', 'has no name; left out');
  }
  if (secretName !== undefined) {
    if (password) notes.add('InvalidValue', source.ref, 'spec.password', 'set together with passwordSecret (MetalLB refuses this); the Secret is used, the password is not copied');
    if (OBJECT_NAME.test(secretName)) {
      spec.passwordSecretRef = { name: secretName, key: 'password' };
      const from = isRecord(secretRef) && typeof secretRef['namespace'] === 'string' && secretRef['namespace'] !== '' ? secretRef['namespace'] : (source.namespace ?? 'metallb-system');
      notes.add(
        'PasswordSecretToCopy',
        source.ref,
        'spec.passwordSecret',
        `Beacon LB reads the password from Secret ${secretNamespace}/${secretName} (key password); copy Secret ${from}/${secretName} there ` +
          'before applying, or the session fails authentication',
      );
    } else notes.add('InvalidValue', source.ref, 'spec.passwordSecret.name', 'is not an object name; left out');
  } else if (password) {
    const name = `${source.name}-bgp-password`.slice(0, 253).replace(/[-.]+$/, '');
    spec.passwordSecretRef = { name, key: 'password' };
    secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: secretNamespace, annotations: { [MIGRATED_FROM_ANNOTATION]: `${originOf(source)} spec.password` } },
      type: 'Opaque',
      stringData: { password: PASSWORD_PLACEHOLDER },
    };
    notes.add(
      'PasswordPlaceholder',
      source.ref,
      'spec.password',
      `Beacon LB takes the TCP MD5 password from a Secret only; the password was not copied (it is never printed). The output ` +
        `has Secret ${secretNamespace}/${name} with the placeholder ${PASSWORD_PLACEHOLDER}: put the password there before the session can come up`,
    );
  }

  if (bools('enableGracefulRestart') === true) spec.gracefulRestart = { enabled: true };
  if (bools('ebgpMultiHop') === true) spec.ebgpMultiHop = true;
  const profileName = strs('bfdProfile', 'left out');
  if (profileName !== undefined) {
    const profile = bfdProfiles.get(profileName);
    if (profile === undefined) {
      notes.add('BFDProfileMissing', source.ref, 'spec.bfdProfile', `no BFDProfile ${profileName} among the input; the peer runs without BFD`);
    } else if (spec.ebgpMultiHop === true) {
      notes.add('BFDMultiHopUnsupported', source.ref, 'spec.bfdProfile', `Beacon LB's BFD is single hop (RFC 5881) and this peer is ebgpMultiHop: profile ${profileName} left out, a dead router is noticed after the hold time`);
    } else {
      spec.bfd = { ...profile };
      notes.add('BFDProfileInlined', source.ref, 'spec.bfdProfile', `BFDProfile ${profileName} copied into spec.bfd (Beacon LB has no profile object: a later change is made on each peer)`);
    }
  }
  const vrf = strs('vrf', 'left out');
  if (vrf !== undefined) {
    notes.add('VRFUnsupported', source.ref, 'spec.vrf', `Beacon LB opens sessions in the node's default VRF, not in ${vrf}; the peer is translated without it and may be unreachable`);
  }
  bools('disableMP'); // Deprecated; false and true both mean one family per session unless dualStackAddressFamily.
  // MetalLB negotiates only the family of the session unless dualStackAddressFamily; Beacon LB's default adds the
  // node's other family, so the families are written out.
  spec.addressFamilies = bools('dualStackAddressFamily') === true ? ['ipv4-unicast', 'ipv6-unicast'] : [family === 4 ? 'ipv4-unicast' : 'ipv6-unicast'];
  return { peer: { apiVersion: 'beaconlb.io/v1alpha1', kind: 'BGPPeer', metadata: metadataFor(source), spec }, secret };
}

/** holdTime and keepaliveTime as MetalLB's parseTimers settles them and FRR applies them (whole seconds). */
function translateTimers(source: Source, spec: BGPPeer['spec'], notes: Notes): void {
  const hold = seconds(source, 'holdTime', notes);
  const keepalive = seconds(source, 'keepaliveTime', notes);
  const connect = seconds(source, 'connectTime', notes);
  if (connect) {
    if (connect.seconds >= 1 && connect.seconds <= 65535) {
      spec.connectTime = `${connect.seconds}s`;
      if (connect.rounded) notes.add('TimersAdjusted', source.ref, 'spec.connectTime', `rounded down to ${connect.seconds}s, as FRR did`);
    } else notes.add('InvalidValue', source.ref, 'spec.connectTime', 'is not 1s to 65535s; left out (10s)');
  }
  if (!hold && !keepalive) {
    if (absent(source.spec['holdTime']) && absent(source.spec['keepaliveTime'])) {
      notes.add(
        'TimerDefaults',
        source.ref,
        'spec.holdTime',
        "not set: MetalLB left the timers to FRR (180s hold, 60s keepalive with the defaults it ships) or to its native " +
          'speaker (90s hold); Beacon LB proposes 90s with keepalives every 30s. Set holdTime to keep the old value',
      );
    }
    return;
  }
  const holdSeconds = hold ? hold.seconds : (keepalive?.seconds ?? 0) * 3;
  if (holdSeconds !== 0 && (holdSeconds < 3 || holdSeconds > 65535)) {
    notes.add('InvalidValue', source.ref, 'spec.holdTime', `${holdSeconds}s is not 0 or 3s to 65535s; holdTime and keepaliveTime left out (90s)`);
    return;
  }
  spec.holdTime = `${holdSeconds}s`;
  if (hold?.rounded || keepalive?.rounded) notes.add('TimersAdjusted', source.ref, hold?.rounded ? 'spec.holdTime' : 'spec.keepaliveTime', 'rounded down to whole seconds, as FRR did');
  if (!keepalive) return;
  if (holdSeconds !== 0 && keepalive.seconds > holdSeconds) {
    notes.add('InvalidValue', source.ref, 'spec.keepaliveTime', 'is longer than holdTime (MetalLB refuses this); left out (a third of the hold time)');
  } else if (holdSeconds !== 0 && keepalive.seconds === holdSeconds) {
    notes.add('TimersAdjusted', source.ref, 'spec.keepaliveTime', `equals holdTime, which Beacon LB refuses; left out, keepalives go every third of the hold time (${Math.floor(holdSeconds / 3)}s)`);
  } else spec.keepaliveTime = `${keepalive.seconds}s`;
}

// ---------------------------------------------------------------------------------------------------------------
// The whole configuration

const byName = <T extends { metadata: { name: string } }>(a: T, b: T): number => a.metadata.name.localeCompare(b.metadata.name);

/** Translates MetalLB objects (any order, any mix of kinds) into Beacon LB objects and notes. */
export function migrateMetalLB(objects: readonly unknown[], options: MigrationOptions): MigrationResult {
  const notes = new Notes();
  const recognised = objects.flatMap((o) => recognise(o, notes) ?? []);
  // One order whatever the input order (files or the API server), so the output and the notes are stable.
  recognised.sort(
    (a, b) =>
      KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
      a.name.localeCompare(b.name) ||
      (a.namespace ?? '').localeCompare(b.namespace ?? '') ||
      a.apiVersion.localeCompare(b.apiVersion),
  );
  const seen = new Set<string>();
  const sources = recognised.filter((s) => {
    const key = `${s.kind}/${s.name}`;
    if (!seen.has(key)) {
      seen.add(key);
      return true;
    }
    notes.add('DuplicateObject', s.ref, undefined, `another ${s.kind} named ${s.name} came first (Beacon LB objects are cluster-wide); left out`);
    return false;
  });
  const ofKind = (kind: Source['kind']): Source[] => sources.filter((s) => s.kind === kind);

  const bfdProfiles = new Map(ofKind('BFDProfile').map((s) => [s.name, translateBfdProfile(s, notes)] as const));
  const aliases = communityAliases(ofKind('Community'), notes);

  const drafts = ofKind('IPAddressPool').flatMap((s) => translatePool(s, notes) ?? []);
  assignPriorities(drafts, notes);

  const peers: BGPPeer[] = [];
  const secrets: SecretManifest[] = [];
  for (const source of ofKind('BGPPeer')) {
    const out = translatePeer(source, options.secretNamespace, bfdProfiles, notes);
    if (!out) continue;
    peers.push(out.peer);
    if (out.secret) secrets.push(out.secret);
  }

  const l2Sources = ofKind('L2Advertisement');
  const l2Taken = new Set(l2Sources.map((s) => s.name));
  const l2 = l2Sources.flatMap((s) => {
    const made = translateL2(s, l2Taken, notes);
    for (const o of made) l2Taken.add(o.metadata.name);
    return made;
  });
  const bgpSources = ofKind('BGPAdvertisement');
  const bgpTaken = new Set(bgpSources.map((s) => s.name));
  const bgp = bgpSources.flatMap((s) => {
    const made = translateBgpAdvertisement(s, aliases, bgpTaken, notes);
    for (const o of made) bgpTaken.add(o.metadata.name);
    return made;
  });

  return {
    objects: [
      ...secrets.sort(byName),
      ...drafts.map((d) => d.pool).sort(byName),
      ...l2.sort(byName),
      ...peers.sort(byName),
      ...bgp.sort(byName),
    ],
    notes: notes.list,
  };
}
