import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { migrateMetalLB } from './migrate-metallb.ts';
import { formatNote, somethingLeftOut, type MigrationNote, type MigrationNoteKind } from './migration-notes.ts';
import {
  MIGRATED_FROM_ANNOTATION,
  PASSWORD_PLACEHOLDER,
  type MigratedObject,
  type MigrationResult,
  type SecretManifest,
} from './migrated-objects.ts';
import { parseGoDuration } from './go-duration.ts';
import { unionOfSelectors } from './selector-union.ts';
import type { BGPAdvertisement, BGPPeer, IPPool, L2Advertisement, LabelSelector } from '../api-types.generated.ts';
import { matchesLabelSelector } from '../label-selector.ts';

const NS = 'metallb-system';
const options = { secretNamespace: 'beaconlb-system' };

const metallb = (
  kind: string,
  name: string,
  spec: Record<string, unknown>,
  extra: { apiVersion?: string; labels?: Record<string, string>; namespace?: string } = {},
): Record<string, unknown> => ({
  apiVersion: extra.apiVersion ?? (kind === 'BGPPeer' ? 'metallb.io/v1beta2' : 'metallb.io/v1beta1'),
  kind,
  metadata: { name, namespace: extra.namespace ?? NS, ...(extra.labels ? { labels: extra.labels } : {}) },
  spec,
});
const pool = (name: string, spec: Record<string, unknown>, labels?: Record<string, string>): Record<string, unknown> =>
  metallb('IPAddressPool', name, spec, labels ? { labels } : {});
const peer = (name: string, spec: Record<string, unknown>, apiVersion?: string): Record<string, unknown> =>
  metallb(
    'BGPPeer',
    name,
    { myASN: 64512, peerASN: 64500, peerAddress: '198.51.100.1', holdTime: '90s', ...spec },
    apiVersion ? { apiVersion } : {},
  );

const migrate = (...objects: unknown[]): MigrationResult => migrateMetalLB(objects, options);

function only<K extends MigratedObject['kind']>(
  result: MigrationResult,
  kind: K,
): Array<Extract<MigratedObject, { kind: K }>> {
  return result.objects.filter((o): o is Extract<MigratedObject, { kind: K }> => o.kind === kind);
}
const pools = (r: MigrationResult): IPPool[] => only(r, 'IPPool');
const l2s = (r: MigrationResult): L2Advertisement[] => only(r, 'L2Advertisement');
const peers = (r: MigrationResult): BGPPeer[] => only(r, 'BGPPeer');
const bgpAdvs = (r: MigrationResult): BGPAdvertisement[] => only(r, 'BGPAdvertisement');
const secrets = (r: MigrationResult): SecretManifest[] => only(r, 'Secret');
const kinds = (r: MigrationResult): MigrationNoteKind[] => r.notes.map((n) => n.kind);
const note = (r: MigrationResult, kind: MigrationNoteKind): MigrationNote => {
  const found = r.notes.find((n) => n.kind === kind);
  assert.ok(found, `no ${kind} note in ${JSON.stringify(r.notes, null, 1)}`);
  return found;
};

