// L2Advertisement: which pools are announced by ARP (IPv4) and NDP (IPv6), from which nodes and interfaces.
import { arr, conditions, int, labelSelector, nameList, obj, str } from './schema-builders.ts';
import type { CrdDefinition } from './crd-definition.ts';
import { interfaceEntryRules } from './interface-entry-rules.ts';

const spec = obj(
  'Which addresses are announced at layer 2, by which nodes, on which interfaces.',
  {
    ipPools: nameList('Names of the IPPools whose addresses this advertisement announces.'),
    ipPoolSelector: labelSelector(
      'Announce the addresses of every IPPool with matching labels (instead of ipPools: set one or the other).',
    ),
    nodeSelector: labelSelector(
      'Only nodes with matching labels may answer for these addresses. Absent: every node running a speaker.',
    ),
    interfaces: arr(
      "Interfaces to answer ARP and NDP on: names, or patterns matched against the names of each node's own interfaces " +
        '(eth*, enp*s0, bond[0-9]: * any characters, ? one character, [a-z] and [!a-z] one character of or outside a set), ' +
        'so one advertisement serves nodes whose NICs are named differently. An interface that any entry selects is used ' +
        'when it is up (the loopback never). Absent: the interfaces whose subnet contains the address, else the interface ' +
        'of the default route.',
      str('A Linux interface name, or a pattern of names.', {
        minLength: 1,
        maxLength: 64,
        pattern: '^[^\\s/:]+$',
        'x-kubernetes-validations': interfaceEntryRules,
      }),
      { maxItems: 32, 'x-kubernetes-list-type': 'set' },
    ),
    serviceSelector: labelSelector(
      'Only the addresses of Services with matching labels are announced by this advertisement; other advertisements ' +
        'of the same pools still apply to the rest. Absent: every Service of the selected pools.',
    ),
  },
  {
    'x-kubernetes-validations': [
      {
        rule: '!has(self.ipPools) || !has(self.ipPoolSelector)',
        message: 'set ipPools or ipPoolSelector, not both',
      },
    ],
  },
);

const status = obj(
  'What the controller observed, written once for the cluster by the leading controller. Conditions: Accepted (False ' +
    'with reason MalformedObject: stored without the current schema, not used at all) and PoolsSelected (False with ' +
    'reason UnknownPool: ipPools names an IPPool that does not exist; NoMatchingPool: it selects no IPPool, so it ' +
    'announces nothing).',
  {
    observedGeneration: int('The .metadata.generation the status was computed for.', { format: 'int64', minimum: 0 }),
    matchingPools: int('How many IPPools this advertisement selects now.', { format: 'int64', minimum: 0 }),
    conditions,
  },
);

export const l2AdvertisementCrd: CrdDefinition = {
  kind: 'L2Advertisement',
  plural: 'l2advertisements',
  singular: 'l2advertisement',
  shortNames: ['l2adv'],
  description:
    'L2Advertisement makes the addresses of the selected IPPools reachable on the local network: one node at a time ' +
    'answers ARP and NDP for each address. With neither ipPools nor ipPoolSelector, it applies to every pool.',
  spec,
  status,
  printerColumns: [
    { name: 'IP Pools', type: 'string', jsonPath: '.spec.ipPools' },
    { name: 'Interfaces', type: 'string', jsonPath: '.spec.interfaces' },
    { name: 'Pools', type: 'integer', jsonPath: '.status.matchingPools', description: 'IPPools selected now.' },
    { name: 'Accepted', type: 'string', jsonPath: ".status.conditions[?(@.type=='Accepted')].status" },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
