// Leader election against an in-memory Lease (src/test-support/in-memory-lease.ts) with resourceVersion preconditions, on a manual clock: at most one
// leader at any instant, also when the leader's renewals hang (an API server going down accepts connections and
// never answers).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderElector } from './leader-election.ts';
import { InMemoryLease } from '../test-support/in-memory-lease.ts';
import { ManualClock } from '../test-support/manual-clock.ts';
import { silentLogger } from '../test-support/silent-logger.ts';

function elector(server: InMemoryLease, clock: ManualClock, identity: string, events: string[]): LeaderElector {
  return new LeaderElector({
    client: server.client(identity),
    namespace: 'beaconlb-system',
    name: 'beaconlb-controller',
    identity,
    leaseDurationMs: 2000,
    renewDeadlineMs: 1500,
    retryPeriodMs: 250,
    clock,
    log: silentLogger(),
    onStartedLeading: () => events.push(`${clock.now()} ${identity} leads`),
    onStoppedLeading: () => events.push(`${clock.now()} ${identity} stops`),
  });
}

/** Read through a function: the getter changes while the test awaits. */
const leads = (e: LeaderElector): boolean => e.isLeader;

describe('LeaderElector', () => {
  it('a leader whose renewals hang steps down within renewDeadline of its last renewal, before a follower takes over', async () => {
    const clock = new ManualClock();
    const server = new InMemoryLease();
    const events: string[] = [];
    const a = elector(server, clock, 'a', events);
    void a.start();
    await clock.settle(0);
    assert.ok(a.isLeader);
    const b = elector(server, clock, 'b', events);
    void b.start();
    await clock.settle(1000);
    // From now on a's requests never answer; b's do.
    server.cutOff.add('a');
    const cut = clock.now();
    let overlap = 0;
    for (let t = 0; t < 5000; t += 10) {
      await clock.settle(10);
      if (leads(a) && leads(b)) overlap++;
    }
    assert.equal(overlap, 0, `both led at once: ${events.join('; ')}`);
    assert.ok(!leads(a) && leads(b), events.join('; '));
    const stopped = Number(events.find((e) => e.endsWith('a stops'))?.split(' ')[0]);
    assert.ok(stopped <= cut + 1500, `a stepped down ${stopped - cut} ms after its requests hung`);
    a.stop().catch(() => undefined);
    await b.stop();
  });

  it('two candidates: exactly one leads, never both at once', async () => {
    const clock = new ManualClock();
    const server = new InMemoryLease();
    const events: string[] = [];
    const a = elector(server, clock, 'a', events);
    const b = elector(server, clock, 'b', events);
    void a.start();
    void b.start();
    for (let t = 0; t < 3000; t += 10) {
      await clock.settle(10);
      assert.ok(!(leads(a) && leads(b)));
    }
    assert.equal([a, b].filter(leads).length, 1);
    assert.equal(server.lease?.spec?.holderIdentity, leads(a) ? 'a' : 'b');
    await a.stop();
    await b.stop();
  });
});
