// BGPAdvertisement: how the addresses of the selected pools are advertised to BGP peers.
import { arr, conditions, int, labelSelector, nameList, obj, str, uint32 } from './schema-builders.ts';
import type { CrdDefinition } from './crd-definition.ts';

const u16 = '(x, int(x) >= 0 && int(x) <= 65535)';
const u32 = '(x, int(x) >= 0 && int(x) <= 4294967295)';

const spec = obj(
  'Which pools are advertised, to which peers, from which nodes, with which attributes.',
  {
    ipPools: nameList('Names of the IPPools whose addresses are advertised.'),
    ipPoolSelector: labelSelector(
      'Advertise the addresses of every IPPool with matching labels (instead of ipPools: set one or the other).',
    ),
    peers: nameList('Names of the BGPPeers to advertise to. Absent: every peer.'),
    nodeSelector: labelSelector('Only nodes with matching labels advertise these addresses. Absent: every node.'),
    serviceSelector: labelSelector(
      'Only the addresses of Services with matching labels are advertised by this advertisement; other advertisements ' +
        'of the same pools still apply to the rest. With aggregation, the aggregate is advertised while a matching ' +
        'Service has an address in it. Absent: every Service of the selected pools.',
    ),
    aggregationLength: int('The prefix length advertised for IPv4 addresses: 32 advertises each address alone.', {
      minimum: 0,
      maximum: 32,
      default: 32,
    }),
    aggregationLengthV6: int('The prefix length advertised for IPv6 addresses: 128 advertises each address alone.', {
      minimum: 0,
      maximum: 128,
      default: 128,
    }),
    localPref: uint32('The LOCAL_PREF attribute, sent to iBGP peers only.'),
    med: uint32('The MULTI_EXIT_DISC attribute.'),
    communities: arr(
      'Standard communities (RFC 1997) as ASN:value (65000:100) or a well-known name ' +
        '(no-export, no-advertise, no-export-subconfed, no-peer).',
      str('A community.', {
        maxLength: 24,
        'x-kubernetes-validations': [
          {
            rule:
              "self in ['no-export', 'no-advertise', 'no-export-subconfed', 'no-peer'] || " +
              `(self.matches('^[0-9]{1,5}:[0-9]{1,5}$') && self.split(':').all${u16})`,
            message:
              'must be ASN:value with both parts 0 to 65535, or no-export, no-advertise, no-export-subconfed, no-peer',
          },
        ],
      }),
      { maxItems: 64, 'x-kubernetes-list-type': 'set' },
    ),
    largeCommunities: arr(
      'Large communities (RFC 8092) as global:local1:local2, each part 0 to 4294967295.',
      str('A large community.', {
        maxLength: 32,
        'x-kubernetes-validations': [
          {
            rule: `self.matches('^[0-9]{1,10}:[0-9]{1,10}:[0-9]{1,10}$') && self.split(':').all${u32}`,
            message: 'must be global:local1:local2 with each part 0 to 4294967295',
          },
        ],
      }),
      { maxItems: 64, 'x-kubernetes-list-type': 'set' },
    ),
    asPathPrepend: obj(
      'Prepend an ASN to the AS_PATH to make these routes less preferred.',
      {
        asn: uint32('The ASN to prepend. Absent: the session myASN.', { minimum: 1 }),
        count: int('How many times to prepend it.', { minimum: 1, maximum: 16 }),
      },
      { required: ['count'] },
    ),
  },
  {
    'x-kubernetes-validations': [
      { rule: '!has(self.ipPools) || !has(self.ipPoolSelector)', message: 'set ipPools or ipPoolSelector, not both' },
    ],
  },
);

const status = obj(
  'What the controller and the speakers observed. The leading controller writes Accepted (False with reason ' +
    'MalformedObject: stored without the current schema, not used at all) and PoolsSelected (False with reason ' +
    'UnknownPool: ipPools names an IPPool that does not exist; NoMatchingPool: it selects no IPPool, so it advertises ' +
    'nothing), once for the cluster. Condition UpdateTooLarge (True): routes these advertisements give together carry ' +
    'path attributes (merged communities and large communities) longer than a BGP UPDATE can hold; those routes are ' +
    'not advertised, the message names the sizes. Each speaker applies it while it finds the problem.',
  {
    observedGeneration: int('The .metadata.generation the status was computed for.', { format: 'int64', minimum: 0 }),
    matchingPools: int('How many IPPools this advertisement selects now.', { format: 'int64', minimum: 0 }),
    conditions,
  },
);

export const bgpAdvertisementCrd: CrdDefinition = {
  kind: 'BGPAdvertisement',
  plural: 'bgpadvertisements',
  singular: 'bgpadvertisement',
  shortNames: ['bgpadv'],
  description:
    'BGPAdvertisement advertises the addresses of the selected IPPools to BGP peers, each eligible node with itself as ' +
    'next hop. With neither ipPools nor ipPoolSelector, it applies to every pool.',
  spec,
  status,
  printerColumns: [
    { name: 'IP Pools', type: 'string', jsonPath: '.spec.ipPools' },
    { name: 'Peers', type: 'string', jsonPath: '.spec.peers' },
    { name: 'Pools', type: 'integer', jsonPath: '.status.matchingPools', description: 'IPPools selected now.' },
    { name: 'Accepted', type: 'string', jsonPath: ".status.conditions[?(@.type=='Accepted')].status" },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
