// API writes of the ServiceAnnouncement records (ADR 0024) at scale, against the real API server (prints one JSON
// object). Hollow speakers in this process each run the real publisher and store (src/speaker/announcement-
// publisher.ts, src/k8s/service-announcement-store.ts) on their own API client, with the speaker's defaults (50
// writes/s, burst 100, 4 in flight, 250 ms debounce), and renew their heartbeat Lease every second on that same client;
// the controller's sweeper (src/k8s/announcement-sweeper.ts) removes the records of a dead node. Layer-2 ownership is
// the speakers' own function (rendezvous hash with bounded load). Phases, each with the writes it cost:
//  - initial: N Services announced by 3 nodes (one record each);
//  - steady: the same announcement recomputed (goal: 0 writes);
//  - create: one Service created (goal: 1 write);
//  - failover: node3 dies (no more renewals, no writes): node1 and node2 take its addresses (one apply per moved
//    Service), the sweeper deletes node3's records once its Lease is stale (one delete each); time until every
//    Service has exactly its new owner's record, and the Lease renewal latency of node1 during that storm against idle;
//  - BGP peer down: records list the peers a node advertises to, not session states, so a session going down costs no
//    record write (the BGPPeer status entry of each node changes: 1 write per node); listing Established peers
//    instead would rewrite every Service's record on every node (computed, not run).
// Usage: node bench/announcement-writes.ts [--services 5000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startControlPlane } from '../src/lab/control-plane.ts';
import { registerRun } from '../src/lab/run-registry.ts';
import { installBase } from '../e2e/support/cluster.ts';
import { kubeClients } from '../e2e/support/kube.ts';
import { ApiClient } from '../src/k8s/api/api-client.ts';
import { loadConnection } from '../src/k8s/api/kube-config.ts';
import { HeartbeatLease } from '../src/k8s/heartbeat-lease.ts';
import { ServiceAnnouncementStore } from '../src/k8s/service-announcement-store.ts';
import { AnnouncementSweeper } from '../src/k8s/announcement-sweeper.ts';
import { AnnouncementPublisher } from '../src/speaker/announcement-publisher.ts';
import type { AnnouncementRecord } from '../src/speaker/announcement-records.ts';
import { ownersOf } from '../src/core/election/rendezvous-owner.ts';
import { systemClock } from '../src/platform/clock.ts';
import { createLogger } from '../src/platform/logger.ts';
import { percentile } from './support/measure.ts';
import { requestRates, scrapeApiServer } from './support/apiserver-metrics.ts';

const { values } = parseArgs({ options: { services: { type: 'string', default: '5000' } } });
const N = Number(values.services);
const NODES = ['node1', 'node2', 'node3'];
const NS = 'bench';
const WRITES_PER_SECOND = 50;
const log = createLogger({ level: 'warn', component: 'bench', destination: process.stderr });
const clock = systemClock;

interface HollowNode {
  node: string;
  client: ApiClient;
  store: ServiceAnnouncementStore;
  publisher: AnnouncementPublisher;
  writes: { apply: number; delete: number; errors: number };
  renewing: boolean;
  renewMs: Array<{ at: number; ms: number }>;
}

