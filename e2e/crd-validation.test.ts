// The CRDs on a real API server: they become Established, document every field (kubectl explain), accept every
// sample and valid edge cases, and reject invalid objects with a message that names the field.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT, tryKubectl, useCluster } from './support/cluster.ts';

interface Case {
  what: string;
  kind: 'IPPool' | 'L2Advertisement' | 'BGPPeer' | 'BGPAdvertisement';
  spec: Record<string, unknown>;
  /** Text the API server's message must contain: the field path, then the reason. */
  field: string;
  reason: string;
}

const peer = { myASN: 64512, peerASN: 64500, peerAddress: '198.51.100.1' };

const invalid: Case[] = [
  {
    what: 'CIDR with prefix length 33',
    kind: 'IPPool',
    spec: { addresses: ['198.51.100.0/33'] },
    field: 'spec.addresses[0]',
    reason: 'must be a CIDR',
  },
  {
    what: 'address that is no address',
    kind: 'IPPool',
    spec: { addresses: ['not-an-ip'] },
    field: 'spec.addresses[0]',
    reason: 'must be a CIDR',
  },
  {
    what: 'CIDR with host bits set',
    kind: 'IPPool',
    spec: { addresses: ['198.51.100.7/24'] },
    field: 'spec.addresses[0]',
    reason: 'bits set past the prefix length',
  },
  {
    what: 'reversed IPv4 range',
    kind: 'IPPool',
    spec: { addresses: ['198.51.100.20-198.51.100.10'] },
    field: 'spec.addresses[0]',
    reason: 'must not be greater than the last',
  },
  {
    what: 'range mixing families',
    kind: 'IPPool',
    spec: { addresses: ['198.51.100.1-2001:db8::1'] },
    field: 'spec.addresses[0]',
    reason: 'same family',
  },
  {
    what: 'range with three ends',
    kind: 'IPPool',
    spec: { addresses: ['198.51.100.1-198.51.100.2-198.51.100.3'] },
    field: 'spec.addresses[0]',
    reason: 'must be a CIDR',
  },
  {
    what: 'empty address list',
    kind: 'IPPool',
    spec: { addresses: [] },
    field: 'spec.addresses',
    reason: 'at least 1 items',
  },
  {
    what: 'missing addresses',
    kind: 'IPPool',
    spec: { autoAssign: true },
    field: 'spec.addresses',
    reason: 'Required value',
  },
  {
    what: 'duplicate address entries',
    kind: 'IPPool',
    spec: { addresses: ['198.51.100.0/28', '198.51.100.0/28'] },
    field: 'spec.addresses[1]',
    reason: 'Duplicate value',
  },
  {
    what: 'unknown field (typo)',
    kind: 'IPPool',
    spec: { adresses: ['198.51.100.0/28'], addresses: ['198.51.100.0/28'] },
    field: 'spec.adresses',
    reason: 'unknown field',
  },
  {
    what: 'negative priority',
    kind: 'IPPool',
    spec: { addresses: ['198.51.100.0/28'], allocation: { priority: -1 } },
    field: 'spec.allocation.priority',
    reason: 'greater than or equal to 0',
  },
  {
    what: 'selector In without values',
    kind: 'IPPool',
    spec: {
      addresses: ['198.51.100.0/28'],
      allocation: { serviceSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } },
    },
    field: 'spec.allocation.serviceSelector.matchExpressions[0]',
    reason: 'In and NotIn need at least one value',
  },
  {
    what: 'ASN 0',
    kind: 'BGPPeer',
    spec: { ...peer, myASN: 0 },
    field: 'spec.myASN',
    reason: 'greater than or equal to 1',
  },
  {
    what: 'ASN above 32 bits',
    kind: 'BGPPeer',
    spec: { ...peer, peerASN: 4294967296 },
    field: 'spec.peerASN',
    reason: 'less than or equal to 4294967295',
  },
  {
    what: 'peer address out of range',
    kind: 'BGPPeer',
    spec: { ...peer, peerAddress: '300.1.1.1' },
    field: 'spec.peerAddress',
    reason: 'must be an IPv4 or IPv6 address',
  },
  {
    what: 'port 70000',
    kind: 'BGPPeer',
    spec: { ...peer, peerPort: 70000 },
    field: 'spec.peerPort',
    reason: 'less than or equal to 65535',
  },
  {
    what: 'negative hold time',
    kind: 'BGPPeer',
    spec: { ...peer, holdTime: '-5s' },
    field: 'spec.holdTime',
    reason: 'should match',
  },
  {
    what: 'hold time of 2s',
    kind: 'BGPPeer',
    spec: { ...peer, holdTime: '2s' },
    field: 'spec.holdTime',
    reason: '0s or at least 3s',
  },
  {
    what: 'keepalive longer than hold time',
    kind: 'BGPPeer',
    spec: { ...peer, holdTime: '90s', keepaliveTime: '100s' },
    field: 'spec.keepaliveTime',
    reason: 'shorter than holdTime',
  },
  {
    what: 'negative connect time',
    kind: 'BGPPeer',
    spec: { ...peer, connectTime: '-1s' },
    field: 'spec.connectTime',
    reason: 'should match',
  },
  {
    what: 'IPv6 router ID',
    kind: 'BGPPeer',
    spec: { ...peer, routerID: '2001:db8::1' },
    field: 'spec.routerID',
    reason: 'must be an IPv4 address',
  },
  {
    what: 'source address of the other family',
    kind: 'BGPPeer',
    spec: { ...peer, sourceAddress: '2001:db8::1' },
    field: 'spec.sourceAddress',
    reason: 'same family',
  },
  {
    what: 'neither peerASN nor dynamicASN',
    kind: 'BGPPeer',
    spec: { myASN: 64512, peerAddress: '198.51.100.1' },
    field: 'spec',
    reason: 'exactly one of peerASN',
  },
  {
    what: 'both peerASN and dynamicASN',
    kind: 'BGPPeer',
    spec: { ...peer, dynamicASN: 'external' },
    field: 'spec',
    reason: 'exactly one of peerASN',
  },
  {
    what: 'link-local peer without interface',
    kind: 'BGPPeer',
    spec: { ...peer, peerAddress: 'fe80::1' },
    field: 'spec.interface',
    reason: 'needs interface',
  },
  {
    what: 'interface with a global peer address',
    kind: 'BGPPeer',
    spec: { ...peer, interface: 'eth0' },
    field: 'spec.interface',
    reason: 'only for a link-local',
  },
  {
    what: 'neither peerAddress nor interface',
    kind: 'BGPPeer',
    spec: { myASN: 64512, peerASN: 64500 },
    field: 'spec.peerAddress',
    reason: 'interface alone for unnumbered peering',
  },
  {
    what: 'unnumbered peer with sourceAddress',
    kind: 'BGPPeer',
    spec: { myASN: 64512, peerASN: 64500, interface: 'eth0', sourceAddress: '2001:db8::1' },
    field: 'spec.sourceAddress',
    reason: 'sourceAddress needs peerAddress',
  },
  {
    what: 'unnumbered peer with BFD',
    kind: 'BGPPeer',
    spec: { myASN: 64512, peerASN: 64500, interface: 'eth0', bfd: {} },
    field: 'spec.bfd',
    reason: 'unnumbered',
  },
  {
    what: 'BFD interval of 5ms',
    kind: 'BGPPeer',
    spec: { ...peer, bfd: { transmitInterval: '5ms' } },
    field: 'spec.bfd.transmitInterval',
    reason: '10ms to 60s',
  },
  {
    what: 'BFD receive interval of 2m',
    kind: 'BGPPeer',
    spec: { ...peer, bfd: { receiveInterval: '2m' } },
    field: 'spec.bfd.receiveInterval',
    reason: '10ms to 60s',
  },
  {
    what: 'BFD multiplier 1',
    kind: 'BGPPeer',
    spec: { ...peer, bfd: { detectMultiplier: 1 } },
    field: 'spec.bfd.detectMultiplier',
    reason: 'greater than or equal to 2',
  },
  {
    what: 'BFD with ebgpMultiHop',
    kind: 'BGPPeer',
    spec: { ...peer, ebgpMultiHop: true, bfd: {} },
    field: 'spec.bfd',
    reason: 'single hop',
  },
  {
    what: 'BFD with a link-local peer',
    kind: 'BGPPeer',
    spec: { ...peer, peerAddress: 'fe80::1', interface: 'eth0', bfd: {} },
    field: 'spec.bfd',
    reason: 'link-local',
  },
  {
    what: 'unknown dynamicASN',
    kind: 'BGPPeer',
    spec: { myASN: 64512, dynamicASN: 'any', peerAddress: '198.51.100.1' },
    field: 'spec.dynamicASN',
    reason: 'Unsupported value',
  },
  {
    what: 'aggregation length 33',
    kind: 'BGPAdvertisement',
    spec: { aggregationLength: 33 },
    field: 'spec.aggregationLength',
    reason: 'less than or equal to 32',
  },
  {
    what: 'community part above 16 bits',
    kind: 'BGPAdvertisement',
    spec: { communities: ['65536:1'] },
    field: 'spec.communities[0]',
    reason: 'ASN:value',
  },
  {
    what: 'large community with two parts',
    kind: 'BGPAdvertisement',
    spec: { largeCommunities: ['1:2'] },
    field: 'spec.largeCommunities[0]',
    reason: 'global:local1:local2',
  },
  {
    what: 'pools both by name and selector',
    kind: 'BGPAdvertisement',
    spec: { ipPools: ['a'], ipPoolSelector: {} },
    field: 'spec',
    reason: 'not both',
  },
  {
    what: 'interface name too long',
    kind: 'L2Advertisement',
    spec: { interfaces: ['averyveryverylongname0'] },
    field: 'spec.interfaces[0]',
    reason: 'at most 15 characters',
  },
  {
    what: 'interface pattern with an empty set',
    kind: 'L2Advertisement',
    spec: { interfaces: ['eth0', 'eth[]'] },
    field: 'spec.interfaces[1]',
    reason: 'not an interface pattern',
  },
  {
    what: 'interface pattern with an open set',
    kind: 'L2Advertisement',
    spec: { interfaces: ['enp[0-9s0'] },
    field: 'spec.interfaces[0]',
    reason: 'not an interface pattern',
  },
  {
    what: 'link-local peer interface pattern with a stray ]',
    kind: 'BGPPeer',
    spec: { ...peer, peerAddress: 'fe80::1', interface: 'eth]' },
    field: 'spec.interface',
    reason: 'not an interface pattern',
  },
  {
    what: 'sourceAddress and sourceInterface',
    kind: 'BGPPeer',
    spec: { ...peer, sourceAddress: '198.51.100.11', sourceInterface: 'bond0' },
    field: 'spec.sourceInterface',
    reason: 'not both',
  },
  {
    what: 'sourceInterface with a link-local peer',
    kind: 'BGPPeer',
    spec: { ...peer, peerAddress: 'fe80::1', interface: 'eth0', sourceInterface: 'eth0' },
    field: 'spec.sourceInterface',
    reason: 'does not apply',
  },
  {
    what: 'sourceInterface pattern with an empty set',
    kind: 'BGPPeer',
    spec: { ...peer, sourceInterface: 'bond[]' },
    field: 'spec.sourceInterface',
    reason: 'not an interface pattern',
  },
  {
    what: 'serviceSelector Exists with values',
    kind: 'BGPAdvertisement',
    spec: { serviceSelector: { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['web'] }] } },
    field: 'spec.serviceSelector.matchExpressions[0]',
    reason: 'Exists and DoesNotExist take none',
  },
  {
    what: 'unknown field on L2Advertisement',
    kind: 'L2Advertisement',
    spec: { nodeSelectors: [{}] },
    field: 'spec.nodeSelectors',
    reason: 'unknown field',
  },
];

