// migrateMetalLB: IPAddressPool to IPPool.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { somethingLeftOut } from './migration-notes.ts';
import { MIGRATED_FROM_ANNOTATION } from './migrated-objects.ts';
import { pool, migrate, pools, kinds, note } from '../../../test-support/metallb-migration-rig.ts';

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
