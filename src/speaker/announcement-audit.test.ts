import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IPPool } from '../core/config/api-types.generated.ts';
import { allocationCondition } from '../core/config/allocation-record.ts';
import type { ServiceObject } from '../core/config/service-object.ts';
import { ANNOUNCEMENT_REFUSED, AnnouncementAudit, type AuditInputs } from './announcement-audit.ts';
import { ManualClock, flushMicrotasks } from '../test-support/manual-clock.ts';
import { silentLogger } from '../test-support/silent-logger.ts';

const POOL: IPPool = {
  apiVersion: 'beaconlb.io/v1alpha1',
  kind: 'IPPool',
  metadata: { name: 'lan' },
  spec: { addresses: ['198.51.100.64/27'] },
};
const service = (name: string, ip: string, recorded: boolean): ServiceObject => ({
  metadata: { name, namespace: 'web' },
  spec: { type: 'LoadBalancer' },
  status: {
    loadBalancer: { ingress: [{ ip }] },
    ...(recorded ? { conditions: [allocationCondition([ip], '2026-01-01T00:00:00Z')] } : {}),
  },
});

function audited(reporter = { now: true }): {
  clock: ManualClock;
  audit: AnnouncementAudit;
  world: AuditInputs;
  events: string[];
} {
  const clock = new ManualClock(0);
  const world: AuditInputs = { services: [], pools: [POOL], namespaces: [], loadBalancerClass: 'beaconlb.io/beaconlb' };
  const events: string[] = [];
  const audit = new AnnouncementAudit({
    clock,
    log: silentLogger(),
    inputs: () => world,
    recordEvent: (svc, type, reason, message) => events.push(`${svc} ${type} ${reason} ${message.split(' ')[0] ?? ''}`),
    intervalMs: 1000,
    reports: () => reporter.now,
  });
  return { clock, audit, world, events };
}

describe('AnnouncementAudit', () => {
  it('reviews only the Services that changed since the last audit, and all of them again when a pool changes', () => {
    const { audit, world } = audited();
    const services = Array.from({ length: 1000 }, (_, i) => service(`s-${i}`, `198.51.100.${64 + (i % 32)}`, true));
    world.services = [...services, service('forged', '198.51.100.70', false)];
    assert.equal(audit.audit().length, 1);
    const reviewed = audit.servicesReviewed;
    world.services = [...services, service('forged', '198.51.100.70', false), service('new', '198.51.100.71', false)];
    assert.deepEqual(
      audit.audit().map((r) => r.service),
      ['web/forged', 'web/new'],
    );
    assert.equal(audit.servicesReviewed - reviewed, 2, 'the 1,000 unchanged Services are not reviewed again');
    world.pools = [{ ...POOL, spec: { addresses: ['198.51.100.64/28'] } }];
    audit.audit();
    assert.equal(audit.servicesReviewed - reviewed, 2 + 1002);
  });

  it('records one Warning per refused address when it appears, none while it stays, and again when it comes back', async () => {
    const { clock, audit, world, events } = audited();
    world.services = [service('good', '198.51.100.65', true), service('forged', '198.51.100.66', false)];
    audit.start(Promise.resolve());
    await flushMicrotasks();
    clock.advance(0);
    assert.deepEqual(events, [`web/forged Warning ${ANNOUNCEMENT_REFUSED} 198.51.100.66`]);
    audit.changed();
    clock.advance(1000);
    assert.equal(events.length, 1, 'not repeated while the refusal stays');
    world.services = [service('good', '198.51.100.65', true)];
    audit.changed();
    clock.advance(1000);
    world.services = [service('good', '198.51.100.65', true), service('forged', '198.51.100.66', false)];
    audit.changed();
    clock.advance(1000);
    assert.equal(events.length, 2, 'recorded again after it went away and came back');
  });

  it('only the reporting speaker records the Event; one that becomes the reporter records what is still refused', async () => {
    const reporter = { now: false };
    const { clock, audit, world, events } = audited(reporter);
    world.services = [service('forged', '198.51.100.66', false)];
    audit.start(Promise.resolve());
    await flushMicrotasks();
    clock.advance(0);
    assert.deepEqual(events, [], 'not the reporter: no Event');
    reporter.now = true;
    audit.changed();
    clock.advance(1000);
    assert.deepEqual(events, [`web/forged Warning ${ANNOUNCEMENT_REFUSED} 198.51.100.66`]);
    audit.changed();
    clock.advance(1000);
    assert.equal(events.length, 1, 'once');
  });

  it('audits at most once per interval however many changes arrive, and nothing before the caches synced', async () => {
    const { clock, audit, world, events } = audited();
    world.services = [service('forged', '198.51.100.66', false)];
    audit.changed();
    clock.advance(5000);
    assert.deepEqual(events, [], 'nothing before start');
    audit.start(Promise.resolve());
    await flushMicrotasks();
    clock.advance(0);
    assert.equal(events.length, 1);
    world.services = [service('forged', '198.51.100.67', false)];
    for (let i = 0; i < 100; i++) audit.changed();
    clock.advance(999);
    assert.equal(events.length, 1, 'the next audit waits for the interval');
    clock.advance(1);
    assert.equal(events.length, 2);
    assert.equal(clock.pendingTimers, 0, 'one audit for a hundred changes');
  });
});