const valid: Array<Omit<Case, 'field' | 'reason'>> = [
  {
    what: 'an unnumbered peer (interface alone)',
    kind: 'BGPPeer',
    spec: { myASN: 64512, peerASN: 64500, interface: 'eth1' },
  },
  {
    what: 'an unnumbered peer by interface pattern with dynamicASN',
    kind: 'BGPPeer',
    spec: { myASN: 64512, dynamicASN: 'external', interface: 'enp*s0', addressFamilies: ['ipv6-unicast'] },
  },
  { what: 'IPv6 range', kind: 'IPPool', spec: { addresses: ['2001:db8::10-2001:db8::ff'] } },
  {
    what: 'single addresses as /32 and /128, mixed families',
    kind: 'IPPool',
    spec: { addresses: ['198.51.100.9/32', '2001:db8::9/128'] },
  },
  { what: 'IPv4 range of one address', kind: 'IPPool', spec: { addresses: ['198.51.100.9-198.51.100.9'] } },
  { what: 'IPv6 /64', kind: 'IPPool', spec: { addresses: ['2001:db8:1::/64'] } },
  {
    what: 'an IPv4 link-local peer (169.254/16) without interface',
    kind: 'BGPPeer',
    spec: { ...peer, peerAddress: '169.254.0.1' },
  },
  {
    what: 'a link-local peer over an interface',
    kind: 'BGPPeer',
    spec: { ...peer, peerAddress: 'fe80::1', interface: 'eth0' },
  },
  {
    what: 'BFD at 100 ms x 3, passive',
    kind: 'BGPPeer',
    spec: { ...peer, bfd: { transmitInterval: '100ms', receiveInterval: '100ms', detectMultiplier: 3, passive: true } },
  },
  { what: 'BFD with the defaults', kind: 'BGPPeer', spec: { ...peer, bfd: {} } },
  {
    what: 'a dynamic external peer',
    kind: 'BGPPeer',
    spec: { myASN: 64512, dynamicASN: 'external', peerAddress: '198.51.100.1' },
  },
  {
    what: '4-byte ASNs and hold time 0',
    kind: 'BGPPeer',
    spec: { myASN: 4200000000, peerASN: 4294967295, peerAddress: '2001:db8::1', holdTime: '0s' },
  },
  {
    what: 'interface names and patterns, a pattern longer than a name',
    kind: 'L2Advertisement',
    spec: { interfaces: ['eth0', 'eth*', 'enp[0-9][0-9]s[0-9]*', 'bond?', 'ens[!0]', '*'] },
  },
  {
    what: 'a link-local peer over an interface pattern',
    kind: 'BGPPeer',
    spec: { ...peer, peerAddress: 'fe80::1', interface: 'en[ps]*' },
  },
  { what: 'a source interface pattern', kind: 'BGPPeer', spec: { ...peer, sourceInterface: 'bond[0-9]' } },
  {
    what: 'a serviceSelector',
    kind: 'BGPAdvertisement',
    spec: {
      ipPools: ['a'],
      serviceSelector: {
        matchLabels: { exposure: 'public' },
        matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }],
      },
    },
  },
  {
    what: 'well-known communities',
    kind: 'BGPAdvertisement',
    spec: { communities: ['no-export', '65535:65535'], largeCommunities: ['4294967295:0:1'] },
  },
];

