// The Service controller on fake ports: an address a Service gives up goes to another Service only after the status
// write that drops it succeeded (the releasing state), and a released address wakes the Services that can use it,
// not every waiting Service.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fakePorts, ipPool, newController, service, settled, until } from '../test-support/fake-controller-ports.ts';
import type { ServiceObject } from '../core/config/service-object.ts';

const withAnnotations = (svc: ServiceObject, annotations: Record<string, string>): ServiceObject => ({
  ...svc,
  metadata: { ...svc.metadata, annotations: { ...svc.metadata.annotations, ...annotations } },
});

describe('ServiceController: releasing addresses', () => {
  it('a waiting Service gets a released address only after the release was written, also when that write first conflicted', async () => {
    const pools = [ipPool('a', ['198.51.100.1/32']), ipPool('b', ['198.51.100.2/32'], { autoAssign: false })];
    let conflicts = 0;
    const { ports, current, log, update } = fakePorts(
      [
        service('holder', '2026-01-01T00:00:01Z', 80, undefined, '198.51.100.1'),
        service('waiter', '2026-01-01T00:00:02Z', 81, undefined, undefined),
      ],
      { pools, decide: (key) => (key === 'apps/holder' && conflicts++ === 0 ? 'conflict' : undefined) },
    );
    const controller = newController(ports);
    controller.start();
    await settled(controller);
    assert.deepEqual(current('waiter'), [], 'the pool is exhausted');
    update('holder', (svc) => withAnnotations(svc, { 'beaconlb.io/ip-pool': 'b' }));
    controller.serviceChanged('apps/holder');
    await until('the waiter is served', () => current('waiter').length > 0);
    await settled(controller);
    await controller.stop(100);
    const released = log.indexOf('done apps/holder=198.51.100.2');
    const taken = log.indexOf('start apps/waiter=198.51.100.1');
    assert.ok(
      log.includes('conflict apps/holder=198.51.100.2'),
      `the holder's first write conflicted: ${log.join('; ')}`,
    );
    assert.ok(
      released >= 0 && taken > released,
      `the waiter's write started before the holder's landed: ${log.join('; ')}`,
    );
    assert.deepEqual([current('holder'), current('waiter')], [['198.51.100.2'], ['198.51.100.1']]);
  });

  it('while the release is in flight nobody gets the address: not by request, not from the exhausted-pool fallback', async () => {
    const pools = [ipPool('a', ['198.51.100.1/32']), ipPool('b', ['198.51.100.2/32'], { autoAssign: false })];
    const { ports, current, log, update, add, held, events } = fakePorts(
      [service('holder', '2026-01-01T00:00:01Z', 80, undefined, '198.51.100.1')],
      {
        pools,
        decide: (key) => (key === 'apps/holder' ? 'hold' : undefined),
      },
    );
    // A quarantine long enough that only the fallback (nothing else free) or a request can take the address.
    const controller = newController(ports, { quarantineMs: 60_000 });
    controller.start();
    await settled(controller);
    update('holder', (svc) => withAnnotations(svc, { 'beaconlb.io/ip-pool': 'b' }));
    controller.serviceChanged('apps/holder');
    await until('the holder writes', () => held.length === 1);
    // The holder's status still shows .1: one Service asks for .1, another takes whatever is free.
    add(
      withAnnotations(service('asker', '2026-01-01T00:00:03Z', 82, undefined, undefined), {
        'beaconlb.io/load-balancer-ips': '198.51.100.1',
      }),
    );
    add(service('fresh', '2026-01-01T00:00:04Z', 83, undefined, undefined));
    controller.serviceChanged('apps/asker');
    controller.serviceChanged('apps/fresh');
    const passed = (name: string): boolean =>
      current(name).length > 0 || events.some((e) => e.startsWith(`apps/${name} Warning`));
    await until('both passes ran', () => passed('asker') && passed('fresh'));
    assert.deepEqual(
      [current('asker'), current('fresh')],
      [[], []],
      `one of them got .1 while the holder's status still showed it: ${log.join('; ')}`,
    );
    assert.ok(events.includes('apps/asker Warning IPBeingReleased'), events.join('; '));
    assert.ok(events.includes('apps/fresh Warning PoolExhausted'), events.join('; '));
    held[0]!.resolve('written');
    await until('the asker is served', () => current('asker').length > 0);
    await settled(controller);
    await controller.stop(100);
    assert.deepEqual([current('holder'), current('asker'), current('fresh')], [['198.51.100.2'], ['198.51.100.1'], []]);
    assert.ok(
      log.indexOf('landed apps/holder=198.51.100.2') < log.indexOf('start apps/asker=198.51.100.1'),
      log.join('; '),
    );
  });

  it('after a restart, an address shown by a Service whose request became invalid goes to nobody else', async () => {
    // The request turned invalid while no leader ran (or the leader only warned): the status still shows .1, and
    // kube-proxy still serves it there. A new leader must not hand .1 to another Service.
    const holder = withAnnotations(service('holder', '2026-01-01T00:00:01Z', 80, undefined, '198.51.100.1'), {
      'beaconlb.io/load-balancer-ips': 'not-an-address',
    });
    const { ports, current, update, add, events } = fakePorts([holder], { pools: [ipPool('a', ['198.51.100.1/32'])] });
    const controller = newController(ports);
    controller.start();
    await settled(controller);
    add(service('fresh', '2026-01-01T00:00:04Z', 83, undefined, undefined));
    controller.serviceChanged('apps/fresh');
    await until(
      'the fresh Service was judged',
      () => current('fresh').length > 0 || events.some((e) => e.startsWith('apps/fresh Warning')),
    );
    assert.deepEqual([current('holder'), current('fresh')], [['198.51.100.1'], []], events.join('; '));
    // Fixed, the holder keeps its address.
    update('holder', (svc) => ({ ...svc, metadata: { ...svc.metadata, annotations: {} } }));
    controller.serviceChanged('apps/holder');
    await settled(controller);
    await controller.stop(100);
    assert.deepEqual([current('holder'), current('fresh')], [['198.51.100.1'], []], events.join('; '));
  });

  it('a woken waiter that no longer needs the address hands it to the next in line', async () => {
    const { ports, current, remove } = fakePorts(
      [
        service('holder', '2026-01-01T00:00:01Z', 80, undefined, '198.51.100.1'),
        service('first', '2026-01-01T00:00:02Z', 81, undefined, undefined),
        service('second', '2026-01-01T00:00:03Z', 82, undefined, undefined),
      ],
      { pools: [ipPool('a', ['198.51.100.1/32'])] },
    );
    const controller = newController(ports, { concurrency: 1 });
    controller.start();
    await settled(controller);
    assert.equal(controller.waiting, 2);
    // "first" is deleted, but its watch event has not arrived: it is still first in line when .1 frees.
    remove('first');
    remove('holder');
    controller.serviceChanged('apps/holder');
    await until('the second waiter is served', () => current('second').length > 0);
    await settled(controller);
    await controller.stop(100);
    assert.deepEqual(current('second'), ['198.51.100.1']);
    assert.equal(controller.waiting, 0);
  });
});

