import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp } from '../ip/ip-address.ts';
import type { IPPool } from './api-types.generated.ts';
import {
  ALLOCATED_CONDITION,
  allocationCondition,
  conditionsWithRecord,
  recordMatches,
  recordedAddresses,
} from './allocation-record.ts';
import { authorizationContext, authorizedAddresses, refusedAddresses } from './announcement-authorization.ts';
import { compilePools } from './pool-config.ts';
import type { ServiceCondition, ServiceObject } from './service-object.ts';

const ip = (text: string): bigint => {
  const parsed = parseIp(text);
  if (!parsed.ok) assert.fail(parsed.error);
  return parsed.value;
};

const POOLS: IPPool[] = [
  {
    apiVersion: 'beaconlb.io/v1alpha1',
    kind: 'IPPool',
    metadata: { name: 'open' },
    spec: { addresses: ['198.51.100.0/28', '2001:db8:a::/120'] },
  },
  {
    apiVersion: 'beaconlb.io/v1alpha1',
    kind: 'IPPool',
    metadata: { name: 'team' },
    spec: {
      addresses: ['198.51.100.16/28'],
      allocation: {
        namespaces: ['team'],
        namespaceSelector: { matchLabels: { tier: 'prod' } },
        serviceSelector: { matchLabels: { expose: 'yes' } },
      },
    },
  },
];

function service(
  key: string,
  ingress: string[],
  conditions: ServiceCondition[] | undefined,
  extra: { labels?: Record<string, string>; loadBalancerClass?: string } = {},
): ServiceObject {
  const [namespace = '', name = ''] = key.split('/');
  return {
    metadata: { namespace, name, ...(extra.labels ? { labels: extra.labels } : {}) },
    spec: { type: 'LoadBalancer', ...(extra.loadBalancerClass ? { loadBalancerClass: extra.loadBalancerClass } : {}) },
    status: {
      loadBalancer: { ingress: ingress.map((i) => ({ ip: i, ipMode: 'VIP' })) },
      ...(conditions ? { conditions } : {}),
    },
  };
}

const recorded = (...ips: string[]): ServiceCondition[] => [allocationCondition(ips, '2026-01-01T00:00:00Z')];
const ctx = authorizationContext(compilePools(POOLS).pools, [
  { metadata: { name: 'team', labels: { tier: 'prod' } } },
  { metadata: { name: 'dev', labels: { tier: 'dev' } } },
]);
const announced = (svc: ServiceObject): bigint[] => authorizedAddresses(svc, ctx).map((a) => a.address);

describe('the allocation record', () => {
  it('lists the allocated addresses in a True condition of type beaconlb.io/Allocated', () => {
    const svc = service('a/web', ['198.51.100.1', '2001:db8:a::1'], recorded('198.51.100.1', '2001:db8:a::1'));
    assert.deepEqual([...recordedAddresses(svc)], [ip('198.51.100.1'), ip('2001:db8:a::1')]);
    assert.ok(recordMatches(svc, ['198.51.100.1', '2001:db8:a::1']));
    assert.ok(!recordMatches(svc, ['198.51.100.1']));
    const notTrue = service(
      'a/web',
      ['198.51.100.1'],
      [{ ...allocationCondition(['198.51.100.1'], '2026-01-01T00:00:00Z'), status: 'False' }],
    );
    assert.equal(recordedAddresses(notTrue).size, 0);
  });

  it('is replaced, kept (with its transition time) or removed, leaving other conditions alone', () => {
    const other: ServiceCondition = {
      type: 'example.com/Other',
      status: 'True',
      reason: 'X',
      message: '',
      lastTransitionTime: '2025-01-01T00:00:00Z',
    };
    const svc = service('a/web', ['198.51.100.1'], [other, ...recorded('198.51.100.1')]);
    assert.deepEqual(conditionsWithRecord(svc, ['198.51.100.1'], '2026-06-01T00:00:00Z'), [
      other,
      ...recorded('198.51.100.1'),
    ]);
    const moved = conditionsWithRecord(svc, ['198.51.100.2'], '2026-06-01T00:00:00Z');
    assert.deepEqual(moved, [other, allocationCondition(['198.51.100.2'], '2026-06-01T00:00:00Z')]);
    assert.deepEqual(conditionsWithRecord(svc, [], '2026-06-01T00:00:00Z'), [other]);
    assert.ok(recordMatches(service('a/web', [], [other]), []));
    assert.ok(!recordMatches(svc, []));
    assert.equal(moved.filter((c) => c.type === ALLOCATED_CONDITION).length, 1);
  });
});

