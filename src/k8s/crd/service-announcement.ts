// ServiceAnnouncement: which node announces which addresses of one Service, by which protocol, on which interfaces
// and to which BGP peers. One object per (Service, node), in the Service's namespace, written only by that node's
// speaker (ADR 0024).
import { arr, obj, objectName, str } from './schema-builders.ts';
import type { CrdDefinition } from './crd-definition.ts';

const address = str('An IPv4 or IPv6 address of the Service.', {
  maxLength: 45,
  'x-kubernetes-validations': [{ rule: 'isIP(self)', message: 'must be an IPv4 or IPv6 address' }],
});
const prefix = str('A prefix advertised by BGP (198.51.100.7/32, or the aggregation length of the advertisement).', {
  maxLength: 49,
  'x-kubernetes-validations': [
    { rule: 'isCIDR(self)', message: 'must be a CIDR such as 198.51.100.7/32 or 2001:db8::7/128' },
  ],
});
const interfaceName = str('A Linux interface name.', { minLength: 1, maxLength: 15 });

const spec = obj(
  'Which Service and node this record is about. Set when the speaker creates the record; it never changes.',
  {
    service: str('The name of the Service, in the namespace of this record.', {
      minLength: 1,
      maxLength: 63,
      pattern: '^[a-z]([-a-z0-9]*[a-z0-9])?$',
    }),
    node: objectName('The node whose speaker announces and writes this record.'),
  },
  {
    required: ['service', 'node'],
    'x-kubernetes-validations': [
      { rule: 'self == oldSelf', message: 'spec names the Service and node of the record and cannot change' },
    ],
  },
);

const status = obj(
  'What the speaker of spec.node announces for the Service now. A node that announces nothing for the Service has no ' +
    'record; records of a node whose speaker is gone are removed by the controller.',
  {
    layer2: obj('The addresses this node answers ARP (IPv4) and NDP (IPv6) for: it is their one layer-2 owner.', {
      addresses: arr('The addresses, sorted.', address, { maxItems: 16, 'x-kubernetes-list-type': 'set' }),
      interfaces: arr(
        'The interfaces it answers and sends gratuitous ARP / unsolicited NA on, sorted. Empty: no interface matches ' +
          '(a Warning Event AddressAnnounced on the Service says so).',
        interfaceName,
        { maxItems: 32, 'x-kubernetes-list-type': 'set' },
      ),
    }),
    bgp: obj(
      'The prefixes this node advertises for the Service, with itself as next hop, and the BGPPeers it advertises them ' +
        'to. Whether each session is Established is on the BGPPeer (status.sessions, the entry of this node): a ' +
        'session going up or down changes that one entry, not every Service record.',
      {
        prefixes: arr('The prefixes, sorted.', prefix, { maxItems: 16, 'x-kubernetes-list-type': 'set' }),
        peers: arr('The names of the BGPPeers the prefixes go to, sorted.', objectName('A BGPPeer name.'), {
          maxItems: 64,
          'x-kubernetes-list-type': 'set',
        }),
      },
    ),
  },
  // Replaced whole by each apply of the speaker: a field someone else wrote into it does not survive the next write.
  { 'x-kubernetes-map-type': 'atomic' },
);

export const serviceAnnouncementCrd: CrdDefinition = {
  kind: 'ServiceAnnouncement',
  plural: 'serviceannouncements',
  singular: 'serviceannouncement',
  shortNames: ['svcann'],
  namespaced: true,
  // The speaker writes spec and status in one request (create or apply): no status subresource.
  statusSubresource: false,
  description:
    'ServiceAnnouncement says which node announces which addresses of a Service, by layer 2 (ARP/NDP, with the ' +
    'interfaces) or BGP (with the prefixes and peers). One per Service and announcing node, named <service>.<node>, in ' +
    "the Service's namespace and owned by the Service; written by that node's speaker only. Read-only for users.",
  spec,
  status,
  printerColumns: [
    { name: 'Service', type: 'string', jsonPath: '.spec.service' },
    { name: 'Node', type: 'string', jsonPath: '.spec.node' },
    {
      name: 'L2 Addresses',
      type: 'string',
      jsonPath: '.status.layer2.addresses',
      description: 'Addresses this node answers ARP/NDP for.',
    },
    { name: 'Interfaces', type: 'string', jsonPath: '.status.layer2.interfaces' },
    {
      name: 'BGP Prefixes',
      type: 'string',
      jsonPath: '.status.bgp.prefixes',
      description: 'Prefixes this node advertises.',
    },
    {
      name: 'Peers',
      type: 'string',
      jsonPath: '.status.bgp.peers',
      description: 'BGPPeers the prefixes are advertised to.',
    },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
