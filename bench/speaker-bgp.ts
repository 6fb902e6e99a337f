// BGP speaker benchmarks against a real BIRD 2 router (prints one JSON object):
//  - table: N Services already assigned; a speaker starts; time from its session reaching Established (and from
//    process start) until the router holds all N routes;
//  - first route: a new Service; time from the controller's status write (the watch event carrying the address)
//    until the route is in the router's table, p50/p99 over T trials; and the same for deletion -> withdrawn;
//  - speaker RSS with N routes advertised.
// Usage: node bench/speaker-bgp.ts [--services 5000] [--trials 20]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Watch } from '@kubernetes/client-node';
import { KubeConfig } from '@kubernetes/client-node';
import { startControlPlane } from '../src/lab/control-plane.ts';
import { registerRun, sweepStaleRuns } from '../src/lab/run-registry.ts';
import { createTestBed } from '../src/lab/test-bed.ts';
import { startApiBridge } from '../src/lab/api-bridge.ts';
import { startBgpRouter } from '../src/lab/bgp-router.ts';
import { execIn } from '../src/lab/netns.ts';
import { installBase, type ClusterFixture } from '../e2e/support/cluster.ts';
import { startController } from '../e2e/support/controller-process.ts';
import { startSpeaker } from '../e2e/support/speaker-process.ts';
import { applyPool, createObject, createService, kubeClients, waitFor } from '../e2e/support/kube.ts';
import { percentile, rssMb } from './support/measure.ts';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '5000' },
    trials: { type: 'string', default: '20' },
    'keep-logs': { type: 'boolean', default: false },
  },
});
const SERVICES = Number(values.services);
const TRIALS = Number(values.trials);
const progress = (what: string): void => {
  process.stderr.write(`speaker-bgp: ${what}\n`);
};
const pct = (xs: number[], p: number): number => Math.round(percentile(xs, p) * 10) / 10;

