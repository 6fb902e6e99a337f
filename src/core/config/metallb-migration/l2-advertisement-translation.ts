// L2Advertisement -> L2Advertisement.
import type { L2Advertisement } from '../api-types.generated.ts';
import {
  absent,
  field,
  INTERFACE_NAME,
  readSelectorList,
  readStringList,
  unknownFields,
  type Source,
} from './metallb-source.ts';
import { choicesFor } from './selector-union.ts';
import { noteSplit, poolChoices, product, splitNames } from './advertisement-split.ts';
import { metadataFor } from './object-recognition.ts';
import type { Notes } from './migration-notes.ts';

const L2_FIELDS = [
  'ipAddressPools',
  'ipAddressPoolSelectors',
  'nodeSelectors',
  'interfaces',
  'serviceSelectors',
  'preferredNodeSelectors',
];

export function translateL2(source: Source, taken: Set<string>, notes: Notes): L2Advertisement[] {
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
    else
      notes.add(
        'InvalidValue',
        source.ref,
        `spec.interfaces[${i}]`,
        `${JSON.stringify(name)} is not a Linux interface name; left out`,
      );
  }
  if (interfaces.value.length > 0 && names.length === 0) {
    notes.add(
      'InvalidValue',
      source.ref,
      'spec.interfaces',
      `no valid interface name left; MetalLB could announce on none of them; ${leftOut}`,
    );
    return [];
  }
  if (interfaces.value.length === 0) {
    notes.add(
      'DefaultInterfaces',
      source.ref,
      'spec.interfaces',
      'not set: MetalLB answered ARP/NDP on every interface of the node, Beacon LB answers on the interfaces whose subnet ' +
        'contains the address, else on the default-route interface; list the interfaces (or write interfaces: ["*"] for every one) to keep answering elsewhere',
    );
  }
  if (!absent(source.spec['preferredNodeSelectors'])) {
    notes.add(
      'PreferredNodesIgnored',
      source.ref,
      'spec.preferredNodeSelectors',
      "Beacon LB's per-address election (rendezvous hashing over the eligible nodes) has no preferences; left out, every eligible node is equally likely to answer",
    );
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
