// The layer-2 speaker under faults that leave a node alive but wrong: a silently dead watch (its view goes stale)
// and a dead LAN link. Real API server, controller and three node namespaces; every speaker reaches the API server
// through its own proxy (e2e/support/watch-blackhole-proxy.ts) that can blackhole one watch. A client on the
// segment sends a broadcast ARP request every 50 ms for the whole case and captures every reply: no request may be
// answered by two nodes.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startApiBridge } from '../src/lab/api-bridge.ts';
import { metricValue } from '../src/lab/component-process.ts';
import { arpingMacs } from '../src/lab/layer2-probe.ts';
import { ownersOf } from '../src/core/election/rendezvous-owner.ts';
import { parseIp } from '../src/core/ip/ip-address.ts';
import { startProcess } from '../src/lab/managed-process.ts';
import { ipBatch, macAddress, mustExecIn, startCapture, type Capture } from '../src/lab/netns.ts';
import { createTestBed, SEGMENT_A, type Host, type TestBed } from '../src/lab/test-bed.ts';
import {
  arpProbes,
  doubleAnswered,
  firstAnswerBy,
  lastAnswerBy,
  readCapture,
  type ArpProbe,
} from './support/arp-answers.ts';
import { REPO_ROOT, useCluster } from './support/cluster.ts';
import { startController } from './support/controller-process.ts';
import {
  applyPool,
  createObject,
  createService,
  eventsFor,
  kubeClients,
  waitFor,
  waitForIngress,
  type Kube,
} from './support/kube.ts';
import { serveNodeNames } from './support/node-bed.ts';
import { startSpeaker, type SpeakerProcess } from './support/speaker-process.ts';
import { servicesWatch, startWatchBlackholeProxy, type WatchBlackholeProxy } from './support/watch-blackhole-proxy.ts';

// Faster than the defaults (1 s / 3 s / 10 s), slower than the other layer-2 suite: this one also runs a TLS proxy
// per speaker in the test process, on a machine that may be busy.
const LEASE_MS = 2000;
/** The stated bound for a silently dead watch. */
const STALE_VIEW_MS = 4000;
const SPEAKER_ARGS = [
  '--renew-interval=500ms',
  `--lease-duration=${LEASE_MS}ms`,
  '--fence-margin=500ms',
  '--handover-overlap=500ms',
  `--stale-view-after=${STALE_VIEW_MS}ms`,
];
// 198.51.100.96/28: clear of the bed's hosts and of the other layer-2 suite's addresses (it has its own cluster).
const STALE_IP = '198.51.100.96';
const LINK_IP = '198.51.100.97';
/** More addresses of the pool, for a Service whose owner the test picks. */
const SPARE_IPS = Array.from({ length: 12 }, (_, i) => `198.51.100.${98 + i}`);