describe('migrateMetalLB: IPAddressPool to IPPool', () => {
  it('keeps addresses, autoAssign: false, avoidBuggyIPs and labels, and records the origin', () => {
    const r = migrate(
      pool(
        'lan',
        { addresses: ['198.51.100.64/26', '2001:db8:a::/120'], autoAssign: false, avoidBuggyIPs: true },
        { zone: 'a' },
      ),
    );
    assert.deepEqual(r.notes, []);
    assert.deepEqual(pools(r), [
      {
        apiVersion: 'beaconlb.io/v1alpha1',
        kind: 'IPPool',
        metadata: {
          name: 'lan',
          labels: { zone: 'a' },
          annotations: { [MIGRATED_FROM_ANNOTATION]: 'IPAddressPool.metallb.io metallb-system/lan' },
        },
        spec: { addresses: ['198.51.100.64/26', '2001:db8:a::/120'], autoAssign: false, avoidBuggyIPs: true },
      },
    ]);
    assert.equal(somethingLeftOut(r.notes), false);
  });

  it('leaves out defaults: autoAssign true and avoidBuggyIPs false are not written', () => {
    const r = migrate(pool('p', { addresses: ['203.0.113.0/28'], autoAssign: true, avoidBuggyIPs: false }));
    assert.deepEqual(pools(r)[0]?.spec, { addresses: ['203.0.113.0/28'] });
  });

  it('masks CIDRs with host bits as MetalLB (net.ParseCIDR) did, and tightens ranges written with spaces', () => {
    const r = migrate(pool('p', { addresses: ['198.51.100.7/24', '203.0.113.10 - 203.0.113.20', '2001:db8::1/64'] }));
    assert.deepEqual(pools(r)[0]?.spec.addresses, ['198.51.100.0/24', '203.0.113.10-203.0.113.20', '2001:db8::/64']);
    assert.deepEqual(r.notes, []);
  });

  it('leaves out an entry that is no address, and the whole pool when none is left', () => {
    const r = migrate(
      pool('p', { addresses: ['198.51.100.0/28', 'bogus'] }),
      pool('q', { addresses: ['203.0.113.20-203.0.113.10'] }),
    );
    assert.deepEqual(
      pools(r).map((p) => [p.metadata.name, p.spec.addresses]),
      [['p', ['198.51.100.0/28']]],
    );
    const entry = r.notes.find((n) => n.field === 'spec.addresses[1]');
    assert.equal(entry?.object, 'IPAddressPool metallb-system/p');
    assert.equal(entry.severity, 'omitted');
    assert.ok(
      r.notes.some(
        (n) =>
          n.object === 'IPAddressPool metallb-system/q' &&
          n.field === 'spec.addresses' &&
          /pool left out/.test(n.message),
      ),
    );
    assert.equal(somethingLeftOut(r.notes), true);
  });

  it('translates namespaces and one service selector unchanged', () => {
    const selector = { matchExpressions: [{ key: 'app.kubernetes.io/part-of', operator: 'In', values: ['shop'] }] };
    const r = migrate(
      pool('team', {
        addresses: ['203.0.113.32/28'],
        serviceAllocation: { priority: 5, namespaces: ['team-a', 'team-b'], serviceSelectors: [selector] },
      }),
    );
    assert.deepEqual(pools(r)[0]?.spec.allocation, {
      namespaces: ['team-a', 'team-b'],
      serviceSelector: selector,
      priority: 5,
    });
    assert.deepEqual(r.notes, []);
  });

  it('merges service selectors that differ in one value of one key into one In requirement (exact)', () => {
    const r = migrate(
      pool('p', {
        addresses: ['203.0.113.0/28'],
        serviceAllocation: { serviceSelectors: [{ matchLabels: { app: 'web' } }, { matchLabels: { app: 'api' } }] },
      }),
    );
    assert.deepEqual(pools(r)[0]?.spec.allocation?.serviceSelector, {
      matchExpressions: [{ key: 'app', operator: 'In', values: ['api', 'web'] }],
    });
    assert.deepEqual(r.notes, []);
  });

  it('narrows service selectors whose OR no single selector expresses, keeping the first, and says so', () => {
    const first = { matchLabels: { app: 'web' } };
    const r = migrate(
      pool('p', {
        addresses: ['203.0.113.0/28'],
        serviceAllocation: { serviceSelectors: [first, { matchLabels: { tier: 'edge' } }] },
      }),
    );
    assert.deepEqual(pools(r)[0]?.spec.allocation?.serviceSelector, first);
    const n = note(r, 'SelectorsNarrowed');
    assert.equal(n.field, 'spec.serviceAllocation.serviceSelectors');
    assert.equal(n.severity, 'omitted');
  });

  it('keeps one namespace selector, and narrows a list of names OR selectors to the names', () => {
    const one = migrate(
      pool('p', {
        addresses: ['203.0.113.0/28'],
        serviceAllocation: { namespaceSelectors: [{ matchLabels: { team: 'a' } }] },
      }),
    );
    assert.deepEqual(pools(one)[0]?.spec.allocation?.namespaceSelector, { matchLabels: { team: 'a' } });
    const both = migrate(
      pool('p', {
        addresses: ['203.0.113.0/28'],
        serviceAllocation: { namespaces: ['x'], namespaceSelectors: [{ matchLabels: { team: 'a' } }] },
      }),
    );
    const allocation = pools(both)[0]?.spec.allocation;
    assert.deepEqual(allocation?.namespaces, ['x']);
    assert.equal(allocation.namespaceSelector, undefined);
    assert.equal(note(both, 'SelectorsNarrowed').field, 'spec.serviceAllocation.namespaceSelectors');
  });

  it('writes names OR a selector on the namespace name label as one exact selector', () => {
    const r = migrate(
      pool('p', {
        addresses: ['203.0.113.0/28'],
        serviceAllocation: {
          namespaces: ['x'],
          namespaceSelectors: [{ matchLabels: { 'kubernetes.io/metadata.name': 'y' } }],
        },
      }),
    );
    assert.deepEqual(pools(r)[0]?.spec.allocation, {
      namespaceSelector: {
        matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['x', 'y'] }],
      },
    });
    assert.deepEqual(r.notes, []);
  });

  it('gives a pool with serviceAllocation but no priority one after every explicit priority when pools without serviceAllocation exist', () => {
    const r = migrate(
      pool('general', { addresses: ['198.51.100.0/28'] }),
      pool('first', { addresses: ['198.51.100.16/28'], serviceAllocation: { priority: 10, namespaces: ['a'] } }),
      pool('pinned', { addresses: ['198.51.100.32/28'], serviceAllocation: { namespaces: ['a'] } }),
    );
    const byName = new Map(pools(r).map((p) => [p.metadata.name, p.spec.allocation?.priority]));
    assert.deepEqual(
      [...byName],
      [
        ['first', 10],
        ['general', undefined],
        ['pinned', 11],
      ],
    );
    const n = note(r, 'PriorityAdded');
    assert.equal(n.object, 'IPAddressPool metallb-system/pinned');
    assert.equal(n.severity, 'changed');
    assert.equal(somethingLeftOut(r.notes), false);
  });

  it('adds no priority when every pool has serviceAllocation (the order among them is the same)', () => {
    const r = migrate(
      pool('a', { addresses: ['198.51.100.0/28'], serviceAllocation: { namespaces: ['x'] } }),
      pool('b', { addresses: ['198.51.100.16/28'], serviceAllocation: { priority: 3 } }),
    );
    assert.deepEqual(
      pools(r).map((p) => p.spec.allocation?.priority),
      [undefined, 3],
    );
    assert.deepEqual(r.notes, []);
  });

  it('renumbers priorities beyond Beacon LB range, keeping their order', () => {
    const r = migrate(
      pool('a', { addresses: ['198.51.100.0/28'], serviceAllocation: { priority: 5_000_000 } }),
      pool('b', { addresses: ['198.51.100.16/28'], serviceAllocation: { priority: 7 } }),
    );
    assert.deepEqual(
      pools(r).map((p) => [p.metadata.name, p.spec.allocation?.priority]),
      [
        ['a', 2],
        ['b', 1],
      ],
    );
    assert.ok(kinds(r).includes('PrioritiesRenumbered'));
  });

  it('treats priority 0 as no priority, as MetalLB does', () => {
    const r = migrate(pool('a', { addresses: ['198.51.100.0/28'], serviceAllocation: { priority: 0 } }));
    assert.equal(pools(r)[0]?.spec.allocation, undefined);
  });

  it('leaves out a pool whose selector MetalLB would refuse rather than drop the restriction', () => {
    const r = migrate(
      pool('p', {
        addresses: ['198.51.100.0/28'],
        serviceAllocation: { serviceSelectors: [{ matchExpressions: [{ key: 'app', operator: 'In' }] }] },
      }),
    );
    assert.deepEqual(pools(r), []);
    assert.match(note(r, 'InvalidValue').message, /In on app needs at least one value; pool left out/);
  });
});

