// migrateMetalLB: its inputs (what it reads, recognizes and leaves out) and how a note is printed. Per kind:
// migrate-metallb-pools, -advertisements and -peers.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { migrateMetalLB } from './migrate-metallb.ts';
import { formatNote, somethingLeftOut } from './migration-notes.ts';
import {
  NS,
  options,
  metallb,
  pool,
  peer,
  migrate,
  pools,
  l2s,
  bgpAdvs,
  kinds,
  note,
} from '../../../test-support/metallb-migration-rig.ts';

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
