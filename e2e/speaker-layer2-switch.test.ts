// The default failure detection across its switch (ADR 0019, "Start-up and fallback"): speakers without a controller
// serve by Lease liveness; when the controller publishes the first membership record they switch to probes. The real
// API server, three node namespaces, the controller stopped before the speakers start (it allocated the addresses);
// a client sends a broadcast ARP request every 50 ms across the switch: no request may be answered by two nodes.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { metricValue, probingAndAnswering } from '../src/lab/component-process.ts';
import { arpingMacs } from '../src/lab/layer2-probe.ts';
import { startProcess } from '../src/lab/managed-process.ts';
import { macAddress, startCapture } from '../src/lab/netns.ts';
import type { Host, TestBed } from '../src/lab/test-bed.ts';
import { arpProbes, doubleAnswered, readCapture } from './support/arp-answers.ts';
import { INSTALL_NAMESPACE, REPO_ROOT, useCluster } from './support/cluster.ts';
import { startController, type ControllerProcess } from './support/controller-process.ts';
import {
  applyPool,
  createObject,
  createService,
  kubeClients,
  waitFor,
  waitForIngress,
  type Kube,
} from './support/kube.ts';
import { serveNodeNames, startNodeBed } from './support/node-bed.ts';
import { startSpeaker, type SpeakerProcess } from './support/speaker-process.ts';

// The default detection, with the probe-mode Lease faster than its 10 s default (as in speaker-layer2-probes).
const SPEAKER_ARGS = [
  '--failure-detection=probes',
  '--renew-interval=500ms',
  '--lease-duration=3s',
  '--fence-margin=250ms',
  '--handover-overlap=500ms',
];
const CONTROLLER_ARGS = ['--no-leader-elect', '--membership-interval=1500ms'];
// 198.51.100.96/28: clear of the bed's hosts and of the other layer-2 suites' addresses.
const IPS = ['198.51.100.96', '198.51.100.97'];

describe('speaker: layer 2, default detection from Lease liveness to probes', () => {
  const cluster = useCluster();
  let kube: Kube;
  let bed: TestBed;
  let controller: ControllerProcess | undefined;
  const speakers = new Map<string, SpeakerProcess>();
  const macs = new Map<string, string>();

  const recordExists = async (): Promise<boolean> => {
    try {
      await kube.core.readNamespacedConfigMap({ namespace: INSTALL_NAMESPACE, name: 'beaconlb-speakers' });
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return false;
      throw error;
    }
  };
  const argsFor = (host: Host): string[] => [...SPEAKER_ARGS, `--probe-address=${host.ipv4}`];
  const singleOwner = (ip: string): Promise<string> =>
    waitFor(
      `a single owner of ${ip}`,
      async () => {
        const answered = await arpingMacs(bed.client.ns, ip, 1);
        return answered.length === 1 ? macs.get(answered[0]!) : undefined;
      },
      30_000,
    );

  before(async () => {
    kube = kubeClients(cluster.cp);
    ({ bed } = await startNodeBed(cluster, kube, 3));
    cluster.defer(() => Promise.all([...speakers.values()].map((sp) => sp.stop(3000))).then(() => undefined));
    cluster.defer(() => controller?.stop(1000) ?? Promise.resolve());
    for (const node of bed.nodes) macs.set((await macAddress(node.ns, node.dev)).toLowerCase(), node.role);
    serveNodeNames(cluster, bed.nodes, IPS, []);
    await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
    await applyPool(kube, 'l2', { addresses: ['198.51.100.96/28'] });
    await createObject(kube, 'L2Advertisement', 'l2', { ipPools: ['l2'] });
    // The controller allocates the addresses, then goes: the speakers start without one.
    controller = await startController(cluster, CONTROLLER_ARGS);
    for (const [i, ip] of IPS.entries()) {
      await createService(kube, {
        name: `switch-${i}`,
        namespace: 'web',
        annotations: { 'beaconlb.io/load-balancer-ips': ip },
      });
      await waitForIngress(kube, 'web', `switch-${i}`);
    }
    await controller.stop(1000);
    controller = undefined;
  });

  it('a controller with no speaker Lease publishes no membership record', async () => {
    assert.equal(await recordExists(), false, 'an empty first record would switch every speaker and silence them');
  });

  it('without a controller the speakers serve by Lease liveness: one node answers each address', async () => {
    for (const node of bed.nodes) speakers.set(node.role, await startSpeaker(cluster, node, argsFor(node)));
    for (const ip of IPS) await singleOwner(ip);
    for (const sp of speakers.values())
      assert.equal(metricValue(await sp.metrics(), 'beaconlb_memberlist_datagrams_sent_total'), 0);
    assert.equal(await recordExists(), false);
  });

  it('when the controller publishes the membership they switch to probes; no request is answered by two nodes', async () => {
    const ip = IPS[0]!;
    const capture = await startCapture(bed.client.ns, 'eth0', `arp host ${ip}`, cluster.dir, 'switch');
    const prober = startProcess({
      name: 'arp-prober-switch',
      command: join(REPO_ROOT, 'node_modules/.bin/node'),
      args: [join(REPO_ROOT, 'e2e/support/arp-prober.ts'), 'eth0', bed.client.ipv4, ip, '50'],
      netns: bed.client.ns,
      logFile: join(cluster.dir, 'arp-prober-switch.log'),
    });
    cluster.run.recordProcess(prober.pid);
    await sleep(1000);
    const started = performance.now();
    controller = await startController(cluster, CONTROLLER_ARGS);
    await waitFor('the membership record', async () => ((await recordExists()) ? true : undefined), 20_000);
    const recordMs = Math.round(performance.now() - started);
    for (const sp of speakers.values())
      await waitFor(
        `${sp.node} to probe and answer`,
        async () => (probingAndAnswering(await sp.metrics()) ? true : undefined),
        30_000,
      );
    const owner = await singleOwner(ip);
    await sleep(1000);
    await prober.stop(500);
    await capture.stop();
    const probes = arpProbes(await readCapture(capture.file), ip, bed.client.ipv4);
    const answered = probes.filter((p) => p.macs.length > 0).map((p) => p.t);
    let silence = 0;
    for (let i = 1; i < answered.length; i++) silence = Math.max(silence, answered[i]! - answered[i - 1]!);
    console.log(
      JSON.stringify({
        switch: 'lease -> probes',
        recordMs,
        owner,
        probes: probes.length,
        longestSilenceMs: Math.round(silence * 1000),
        doubleAnswered: doubleAnswered(probes).length,
      }),
    );
    assert.ok(probes.length >= 40, `only ${probes.length} probes captured`);
    const doubles = doubleAnswered(probes)
      .slice(0, 5)
      .map((p) => `${p.t.toFixed(3)}: ${p.macs.map((m) => macs.get(m) ?? m).join(' and ')}`);
    assert.deepEqual(doubles, [], 'answered by two nodes');
    await singleOwner(IPS[1]!);
  });
});
