// The Service controller on fake ports: what it writes to Service status when it starts on statuses written by an
// earlier leader.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceController, rebuildOrder } from './service-controller.ts';
import type { ControllerPorts } from './controller-ports.ts';
import { noMetrics } from './controller-metrics.ts';
import { systemClock } from '../platform/clock.ts';
import { createLogger } from '../platform/logger.ts';
import type { IPPool } from '../core/config/api-types.generated.ts';
import { readServiceRequest, type ServiceRequest } from '../core/config/service-request.ts';
import { allocationCondition, conditionsWithRecord, recordedAddresses } from '../core/config/allocation-record.ts';
import { ingressAddresses, serviceKey, type LoadBalancerIngress, type ServiceObject } from '../core/config/service-object.ts';

const POOL: IPPool = { apiVersion: 'beaconlb.io/v1alpha1', kind: 'IPPool', metadata: { name: 'p', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { addresses: ['198.51.100.0/29'] } };

/** A LoadBalancer Service as an earlier leader left it: `ip` in its status, with its allocation record. */
function service(name: string, created: string, port: number, sharingKey: string | undefined, ip: string | undefined): ServiceObject {
  return {
    metadata: {
      name,
      namespace: 'apps',
      resourceVersion: '1',
      creationTimestamp: created,
      annotations: sharingKey ? { 'beaconlb.io/allow-shared-ip': sharingKey } : {},
    },
    spec: { type: 'LoadBalancer', ports: [{ port, protocol: 'TCP' }], selector: { app: name } },
    status: { loadBalancer: { ingress: ip ? [{ ip, ipMode: 'VIP' }] : [] }, conditions: ip ? [allocationCondition([ip], '2026-01-01T00:00:00Z')] : [] },
  };
}

/**
 * Ports over an in-memory set of Services; a status write replaces the Service with a new resourceVersion, unless
 * `lagging` (the cache has not seen the write yet). A runaway reconcile loop is cut off after 1,000 reads.
 */
function fakePorts(
  services: readonly ServiceObject[],
  options: { pools?: IPPool[]; lagging?: boolean; writeMs?: number } = {},
): {
  ports: ControllerPorts;
  writes: Map<string, LoadBalancerIngress[]>;
  current: (name: string) => string[];
  reads: () => number;
  log: string[];
  update: (name: string, change: (svc: ServiceObject) => ServiceObject) => void;
  events: string[];
} {
  const store = new Map(services.map((s) => [serviceKey(s), s]));
  const writes = new Map<string, LoadBalancerIngress[]>();
  const log: string[] = [];
  const events: string[] = [];
  let reads = 0;
  const ports: ControllerPorts = {
    services: {
      get: (key) => {
        if (++reads > 1000) throw new Error('reconciled 1,000 times: a runaway loop');
        return store.get(key);
      },
      list: () => [...store.values()],
    },
    pools: () => options.pools ?? [POOL],
    namespaceLabels: () => ({}),
    async writeServiceStatus(svc, ingress) {
      const key = serviceKey(svc);
      const text = `${key}=${ingress.map((i) => i.ip).join(',')}`;
      log.push(`start ${text}`);
      if (options.writeMs) await sleep(options.writeMs);
      log.push(`done ${text}`);
      writes.set(key, ingress);
      const conditions = conditionsWithRecord(svc, ingress.map((i) => i.ip ?? ''), '2026-01-02T00:00:00Z');
      if (!options.lagging) store.set(key, { ...svc, metadata: { ...svc.metadata, resourceVersion: String(Number(svc.metadata.resourceVersion) + 1) }, status: { loadBalancer: { ingress }, conditions } });
      return 'written';
    },
    writePoolStatus: () => Promise.resolve('written'),
    recordEvent: (svc, type, reason) => events.push(`${serviceKey(svc)} ${type} ${reason}`),
    recordPoolEvent: () => undefined,
  };
  const current = (name: string): string[] => (store.get(`apps/${name}`)?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
  const update = (name: string, change: (svc: ServiceObject) => ServiceObject): void => {
    const svc = store.get(`apps/${name}`);
    assert.ok(svc);
    store.set(`apps/${name}`, change({ ...svc, metadata: { ...svc.metadata, resourceVersion: String(Number(svc.metadata.resourceVersion) + 1) } }));
  };
  return { ports, writes, current, reads: () => reads, log, update, events };
}

async function settled(controller: ServiceController): Promise<void> {
  for (let i = 0; i < 200 && controller.queueDepth > 0; i++) await sleep(5);
  assert.equal(controller.queueDepth, 0, 'the queue drained');
}

async function startAndSettle(
  ports: ControllerPorts,
  afterStart: (controller: ServiceController) => Promise<void> | void = () => undefined,
  quarantineMs = 0,
): Promise<void> {
  const controller = new ServiceController({
    ports,
    clock: systemClock,
    log: createLogger({ level: 'silent', component: 'test' }),
    metrics: noMetrics,
    loadBalancerClass: 'beaconlb.io/beaconlb',
    quarantineMs,
    concurrency: 4,
    poolStatusIntervalMs: 1000,
  });
  controller.start();
  await afterStart(controller);
  await settled(controller);
  await controller.stop(100);
}

describe('ServiceController start-up on an earlier leader\'s statuses', () => {
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
      { ...POOL, metadata: { name: 'web', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { addresses: ['198.51.100.1/32'], allocation: { priority: 1 } } },
      { ...POOL, metadata: { name: 'dual', creationTimestamp: '2026-01-01T00:00:01Z' }, spec: { addresses: ['198.51.100.2/32', '2001:db8::1/128'], allocation: { priority: 2 } } },
    ];
    const svc = service('dual', '2026-01-01T00:00:01Z', 80, undefined, undefined);
    const moved: ServiceObject = {
      metadata: { ...svc.metadata, annotations: { 'beaconlb.io/ip-pool': 'web' } },
      spec: { ...svc.spec, ipFamilies: ['IPv6', 'IPv4'], ipFamilyPolicy: 'RequireDualStack' },
      status: { loadBalancer: { ingress: [{ ip: '2001:db8::1', ipMode: 'VIP' }, { ip: '198.51.100.1', ipMode: 'VIP' }] } },
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
      { ...POOL, metadata: { name: 'a', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { addresses: ['198.51.100.1/32'] } },
      { ...POOL, metadata: { name: 'b', creationTimestamp: '2026-01-01T00:00:01Z' }, spec: { addresses: ['198.51.100.2/32'], autoAssign: false } },
    ];
    const holder = service('holder', '2026-01-01T00:00:01Z', 80, undefined, '198.51.100.1');
    const waiter = service('waiter', '2026-01-01T00:00:02Z', 81, undefined, undefined);
    const asking: ServiceObject = { ...waiter, metadata: { ...waiter.metadata, annotations: { 'beaconlb.io/load-balancer-ips': '198.51.100.1' } } };
    const { ports, current, log, update } = fakePorts([holder, asking], { pools, writeMs: 20 });
    await startAndSettle(ports, async (controller) => {
      await settled(controller);
      assert.deepEqual(current('waiter'), [], 'the waiter waits: its address is in use');
      // The holder is moved to pool b: it gives up .1, which the waiter has been waiting for.
      update('holder', (svc) => ({ ...svc, metadata: { ...svc.metadata, annotations: { 'beaconlb.io/ip-pool': 'b' } } }));
      controller.serviceChanged('apps/holder');
    });
    assert.deepEqual([current('holder'), current('waiter')], [['198.51.100.2'], ['198.51.100.1']]);
    const released = log.indexOf('done apps/holder=198.51.100.2');
    const taken = log.indexOf('start apps/waiter=198.51.100.1');
    assert.ok(released >= 0 && taken > released, `the waiter's write started before the holder's landed: ${log.join('; ')}`);
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
    const moved: ServiceObject = { ...held, metadata: { ...held.metadata, annotations: { 'beaconlb.io/load-balancer-ips': '198.51.100.5' } } };
    const fresh = service('fresh', '2026-01-01T00:00:02Z', 81, undefined, undefined);
    const { ports, current } = fakePorts([moved, fresh]);
    await startAndSettle(ports, () => undefined, 10_000);
    assert.deepEqual(current('moved'), ['198.51.100.5']);
    assert.deepEqual(current('fresh'), ['198.51.100.1'], 'the new Service skips .0, which "moved" still showed');
  });

  it('records its allocation beside the ingress: a status without the record is rewritten once, a right one never', async () => {
    const unrecorded = { ...service('old-version', '2026-01-01T00:00:01Z', 80, undefined, '198.51.100.2'), status: { loadBalancer: { ingress: [{ ip: '198.51.100.2', ipMode: 'VIP' }] } } };
    const { ports, writes, current } = fakePorts([unrecorded, service('recorded', '2026-01-01T00:00:02Z', 80, undefined, '198.51.100.3'), service('new', '2026-01-01T00:00:03Z', 80, undefined, undefined)]);
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