sweepStaleRuns();
const run = registerRun();
const dir = mkdtempSync(join(tmpdir(), `beaconlb-bench-bgp-${run.id}-`));
const cp = await startControlPlane({ dir: join(dir, 'cp'), run });
const cleanups: Array<() => Promise<void> | void> = [];
const cluster: ClusterFixture = { cp, run, dir, defer: (c) => void cleanups.push(c) };
const result: Record<string, unknown> = { services: SERVICES, trials: TRIALS };
const bed = await createTestBed({ run, nodes: 1 });
const bridge = await startApiBridge(cp.port, dir, run);
try {
  installBase(cp);
  const kube = kubeClients(cp);
  const node = bed.nodes[0]!;
  await bridge.connect(node.ns);
  await kube.core.createNode({ body: { metadata: { name: node.role } } });
  await kube.core.createNamespace({ body: { metadata: { name: 'bulk' } } });
  await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
  await applyPool(kube, 'bulk', { addresses: ['2001:db8:c::/112'], allocation: { namespaces: ['bulk'] } });
  await applyPool(kube, 'web', { addresses: ['198.51.100.128/25'], allocation: { namespaces: ['web'] } });
  await createObject(kube, 'BGPPeer', 'router', {
    myASN: 65001,
    peerASN: 65000,
    peerAddress: bed.router.ipv4,
    connectTime: '1s',
  });
  await createObject(kube, 'BGPAdvertisement', 'all', { communities: ['65000:100'] });
  const controller = await startController(cluster, ['--no-leader-elect', '--log-level=warn']);
  cleanups.push(() => controller.stop(1000));

  const router = await startBgpRouter({
    kind: 'bird',
    ns: bed.router.ns,
    dir: join(dir, 'router'),
    run,
    asn: 65000,
    routerId: bed.router.ipv4,
    neighbors: [{ address: node.ipv4, asn: 65001 }],
  });
  cleanups.push(() => router.stop());
  const birdCount = async (): Promise<number> => (await router.routes(6)).length + (await router.routes(4)).length;

  progress('router started; creating Services');
  // The table: N Services assigned before the speaker starts.
  const created = Date.now();
  for (let i = 0; i < SERVICES; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, SERVICES - i) }, (_, j) =>
        createService(kube, { name: `s${i + j}`, namespace: 'bulk', ipFamilies: ['IPv6'] }),
      ),
    );
  }
  await waitFor(
    'all assigned',
    async () => {
      const list = await kube.core.listNamespacedService({ namespace: 'bulk' });
      return list.items.filter((s) => (s.status?.loadBalancer?.ingress ?? []).length > 0).length === SERVICES
        ? true
        : undefined;
    },
    600_000,
  );
  result['create_and_assign_s'] = Math.round((Date.now() - created) / 100) / 10;

  progress(`${SERVICES} Services assigned; starting the speaker`);
  const started = performance.now();
  const speaker = await startSpeaker(cluster, node, [values['keep-logs'] ? '--log-level=debug' : '--log-level=warn']);
  cleanups.push(() => speaker.stop(3000));
  const established = await waitFor(
    'Established',
    async () => ((await router.established()).includes(node.ipv4) ? performance.now() : undefined),
    60_000,
  );
  const full = await waitFor(
    'full table at the router',
    async () => ((await birdCount()) >= SERVICES ? performance.now() : undefined),
    60_000,
    20,
  );
  result['table_from_established_ms'] = Math.round(full - established);
  result['goal_table_from_established_ms'] = 2000;
  result['table_from_process_start_ms'] = Math.round(full - started);
  result['speaker_rss_mb'] = rssMb(speaker.pid);

  progress('table measured; first-route trials');
  // First route after the status update, and withdrawal after the delete.
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfig);
  const assignedAt = new Map<string, { ip: string; at: number }>();
  const watch = await new Watch(kc).watch(
    '/api/v1/namespaces/web/services',
    {},
    (
      _type: string,
      svc: { metadata?: { name?: string }; status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } },
    ) => {
      const ip = svc.status?.loadBalancer?.ingress?.[0]?.ip;
      const name = svc.metadata?.name ?? '';
      if (ip && !assignedAt.has(name)) assignedAt.set(name, { ip, at: performance.now() });
    },
    () => undefined,
  );
  const firstRoute: number[] = [];
  const withdrawn: number[] = [];
  const has = async (prefix: string): Promise<boolean> => {
    const out = await execIn(undefined, ['birdc', '-s', join(router.dir, 'bird.ctl'), 'show', 'route', 'for', prefix]);
    return out.stdout.includes(prefix.split('/')[0]!);
  };
  for (let trial = 0; trial < TRIALS; trial++) {
    const name = `t${trial}`;
    await createService(kube, { name, namespace: 'web' });
    const assigned = await waitFor('assigned', () => assignedAt.get(name), 10_000, 1);
    const seen = await waitFor(
      'route at the router',
      async () => ((await has(`${assigned.ip}/32`)) ? performance.now() : undefined),
      10_000,
      2,
    );
    firstRoute.push(seen - assigned.at);
    const deleted = performance.now();
    await kube.core.deleteNamespacedService({ namespace: 'web', name });
    const gone = await waitFor(
      'route withdrawn',
      async () => ((await has(`${assigned.ip}/32`)) ? undefined : performance.now()),
      10_000,
      2,
    );
    withdrawn.push(gone - deleted);
    await sleep(50);
  }
  watch.abort();
  result['first_route_after_status_ms'] = {
    p50: pct(firstRoute, 50),
    p99: pct(firstRoute, 99),
    max: pct(firstRoute, 100),
  };
  result['goal_first_route_after_status_ms'] = 200;
  result['withdrawn_after_delete_ms'] = { p50: pct(withdrawn, 50), p99: pct(withdrawn, 99), max: pct(withdrawn, 100) };
  result['goal_withdrawn_after_delete_ms'] = 1000;
} finally {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      console.error('cleanup failed:', error);
    }
  }
  await bridge.stop();
  bed.destroy();
  await cp.stop();
  run.close();
  if (values['keep-logs']) progress(`logs kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(result, null, 2));