describe('migrateMetalLB: L2Advertisement', () => {
  it('translates pools by name, one node selector and interfaces', () => {
    const nodeSelector = {
      matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'DoesNotExist' }],
    };
    const r = migrate(
      metallb('L2Advertisement', 'l2', {
        ipAddressPools: ['lan'],
        nodeSelectors: [nodeSelector],
        interfaces: ['eth0', 'bond0.10'],
      }),
    );
    assert.deepEqual(
      l2s(r).map((a) => a.spec),
      [{ ipPools: ['lan'], nodeSelector, interfaces: ['eth0', 'bond0.10'] }],
    );
    assert.deepEqual(r.notes, []);
  });

  it('says that without interfaces Beacon LB answers on fewer interfaces than MetalLB', () => {
    const r = migrate(metallb('L2Advertisement', 'l2', {}));
    assert.deepEqual(
      l2s(r).map((a) => a.spec),
      [{}],
    );
    const n = note(r, 'DefaultInterfaces');
    assert.equal(n.severity, 'changed');
    assert.match(n.message, /every interface/);
  });

  it('splits pools by name and by selector into two objects (Beacon LB takes one or the other)', () => {
    const r = migrate(
      metallb('L2Advertisement', 'l2', {
        ipAddressPools: ['a'],
        ipAddressPoolSelectors: [{ matchLabels: { mode: 'l2' } }],
        interfaces: ['eth0'],
      }),
    );
    assert.deepEqual(
      l2s(r).map((a) => [a.metadata.name, a.spec]),
      [
        ['l2', { ipPools: ['a'], interfaces: ['eth0'] }],
        ['l2-2', { ipPoolSelector: { matchLabels: { mode: 'l2' } }, interfaces: ['eth0'] }],
      ],
    );
    assert.match(note(r, 'ObjectSplit').message, /became 2 objects \(l2, l2-2\)/);
    assert.equal(somethingLeftOut(r.notes), false);
  });

  it('makes one object per combination of node and service selectors that cannot be merged, skipping taken names', () => {
    const r = migrate(
      metallb('L2Advertisement', 'x', {
        interfaces: ['eth0'],
        nodeSelectors: [{ matchLabels: { rack: 'r1' } }, { matchLabels: { zone: 'z' } }],
        serviceSelectors: [{ matchLabels: { a: '1' } }, { matchLabels: { b: '2' } }],
      }),
      metallb('L2Advertisement', 'x-2', { interfaces: ['eth1'] }),
    );
    const made = l2s(r).filter((a) => a.metadata.name !== 'x-2' || a.spec.interfaces?.[0] === 'eth0');
    assert.deepEqual(made.map((a) => a.metadata.name).sort(), ['x', 'x-3', 'x-4', 'x-5']);
    assert.deepEqual(
      made.map((a) => [a.spec.nodeSelector?.matchLabels, a.spec.serviceSelector?.matchLabels]),
      [
        [{ rack: 'r1' }, { a: '1' }],
        [{ rack: 'r1' }, { b: '2' }],
        [{ zone: 'z' }, { a: '1' }],
        [{ zone: 'z' }, { b: '2' }],
      ],
    );
    assert.equal(new Set(l2s(r).map((a) => a.metadata.name)).size, 5);
  });

  it('merges node selectors when one selector says the same', () => {
    const r = migrate(
      metallb('L2Advertisement', 'l2', {
        interfaces: ['eth0'],
        nodeSelectors: [{ matchLabels: { rack: 'r1' } }, { matchLabels: { rack: 'r2' } }],
      }),
    );
    assert.deepEqual(
      l2s(r).map((a) => a.spec.nodeSelector),
      [{ matchExpressions: [{ key: 'rack', operator: 'In', values: ['r1', 'r2'] }] }],
    );
  });

  it('notes preferredNodeSelectors, drops an invalid interface name, and leaves out an advertisement with no valid one', () => {
    const r = migrate(
      metallb('L2Advertisement', 'pref', {
        interfaces: ['eth0', 'a/b'],
        preferredNodeSelectors: [{ weight: 10, preference: { matchLabels: { fast: 'yes' } } }],
      }),
      metallb('L2Advertisement', 'bad', { interfaces: ['averyveryverylongname0'] }),
    );
    assert.deepEqual(
      l2s(r).map((a) => [a.metadata.name, a.spec.interfaces]),
      [['pref', ['eth0']]],
    );
    assert.ok(kinds(r).includes('PreferredNodesIgnored'));
    assert.ok(r.notes.some((n) => n.field === 'spec.interfaces[1]' && n.kind === 'InvalidValue'));
    assert.ok(
      r.notes.some(
        (n) => n.object === 'L2Advertisement metallb-system/bad' && /advertisement left out/.test(n.message),
      ),
    );
  });
});

