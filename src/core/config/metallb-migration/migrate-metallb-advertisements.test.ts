// migrateMetalLB: L2Advertisement, BGPAdvertisement and Community.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { somethingLeftOut } from './migration-notes.ts';
import { metallb, migrate, l2s, bgpAdvs, kinds, note } from '../../../test-support/metallb-migration-rig.ts';

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
