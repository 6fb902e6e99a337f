// Restart safety and high availability of the controller, against the real API server, as separate processes
// under the controller ServiceAccount: a restart rewrites nothing and moves nothing; two replicas elect one
// leader by Lease, the follower never writes, and a killed leader is replaced.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { useCluster } from './support/cluster.ts';
import { metricValue, startController, type ControllerProcess } from './support/controller-process.ts';
import {
  applyPool,
  createService,
  ingressIps,
  kubeClients,
  readService,
  waitFor,
  waitForIngress,
  type Kube,
} from './support/kube.ts';

const SERVICES = 60;

describe('controller: restart and leader election', () => {
  const cluster = useCluster();
  let kube: Kube;
  const running: ControllerProcess[] = [];

  before(async () => {
    kube = kubeClients(cluster.cp);
    await kube.core.createNamespace({ body: { metadata: { name: 'apps' } } });
    await applyPool(kube, 'main', { addresses: ['198.51.100.0/24', '2001:db8:5::/112'] });
  });
  after(async () => {
    await Promise.all(running.map((p) => p.stop(1000)));
  });

  const start = async (args: string[]): Promise<ControllerProcess> => {
    const p = await startController(cluster, args);
    running.push(p);
    return p;
  };

  it('keeps every address and rewrites nothing across a restart, then serves new Services at once', async () => {
    const first = await start(['--no-leader-elect']);
    await Promise.all(
      Array.from({ length: SERVICES }, (_, i) =>
        createService(kube, {
          name: `svc-${i}`,
          namespace: 'apps',
          ...(i % 3 === 0 ? { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' } : {}),
        }),
      ),
    );
    const before = new Map<string, { ips: string[]; version: string }>();
    for (let i = 0; i < SERVICES; i++) {
      const ips = await waitForIngress(kube, 'apps', `svc-${i}`, i % 3 === 0 ? 2 : 1);
      before.set(`svc-${i}`, { ips, version: '' });
    }
    // Let the last status writes settle, then record resource versions.
    await waitFor('status writes to settle', async () => {
      const m = await first.metrics();
      const written = metricValue(m, 'beaconlb_controller_status_writes_total{result="written"}');
      return written >= SERVICES ? written : undefined;
    });
    for (const [name, entry] of before)
      entry.version = (await readService(kube, 'apps', name)).metadata?.resourceVersion ?? '';

    const stopping = performance.now();
    await first.stop(5000);
    const stopMs = performance.now() - stopping;
    assert.ok(stopMs < 2000, `SIGTERM shutdown took ${Math.round(stopMs)} ms`);

    await createService(kube, { name: 'late', namespace: 'apps' });
    const restarted = performance.now();
    const second = await start(['--no-leader-elect']);
    const [late] = await waitForIngress(kube, 'apps', 'late');
    const readyMs = performance.now() - restarted;
    const allOld = [...before.values()].flatMap((e) => e.ips);
    assert.ok(!allOld.includes(late!), `the new Service got ${late}, an address already held`);
    for (const [name, entry] of before) {
      const svc = await readService(kube, 'apps', name);
      assert.deepEqual(ingressIps(svc), entry.ips, `${name} changed address`);
      assert.equal(svc.metadata?.resourceVersion, entry.version, `${name} was rewritten by the restart`);
    }
    const m = await second.metrics();
    assert.equal(
      metricValue(m, 'beaconlb_controller_status_writes_total{result="written"}'),
      1,
      'only the new Service is written',
    );
    console.log(
      JSON.stringify({ sigtermStopMs: Math.round(stopMs), restartToNewIpMs: Math.round(readyMs), services: SERVICES }),
    );
    await second.stop(2000);
  });

  it('elects one leader of two replicas; the follower never writes; a killed leader is replaced', async () => {
    const election = ['--lease-duration=2s', '--renew-deadline=1500ms', '--retry-period=250ms'];
    const a = await start(election);
    const b = await start(election);
    const isLeader = async (p: ControllerProcess): Promise<boolean> =>
      metricValue(await p.metrics(), 'beaconlb_controller_leader') === 1;
    const leader = await waitFor(
      'a leader',
      async () => ((await isLeader(a)) ? a : (await isLeader(b)) ? b : undefined),
      10_000,
    );
    const follower = leader === a ? b : a;
    assert.equal(await isLeader(follower), false);

    await createService(kube, { name: 'ha-1', namespace: 'apps' });
    await waitForIngress(kube, 'apps', 'ha-1');
    const followerWrites = (p: string): number =>
      ['written', 'conflict', 'error'].reduce(
        (sum, r) => sum + metricValue(p, `beaconlb_controller_status_writes_total{result="${r}"}`),
        0,
      );
    assert.equal(followerWrites(await follower.metrics()), 0, 'the follower wrote status');

    const killed = performance.now();
    await leader.kill();
    await waitFor('the follower to lead', async () => ((await isLeader(follower)) ? true : undefined), 10_000);
    const takeoverMs = performance.now() - killed;
    await createService(kube, { name: 'ha-2', namespace: 'apps' });
    await waitForIngress(kube, 'apps', 'ha-2');
    const servedMs = performance.now() - killed;
    console.log(
      JSON.stringify({
        leaseDurationMs: 2000,
        retryPeriodMs: 250,
        takeoverMs: Math.round(takeoverMs),
        firstServiceAfterKillMs: Math.round(servedMs),
      }),
    );
    // The follower measures staleness from its own observation of the last renewal, which lags by up to one retry period.
    assert.ok(takeoverMs < 2000 + 2 * 250 + 500, `takeover took ${Math.round(takeoverMs)} ms`);
  });
});
