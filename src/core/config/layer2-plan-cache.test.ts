// The incremental layer-2 plan (ADR 0037): after any sequence of changes it equals planLayer2WithProblems of the
// same inputs, names every address whose entry changed, and one Service event among 5,000 plans one Service.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Layer2PlanCache } from './layer2-plan-cache.ts';
import { planLayer2WithProblems, type Layer2Address } from './layer2-plan.ts';
import type { ServiceObject } from './service-object.ts';
import type { EndpointSliceObject } from './cluster-objects.ts';
import {
  advertisement,
  endpointSlice,
  inputs,
  NODES,
  service,
  POOLS,
  pool,
  ip,
} from '../../test-support/layer2-plan-inputs.ts';

const ADDRESSES = ['198.51.100.1', '198.51.100.2', '198.51.100.3', '2001:db8:a::101', '203.0.113.9'];
const KEYS = ['a/one', 'a/two', 'b/three', 'b/four'];

const step = fc.oneof(
  fc.record({
    kind: fc.constant('service' as const),
    key: fc.constantFrom(...KEYS),
    ips: fc.subarray(ADDRESSES, { maxLength: 2 }),
    local: fc.boolean(),
    selected: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom(...KEYS) }),
  fc.record({
    kind: fc.constant('slice' as const),
    key: fc.constantFrom(...KEYS),
    nodes: fc.subarray(['node1', 'node2', 'node3']),
  }),
  fc.record({ kind: fc.constant('advertisement' as const), zone: fc.constantFrom('a', 'b', undefined) }),
);

describe('incremental layer-2 plan', () => {
  it('equals the plan computed from scratch after every change, and names every address that changed', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const cache = new Layer2PlanCache();
        const services = new Map<string, ServiceObject>();
        const slices = new Map<string, EndpointSliceObject>();
        let advertisements = [advertisement('everything', { serviceSelector: { matchLabels: { l2: 'yes' } } })];
        let previous = new Map<bigint, Layer2Address>();
        for (const s of steps) {
          if (s.kind === 'service')
            services.set(
              s.key,
              service(s.key, s.ips, {
                ...(s.local ? { externalTrafficPolicy: 'Local' as const } : {}),
                ...(s.selected ? { labels: { l2: 'yes' } } : {}),
              }),
            );
          else if (s.kind === 'delete') services.delete(s.key);
          else if (s.kind === 'slice') slices.set(s.key, endpointSlice(s.key, s.nodes));
          else
            advertisements = [
              advertisement('everything', {
                serviceSelector: { matchLabels: { l2: 'yes' } },
                ...(s.zone ? { nodeSelector: { matchLabels: { zone: s.zone } } } : {}),
              }),
            ];
          const now = inputs({
            services: [...services.values()],
            endpointSlices: [...slices.values()],
            advertisements,
            nodes: NODES,
            pools: POOLS,
          });
          const update = cache.update(now);
          const expected = planLayer2WithProblems(now);
          assert.deepEqual(new Map(update.plan), expected.plan);
          assert.deepEqual(update.problems, expected.problems);
          if (update.changed)
            for (const address of new Set([...previous.keys(), ...expected.plan.keys()]))
              if (!update.changed.has(address))
                assert.deepEqual(expected.plan.get(address), previous.get(address), 'a changed entry not named');
          previous = new Map(expected.plan);
        }
      }),
      { numRuns: 300, seed: 37 },
    );
  });

  it('one Service event among 5,000 plans that Service and touches its address only (not all 5,000)', () => {
    const services = Array.from({ length: 5000 }, (_, i) =>
      service(`bulk/b-${i}`, [`2001:db8:a::${(i + 1).toString(16)}`]),
    );
    const pools = [pool('bulk', ['2001:db8:a::/112'])];
    const advertisements = [advertisement('everything')];
    const cache = new Layer2PlanCache();
    const first = cache.update(inputs({ services, pools, advertisements }));
    assert.equal(first.plan.size, 5000);
    const planned = cache.servicesPlanned;
    const added = service('bulk/new', ['2001:db8:a::ffff']);
    const update = cache.update(inputs({ services: [...services, added], pools, advertisements }));
    assert.equal(cache.servicesPlanned - planned, 1);
    assert.deepEqual([...(update.changed ?? ['everything'])], [ip('2001:db8:a::ffff')]);
    assert.equal(update.plan.size, 5001);
    const removed = cache.update(inputs({ services: services.slice(1).concat(added), pools, advertisements }));
    assert.equal(cache.servicesPlanned - planned, 1);
    assert.deepEqual([...(removed.changed ?? ['everything'])], [ip('2001:db8:a::1')]);
  });
});