describe('migrateMetalLB: BGPAdvertisement and Community', () => {
  const aliases = metallb('Community', 'communities', {
    communities: [
      { name: 'no-advertise', value: '65535:65282' },
      { name: 'transit', value: 'large:64512:1:2' },
      { name: '64512:7', value: '64512:8' },
    ],
  });

  it('translates attributes, resolves aliases (before literals, as MetalLB does) and splits large communities out', () => {
    const r = migrate(
      aliases,
      metallb('BGPAdvertisement', 'bgp', {
        ipAddressPools: ['dc'],
        aggregationLength: 24,
        aggregationLengthV6: 64,
        localPref: 100,
        communities: ['64512:100', 'no-advertise', 'transit', 'large:64512:3:4', '64512:7', '065000:01'],
        peers: ['router-a', 'router-b'],
      }),
    );
    assert.deepEqual(
      bgpAdvs(r).map((a) => a.spec),
      [
        {
          ipPools: ['dc'],
          aggregationLength: 24,
          aggregationLengthV6: 64,
          localPref: 100,
          communities: ['64512:100', '65535:65282', '64512:8', '65000:1'],
          largeCommunities: ['64512:1:2', '64512:3:4'],
          peers: ['router-a', 'router-b'],
        },
      ],
    );
    const resolved = r.notes.filter((n) => n.kind === 'CommunityAliasResolved');
    assert.deepEqual(
      resolved.map((n) => n.field),
      ['spec.communities[1]', 'spec.communities[2]', 'spec.communities[4]'],
    );
    assert.match(
      resolved[0]?.message ?? '',
      /alias no-advertise \(from Community metallb-system\/communities\) written as 65535:65282/,
    );
    assert.equal(somethingLeftOut(r.notes), false);
  });

  it('leaves out a community that is neither a value nor an alias, keeping the rest', () => {
    const r = migrate(metallb('BGPAdvertisement', 'bgp', { communities: ['no-such-alias', '70000:1', '64512:1'] }));
    assert.deepEqual(bgpAdvs(r)[0]?.spec.communities, ['64512:1']);
    const unknown = r.notes.filter((n) => n.kind === 'UnknownCommunity');
    assert.equal(unknown.length, 2);
    assert.match(unknown[0]?.message ?? '', /nor the name of a Community alias/);
    assert.match(unknown[1]?.message ?? '', /part out of range/);
  });

  it('reports an invalid or duplicate alias on the Community object', () => {
    const r = migrate(
      metallb('Community', 'c', {
        communities: [
          { name: 'x', value: 'nope' },
          { name: 'y', value: '1:2' },
          { name: 'y', value: '3:4' },
        ],
      }),
    );
    assert.deepEqual(
      r.notes.map((n) => [n.kind, n.field]),
      [
        ['InvalidValue', 'spec.communities[0]'],
        ['InvalidValue', 'spec.communities[2]'],
      ],
    );
    assert.deepEqual(r.objects, []);
  });

  it('does not write localPref 0 (MetalLB: unset)', () => {
    const r = migrate(metallb('BGPAdvertisement', 'bgp', { localPref: 0 }));
    assert.deepEqual(bgpAdvs(r)[0]?.spec, {});
  });

  it('translates serviceSelectors: one selector when their OR is one, else one advertisement per selector with the same attributes', () => {
    const r = migrate(
      metallb('BGPAdvertisement', 'some', {
        ipAddressPools: ['dc'],
        communities: ['64512:7'],
        serviceSelectors: [{ matchLabels: { app: 'web' } }, { matchLabels: { app: 'api' } }],
      }),
      metallb('BGPAdvertisement', 'split', {
        ipAddressPools: ['dc'],
        serviceSelectors: [
          { matchLabels: { app: 'web' } },
          { matchExpressions: [{ key: 'tier', operator: 'Exists' }] },
        ],
      }),
    );
    assert.deepEqual(
      bgpAdvs(r).map((a) => [a.metadata.name, a.spec]),
      [
        [
          'some',
          {
            ipPools: ['dc'],
            serviceSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['api', 'web'] }] },
            communities: ['64512:7'],
          },
        ],
        ['split', { ipPools: ['dc'], serviceSelector: { matchLabels: { app: 'web' } } }],
        ['split-2', { ipPools: ['dc'], serviceSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] } }],
      ],
    );
    assert.match(note(r, 'ObjectSplit').message, /became 2 objects \(split, split-2\)/);
    assert.equal(somethingLeftOut(r.notes), false);
  });

  it('leaves out an advertisement whose serviceSelectors MetalLB would refuse, never widening it to every Service', () => {
    const r = migrate(
      metallb('BGPAdvertisement', 'bad', {
        ipAddressPools: ['dc'],
        serviceSelectors: [{ matchExpressions: [{ key: 'app', operator: 'In' }] }],
      }),
    );
    assert.deepEqual(bgpAdvs(r), []);
    assert.equal(note(r, 'InvalidValue').field, 'spec.serviceSelectors');
  });

  it('splits several pool selectors and node selectors into advertisements with the same attributes', () => {
    const r = migrate(
      metallb('BGPAdvertisement', 'bgp', {
        ipAddressPoolSelectors: [{ matchLabels: { mode: 'bgp' } }, { matchLabels: { tier: 'edge' } }],
        nodeSelectors: [{ matchLabels: { rack: 'r1' } }],
        communities: ['64512:1'],
      }),
    );
    assert.deepEqual(
      bgpAdvs(r).map((a) => [a.metadata.name, a.spec]),
      [
        [
          'bgp',
          {
            ipPoolSelector: { matchLabels: { mode: 'bgp' } },
            nodeSelector: { matchLabels: { rack: 'r1' } },
            communities: ['64512:1'],
          },
        ],
        [
          'bgp-2',
          {
            ipPoolSelector: { matchLabels: { tier: 'edge' } },
            nodeSelector: { matchLabels: { rack: 'r1' } },
            communities: ['64512:1'],
          },
        ],
      ],
    );
  });
});