describe('ServiceController: waking waiting Services', () => {
  it('2,000 Services wait for a full pool; 100 released addresses cost O(released) reconciles, not O(waiting x released)', async () => {
    const HOLDERS = 100;
    const WAITERS = 2000;
    const services: ServiceObject[] = [];
    for (let i = 1; i <= HOLDERS; i++)
      services.push(service(`holder-${i}`, '2026-01-01T00:00:01Z', 80, undefined, `198.51.100.${i}`));
    for (let i = 0; i < WAITERS; i++)
      services.push(
        service(`waiter-${i}`, `2026-01-02T00:00:${String(i % 60).padStart(2, '0')}Z`, 80, undefined, undefined),
      );
    const { ports, current, reads, remove } = fakePorts(services, {
      pools: [ipPool('a', ['198.51.100.1-198.51.100.100'])],
      maxReads: 10_000_000,
    });
    // Released addresses rest in quarantine: the waiters take them through the exhausted-pool fallback.
    const controller = newController(ports, { quarantineMs: 60_000, concurrency: 16 });
    controller.start();
    await settled(controller, 60_000);
    assert.equal(controller.waiting, WAITERS);
    const before = reads();
    const budget = 3 * HOLDERS;
    for (let i = 1; i <= HOLDERS && reads() - before <= 10 * budget; i++) {
      remove(`holder-${i}`);
      controller.serviceChanged(`apps/holder-${i}`);
      await settled(controller, 60_000);
    }
    const reconciles = reads() - before;
    await controller.stop(100);
    console.log(JSON.stringify({ waiting: WAITERS, released: HOLDERS, reconciles }));
    assert.ok(
      reconciles <= budget,
      `${reconciles} reconciles for ${HOLDERS} released addresses and ${WAITERS} waiting Services`,
    );
    const served = services.filter(
      (s) => s.metadata.name?.startsWith('waiter-') && current(s.metadata.name).length > 0,
    ).length;
    assert.deepEqual([served, controller.waiting], [HOLDERS, WAITERS - HOLDERS]);
  });
});
