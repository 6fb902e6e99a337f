// IPAddressPool -> IPPool, and the priorities that keep MetalLB's order of pools.
import type { IPPool, LabelSelector } from '../api-types.generated.ts';
import {
  absent,
  field,
  isRecord,
  readBool,
  readInteger,
  readSelectorList,
  readStringList,
  unknownFields,
  type Source,
} from './metallb-source.ts';
import { narrowedUnion, unionOfSelectors } from './selector-union.ts';
import { metadataFor } from './object-recognition.ts';
import { poolEntry } from './pool-entry.ts';
import type { Notes } from './migration-notes.ts';

/** The label the API server sets on every Namespace to its name (Kubernetes 1.22 and later). */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const MAX_PRIORITY = 1_000_000;
const MAX_POOL_ENTRIES = 64;

interface PoolDraft {
  source: Source;
  pool: IPPool;
  /** MetalLB tries pools with serviceAllocation before those without (internal/allocator pinnedPoolsForService). */
  pinned: boolean;
  priority: number | undefined;
}

const POOL_FIELDS = ['addresses', 'autoAssign', 'avoidBuggyIPs', 'serviceAllocation'];
const ALLOCATION_FIELDS = ['priority', 'namespaces', 'namespaceSelectors', 'serviceSelectors'];

// Long (~110 lines): a MetalLB IPAddressPool translated field by field, each field's rule beside the others.
export function translatePool(source: Source, notes: Notes): PoolDraft | undefined {
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
    else if (addresses.length >= MAX_POOL_ENTRIES)
      notes.add(
        'InvalidValue',
        source.ref,
        `spec.addresses[${i}]`,
        `Beacon LB takes at most ${MAX_POOL_ENTRIES} entries per pool; left out (put it in a second pool)`,
      );
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
      if (!ALLOCATION_FIELDS.includes(key))
        notes.add(
          'UnknownField',
          source.ref,
          `spec.serviceAllocation.${key}`,
          'not a field this migration knows (a newer MetalLB?); left out',
        );
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
      notes.add(
        'InvalidValue',
        source.ref,
        `spec.${path('priority')}`,
        'is negative; MetalLB orders it unpredictably; treated as no priority',
      );
    }
    const allocation: NonNullable<IPPool['spec']['allocation']> = {};
    const nsNames = [...new Set(namespaces.value)];
    const consequence = 'Services admitted only by the others get no address from this pool';
    if (nsNames.length > 0 && namespaceSelectors.value.length > 0) {
      // MetalLB admits a namespace listed by name OR matching a selector; Beacon LB's two fields AND, so both
      // become one selector, the names through the label every Namespace carries.
      const byName: LabelSelector = {
        matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'In', values: nsNames }],
      };
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
      const selector = narrowedUnion(
        namespaceSelectors.value,
        source,
        `spec.${path('namespaceSelectors')}`,
        consequence,
        notes,
      );
      if (selector) allocation.namespaceSelector = selector;
    }
    const serviceSelector = narrowedUnion(
      serviceSelectors.value,
      source,
      `spec.${path('serviceSelectors')}`,
      consequence,
      notes,
    );
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
export function assignPriorities(drafts: readonly PoolDraft[], notes: Notes): void {
  const explicit = [...new Set(drafts.flatMap((d) => (d.priority === undefined ? [] : [d.priority])))].sort(
    (a, b) => a - b,
  );
  const renumber = explicit.length > 0 && (explicit.at(-1) ?? 0) >= MAX_PRIORITY;
  for (const d of drafts) {
    if (d.priority === undefined) continue;
    const value = renumber ? explicit.indexOf(d.priority) + 1 : d.priority;
    if (renumber) {
      notes.add(
        'PrioritiesRenumbered',
        d.source.ref,
        'spec.serviceAllocation.priority',
        `Beacon LB priorities are 0 to ${MAX_PRIORITY}; ${d.priority} became ${value} (the order of all pools is kept)`,
      );
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
