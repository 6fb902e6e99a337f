// IPPool: the addresses Beacon LB hands out to LoadBalancer Services.
import { arr, bool, conditions, int, labelSelector, obj, str, type Schema } from './schema-builders.ts';
import type { CrdDefinition } from './crd-definition.ts';

const first = "self.split('-')[0].trim()";
const last = "self.split('-')[1].trim()";
const rangeEnds = `self.split('-').size() == 2 && isIP(${first}) && isIP(${last})`;
/** The IPv4 address `expr` as an integer (CEL has no IP ordering). */
const ipv4Number = (expr: string): string =>
  [0, 1, 2, 3].map((i) => `int(${expr}.split('.')[${i}]) * ${256 ** (3 - i)}`).join(' + ');

/** One entry of `spec.addresses`: a CIDR or a range `first-last`, IPv4 or IPv6. */
const addressEntry = str(
  'A CIDR (198.51.100.0/24, 2001:db8::/120) or an inclusive range of two addresses of one family ' +
    '(198.51.100.10-198.51.100.20, 2001:db8::10-2001:db8::ff). A single address is written as a /32 or /128.',
  {
    minLength: 3,
    maxLength: 96,
    'x-kubernetes-validations': [
      {
        rule: `self.contains('/') ? isCIDR(self) : ${rangeEnds}`,
        message:
          'must be a CIDR such as 198.51.100.0/24 or 2001:db8::/120, or a range first-last such as 198.51.100.10-198.51.100.20',
      },
      {
        rule: "!self.contains('/') || !isCIDR(self) || cidr(self) == cidr(self).masked()",
        message:
          'has address bits set past the prefix length: write the network address (198.51.100.0/24, not 198.51.100.7/24)',
      },
      {
        rule: `self.contains('/') || !(${rangeEnds}) || ip(${first}).family() == ip(${last}).family()`,
        message: 'the two ends of a range must be of the same family (both IPv4 or both IPv6)',
      },
      {
        rule:
          `self.contains('/') || !(${rangeEnds}) || ip(${first}).family() != 4 || ip(${last}).family() != 4 || ` +
          `${ipv4Number(first)} <= ${ipv4Number(last)}`,
        message: 'the first address of a range must not be greater than the last',
      },
    ],
  },
);

const familyUsage = (family: string): Schema =>
  obj(`Usage of the ${family} addresses of this pool.`, {
    total: str(`How many ${family} addresses the pool holds, in decimal (an IPv6 /64 exceeds a 64-bit integer).`, {
      maxLength: 40,
    }),
    allocated: int(`How many ${family} addresses are assigned to Services.`, { format: 'int64', minimum: 0 }),
    available: str(`How many ${family} addresses are free to assign, in decimal (0 while the pool drains).`, {
      maxLength: 40,
    }),
  });

const spec = obj(
  'What the pool holds and who may use it.',
  {
    addresses: arr('The addresses of the pool: CIDRs and ranges, IPv4 and IPv6 may be mixed.', addressEntry, {
      minItems: 1,
      maxItems: 64,
      'x-kubernetes-list-type': 'set',
    }),
    autoAssign: bool(
      'Whether Services that name no pool and request no address may get one from this pool. ' +
        'With false the pool is used only when a Service names it (beaconlb.io/ip-pool) or requests one of its addresses.',
      { default: true },
    ),
    avoidBuggyIPs: bool(
      'Skip the addresses ending in .0 and .255 (IPv4), which some old clients and routers mishandle.',
      { default: false },
    ),
    drain: bool(
      'Stop handing out addresses of this pool while keeping the ones in use. With true no Service starts to use an ' +
        'address of this pool (not automatically, not by naming the pool, not by requesting or sharing one of its ' +
        'addresses); every Service that holds one keeps it, pinned or not, until it gives it up (it is deleted, or its ' +
        'request changes). A Service with the annotation beaconlb.io/renumber-window moves to an address of another ' +
        'pool, keeping the old one announced beside the new one for that window. The condition Draining says how many ' +
        'addresses are still in use and by which Services; with none left the pool can be deleted. Setting it back to ' +
        'false resumes allocation.',
      { default: false },
    ),
    allocation: obj('Which Services this pool serves first, and which it serves at all.', {
      priority: int(
        'Pools with a lower number are tried first for Services that name no pool; pools without a priority come after all ' +
          'pools with one. Ties are broken by name.',
        { minimum: 0, maximum: 1000000 },
      ),
      namespaces: arr(
        'If set, only Services in these namespaces may get addresses from this pool.',
        str('A namespace name.', { minLength: 1, maxLength: 63 }),
        { maxItems: 128, 'x-kubernetes-list-type': 'set' },
      ),
      namespaceSelector: labelSelector('If set, only Services in namespaces with matching labels may use this pool.'),
      serviceSelector: labelSelector('If set, only Services with matching labels may use this pool.'),
    }),
  },
  { required: ['addresses'] },
);

const status = obj(
  'What the controller observed: usage per family and conditions (Ready, Overlap, Draining: how many addresses a draining pool still has in use, and by which Services).',
  {
    observedGeneration: int('The .metadata.generation the status was computed for.', { format: 'int64', minimum: 0 }),
    allocated: int('Addresses assigned to Services, both families.', { format: 'int64', minimum: 0 }),
    available: str('Addresses free to assign, both families, in decimal.', { maxLength: 41 }),
    ipv4: familyUsage('IPv4'),
    ipv6: familyUsage('IPv6'),
    conditions,
  },
);

export const ipPoolCrd: CrdDefinition = {
  kind: 'IPPool',
  plural: 'ippools',
  singular: 'ippool',
  shortNames: ['ippool', 'blbpool'],
  description:
    'IPPool is a set of addresses (CIDRs and ranges, IPv4 and IPv6) that Beacon LB assigns to Services of type LoadBalancer.',
  spec,
  status,
  printerColumns: [
    {
      name: 'Addresses',
      type: 'string',
      jsonPath: '.spec.addresses',
      description: 'The CIDRs and ranges of the pool.',
    },
    {
      name: 'Auto Assign',
      type: 'boolean',
      jsonPath: '.spec.autoAssign',
      description: 'Used for Services that name no pool.',
    },
    {
      name: 'Drain',
      type: 'boolean',
      jsonPath: '.spec.drain',
      description: 'Hands out no new addresses; keeps those in use.',
      priority: 1,
    },
    {
      name: 'Allocated',
      type: 'integer',
      jsonPath: '.status.allocated',
      description: 'Addresses assigned to Services.',
    },
    { name: 'Available', type: 'string', jsonPath: '.status.available', description: 'Addresses free to assign.' },
    {
      name: 'Ready',
      type: 'string',
      jsonPath: ".status.conditions[?(@.type=='Ready')].status",
      description: 'The pool is valid and in use.',
    },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