const plural: Record<Case['kind'], string> = {
  IPPool: 'ippools',
  L2Advertisement: 'l2advertisements',
  BGPPeer: 'bgppeers',
  BGPAdvertisement: 'bgpadvertisements',
};

const manifest = (kind: string, name: string, spec: Record<string, unknown>): string =>
  JSON.stringify({ apiVersion: 'beaconlb.io/v1alpha1', kind, metadata: { name }, spec });

describe('CRDs on the real API server', () => {
  const cluster = useCluster();

  it('are Established and documented for kubectl explain', () => {
    for (const resource of Object.values(plural)) {
      const crd = JSON.parse(cluster.cp.kubectl(['get', 'crd', `${resource}.beaconlb.io`, '-o', 'json'])) as {
        spec: { scope: string };
        status: { conditions: Array<{ type: string; status: string }> };
      };
      assert.equal(crd.spec.scope, 'Cluster');
      assert.ok(
        crd.status.conditions.some((c) => c.type === 'Established' && c.status === 'True'),
        resource,
      );
    }
    const explained = cluster.cp.kubectl(['explain', 'ippools.spec.addresses']);
    assert.match(explained.replace(/\s+/g, ' '), /an inclusive range of two addresses of one family/);
    const explainedPeer = cluster.cp.kubectl(['explain', 'bgppeers.spec.passwordSecretRef']);
    assert.match(explainedPeer.replace(/\s+/g, ' '), /The password is never logged/);
  });

  it('accept every sample in config/samples, with printer columns', () => {
    const out = cluster.cp.kubectl(['apply', '-f', join(REPO_ROOT, 'config/samples')]);
    for (const created of [
      'ippool.beaconlb.io/l2-pool',
      'bgppeer.beaconlb.io/router',
      'bgpadvertisement.beaconlb.io/bgp',
      'l2advertisement.beaconlb.io/l2',
    ]) {
      assert.match(out, new RegExp(created.replaceAll('.', '\\.')));
    }
    const table = cluster.cp.kubectl(['get', 'ippools']);
    assert.match(table.split('\n')[0] ?? '', /NAME\s+ADDRESSES\s+AUTO ASSIGN\s+ALLOCATED\s+AVAILABLE\s+READY\s+AGE/);
    assert.match(table, /l2-pool\s+\["198\.51\.100\.64-198\.51\.100\.126","2001:db8:a::100\/120"\]\s+true/);
    const defaulted = JSON.parse(cluster.cp.kubectl(['get', 'bgppeer', 'router', '-o', 'json'])) as {
      spec: { peerPort: number; connectTime: string };
    };
    assert.equal(defaulted.spec.peerPort, 179);
    assert.equal(defaulted.spec.connectTime, '10s');
  });

  describe('accept valid edge cases', () => {
    valid.forEach((c, i) => {
      it(`${c.kind}: ${c.what}`, () => {
        const res = tryKubectl(cluster.cp, ['create', '-f', '-'], manifest(c.kind, `valid-${i}`, c.spec));
        assert.ok(res.ok, res.out);
      });
    });
  });

  describe('reject invalid objects, naming the field', () => {
    invalid.forEach((c, i) => {
      it(`${c.kind}: ${c.what}`, () => {
        const name = `invalid-${i}`;
        const res = tryKubectl(cluster.cp, ['create', '-f', '-'], manifest(c.kind, name, c.spec));
        assert.equal(res.ok, false, `accepted: ${JSON.stringify(c.spec)}`);
        assert.ok(res.out.includes(c.field), `message does not name ${c.field}: ${res.out}`);
        assert.ok(res.out.includes(c.reason), `message does not say "${c.reason}": ${res.out}`);
        const exists = tryKubectl(cluster.cp, ['get', plural[c.kind], name]);
        assert.equal(exists.ok, false, 'the object exists after a rejected create');
      });
    });
  });
});
