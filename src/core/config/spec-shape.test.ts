// Objects stored without the current schema (the CRD installed without validation, then written): each is left
// out whole and reported, every valid object is still compiled and planned.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { malformedObject } from './spec-shape.ts';
import { compilePools } from './pool-config.ts';
import { planLayer2WithProblems } from './layer2-plan.ts';
import { parseIp } from '../ip/ip-address.ts';
import type { IPPool, L2Advertisement } from './api-types.generated.ts';
import type { ServiceObject } from './service-object.ts';
import { allocationCondition } from './allocation-record.ts';

const meta = (name: string): { name: string; creationTimestamp: string } => ({
  name,
  creationTimestamp: '2026-01-01T00:00:00Z',
});
const ippool = (name: string, spec: unknown): IPPool =>
  ({ apiVersion: 'beaconlb.io/v1alpha1', kind: 'IPPool', metadata: meta(name), spec }) as IPPool;
const l2 = (name: string, spec: unknown): L2Advertisement =>
  ({ apiVersion: 'beaconlb.io/v1alpha1', kind: 'L2Advertisement', metadata: meta(name), spec }) as L2Advertisement;

/** Malformed objects as a CRD without a schema stores them, with the field each message must name. */
const MALFORMED_POOLS: ReadonlyArray<[string, unknown, RegExp]> = [
  ['addresses missing', { autoAssign: true }, /spec\.addresses is missing/],
  [
    'addresses not strings',
    { addresses: [7, '198.51.100.0/30'] },
    /spec\.addresses\[0\] is an integer \(7\), not a string/,
  ],
  ['addresses a string', { addresses: '198.51.100.0/30' }, /spec\.addresses is a string/],
  [
    'selector with an unknown operator',
    {
      addresses: ['198.51.100.0/30'],
      allocation: { serviceSelector: { matchExpressions: [{ key: 'a', operator: 'Like' }] } },
    },
    /operator is "Like", not one of In, NotIn, Exists, DoesNotExist/,
  ],
  [
    'priority as a string',
    { addresses: ['198.51.100.0/30'], allocation: { priority: '1' } },
    /spec\.allocation\.priority is a string/,
  ],
  ['no spec', undefined, /spec is missing/],
];

describe('malformedObject', () => {
  for (const [what, spec, message] of MALFORMED_POOLS) {
    it(`names the field of an IPPool with ${what}`, () => {
      assert.match(malformedObject('IPPool', ippool('bad', spec)) ?? '', message);
    });
  }

  it('names the field of a BGPPeer without myASN, with an ASN as a string, of a BGPAdvertisement with a community number', () => {
    const peer = (spec: unknown): unknown => ({ metadata: { name: 'p' }, spec });
    assert.match(
      malformedObject('BGPPeer', peer({ peerASN: 65000, peerAddress: '198.51.100.1' })) ?? '',
      /spec\.myASN is missing/,
    );
    assert.equal(
      malformedObject('BGPPeer', peer({ myASN: 65001, peerASN: 65000, interface: 'eth1' })),
      undefined,
      'unnumbered: interface without peerAddress',
    );
    assert.match(
      malformedObject('BGPPeer', peer({ myASN: '65001', peerASN: 65000, peerAddress: '198.51.100.1' })) ?? '',
      /spec\.myASN is a string \("65001"\), not an integer/,
    );
    assert.match(
      malformedObject('BGPPeer', peer({ myASN: 0, peerASN: 65000, peerAddress: '198.51.100.1' })) ?? '',
      /spec\.myASN is 0, below 1/,
    );
    assert.match(
      malformedObject('BGPAdvertisement', { metadata: { name: 'a' }, spec: { communities: [65000] } }) ?? '',
      /spec\.communities\[0\] is an integer/,
    );
    assert.equal(
      malformedObject('BGPPeer', peer({ myASN: 65001, peerASN: 65000, peerAddress: '198.51.100.1' })),
      undefined,
    );
  });

  it('accepts valid objects, also with unknown fields (never read)', () => {
    assert.equal(
      malformedObject('IPPool', ippool('ok', { addresses: ['198.51.100.0/30'], future: { x: 1 } })),
      undefined,
    );
    assert.equal(
      malformedObject('L2Advertisement', l2('ok', { interfaces: ['eth0'], nodeSelector: { matchLabels: { a: 'b' } } })),
      undefined,
    );
  });
});

describe('compilePools with objects stored without the schema', () => {
  it('leaves out each malformed pool with a MalformedObject problem and compiles every valid one', () => {
    const bad = MALFORMED_POOLS.map(([, spec], i) => ippool(`bad-${i}`, spec));
    const { pools, problems } = compilePools([...bad, ippool('good', { addresses: ['198.51.100.0/30'] })]);
    assert.deepEqual([...pools.keys()], ['good']);
    assert.equal(pools.get('good')?.addresses[4].size, 4n);
    assert.deepEqual(
      problems.map((p) => [p.name, p.reason]),
      bad.map((p) => [p.metadata.name, 'MalformedObject']),
    );
  });
});

describe('planLayer2 with objects stored without the schema', () => {
  const address = (text: string): bigint => {
    const parsed = parseIp(text);
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.value;
  };
  const service = (name: string, ip: string): ServiceObject => ({
    metadata: { namespace: 'web', name, uid: name },
    spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] },
    // The controller's allocation record: speakers announce only what it allocated.
    status: { loadBalancer: { ingress: [{ ip }] }, conditions: [allocationCondition([ip], '2026-01-01T00:00:00Z')] },
  });

  it('announces every valid pool through every valid advertisement and reports each malformed advertisement', () => {
    const { plan, problems } = planLayer2WithProblems({
      services: [service('good', '198.51.100.1'), service('in-bad-pool', '203.0.113.1')],
      pools: [ippool('good', { addresses: ['198.51.100.0/30'] }), ippool('bad', { addresses: [203] })],
      advertisements: [
        l2('valid', { ipPools: ['good', 'bad'] }),
        l2('unknown-operator', { nodeSelector: { matchExpressions: [{ key: 'zone', operator: 'Near' }] } }),
        l2('interfaces-not-a-list', { interfaces: 'eth0' }),
      ],
      nodes: [{ metadata: { name: 'node1' } }],
      namespaces: [{ metadata: { name: 'web' } }],
      endpointSlices: [],
      loadBalancerClass: 'beaconlb.io/beaconlb',
    });
    assert.deepEqual([...plan.keys()], [address('198.51.100.1')]);
    assert.deepEqual(plan.get(address('198.51.100.1'))?.advertisements, ['valid']);
    assert.deepEqual(
      problems.map((p) => [p.kind, p.name, p.reason]),
      [
        ['L2Advertisement', 'unknown-operator', 'MalformedObject'],
        ['L2Advertisement', 'interfaces-not-a-list', 'MalformedObject'],
      ],
    );
  });
});