const addressOf = (text: string): bigint => {
  const parsed = parseIp(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};

/** The owner ownersOf gives `ip` (eligible everywhere) beside `planned`, over `live`: what every speaker computes. */
function ownerBeside(
  ip: string,
  planned: ReadonlyArray<{ ip: string; eligible: string[] }>,
  live: readonly string[],
): string | undefined {
  const addresses = [...planned, { ip, eligible: [...live] }].map((a) => ({
    address: addressOf(a.ip),
    eligible: a.eligible,
  }));
  return ownersOf({ addresses, live: new Set(live) }).get(addressOf(ip));
}

describe('speaker: layer 2 under stale views and dead links', () => {
  const cluster = useCluster();
  let kube: Kube;
  let bed: TestBed;
  const proxies = new Map<string, WatchBlackholeProxy>();
  const speakers = new Map<string, SpeakerProcess>();
  const macs = new Map<string, string>();

  before(async () => {
    kube = kubeClients(cluster.cp);
    bed = await createTestBed({ run: cluster.run, nodes: 3 });
    cluster.defer(() => {
      bed.destroy();
    });
    const bridge = await startApiBridge(cluster.cp.port, cluster.dir, cluster.run);
    cluster.defer(() => bridge.stop());
    const certs = cluster.cp.certificates;
    for (const node of bed.nodes) {
      const proxy = await startWatchBlackholeProxy({
        socket: join(cluster.dir, `proxy-${node.role}.sock`),
        upstreamPort: cluster.cp.port,
        caCert: certs.caCert,
        serverCert: certs.serverCert,
        serverKey: certs.serverKey,
      });
      cluster.defer(() => proxy.close());
      proxies.set(node.role, proxy);
      await bridge.connect(node.ns, proxy.socket);
      await kube.core.createNode({
        body: { metadata: { name: node.role, labels: { 'kubernetes.io/hostname': node.role } } },
      });
      macs.set((await macAddress(node.ns, node.dev)).toLowerCase(), node.role);
    }
    cluster.defer(() => Promise.all([...speakers.values()].map((sp) => sp.stop(3000))).then(() => undefined));
    serveNodeNames(cluster, bed.nodes, [STALE_IP, LINK_IP], []);
    await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
    await applyPool(kube, 'l2', { addresses: ['198.51.100.96/28'] });
    await createObject(kube, 'L2Advertisement', 'l2', { ipPools: ['l2'] });
    const controller = await startController(cluster, ['--no-leader-elect']);
    cluster.defer(() => controller.stop(1000));
    for (const node of bed.nodes) speakers.set(node.role, await startSpeaker(cluster, node, SPEAKER_ARGS));
    // Every speaker renewed its Lease and saw it back: the owners computed from now on stay put.
    for (const sp of speakers.values()) {
      await waitFor(
        `${sp.node} to answer`,
        async () => (metricValue(await sp.metrics(), 'beaconlb_l2_fenced') === 0 ? true : undefined),
        15_000,
      );
    }
    await sleep(2 * LEASE_MS);
  });

  const macOf = (node: string): string => [...macs].find(([, n]) => n === node)?.[0] ?? '';
  const hostOf = (node: string): Host => bed.nodes.find((n) => n.role === node)!;
  const settledOwner = (ip: string, timeoutMs = 15_000): Promise<string> =>
    waitFor(
      `a single owner of ${ip}`,
      async () => {
        const answered = await arpingMacs(bed.client.ns, ip, 1);
        return answered.length === 1 ? macs.get(answered[0]!) : undefined;
      },
      timeoutMs,
    );
  const patchService = (name: string, spec: Record<string, unknown>): void => {
    cluster.cp.kubectl(['-n', 'web', 'patch', 'service', name, '--type=merge', '-p', JSON.stringify({ spec })]);
  };
  const epochSeconds = (): number => Date.now() / 1000;

  /** A broadcast ARP request for `ip` every 50 ms from the client (e2e/support/arp-prober.ts), captured with the replies. */
  async function probeArp(
    ip: string,
    name: string,
  ): Promise<{ snapshot(): Promise<ArpProbe[]>; stop(): Promise<ArpProbe[]> }> {
    const capture: Capture = await startCapture(bed.client.ns, 'eth0', `arp host ${ip}`, cluster.dir, name);
    const arping = startProcess({
      name: `arp-prober-${name}`,
      command: join(REPO_ROOT, 'node_modules/.bin/node'),
      args: [join(REPO_ROOT, 'e2e/support/arp-prober.ts'), 'eth0', bed.client.ipv4, ip, '50'],
      netns: bed.client.ns,
      logFile: join(cluster.dir, `arp-prober-${name}.log`),
    });
    cluster.run.recordProcess(arping.pid);
    return {
      /** The probes so far (tcpdump writes every packet at once). */
      async snapshot() {
        return arpProbes(await readCapture(capture.file), ip, bed.client.ipv4);
      },
      async stop() {
        await arping.stop(500);
        await capture.stop();
        return arpProbes(await readCapture(capture.file), ip, bed.client.ipv4);
      },
    };
  }

  const describeDoubles = (probes: readonly ArpProbe[], start: number): string =>
    doubleAnswered(probes)
      .slice(0, 5)
      .map((p) => `+${Math.round((p.t - start) * 1000)} ms: ${p.macs.map((m) => macs.get(m) ?? m).join(' and ')}`)
      .join('; ');

  it('stale view: an owner whose Services watch is blackholed stops answering within --stale-view-after, no two nodes answer while the address moves, and it recovers', async () => {
    await createService(kube, {
      name: 'moving',
      namespace: 'web',
      annotations: { 'beaconlb.io/load-balancer-ips': STALE_IP },
    });
    await waitForIngress(kube, 'web', 'moving');
    const owner = await settledOwner(STALE_IP);
    const all = bed.nodes.map((n) => n.role);
    // The node that takes the address over when the owner steps down; the move then keeps it there, so the only
    // node that could answer wrongly is the owner with its stale view (a move between two healthy nodes has its own
    // race of a few milliseconds, which is not this test's subject).
    const target = ownerBeside(
      STALE_IP,
      [],
      all.filter((n) => n !== owner),
    )!;
    // The endpoints the move will follow: on the target (for ETP Cluster they change nothing yet).
    cluster.cp.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'moving-1', namespace: 'web', labels: { 'kubernetes.io/service-name': 'moving' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['198.51.100.200'], nodeName: target, conditions: { ready: true } }],
        ports: [{ port: 80, protocol: 'TCP' }],
      }),
    );
    const probe = await probeArp(STALE_IP, 'stale');
    const start = epochSeconds();
    await sleep(1000);

    const blackholed = epochSeconds();
    proxies.get(owner)!.blackhole(servicesWatch);
    await sleep(STALE_VIEW_MS + 2000);
    // The address moves: ETP Local with the only endpoint on `target`. The owner's stale view cannot see it.
    const moved = epochSeconds();
    patchService('moving', { externalTrafficPolicy: 'Local' });
    await waitFor(
      `${target} to answer alone`,
      async () => ((await settledOwner(STALE_IP)) === target ? true : undefined),
      15_000,
    );
    await sleep(1000);
    const beforeHeal = await probe.snapshot();
    const lastByOwner = lastAnswerBy(
      beforeHeal.filter((p) => p.t < moved),
      blackholed,
      macOf(owner),
    );
    const detectionMs = lastByOwner === undefined ? 0 : Math.round((lastByOwner - blackholed) * 1000);
    assert.ok(proxies.get(owner)!.swallowed > 0, 'the proxy never blackholed a Services watch');
    assert.ok(beforeHeal.length > 40, `only ${beforeHeal.length} ARP probes captured`);
    assert.deepEqual(
      doubleAnswered(beforeHeal).length,
      0,
      `two nodes answered while the owner's view was stale: ${describeDoubles(beforeHeal, start)}`,
    );
    assert.ok(detectionMs <= STALE_VIEW_MS + 1000, `the owner answered from its stale view for ${detectionMs} ms`);

    proxies.get(owner)!.heal();
    const healed = epochSeconds();
    const speaker = speakers.get(owner)!;
    await waitFor(
      `${owner} to be ready again`,
      async () => (metricValue(await speaker.metrics(), 'beaconlb_l2_ready') === 1 ? true : undefined),
      20_000,
    );
    const recoveredMs = Math.round((epochSeconds() - healed) * 1000);
    // Its Services view follows the cluster again: a new Service whose address it owns is answered by it.
    const spare = SPARE_IPS.find((ip) => ownerBeside(ip, [{ ip: STALE_IP, eligible: [target] }], all) === owner)!;
    await createService(kube, {
      name: 'after-heal',
      namespace: 'web',
      annotations: { 'beaconlb.io/load-balancer-ips': spare },
    });
    await waitForIngress(kube, 'web', 'after-heal');
    await waitFor(
      `${owner} to answer for a new Service`,
      async () => ((await settledOwner(spare)) === owner ? true : undefined),
      15_000,
    );
    await sleep(1000);
    const probes = await probe.stop();
    assert.equal(await settledOwner(STALE_IP), target, 'the moved address stays where it moved');

    console.log(
      JSON.stringify({
        staleView: 'services watch blackholed',
        staleViewAfterMs: STALE_VIEW_MS,
        ownerSilentAfterMs: detectionMs,
        recoveredAfterHealMs: recoveredMs,
        probes: probes.length,
        swallowed: proxies.get(owner)!.swallowed,
      }),
    );
    assert.deepEqual(doubleAnswered(probes).length, 0, `two nodes answered: ${describeDoubles(probes, start)}`);
    const events = await eventsFor(kube, 'web', 'moving');
    assert.ok(
      events.some((e) => e.reason === 'Layer2NotReady' && e.message.includes(`node ${owner}: StaleView`)),
      `no Layer2NotReady Event from ${owner}: ${events.map((e) => `${e.reason}: ${e.message}`).join('; ')}`,
    );
  });

  it("dead link: when the owner's eth0 goes down another node answers within lease duration + 0.5 s; when it comes back no two nodes answer", async () => {
    await createService(kube, {
      name: 'link',
      namespace: 'web',
      annotations: { 'beaconlb.io/load-balancer-ips': LINK_IP },
    });
    await waitForIngress(kube, 'web', 'link');
    const owner = await settledOwner(LINK_IP);
    const host = hostOf(owner);
    const probe = await probeArp(LINK_IP, 'link');
    const start = epochSeconds();
    await sleep(1000);

    const down = epochSeconds();
    await mustExecIn(host.ns, ['ip', 'link', 'set', 'eth0', 'down']);
    const successor = await waitFor(
      'another node to answer',
      async () => {
        const answered = await arpingMacs(bed.client.ns, LINK_IP, 1);
        const node = answered.length === 1 ? macs.get(answered[0]!) : undefined;
        return node && node !== owner ? node : undefined;
      },
      10_000,
    );
    await sleep(1000);

    const up = epochSeconds();
    // IPv6 addresses and the default routes went with the link.
    ipBatch(host.ns, [
      'link set eth0 up',
      `address replace ${host.ipv6}/${SEGMENT_A.ipv6Prefix} dev eth0 nodad`,
      `route replace default via ${bed.router.ipv4}`,
      `route replace default via ${bed.router.ipv6}`,
    ]);
    await waitFor(
      `${owner} to take the address back`,
      async () => ((await settledOwner(LINK_IP)) === owner ? true : undefined),
      15_000,
    );
    const backMs = Math.round((epochSeconds() - up) * 1000);
    await sleep(1000);
    const probes = await probe.stop();

    const firstOther = firstAnswerBy(probes, down, (mac) => mac !== macOf(owner));
    const takeoverMs = firstOther === undefined ? Number.POSITIVE_INFINITY : Math.round((firstOther - down) * 1000);
    console.log(
      JSON.stringify({
        deadLink: 'ip link set eth0 down',
        leaseDurationMs: LEASE_MS,
        successor,
        takeoverMs,
        ownerBackAfterLinkUpMs: backMs,
        probes: probes.length,
      }),
    );
    assert.ok(probes.length > 40, `only ${probes.length} ARP probes captured`);
    assert.ok(takeoverMs <= LEASE_MS + 500, `another node answered ${takeoverMs} ms after the link went down`);
    assert.deepEqual(doubleAnswered(probes).length, 0, `two nodes answered: ${describeDoubles(probes, start)}`);
    await mustExecIn(bed.client.ns, ['ip', 'neigh', 'flush', 'dev', 'eth0']);
  });
});
