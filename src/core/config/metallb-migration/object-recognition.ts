// Recognising MetalLB configuration objects by group, kind and version; the metadata of what they become.
import type { ObjectMeta } from '../api-types.generated.ts';
import { absent, isRecord, OBJECT_NAME, type Json, type Source } from './metallb-source.ts';
import { MIGRATED_FROM_ANNOTATION } from './migrated-objects.ts';
import type { Notes } from './migration-notes.ts';

const CONFIG_KINDS: Record<string, readonly string[]> = {
  IPAddressPool: ['v1beta1'],
  L2Advertisement: ['v1beta1'],
  BGPAdvertisement: ['v1beta1'],
  Community: ['v1beta1'],
  BFDProfile: ['v1beta1'],
  BGPPeer: ['v1beta1', 'v1beta2'],
};
const STATUS_KINDS = ['ServiceL2Status', 'ServiceBGPStatus', 'ConfigurationState'];
export const KIND_ORDER = [
  'Community',
  'BFDProfile',
  'IPAddressPool',
  'BGPPeer',
  'L2Advertisement',
  'BGPAdvertisement',
];

function describeInput(v: Json): string {
  const kind = typeof v['kind'] === 'string' ? v['kind'] : '(no kind)';
  const meta = isRecord(v['metadata']) ? v['metadata'] : {};
  const name = typeof meta['name'] === 'string' ? meta['name'] : '(no name)';
  const ns = typeof meta['namespace'] === 'string' ? `${meta['namespace']}/` : '';
  return `${kind} ${ns}${name}`;
}

export function recognise(input: unknown, notes: Notes): Source | undefined {
  if (!isRecord(input)) {
    notes.add('InvalidObject', '(document)', undefined, 'not an object; ignored');
    return undefined;
  }
  const ref = describeInput(input);
  const apiVersion = typeof input['apiVersion'] === 'string' ? input['apiVersion'] : '';
  const kind = typeof input['kind'] === 'string' ? input['kind'] : '';
  const [group, version = ''] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group !== 'metallb.io') {
    if (
      kind === 'ConfigMap' &&
      isRecord(input['data']) &&
      typeof input['data']['config'] === 'string' &&
      /metallb/i.test(ref)
    ) {
      notes.add(
        'UnsupportedKind',
        ref,
        undefined,
        "MetalLB's ConfigMap configuration (before v0.13) is not read; convert it to custom resources with MetalLB's configmaptocrs tool first",
      );
      return undefined;
    }
    notes.add(
      'NotConfiguration',
      ref,
      undefined,
      `${apiVersion || '(no apiVersion)'} is not MetalLB configuration; ignored`,
    );
    return undefined;
  }
  if (STATUS_KINDS.includes(kind)) {
    notes.add('NotConfiguration', ref, undefined, 'a status object written by MetalLB, not configuration; ignored');
    return undefined;
  }
  const versions = CONFIG_KINDS[kind];
  if (versions === undefined) {
    const why =
      kind === 'AddressPool'
        ? 'AddressPool was removed in MetalLB v0.14; convert it to IPAddressPool and advertisements first'
        : `kind ${kind || '(none)'} has no Beacon LB equivalent this migration knows`;
    notes.add('UnsupportedKind', ref, undefined, why);
    return undefined;
  }
  if (!versions.includes(version)) {
    notes.add(
      'UnsupportedKind',
      ref,
      undefined,
      `${apiVersion} is not a version of ${kind} this migration reads (${versions.map((v) => `metallb.io/${v}`).join(', ')})`,
    );
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
  const labels =
    isRecord(rawLabels) && Object.values(rawLabels).every((v) => typeof v === 'string')
      ? (rawLabels as Record<string, string>)
      : undefined;
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
export const originOf = (source: Source): string =>
  `${source.kind}.metallb.io ${source.namespace ? `${source.namespace}/` : ''}${source.name}`;

export function metadataFor(source: Source, name = source.name): ObjectMeta {
  return {
    name,
    ...(source.labels ? { labels: { ...source.labels } } : {}),
    annotations: { [MIGRATED_FROM_ANNOTATION]: originOf(source) },
  };
}