const run = registerRun();
const dir = mkdtempSync(join(tmpdir(), `beaconlb-bench-${run.id}-`));
const cp = await startControlPlane({
  dir: join(dir, 'cp'),
  run,
  apiServerArgs: ['--max-requests-inflight=800', '--max-mutating-requests-inflight=400'],
});
const result: Record<string, unknown> = {
  services: N,
  nodes: NODES.length,
  writes_per_second_per_speaker: WRITES_PER_SECOND,
};
const hollow: HollowNode[] = [];
let sweeper: AnnouncementSweeper | undefined;
try {
  installBase(cp);
  const kube = kubeClients(cp);
  await kube.core.createNamespace({ body: { metadata: { name: NS } } });
  // Headless Services: the records need only their uid (no addresses are networked here).
  const uids = new Map<string, string>();
  const create = async (i: number): Promise<void> => {
    const svc = await kube.core.createNamespacedService({
      namespace: NS,
      body: { metadata: { name: `s${i}` }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } },
    });
    uids.set(`${NS}/s${i}`, svc.metadata?.uid ?? '');
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < N) await create(next++);
    }),
  );
  const address = (i: number): bigint => 0x20010db8_0100_0000_0000_0000_0000_0000n + BigInt(i);
  const text = (i: number): string => `2001:db8:100::${i.toString(16)}`;

  for (const node of NODES) {
    const client = new ApiClient(loadConnection(cp.kubeconfig), `bench-speaker/${node}`);
    const h: HollowNode = {
      node,
      client,
      writes: { apply: 0, delete: 0, errors: 0 },
      renewing: true,
      renewMs: [],
      store: undefined as unknown as ServiceAnnouncementStore,
      publisher: undefined as unknown as AnnouncementPublisher,
    };
    h.store = new ServiceAnnouncementStore({
      client,
      clock,
      log,
      node,
      serviceUid: (key) => uids.get(key),
      onObservedChange: (key) => {
        h.publisher.observedChanged(key);
      },
      onResync: () => {
        h.publisher.resync();
      },
    });
    h.publisher = new AnnouncementPublisher({
      clock,
      log,
      store: h.store,
      writesPerSecond: WRITES_PER_SECOND,
      burst: 2 * WRITES_PER_SECOND,
      maxInFlight: 4,
      debounceMs: 250,
      retryMs: 5000,
      startGraceMs: 10_000,
      onWrite: (verb, ok) => {
        if (!ok) h.writes.errors++;
        else if (verb === 'apply') h.writes.apply++;
        else h.writes.delete++;
      },
    });
    hollow.push(h);
    h.store.informer.start();
    await h.store.informer.synced;
    h.publisher.start();
    // The heartbeat on the same client, every second, timed.
    const lease = new HeartbeatLease({ client, namespace: 'beaconlb-system', node, clock, leaseDurationMs: 3000 });
    void (async () => {
      while (h.renewing) {
        const t = performance.now();
        try {
          await lease.renew(false, 5000);
          h.renewMs.push({ at: t, ms: performance.now() - t });
        } catch {
          h.renewMs.push({ at: t, ms: Number.NaN });
        }
        await sleep(1000);
      }
    })();
  }
  let sweptDeletes = 0;
  sweeper = new AnnouncementSweeper({
    client: new ApiClient(loadConnection(cp.kubeconfig), 'bench-controller'),
    clock,
    log,
    namespace: 'beaconlb-system',
    serviceUid: (key) => uids.get(key),
    deadAfterMs: 5000,
    intervalMs: 1000,
    onDelete: (_reason, ok) => {
      if (ok) sweptDeletes++;
    },
  });
  sweeper.start();

  const count = (services: number): Map<string, AnnouncementRecord>[] => {
    const live = new Set(hollow.filter((h) => h.renewing).map((h) => h.node));
    const owners = ownersOf({
      addresses: Array.from({ length: services }, (_, i) => ({ address: address(i), eligible: NODES })),
      live,
    });
    const perNode = NODES.map(() => new Map<string, AnnouncementRecord>());
    for (let i = 0; i < services; i++) {
      const owner = owners.get(address(i));
      const index = NODES.indexOf(owner ?? '');
      if (index >= 0) perNode[index]!.set(`${NS}/s${i}`, { layer2: { addresses: [text(i)], interfaces: ['eth0'] } });
    }
    return perNode;
  };
  const totals = (): { apply: number; delete: number; errors: number } =>
    hollow.reduce(
      (t, h) => ({
        apply: t.apply + h.writes.apply,
        delete: t.delete + h.writes.delete,
        errors: t.errors + h.writes.errors,
      }),
      { apply: 0, delete: 0, errors: 0 },
    );
  const diff = (a: ReturnType<typeof totals>, b: ReturnType<typeof totals>): ReturnType<typeof totals> => ({
    apply: b.apply - a.apply,
    delete: b.delete - a.delete,
    errors: b.errors - a.errors,
  });
  const publish = (services: number): void => {
    const perNode = count(services);
    hollow.forEach((h, i) => {
      if (h.renewing) h.publisher.update(perNode[i]!);
    });
  };
  const settled = async (timeoutMs: number): Promise<number> => {
    const start = performance.now();
    await sleep(400);
    while (hollow.some((h) => h.renewing && h.publisher.pending > 0) && performance.now() - start < timeoutMs)
      await sleep(50);
    return Math.round(performance.now() - start);
  };
  /** Every Service has one record, of its owner now; resolves with the ms it took. */
  const converged = async (services: number, timeoutMs: number): Promise<number> => {
    const start = performance.now();
    const perNode = count(services);
    for (;;) {
      const items = (
        (await kube.custom.listNamespacedCustomObject({
          group: 'beaconlb.io',
          version: 'v1alpha1',
          namespace: NS,
          plural: 'serviceannouncements',
        })) as { items: Array<{ spec: { service: string; node: string } }> }
      ).items;
      const byService = new Map<string, string[]>();
      for (const item of items)
        byService.set(item.spec.service, [...(byService.get(item.spec.service) ?? []), item.spec.node]);
      let ok = byService.size === services;
      for (let i = 0; ok && i < services; i++) {
        const nodes = byService.get(`s${i}`) ?? [];
        const owner = NODES.find((_, n) => perNode[n]!.has(`${NS}/s${i}`));
        ok = nodes.length === 1 && nodes[0] === owner;
      }
      if (ok) return Math.round(performance.now() - start);
      if (performance.now() - start > timeoutMs) throw new Error('records did not converge');
      await sleep(500);
    }
  };

  // initial
  let before = totals();
  let t0 = performance.now();
  publish(N);
  await settled(600_000);
  result['initial'] = {
    writes: diff(before, totals()),
    converge_ms: Math.round(performance.now() - t0) + (await converged(N, 60_000)),
  };

  // steady: recompute, nothing changed
  before = totals();
  publish(N);
  await sleep(2000);
  result['steady'] = { writes: diff(before, totals()), goal_writes: 0 };

  // create one Service
  await create(N);
  before = totals();
  t0 = performance.now();
  publish(N + 1);
  await settled(30_000);
  result['service_created'] = {
    writes: diff(before, totals()),
    goal_writes: 1,
    ms: Math.round(performance.now() - t0),
  };

  // failover: node3 dies
  const owned3 = count(N + 1)[2]!.size;
  const idle = hollow[0]!.renewMs.filter((r) => !Number.isNaN(r.ms)).map((r) => r.ms);
  const dead = hollow[2]!;
  dead.renewing = false;
  dead.publisher.stop();
  dead.store.informer.stop();
  before = totals();
  const deletesBefore = sweptDeletes;
  const scrapeBefore = await scrapeApiServer(cp);
  t0 = performance.now();
  const stormFrom = t0;
  // The survivors see node3's Lease go stale after the lease duration (3 s) and take over.
  await sleep(3000);
  publish(N + 1);
  const speakersMs = (await settled(600_000)) + 3000;
  const convergeMs = Math.round(performance.now() - t0) + (await converged(N + 1, 600_000));
  const seconds = (performance.now() - t0) / 1000;
  const apiserver = requestRates(scrapeBefore, await scrapeApiServer(cp), seconds, 'serviceannouncements');
  const storm = hollow[0]!.renewMs.filter((r) => r.at >= stormFrom && !Number.isNaN(r.ms)).map((r) => r.ms);
  result['failover'] = {
    services_moved: owned3,
    speaker_writes: diff(before, totals()),
    controller_deletes: sweptDeletes - deletesBefore,
    total_writes: diff(before, totals()).apply + diff(before, totals()).delete + sweptDeletes - deletesBefore,
    writes_per_moved_service:
      Math.round(((diff(before, totals()).apply + sweptDeletes - deletesBefore) / Math.max(1, owned3)) * 100) / 100,
    speakers_done_ms: speakersMs,
    all_records_right_ms: convergeMs,
    apiserver_requests_per_second: apiserver,
    lease_renew_ms_node1: {
      idle_p50: Math.round(percentile(idle, 50) * 10) / 10,
      idle_p99: Math.round(percentile(idle, 99) * 10) / 10,
      storm_p50: Math.round(percentile(storm, 50) * 10) / 10,
      storm_p99: Math.round(percentile(storm, 99) * 10) / 10,
      storm_max: Math.round(Math.max(...storm) * 10) / 10,
      storm_samples: storm.length,
    },
  };

  // BGP: computed (see the header).
  result['bgp_peer_down'] = {
    record_writes: 0,
    bgppeer_status_writes: NODES.length,
    if_records_listed_established_peers: (N + 1) * NODES.length,
    seconds_at_writes_per_second: Math.round((N + 1) / WRITES_PER_SECOND),
  };
  result['bgp_service_created'] = { record_writes: NODES.length, note: 'one record per advertising node' };
} finally {
  sweeper?.stop();
  for (const h of hollow) {
    h.renewing = false;
    h.publisher.stop();
    h.store.informer.stop();
    h.client.close();
  }
  await cp.stop();
  run.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(result, null, 2));
