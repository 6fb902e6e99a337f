// The Service controller on fake ports, renumbering (ADR 0028): a Service with a renumber window in a draining pool
// shows its old and new addresses, with the window's end recorded in its status, then only the new one; and a
// controller that starts in the middle of a window (a restart, a new leader) reads the end back from the status and
// releases the old address on time, without a timer surviving from before.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fakePorts, ipPool, newController, service, settled, until } from '../test-support/fake-controller-ports.ts';
import type { ServiceObject } from '../core/config/service-object.ts';
import { allocationCondition } from '../core/config/allocation-record.ts';
import { RENUMBERING_CONDITION, rfc3339 } from '../core/config/renumber-record.ts';
import { ipv4 } from '../core/ip/ip-address.ts';

const withAnnotations = (svc: ServiceObject, annotations: Record<string, string>): ServiceObject => ({
  ...svc,
  metadata: { ...svc.metadata, annotations: { ...svc.metadata.annotations, ...annotations } },
});

const renumbering = (svc: ServiceObject | undefined): string | undefined =>
  svc?.status?.conditions?.find((c) => c.type === RENUMBERING_CONDITION)?.message;

describe('ServiceController: renumbering', () => {
  it('moves a Service off a draining pool with both addresses shown for the window, then only the new one', async () => {
    const pools = [ipPool('old', ['198.51.100.1/32'], { drain: true }), ipPool('new', ['203.0.113.1/32'])];
    const web = withAnnotations(service('web', '2026-01-01T00:00:01Z', 80, undefined, '198.51.100.1'), {
      'beaconlb.io/renumber-window': '2s',
    });
    const { ports, current, events } = fakePorts(
      [
        web,
        withAnnotations(service('late', '2026-01-01T00:00:02Z', 81, undefined, undefined), {
          'beaconlb.io/ip-pool': 'old',
        }),
      ],
      { pools },
    );
    const controller = newController(ports);
    controller.start();
    await settled(controller);
    assert.deepEqual(current('web'), ['203.0.113.1', '198.51.100.1'], 'the new address first, the old one beside it');
    const record = renumbering(ports.services.get('apps/web'));
    assert.match(record ?? '', /^198\.51\.100\.1 until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const recordedIps = ports.services
      .get('apps/web')
      ?.status?.conditions?.find((c) => c.type === 'beaconlb.io/Allocated')?.message;
    assert.equal(
      recordedIps,
      '203.0.113.1,198.51.100.1',
      'the allocation record holds both: the speakers announce both',
    );
    assert.ok(events.includes('apps/web Normal RenumberStarted'), events.join('; '));
    assert.ok(
      events.includes('apps/late Warning PoolDraining'),
      'a new Service that only the draining pool could serve is told so',
    );
    await until('the window ends', () => current('web').length === 1, 6000);
    await settled(controller);
    await controller.stop(100);
    assert.deepEqual(current('web'), ['203.0.113.1']);
    assert.equal(renumbering(ports.services.get('apps/web')), undefined, 'the record is gone with the window');
    assert.ok(events.includes('apps/web Normal RenumberCompleted'), events.join('; '));
  });

  it('a controller that starts during a window keeps both addresses, then releases the old one when the recorded end passes', async () => {
    const pools = [ipPool('old', ['198.51.100.0/29'], { drain: true }), ipPool('new', ['203.0.113.0/29'])];
    // The fake world's clock starts at its wall epoch (ManualClock's default): the window ends 3 s after.
    const end = Date.UTC(2025, 0, 1) + 3000;
    const web: ServiceObject = withAnnotations(service('web', '2026-01-01T00:00:01Z', 80, undefined, undefined), {
      'beaconlb.io/renumber-window': '1h',
    });
    web.status = {
      loadBalancer: {
        ingress: [
          { ip: '203.0.113.0', ipMode: 'VIP' },
          { ip: '198.51.100.0', ipMode: 'VIP' },
        ],
      },
      conditions: [
        allocationCondition(['203.0.113.0', '198.51.100.0'], '2026-01-01T00:00:00Z'),
        {
          type: RENUMBERING_CONDITION,
          status: 'True',
          reason: 'Renumbering',
          message: `198.51.100.0 until ${rfc3339(end)}`,
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    };
    // A Service that asks for the old address while it is retiring: it must not get it.
    const asker = withAnnotations(service('asker', '2026-01-01T00:00:02Z', 81, undefined, undefined), {
      'beaconlb.io/load-balancer-ips': '198.51.100.0',
    });
    const { ports, current, log, events, clock } = fakePorts([web, asker], { pools });
    assert.equal(clock.wallTime().getTime(), Date.UTC(2025, 0, 1));
    const controller = newController(ports);
    controller.start();
    await settled(controller);
    assert.deepEqual(current('web'), ['203.0.113.0', '198.51.100.0'], 'restored as it was, rewritten not at all');
    assert.ok(
      !log.some((l) => l.startsWith('start apps/web')),
      `the restart rewrote a right status: ${log.join('; ')}`,
    );
    assert.deepEqual(
      controller.table.holdersOf(ipv4(198, 51, 100, 0)),
      ['apps/web'],
      'the old address stays held by its Service',
    );
    assert.deepEqual(current('asker'), []);
    await until('the recorded end passes', () => current('web').length === 1, 8000);
    const released = clock.wallTime().getTime();
    await controller.stop(100);
    assert.deepEqual(current('web'), ['203.0.113.0']);
    assert.ok(released >= end, `released ${end - released} ms before the recorded end`);
    assert.ok(events.includes('apps/web Normal RenumberCompleted'), events.join('; '));
  });

  it('a move that must wait is reported, also when no pool has the family (the Service keeps its address)', async () => {
    const pools = [ipPool('a', ['198.51.100.1/32']), ipPool('v6', ['2001:db8::/126'], { autoAssign: false })];
    const web = withAnnotations(service('web', '2026-01-01T00:00:01Z', 80, undefined, '198.51.100.1'), {
      'beaconlb.io/renumber-window': '1m',
    });
    const { ports, current, events, update } = fakePorts([web], { pools });
    const controller = newController(ports);
    controller.start();
    await settled(controller);
    update('web', (svc) => withAnnotations(svc, { 'beaconlb.io/ip-pool': 'v6' }));
    controller.serviceChanged('apps/web');
    await until('the Warning', () => events.includes('apps/web Warning NoMatchingPool'));
    await settled(controller);
    await controller.stop(100);
    assert.deepEqual(current('web'), ['198.51.100.1']);
  });
});
