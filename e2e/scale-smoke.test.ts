// The scale harness at small N against the real API server: ten hollow speakers (bench/support/hollow-speaker.ts,
// the real layer-2 election, heartbeat Lease and Lease watch, each with its own API client as the speaker's
// ServiceAccount) in this process. Checks the invariants the benchmark (bench/scale-liveness.ts) relies on:
// every participant sees every other live, exactly one owns each address, the API server counts one Lease write
// per participant per renewal interval and the watch fan-out, a killed participant is declared dead by all
// others within the lease duration plus slack and its addresses get exactly one new owner each, and a restarted
// one is taken back in. Default timings (1 s / 3 s).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { useCluster } from './support/cluster.ts';
import { requestRates, scrapeApiServer, watchEventRate } from '../bench/support/apiserver-metrics.ts';
import { DEFAULT_TIMINGS, HollowFleet, PROBE_TIMINGS } from '../bench/support/hollow-fleet.ts';

const N = 10;
/** What a loaded 2-core machine may add to the lease duration (watch delivery, pass spacing, event loop). */
const SLACK_MS = 3000;

describe('scale harness: ten hollow speakers', () => {
  const cluster = useCluster();
  let fleet: HollowFleet;

  before(async () => {
    fleet = new HollowFleet({ cp: cluster.cp, count: N, addresses: 30 });
    await fleet.start();
  });
  after(async () => {
    await fleet.stop();
  });

  it('every participant sees all ten live and each address has exactly one owner', async () => {
    await fleet.converged(60_000);
    assert.deepEqual(fleet.viewProblems(), []);
    assert.deepEqual(fleet.ownershipProblems(), []);
    const owners = fleet.participants.filter((p) => p.owned.size > 0).length;
    assert.ok(owners >= 5, `30 addresses spread over ${owners} of 10 nodes`);
    // Bounded load: no node above ceil(1.25 x mean) = ceil(3.75) = 4.
    for (const p of fleet.participants) assert.ok(p.owned.size <= 4, `${p.node} owns ${p.owned.size}`);
  });

  it('the API server counts about one Lease write per participant per second and N x N watch events', async () => {
    const before = await scrapeApiServer(cluster.cp);
    const t0 = performance.now();
    await sleep(5000);
    const afterScrape = await scrapeApiServer(cluster.cp);
    const seconds = (performance.now() - t0) / 1000;
    const writes = requestRates(before, afterScrape, seconds, 'leases')['PATCH'] ?? 0;
    // Loose bounds: renewals are every second; a loaded machine delays some, none is doubled.
    assert.ok(writes > 0.5 * N && writes < 1.5 * N, `${writes} Lease PATCH/s from ${N} participants`);
    const events = watchEventRate(before, afterScrape, seconds, 'leases');
    // Every write goes to every watcher (ten participants): about N x N per second.
    assert.ok(
      events > 0.5 * N * N && events < 1.5 * N * N + 10,
      `${events} Lease watch events/s for ${N} participants`,
    );
    assert.deepEqual(fleet.viewProblems(), []);
  });

  it('a killed participant is declared dead by all others within the lease duration plus slack, and its addresses move to one owner each', async () => {
    const victim = fleet.pickOwner(new Set());
    const owned = [...victim.owned.keys()];
    const sample = await fleet.killAndMeasure(victim, DEFAULT_TIMINGS.leaseDurationMs + SLACK_MS);
    assert.ok(sample.allDeclaredDeadMs <= DEFAULT_TIMINGS.leaseDurationMs + SLACK_MS, JSON.stringify(sample));
    assert.equal(sample.owned, owned.length);
    await fleet.converged(10_000);
    assert.deepEqual(fleet.ownershipProblems(), []);
    for (const p of fleet.participants) {
      if (!p.running) continue;
      assert.ok(!p.live.has(victim.node), `${p.node} still counts ${victim.node} live`);
      for (const address of owned) assert.ok(!p.owned.has(address) || p.node !== victim.node);
    }
    assert.ok(owned.every((address) => fleet.participants.some((p) => p.running && p.owned.has(address))));

    await fleet.restart(victim.node);
    await fleet.converged(30_000);
    assert.equal(fleet.participants.filter((p) => p.running).length, N);
    assert.deepEqual(fleet.viewProblems(), []);
  });
});

// The same harness with failure detection by probes (ADR 0019) at its default settings: the participants probe
// each other over UDP on 127.0.0.1, renew their Leases every 10 s and watch none; the controller's membership
// publisher (in this process) is the only Lease watcher.
describe('scale harness: six hollow speakers with failure detection by probes', () => {
  const cluster = useCluster();
  const n = 6;
  let fleet: HollowFleet;

  before(async () => {
    fleet = new HollowFleet({ cp: cluster.cp, count: n, addresses: 18, timings: PROBE_TIMINGS, detection: 'probes' });
    await fleet.start();
  });
  after(async () => {
    await fleet.stop();
  });

  it('every participant sees all live (once listed and 3 renewals on) and each address has exactly one owner', async () => {
    await fleet.converged(90_000);
    assert.deepEqual(fleet.viewProblems(), []);
    assert.deepEqual(fleet.ownershipProblems(), []);
  });

  it('liveness costs at most one Lease write per participant per 10 s and O(N) watch events', async () => {
    const before = await scrapeApiServer(cluster.cp);
    const t0 = performance.now();
    await sleep(20_000);
    const afterScrape = await scrapeApiServer(cluster.cp);
    const seconds = (performance.now() - t0) / 1000;
    const writes = requestRates(before, afterScrape, seconds, 'leases')['PATCH'] ?? 0;
    assert.ok(writes <= (1.2 * n) / 10, `${writes} Lease PATCH/s from ${n} participants`);
    // One watcher (the publisher): each renewal is one event.
    const events = watchEventRate(before, afterScrape, seconds, 'leases');
    assert.ok(events <= (1.5 * n) / 10 + 0.5, `${events} Lease watch events/s for ${n} participants`);
    assert.deepEqual(fleet.viewProblems(), []);
  });

  it('a killed participant is declared dead by all others in well under the lease duration, and its addresses move', async () => {
    // A process believes DOWN votes only 3 x membershipSkew (90 s) after it started (ADR 0019, P4 rule 3).
    const oldest = Math.min(...fleet.participants.map((p) => p.startedAt));
    await sleep(Math.max(0, oldest + 9 * PROBE_TIMINGS.renewIntervalMs + 2000 - performance.now()));
    const victim = fleet.pickOwner(new Set());
    const sample = await fleet.killAndMeasure(victim, 10_000);
    // The detector's bound is about 0.6 s; the slack is for a loaded machine.
    assert.ok(sample.allDeclaredDeadMs <= 3000 && sample.newOwnersMs <= 3000, JSON.stringify(sample));
    await fleet.converged(10_000);
    assert.deepEqual(fleet.ownershipProblems(), []);
  });
});