describe('migrateMetalLB: BGPPeer', () => {
  it('translates a v1beta2 peer field by field, writing the one address family MetalLB negotiates', () => {
    const r = migrate(
      peer('router', {
        peerPort: 1179,
        sourceAddress: '198.51.100.10',
        holdTime: '30s',
        keepaliveTime: '10s',
        connectTime: '5s',
        routerID: '198.51.100.10',
        nodeSelectors: [{ matchLabels: { 'bgp.example/enabled': 'true' } }],
        ebgpMultiHop: true,
        enableGracefulRestart: true,
      }),
    );
    assert.deepEqual(
      peers(r).map((p) => p.spec),
      [
        {
          myASN: 64512,
          peerASN: 64500,
          peerAddress: '198.51.100.1',
          peerPort: 1179,
          sourceAddress: '198.51.100.10',
          connectTime: '5s',
          holdTime: '30s',
          keepaliveTime: '10s',
          routerID: '198.51.100.10',
          nodeSelector: { matchLabels: { 'bgp.example/enabled': 'true' } },
          gracefulRestart: { enabled: true },
          ebgpMultiHop: true,
          addressFamilies: ['ipv4-unicast'],
        },
      ],
    );
    assert.deepEqual(r.notes, []);
  });

  it('negotiates both families with dualStackAddressFamily, and IPv6 for an IPv6 router', () => {
    const r = migrate(peer('dual', { dualStackAddressFamily: true }), peer('v6', { peerAddress: '2001:db8::1' }));
    assert.deepEqual(
      peers(r).map((p) => p.spec.addressFamilies),
      [['ipv4-unicast', 'ipv6-unicast'], ['ipv6-unicast']],
    );
  });

  it('reads v1beta1 peers (legacy node selectors) like v1beta2', () => {
    const r = migrate(
      peer(
        'old',
        {
          nodeSelectors: [{ matchLabels: { a: 'b' }, matchExpressions: [{ key: 'c', operator: 'In', values: ['d'] }] }],
        },
        'metallb.io/v1beta1',
      ),
    );
    assert.deepEqual(peers(r)[0]?.spec.nodeSelector, {
      matchLabels: { a: 'b' },
      matchExpressions: [{ key: 'c', operator: 'In', values: ['d'] }],
    });
    assert.equal(
      peers(r)[0]?.metadata.annotations?.[MIGRATED_FROM_ANNOTATION],
      'BGPPeer.metallb.io metallb-system/old',
    );
  });

  it('turns a plain password into a Secret reference with a placeholder Secret, and never carries the password', () => {
    const password = 'hunter2-Very-Secret';
    const r = migrate(peer('router', { password }));
    assert.deepEqual(peers(r)[0]?.spec.passwordSecretRef, { name: 'router-bgp-password', key: 'password' });
    assert.deepEqual(secrets(r), [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: 'router-bgp-password',
          namespace: 'beaconlb-system',
          annotations: { [MIGRATED_FROM_ANNOTATION]: 'BGPPeer.metallb.io metallb-system/router spec.password' },
        },
        type: 'Opaque',
        stringData: { password: PASSWORD_PLACEHOLDER },
      },
    ]);
    assert.equal(r.objects[0]?.kind, 'Secret', 'the Secret comes before the peer that uses it');
    const n = note(r, 'PasswordPlaceholder');
    assert.equal(n.severity, 'omitted');
    assert.doesNotMatch(JSON.stringify(r), new RegExp(password));
    assert.doesNotMatch(r.notes.map(formatNote).join('\n'), /hunter2/);
  });

  it('keeps a passwordSecret as a reference and says the Secret must be copied', () => {
    const r = migrate(peer('router', { passwordSecret: { name: 'bgp-secret', namespace: 'metallb-system' } }));
    assert.deepEqual(peers(r)[0]?.spec.passwordSecretRef, { name: 'bgp-secret', key: 'password' });
    assert.deepEqual(secrets(r), []);
    const n = note(r, 'PasswordSecretToCopy');
    assert.match(n.message, /copy Secret metallb-system\/bgp-secret there/);
    assert.match(n.message, /beaconlb-system\/bgp-secret/);
    assert.equal(somethingLeftOut(r.notes), false);
  });

  it('uses the Secret and never the password when MetalLB had both', () => {
    const r = migrate(peer('router', { password: 'p4ssw0rd-x', passwordSecret: { name: 's' } }));
    assert.deepEqual(peers(r)[0]?.spec.passwordSecretRef, { name: 's', key: 'password' });
    assert.deepEqual(secrets(r), []);
    assert.doesNotMatch(JSON.stringify(r), /p4ssw0rd-x/);
  });

  it('maps dynamicASN internal and external to the same dynamicASN', () => {
    const r = migrate(
      peer('ibgp', { peerASN: undefined, dynamicASN: 'internal' }),
      peer('ebgp', { peerASN: undefined, dynamicASN: 'external' }),
    );
    assert.deepEqual(
      peers(r).map((p) => [p.metadata.name, p.spec.myASN, p.spec.peerASN, p.spec.dynamicASN]),
      [
        ['ebgp', 64512, undefined, 'external'],
        ['ibgp', 64512, undefined, 'internal'],
      ],
    );
    assert.equal(r.notes.filter((n) => n.field === 'spec.dynamicASN').length, 0);
  });

  it('uses localASN as the per-peer myASN', () => {
    const r = migrate(peer('r', { localASN: 65010 }));
    assert.equal(peers(r)[0]?.spec.myASN, 65010);
    assert.equal(note(r, 'LocalASNAsMyASN').severity, 'changed');
  });

  it('leaves out peers without a usable ASN or address', () => {
    const r = migrate(peer('noasn', { myASN: 0 }), peer('badaddr', { peerAddress: '198.51.100.300' }));
    assert.deepEqual(peers(r), []);
    assert.deepEqual(
      r.notes.filter((n) => n.kind === 'InvalidValue').map((n) => n.field),
      ['spec.peerAddress', 'spec.myASN'],
      'in name order: badaddr, noasn',
    );
  });

  it('converts unnumbered peers (interface, no peerAddress) into BGPPeers with interface alone, IPv6 by default', () => {
    const r = migrate(
      peer('unnumbered', { peerAddress: undefined, interface: 'eth1' }),
      peer('dual', { peerAddress: undefined, interface: 'enp*s0', dualStackAddressFamily: true }),
      peer('src', { peerAddress: undefined, interface: 'eth2', sourceAddress: '2001:db8::1' }),
      peer('badname', { peerAddress: undefined, interface: 'eth 1' }),
    );
    assert.deepEqual(
      peers(r).map((p) => [p.metadata.name, p.spec.interface, p.spec.peerAddress, p.spec.addressFamilies]),
      [
        ['dual', 'enp*s0', undefined, ['ipv4-unicast', 'ipv6-unicast']],
        ['src', 'eth2', undefined, ['ipv6-unicast']],
        ['unnumbered', 'eth1', undefined, ['ipv6-unicast']],
      ],
    );
    const unnumbered = r.notes.filter((n) => n.kind === 'UnnumberedPeer');
    assert.equal(unnumbered.length, 3);
    assert.equal(unnumbered[0]?.severity, 'changed');
    assert.match(unnumbered[0].message, /Router Advertisements/);
    assert.deepEqual(
      r.notes.filter((n) => n.kind === 'InvalidValue').map((n) => [n.object, n.field]),
      [
        ['BGPPeer metallb-system/badname', 'spec.interface'],
        ['BGPPeer metallb-system/src', 'spec.sourceAddress'],
      ],
    );
  });

  it('reports a value of the wrong type once, with what became of it', () => {
    const r = migrate(peer('a', { myASN: '64512' }), peer('b', { holdTime: 90, peerPort: 'bgp' }));
    assert.deepEqual(
      r.notes.map((n) => [n.object, n.field, n.message]),
      [
        ['BGPPeer metallb-system/a', 'spec.myASN', 'missing or not 1 to 4294967295; peer left out'],
        ['BGPPeer metallb-system/b', 'spec.peerPort', 'is not an integer; left out (179)'],
        ['BGPPeer metallb-system/b', 'spec.holdTime', 'is not a string; left out'],
      ],
    );
    assert.deepEqual(
      peers(r).map((p) => [p.metadata.name, p.spec.holdTime, p.spec.peerPort]),
      [['b', undefined, undefined]],
    );
  });

  it('notes VRF and non-IPv4 router IDs, keeping the peer', () => {
    const r = migrate(peer('r', { vrf: 'red', routerID: '2001:db8::1' }));
    assert.equal(peers(r).length, 1);
    assert.equal(peers(r)[0]?.spec.routerID, undefined);
    assert.deepEqual(
      r.notes.map((n) => [n.kind, n.object, n.field ?? '']),
      [
        ['InvalidValue', 'BGPPeer metallb-system/r', 'spec.routerID'],
        ['VRFUnsupported', 'BGPPeer metallb-system/r', 'spec.vrf'],
      ],
    );
  });

  it('BFDProfile: copied into spec.bfd of each peer naming it (intervals in ms, multiplier, passive), noted as changed', () => {
    const r = migrate(
      peer('a', { bfdProfile: 'fast' }),
      peer('b', { bfdProfile: 'fast', peerAddress: '198.51.100.2' }),
      metallb('BFDProfile', 'fast', {
        receiveInterval: 100,
        transmitInterval: 150,
        detectMultiplier: 5,
        passiveMode: true,
      }),
    );
    assert.deepEqual(
      peers(r).map((p) => [p.metadata.name, p.spec.bfd]),
      [
        ['a', { receiveInterval: '100ms', transmitInterval: '150ms', detectMultiplier: 5, passive: true }],
        ['b', { receiveInterval: '100ms', transmitInterval: '150ms', detectMultiplier: 5, passive: true }],
      ],
    );
    assert.deepEqual(
      r.notes.map((n) => [n.kind, n.severity, n.object, n.field ?? '']),
      [
        ['BFDProfileInlined', 'changed', 'BGPPeer metallb-system/a', 'spec.bfdProfile'],
        ['BFDProfileInlined', 'changed', 'BGPPeer metallb-system/b', 'spec.bfdProfile'],
      ],
    );
  });

  it('BFDProfile on an unnumbered peer is left out (BFD only with a global router address)', () => {
    const r = migrate(
      peer('u', { bfdProfile: 'plain', peerAddress: undefined, interface: 'eth1' }),
      metallb('BFDProfile', 'plain', {}),
    );
    assert.equal(peers(r)[0]?.spec.bfd, undefined);
    assert.equal(note(r, 'BFDUnnumberedUnsupported').field, 'spec.bfdProfile');
  });

  it("BFDProfile defaults: an empty profile gives spec.bfd {} (the CRD defaults are MetalLB's: 300 ms, 300 ms, 3)", () => {
    const r = migrate(peer('a', { bfdProfile: 'plain' }), metallb('BFDProfile', 'plain', {}));
    assert.deepEqual(peers(r)[0]?.spec.bfd, {});
  });

  it('BFDProfile: echo mode and minimumTtl are noted, out-of-range values left out; a missing profile or a multihop peer runs without BFD', () => {
    const r = migrate(
      peer('a', { bfdProfile: 'echo' }),
      peer('b', { bfdProfile: 'nowhere', peerAddress: '198.51.100.2' }),
      peer('c', { bfdProfile: 'echo', peerAddress: '198.51.100.3', ebgpMultiHop: true }),
      metallb('BFDProfile', 'echo', {
        echoMode: true,
        echoInterval: 50,
        minimumTtl: 254,
        receiveInterval: 5,
        detectMultiplier: 1,
      }),
    );
    assert.deepEqual(
      peers(r).map((p) => [p.metadata.name, p.spec.bfd]),
      [
        ['a', {}],
        ['b', undefined],
        ['c', undefined],
      ],
    );
    assert.deepEqual(
      r.notes.map((n) => [n.kind, n.severity, n.object, n.field ?? '']),
      [
        ['InvalidValue', 'omitted', 'BFDProfile metallb-system/echo', 'spec.receiveInterval'],
        ['InvalidValue', 'omitted', 'BFDProfile metallb-system/echo', 'spec.detectMultiplier'],
        ['BFDEchoUnsupported', 'omitted', 'BFDProfile metallb-system/echo', 'spec.echoMode'],
        ['BFDMinimumTtlIgnored', 'changed', 'BFDProfile metallb-system/echo', 'spec.minimumTtl'],
        ['BFDProfileInlined', 'changed', 'BGPPeer metallb-system/a', 'spec.bfdProfile'],
        ['BFDProfileMissing', 'omitted', 'BGPPeer metallb-system/b', 'spec.bfdProfile'],
        ['BFDMultiHopUnsupported', 'omitted', 'BGPPeer metallb-system/c', 'spec.bfdProfile'],
      ],
    );
  });

  it('narrows node selectors that cannot be merged (fewer nodes peer, never more)', () => {
    const r = migrate(peer('r', { nodeSelectors: [{ matchLabels: { rack: 'r1' } }, { matchLabels: { zone: 'z' } }] }));
    assert.deepEqual(peers(r)[0]?.spec.nodeSelector, { matchLabels: { rack: 'r1' } });
    assert.match(note(r, 'SelectorsNarrowed').message, /do not peer with this router/);
  });

  describe('timers as MetalLB settles them', () => {
    const timers = (
      spec: Record<string, unknown>,
    ): { spec: BGPPeer['spec'] | undefined; notes: MigrationNoteKind[] } => {
      const r = migrate(peer('r', { holdTime: undefined, ...spec }));
      return { spec: peers(r)[0]?.spec, notes: kinds(r) };
    };

    it('says Beacon LB defaults differ when neither is set', () => {
      const t = timers({});
      assert.equal(t.spec?.holdTime, undefined);
      assert.deepEqual(t.notes, ['TimerDefaults']);
    });

    it('derives holdTime = 3 x keepaliveTime when only the keepalive is set', () => {
      const t = timers({ keepaliveTime: '20s' });
      assert.deepEqual([t.spec?.holdTime, t.spec?.keepaliveTime], ['60s', '20s']);
      assert.deepEqual(t.notes, []);
    });

    it('writes Go durations such as 1m30s in seconds and rounds fractions down as FRR did', () => {
      assert.deepEqual(timers({ holdTime: '1m30s' }).spec?.holdTime, '90s');
      const t = timers({ holdTime: '9.5s', keepaliveTime: '3s' });
      assert.deepEqual([t.spec?.holdTime, t.spec?.keepaliveTime, t.notes], ['9s', '3s', ['TimersAdjusted']]);
    });

    it('drops a keepalive equal to the hold time (Beacon LB requires it shorter)', () => {
      const t = timers({ holdTime: '30s', keepaliveTime: '30s' });
      assert.deepEqual([t.spec?.holdTime, t.spec?.keepaliveTime, t.notes], ['30s', undefined, ['TimersAdjusted']]);
    });

    it('keeps hold time 0 (no keepalives) and refuses hold times MetalLB refused', () => {
      assert.equal(timers({ holdTime: '0s' }).spec?.holdTime, '0s');
      const t = timers({ holdTime: '2s' });
      assert.deepEqual([t.spec?.holdTime, t.notes], [undefined, ['InvalidValue']]);
    });

    it('keeps connectTime in whole seconds', () => {
      assert.equal(timers({ holdTime: '90s', connectTime: '2m' }).spec?.connectTime, '120s');
      assert.deepEqual(timers({ holdTime: '90s', connectTime: '500ms' }).notes, ['InvalidValue']);
    });
  });
});