describe('announcement authorization', () => {
  it('announces the addresses the controller recorded, in a pool that admits the Service', () => {
    assert.deepEqual(
      announced(service('a/web', ['198.51.100.1', '2001:db8:a::1'], recorded('198.51.100.1', '2001:db8:a::1'))),
      [ip('198.51.100.1'), ip('2001:db8:a::1')],
    );
  });

  it('refuses a status written by hand: no record, or an address the record does not hold', () => {
    const none = service('a/web', ['198.51.100.1'], undefined);
    const other = service('a/web', ['198.51.100.1', '198.51.100.2'], recorded('198.51.100.2'));
    assert.deepEqual(announced(none), []);
    assert.deepEqual(announced(other), [ip('198.51.100.2')]);
    const refused = refusedAddresses([none, other], ctx, 'beaconlb.io/beaconlb');
    assert.deepEqual(
      refused.map((r) => `${r.service} ${r.address}`),
      [`a/web ${ip('198.51.100.1')}`, `a/web ${ip('198.51.100.1')}`],
    );
    assert.match(refused[0]!.message, /^198\.51\.100\.1 .*not allocated by the Beacon LB controller/);
  });

  it('re-checks the pool: namespaces, namespaceSelector and serviceSelector must admit the Service', () => {
    const labels = { expose: 'yes' };
    assert.deepEqual(announced(service('team/web', ['198.51.100.17'], recorded('198.51.100.17'), { labels })), [
      ip('198.51.100.17'),
    ]);
    for (const svc of [
      service('dev/web', ['198.51.100.17'], recorded('198.51.100.17'), { labels }),
      service('team/web', ['198.51.100.17'], recorded('198.51.100.17')),
      service('unknown/web', ['198.51.100.17'], recorded('198.51.100.17'), { labels }),
    ]) {
      assert.deepEqual(announced(svc), [], svc.metadata.namespace);
      const [refusal] = refusedAddresses([svc], ctx, 'beaconlb.io/beaconlb');
      assert.match(refusal?.message ?? '', /pool team, whose namespaces or selectors do not admit this Service/);
    }
  });

  it('reports an address of our pools in the status of a Service of another class, and nothing else of it', () => {
    const foreign = service('a/other', ['198.51.100.3', '192.0.2.10'], undefined, {
      loadBalancerClass: 'example.com/lb',
    });
    const refused = refusedAddresses([foreign], ctx, 'beaconlb.io/beaconlb');
    assert.deepEqual(
      refused.map((r) => r.address),
      [ip('198.51.100.3')],
    );
    assert.match(refused[0]!.message, /loadBalancerClass example\.com\/lb, which Beacon LB does not serve/);
  });

  it('says nothing about addresses outside every pool that the record holds (the controller is moving them)', () => {
    const svc = service('a/web', ['203.0.113.9'], recorded('203.0.113.9'));
    assert.deepEqual(announced(svc), []);
    assert.deepEqual(refusedAddresses([svc], ctx, 'beaconlb.io/beaconlb'), []);
  });
});

describe('announcement during a renumbering window (ADR 0028)', () => {
  it('announces the old address beside the new one while both are recorded, also from a draining pool', () => {
    const pools = compilePools([
      {
        apiVersion: 'beaconlb.io/v1alpha1',
        kind: 'IPPool',
        metadata: { name: 'old' },
        spec: { addresses: ['198.51.100.0/28'], drain: true },
      },
      {
        apiVersion: 'beaconlb.io/v1alpha1',
        kind: 'IPPool',
        metadata: { name: 'new' },
        spec: { addresses: ['203.0.113.0/28'] },
      },
    ]).pools;
    const renumberCtx = authorizationContext(pools, []);
    const during = service('a/web', ['203.0.113.1', '198.51.100.1'], recorded('203.0.113.1', '198.51.100.1'));
    assert.deepEqual(
      authorizedAddresses(during, renumberCtx).map((a) => [a.address, a.pool.name]),
      [
        [ip('203.0.113.1'), 'new'],
        [ip('198.51.100.1'), 'old'],
      ],
    );
    // After the window the controller writes the record without it: a status still showing it announces nothing of it.
    const after = service('a/web', ['203.0.113.1', '198.51.100.1'], recorded('203.0.113.1'));
    assert.deepEqual(
      authorizedAddresses(after, renumberCtx).map((a) => a.address),
      [ip('203.0.113.1')],
    );
  });
});
