// The Service controller on fake ports: what it writes to Service status when it starts on statuses written by an
// earlier leader.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rebuildOrder, type ServiceController } from './service-controller.ts';
import type { ControllerPorts } from './controller-ports.ts';
import { POOL, fakePorts, newController, service, settled } from '../test-support/fake-controller-ports.ts';
import type { IPPool } from '../core/config/api-types.generated.ts';
import { readServiceRequest, type ServiceRequest } from '../core/config/service-request.ts';
import { ingressAddresses, type ServiceObject } from '../core/config/service-object.ts';
import { recordedAddresses } from '../core/config/allocation-record.ts';

async function startAndSettle(
  ports: ControllerPorts,
  afterStart: (controller: ServiceController) => Promise<void> | void = () => undefined,
  quarantineMs = 0,
): Promise<void> {
  const controller = newController(ports, { quarantineMs });
  controller.start();
  await afterStart(controller);
  await settled(controller);
  await controller.stop(100);
}

describe("ServiceController start-up on an earlier leader's statuses", () => {
  it('a sharing group keeps its address when one member changed its sharing key before the old leader saw it', async () => {
    // web-1 is the oldest, so first-come-first-kept in creation order would give it the address and move the others.
    const { ports, writes, current } = fakePorts([
      service('web-1', '2026-01-01T00:00:01Z', 80, 'other', '198.51.100.1'),
      service('web-2', '2026-01-01T00:00:02Z', 81, 'web', '198.51.100.1'),
      service('web-3', '2026-01-01T00:00:03Z', 82, 'web', '198.51.100.1'),
    ]);
    await startAndSettle(ports);
    assert.deepEqual(current('web-2'), ['198.51.100.1']);
    assert.deepEqual(current('web-3'), ['198.51.100.1']);
    assert.ok(!writes.has('apps/web-2') && !writes.has('apps/web-3'), 'the unchanged members were not rewritten');
    assert.equal(current('web-1').length, 1);
    assert.notEqual(current('web-1')[0], '198.51.100.1', 'the Service whose request changed moved');
  });

  it('two holders that nothing tells apart: the older keeps the address', async () => {
    const { ports, current } = fakePorts([
      service('old', '2026-01-01T00:00:01Z', 80, 'a', '198.51.100.1'),
      service('new', '2026-01-01T00:00:02Z', 81, 'b', '198.51.100.1'),
    ]);
    await startAndSettle(ports);
    assert.deepEqual(current('old'), ['198.51.100.1']);
    assert.notDeepEqual(current('new'), ['198.51.100.1']);
  });

  it('a RequireDualStack Service that must give up both families settles while the cache still shows its old status', async () => {
    const pools: IPPool[] = [
      {
        ...POOL,
        metadata: { name: 'web', creationTimestamp: '2026-01-01T00:00:00Z' },
        spec: { addresses: ['198.51.100.1/32'], allocation: { priority: 1 } },
      },
      {
        ...POOL,
        metadata: { name: 'dual', creationTimestamp: '2026-01-01T00:00:01Z' },
        spec: { addresses: ['198.51.100.2/32', '2001:db8::1/128'], allocation: { priority: 2 } },
      },
    ];
    const svc = service('dual', '2026-01-01T00:00:01Z', 80, undefined, undefined);
    const moved: ServiceObject = {
      metadata: { ...svc.metadata, annotations: { 'beaconlb.io/ip-pool': 'web' } },
      spec: { ...svc.spec, ipFamilies: ['IPv6', 'IPv4'], ipFamilyPolicy: 'RequireDualStack' },
      status: {
        loadBalancer: {
          ingress: [
            { ip: '2001:db8::1', ipMode: 'VIP' },
            { ip: '198.51.100.1', ipMode: 'VIP' },
          ],
        },
      },
    };
    const { ports, writes, reads } = fakePorts([moved], { pools, lagging: true });
    // A second pass on the same stale status (a watch event, another Service's release) must not release again.
    await startAndSettle(ports, (controller) => {
      controller.serviceChanged('apps/dual');
    });
    assert.deepEqual(writes.get('apps/dual'), [], 'both families given up');
    assert.ok(reads() < 20, `${reads()} reconcile reads: a pass released the stale address again and queued itself`);
  });

  it('a Service waiting for an address gets it only after the status of the Service that gave it up was written', async () => {
    const pools: IPPool[] = [
      {
        ...POOL,
        metadata: { name: 'a', creationTimestamp: '2026-01-01T00:00:00Z' },
        spec: { addresses: ['198.51.100.1/32'] },
      },
      {
        ...POOL,
        metadata: { name: 'b', creationTimestamp: '2026-01-01T00:00:01Z' },
        spec: { addresses: ['198.51.100.2/32'], autoAssign: false },
      },
    ];
    const holder = service('holder', '2026-01-01T00:00:01Z', 80, undefined, '198.51.100.1');
    const waiter = service('waiter', '2026-01-01T00:00:02Z', 81, undefined, undefined);
    const asking: ServiceObject = {
      ...waiter,
      metadata: { ...waiter.metadata, annotations: { 'beaconlb.io/load-balancer-ips': '198.51.100.1' } },
    };
    const { ports, current, log, update } = fakePorts([holder, asking], { pools, writeMs: 20 });
    await startAndSettle(ports, async (controller) => {
      await settled(controller);
      assert.deepEqual(current('waiter'), [], 'the waiter waits: its address is in use');
      // The holder is moved to pool b: it gives up .1, which the waiter has been waiting for.
      update('holder', (svc) => ({
        ...svc,
        metadata: { ...svc.metadata, annotations: { 'beaconlb.io/ip-pool': 'b' } },
      }));
      controller.serviceChanged('apps/holder');
    });
    assert.deepEqual([current('holder'), current('waiter')], [['198.51.100.2'], ['198.51.100.1']]);
    const released = log.indexOf('done apps/holder=198.51.100.2');
    const taken = log.indexOf('start apps/waiter=198.51.100.1');
    assert.ok(
      released >= 0 && taken > released,
      `the waiter's write started before the holder's landed: ${log.join('; ')}`,
    );
  });

  it('a Service failing for both families gets one Warning per failure, however often it is reconciled', async () => {
    const svc = service('both', '2026-01-01T00:00:01Z', 80, undefined, undefined);
    const failing: ServiceObject = {
      metadata: { ...svc.metadata, annotations: { 'beaconlb.io/load-balancer-ips': '203.0.113.9' } },
      spec: { ...svc.spec, ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' },
    };
    const { ports, events } = fakePorts([failing]);
    await startAndSettle(ports, async (controller) => {
      for (let pass = 0; pass < 3; pass++) {
        await settled(controller);
        controller.serviceChanged('apps/both');
      }
    });
    assert.deepEqual(events.sort(), ['apps/both Warning NoMatchingPool', 'apps/both Warning RequestedIPNotInPool']);
  });

  it('an address a status still shows but whose Service asks for another rests before a new Service gets it', async () => {
    // "moved" holds .0 (the lowest) in its status, but now asks for .5: the last leader died before it reconciled.
    const held = service('moved', '2026-01-01T00:00:01Z', 80, undefined, '198.51.100.0');
    const moved: ServiceObject = {
      ...held,
      metadata: { ...held.metadata, annotations: { 'beaconlb.io/load-balancer-ips': '198.51.100.5' } },
    };
    const fresh = service('fresh', '2026-01-01T00:00:02Z', 81, undefined, undefined);
    const { ports, current } = fakePorts([moved, fresh]);
    await startAndSettle(ports, () => undefined, 10_000);
    assert.deepEqual(current('moved'), ['198.51.100.5']);
    assert.deepEqual(current('fresh'), ['198.51.100.1'], 'the new Service skips .0, which "moved" still showed');
  });

  it('records its allocation beside the ingress: a status without the record is rewritten once, a right one never', async () => {
    const unrecorded = {
      ...service('old-version', '2026-01-01T00:00:01Z', 80, undefined, '198.51.100.2'),
      status: { loadBalancer: { ingress: [{ ip: '198.51.100.2', ipMode: 'VIP' }] } },
    };
    const { ports, writes, current } = fakePorts([
      unrecorded,
      service('recorded', '2026-01-01T00:00:02Z', 80, undefined, '198.51.100.3'),
      service('new', '2026-01-01T00:00:03Z', 80, undefined, undefined),
    ]);
    await startAndSettle(ports);
    const recordOf = (name: string): string[] => {
      const svc = ports.services.get(`apps/${name}`);
      assert.ok(svc);
      return [...recordedAddresses(svc)].map((a) => a.toString());
    };
    assert.deepEqual(current('old-version'), ['198.51.100.2'], 'the address stays');
    assert.ok(writes.has('apps/old-version'), 'the record was added to a status written before records existed');
    assert.equal(recordOf('old-version').length, 1);
    assert.ok(!writes.has('apps/recorded'), 'a status with its record is not rewritten');
    assert.equal(current('new').length, 1);
    assert.deepEqual(recordOf('new').length, 1, 'a new allocation is written with its record');
  });

  it('rebuildOrder puts a holder that disagrees with more co-holders than it agrees with last, creation order otherwise', () => {
    const entry = (svc: ServiceObject): { request: ServiceRequest; current: bigint[] } => {
      const request = readServiceRequest(svc);
      assert.ok(request.ok);
      return { request: request.value, current: [...ingressAddresses(svc)] };
    };
    const order = rebuildOrder([
      entry(service('changed', '1', 80, 'other', '198.51.100.1')),
      entry(service('alone', '2', 80, undefined, '198.51.100.5')),
      entry(service('member-1', '3', 81, 'web', '198.51.100.1')),
      entry(service('member-2', '4', 82, 'web', '198.51.100.1')),
    ]).map((e) => e.request.key);
    // member-1 and member-2 agree with each other as much as they disagree with "changed": even, like "alone".
    assert.deepEqual(order, ['apps/alone', 'apps/member-1', 'apps/member-2', 'apps/changed']);
  });
});