describe('migrateMetalLB: inputs', () => {
  it('skips objects that are not MetalLB configuration without counting them as left out', () => {
    const r = migrate(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'metallb-system' } },
      { apiVersion: 'metallb.io/v1beta1', kind: 'ServiceL2Status', metadata: { name: 'l2-x', namespace: NS } },
    );
    assert.deepEqual(kinds(r), ['NotConfiguration', 'NotConfiguration']);
    assert.equal(somethingLeftOut(r.notes), false);
  });

  it('reports kinds and versions it does not translate, and the pre-0.13 ConfigMap', () => {
    const r = migrate(
      metallb('AddressPool', 'old', { protocol: 'layer2', addresses: ['198.51.100.0/28'] }),
      metallb('IPAddressPool', 'alpha', { addresses: ['198.51.100.0/28'] }, { apiVersion: 'metallb.io/v1alpha1' }),
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'config', namespace: NS },
        data: { config: 'address-pools: []' },
      },
    );
    assert.deepEqual(kinds(r), ['UnsupportedKind', 'UnsupportedKind', 'UnsupportedKind']);
    assert.match(r.notes[0]?.message ?? '', /removed in MetalLB v0.14/);
    assert.match(r.notes[1]?.message ?? '', /metallb\.io\/v1alpha1 is not a version of IPAddressPool/);
    assert.match(r.notes[2]?.message ?? '', /configmaptocrs/);
    assert.deepEqual(r.objects, []);
  });

  it('reports unknown spec fields and objects without a valid name', () => {
    const r = migrate(
      pool('p', { addresses: ['198.51.100.0/28'], futureField: 1 }),
      { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: {}, spec: {} },
      'text',
    );
    assert.deepEqual(
      r.notes.map((n) => [n.kind, n.field ?? '']),
      [
        ['InvalidObject', 'metadata.name'],
        ['InvalidObject', ''],
        ['UnknownField', 'spec.futureField'],
      ],
    );
    assert.equal(pools(r).length, 1);
  });

  it('keeps the first of two objects of a kind with one name (Beacon LB objects are cluster-wide)', () => {
    const r = migrate(
      metallb('IPAddressPool', 'p', { addresses: ['203.0.113.0/28'] }, { namespace: 'other' }),
      metallb('IPAddressPool', 'p', { addresses: ['198.51.100.0/28'] }),
    );
    assert.deepEqual(
      pools(r).map((p) => p.spec.addresses),
      [['198.51.100.0/28']],
    );
    assert.equal(note(r, 'DuplicateObject').object, 'IPAddressPool other/p');
  });

  it('gives the same objects and notes whatever the input order', () => {
    const inputs = [
      pool('b', { addresses: ['198.51.100.16/28'], serviceAllocation: { namespaces: ['x'] } }),
      pool('a', { addresses: ['198.51.100.0/28'] }),
      metallb('L2Advertisement', 'l2', {
        ipAddressPools: ['a'],
        ipAddressPoolSelectors: [{ matchLabels: { x: 'y' } }],
      }),
      peer('r2', { password: 'x-secret' }),
      peer('r1', {}),
      metallb('BGPAdvertisement', 'adv', { communities: ['c1'] }),
      metallb('Community', 'c', { communities: [{ name: 'c1', value: '1:1' }] }),
    ];
    const expected = migrateMetalLB(inputs, options);
    fc.assert(
      fc.property(fc.shuffledSubarray(inputs, { minLength: inputs.length, maxLength: inputs.length }), (shuffled) => {
        assert.deepEqual(migrateMetalLB(shuffled, options), expected);
      }),
      { numRuns: 50 },
    );
    assert.deepEqual(
      expected.objects.map((o) => `${o.kind}/${o.metadata.name}`),
      [
        'Secret/r2-bgp-password',
        'IPPool/a',
        'IPPool/b',
        'L2Advertisement/l2',
        'L2Advertisement/l2-2',
        'BGPPeer/r1',
        'BGPPeer/r2',
        'BGPAdvertisement/adv',
      ],
    );
  });

  it('never puts ipPools and ipPoolSelector in one advertisement (the CRD refuses that)', () => {
    const r = migrate(
      metallb('L2Advertisement', 'l2', {
        ipAddressPools: ['a', 'b'],
        ipAddressPoolSelectors: [{ matchLabels: { a: '1' } }, { matchLabels: { b: '2' } }],
      }),
      metallb('BGPAdvertisement', 'bgp', { ipAddressPools: ['a'], ipAddressPoolSelectors: [{}] }),
    );
    for (const adv of [...l2s(r), ...bgpAdvs(r)])
      assert.ok(!(adv.spec.ipPools && adv.spec.ipPoolSelector), adv.metadata.name);
    assert.equal(l2s(r).length, 3);
    assert.deepEqual(
      bgpAdvs(r).map((a) => a.spec),
      [{ ipPools: ['a'] }, { ipPoolSelector: {} }],
    );
  });
});

describe('formatNote', () => {
  it('prints one line: severity, object, field, message', () => {
    assert.equal(
      formatNote({
        kind: 'VRFUnsupported',
        severity: 'omitted',
        object: 'BGPPeer metallb-system/r',
        field: 'spec.vrf',
        message: 'no VRFs',
      }),
      'left out  BGPPeer metallb-system/r spec.vrf: no VRFs',
    );
    assert.equal(
      formatNote({ kind: 'ObjectSplit', severity: 'changed', object: 'L2Advertisement a', message: 'split' }),
      'changed   L2Advertisement a: split',
    );
  });
});

describe('parseGoDuration', () => {
  it('reads what metav1.Duration writes and people type', () => {
    const cases: Array<[string, number]> = [
      ['90s', 90_000],
      ['1m30s', 90_000],
      ['1h0m0s', 3_600_000],
      ['250ms', 250],
      ['1.5s', 1500],
      ['0', 0],
      ['0s', 0],
      ['-3s', -3000],
      ['1500us', 1.5],
      ['2µs', 0.002],
    ];
    for (const [text, ms] of cases) assert.deepEqual(parseGoDuration(text), { ok: true, value: ms }, text);
    for (const text of ['', '90', 's', '1d', '1m 30s', '--1s']) assert.equal(parseGoDuration(text).ok, false, text);
  });
});

describe('unionOfSelectors', () => {
  it('merges, drops implied selectors, and gives up when no single selector is exact', () => {
    assert.deepEqual(unionOfSelectors([{ matchLabels: { a: '1' } }, {}]), {});
    assert.deepEqual(unionOfSelectors([{ matchLabels: { a: '1' } }, { matchLabels: { a: '1', b: '2' } }]), {
      matchLabels: { a: '1' },
    });
    assert.deepEqual(
      unionOfSelectors([{ matchLabels: { env: 'prod', team: 'a' } }, { matchLabels: { env: 'prod', team: 'b' } }]),
      {
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['prod'] },
          { key: 'team', operator: 'In', values: ['a', 'b'] },
        ],
      },
    );
    assert.equal(unionOfSelectors([{ matchLabels: { a: '1' } }, { matchLabels: { b: '1' } }]), undefined);
    assert.equal(
      unionOfSelectors([
        { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] },
        { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['2'] }] },
      ]),
      undefined,
    );
    assert.equal(unionOfSelectors([]), undefined);
  });

  it('matches exactly what one of the selectors matches, whenever it gives an answer (property)', () => {
    const keys = ['a', 'b', 'c'];
    const values = ['1', '2', '3'];
    const requirement = fc.oneof(
      fc.record({
        key: fc.constantFrom(...keys),
        operator: fc.constantFrom('In' as const, 'NotIn' as const),
        values: fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: 2 }),
      }),
      fc.record({
        key: fc.constantFrom(...keys),
        operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const),
      }),
    );
    const selector: fc.Arbitrary<LabelSelector> = fc.record(
      {
        matchLabels: fc.dictionary(fc.constantFrom(...keys), fc.constantFrom(...values), { maxKeys: 2 }),
        matchExpressions: fc.array(requirement, { maxLength: 2 }),
      },
      { requiredKeys: [] },
    );
    const labels = fc.dictionary(fc.constantFrom(...keys), fc.constantFrom(...values), { maxKeys: 3 });
    let answered = 0;
    fc.assert(
      fc.property(
        fc.array(selector, { minLength: 1, maxLength: 4 }),
        fc.array(labels, { minLength: 20, maxLength: 20 }),
        (selectors, labelSets) => {
          const union = unionOfSelectors(selectors);
          if (union === undefined) return;
          answered++;
          for (const set of labelSets) {
            assert.equal(
              matchesLabelSelector(union, set),
              selectors.some((s) => matchesLabelSelector(s, set)),
              JSON.stringify({ selectors, union, set }),
            );
          }
        },
      ),
      { numRuns: 2000 },
    );
    assert.ok(answered > 200, `only ${answered} runs had a union`);
  });
});
