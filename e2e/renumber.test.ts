// Renumbering with overlap end to end (ADR 0028): the real API server, the controller, two node namespaces running
// speakers, a client on segment A and a BIRD router peering with both nodes. Two Services with the annotation
// beaconlb.io/renumber-window, one dual-stack in a layer-2 pool and one in a BGP pool; their pools are drained. During
// the window the client's neighbor tables (ARP and NDP) hold both layer-2 addresses of each family and the router's RIB
// both BGP routes, and both addresses of each answer; the controller is restarted in the window; after the recorded
// end only the new addresses are announced.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startBgpRouter, type BgpRouter } from '../src/lab/bgp-router.ts';
import { execIn, macAddress, mustExecIn } from '../src/lab/netns.ts';
import type { TestBed } from '../src/lab/test-bed.ts';
import { arpingMacs, ndiscMacs, tcpHello } from '../src/lab/layer2-probe.ts';
import { serveNodeNames, startNodeBed } from './support/node-bed.ts';
import { REPO_ROOT, useCluster } from './support/cluster.ts';
import { rfc3339 } from '../src/core/config/renumber-record.ts';
import { startController, type ControllerProcess } from './support/controller-process.ts';
import {
  applyPool,
  createObject,
  createService,
  eventsFor,
  ingressIps,
  kubeClients,
  readService,
  waitFor,
  waitForIngress,
  type Kube,
} from './support/kube.ts';
import { startSpeaker, type SpeakerProcess } from './support/speaker-process.ts';

// Layer 2 on segment A, clear of the bed's hosts (.1 router, .11-.12 nodes, .100 client); BGP off every segment.
const L2_OLD = '198.51.100.64';
const L2_NEW = '198.51.100.72';
const V6_OLD = '2001:db8:a::40';
const V6_NEW = '2001:db8:a::48';
const BGP_OLD = '198.51.100.128';
const BGP_NEW = '198.51.100.136';
const SERVED = [
  '198.51.100.64',
  '198.51.100.65',
  '198.51.100.72',
  '198.51.100.73',
  '198.51.100.128',
  '198.51.100.129',
  '198.51.100.136',
  '198.51.100.137',
];
const WINDOW_S = 45;
const SPEAKER_ARGS = [
  '--renew-interval=250ms',
  '--lease-duration=1s',
  '--fence-margin=250ms',
  '--handover-overlap=500ms',
];
const ROUTER_AS = 65000;
const NODE_AS = 65001;

describe('renumbering a Service with overlap: layer 2 and BGP', () => {
  const cluster = useCluster();
  let kube: Kube;
  let bed: TestBed;
  let controller: ControllerProcess;
  let router: BgpRouter | undefined;
  const speakers: SpeakerProcess[] = [];
  const macs = new Set<string>();

  before(async () => {
    kube = kubeClients(cluster.cp);
    ({ bed } = await startNodeBed(cluster, kube, 2));
    cluster.defer(async () => {
      await router?.stop();
    });
    cluster.defer(() => Promise.all(speakers.map((sp) => sp.stop(3000))).then(() => undefined));
    for (const node of bed.nodes) macs.add((await macAddress(node.ns, node.dev)).toLowerCase());
    serveNodeNames(cluster, bed.nodes, SERVED, [V6_OLD, V6_NEW]);
    for (const ns of ['l2', 'bgp']) await kube.core.createNamespace({ body: { metadata: { name: ns } } });
    await applyPool(kube, 'old-l2', {
      addresses: [`${L2_OLD}/29`, `${V6_OLD}/125`],
      allocation: { namespaces: ['l2'], priority: 1 },
    });
    await applyPool(kube, 'new-l2', {
      addresses: [`${L2_NEW}/29`, `${V6_NEW}/125`],
      allocation: { namespaces: ['l2'], priority: 2 },
    });
    await applyPool(kube, 'old-bgp', {
      addresses: [`${BGP_OLD}/29`],
      allocation: { namespaces: ['bgp'], priority: 1 },
    });
    await applyPool(kube, 'new-bgp', {
      addresses: [`${BGP_NEW}/29`],
      allocation: { namespaces: ['bgp'], priority: 2 },
    });
    await createObject(kube, 'L2Advertisement', 'l2', { ipPools: ['old-l2', 'new-l2'] });
    await createObject(kube, 'BGPPeer', 'router', {
      myASN: NODE_AS,
      peerASN: ROUTER_AS,
      peerAddress: bed.router.ipv4,
      holdTime: '9s',
      connectTime: '1s',
    });
    await createObject(kube, 'BGPAdvertisement', 'bgp', { ipPools: ['old-bgp', 'new-bgp'], peers: ['router'] });
    router = await startBgpRouter({
      kind: 'bird',
      ns: bed.router.ns,
      dir: join(cluster.dir, 'router'),
      run: cluster.run,
      asn: ROUTER_AS,
      routerId: bed.router.ipv4,
      neighbors: bed.nodes.map((n) => ({ address: n.ipv4, asn: NODE_AS })),
    });
    controller = await startController(cluster, ['--no-leader-elect']);
    cluster.defer(() => controller.stop(1000));
    for (const node of bed.nodes) speakers.push(await startSpeaker(cluster, node, SPEAKER_ARGS));
    const window = { 'beaconlb.io/renumber-window': `${WINDOW_S}s` };
    await createService(kube, {
      name: 'web',
      namespace: 'l2',
      annotations: window,
      ipFamilies: ['IPv4', 'IPv6'],
      ipFamilyPolicy: 'RequireDualStack',
    });
    await createService(kube, { name: 'web', namespace: 'bgp', annotations: window });
  });

  /** One node answers ARP or NDP for `ip` (a node's MAC). */
  const answered = async (ip: string): Promise<boolean> => {
    const got = ip.includes(':') ? await ndiscMacs(bed.client.ns, ip) : await arpingMacs(bed.client.ns, ip, 1);
    return got.length === 1 && macs.has(got[0]!);
  };
  /** Next hops of the router's paths for `ip`/32, sorted. */
  const paths = async (ip: string): Promise<string[]> =>
    (await router!.routes(4))
      .filter((r) => r.prefix === `${ip}/32`)
      .map((r) => r.nextHop)
      .sort();
  const nodeV4 = (): string[] => bed.nodes.map((n) => n.ipv4).sort();
  const neighborMac = async (ip: string): Promise<string | undefined> =>
    /lladdr (\S+)/.exec(await mustExecIn(bed.client.ns, ['ip', 'neigh', 'show', ip]))?.[1]?.toLowerCase();
  const windowEnd = async (ns: string): Promise<number> => {
    const record = (await readService(kube, ns, 'web')).status?.conditions?.find(
      (c) => c.type === 'beaconlb.io/Renumbering',
    );
    const match = / until (\S+?)(,|$)/.exec(record?.message ?? '');
    assert.ok(match, `no renumbering record in ${ns}/web: ${JSON.stringify(record)}`);
    return Date.parse(match[1]!);
  };

  it('announces old and new addresses for the window, across a controller restart, then only the new ones', async () => {
    assert.deepEqual(await waitForIngress(kube, 'l2', 'web', 2), [L2_OLD, V6_OLD]);
    assert.deepEqual(await waitForIngress(kube, 'bgp', 'web'), [BGP_OLD]);
    await waitFor(`an owner of ${L2_OLD}`, async () => ((await answered(L2_OLD)) ? true : undefined), 20_000);
    await waitFor(
      `${BGP_OLD}/32 from both nodes`,
      async () => ((await paths(BGP_OLD)).length === 2 ? true : undefined),
      40_000,
    );

    const drained = Date.now();
    for (const pool of ['old-l2', 'old-bgp'])
      cluster.cp.kubectl(['patch', 'ippool', pool, '--type=merge', '-p', '{"spec":{"drain":true}}']);
    assert.deepEqual(await waitForIngress(kube, 'l2', 'web', 4), [L2_NEW, V6_NEW, L2_OLD, V6_OLD]);
    assert.deepEqual(await waitForIngress(kube, 'bgp', 'web', 2), [BGP_NEW, BGP_OLD]);
    const started = await waitFor('a RenumberStarted Event per family', async () => {
      const found = (await eventsFor(kube, 'l2', 'web'))
        .filter((e) => e.reason === 'RenumberStarted')
        .map((e) => e.message.replace(/ until .*/, ''))
        .sort();
      return found.length === 2 ? found : undefined;
    });
    assert.deepEqual(started, [
      `moving from ${L2_OLD} to ${L2_NEW}: both are announced`,
      `moving from ${V6_OLD} to ${V6_NEW}: both are announced`,
    ]);
    const ends = { l2: await windowEnd('l2'), bgp: await windowEnd('bgp') };
    assert.ok(
      ends.l2 - drained >= (WINDOW_S - 1) * 1000 && ends.l2 - drained <= (WINDOW_S + 10) * 1000,
      `window end ${ends.l2 - drained} ms after the drain`,
    );

    // A restart at the start of the window: the end is read back from the status, nothing moves, nothing is rewritten.
    await controller.stop(2000);
    controller = await startController(cluster, ['--no-leader-elect']);

    // During the window: both addresses in the client's neighbor table and answering, both routes in the RIB.
    for (const ip of [L2_OLD, L2_NEW, V6_OLD, V6_NEW]) {
      await waitFor(`an owner of ${ip}`, async () => ((await answered(ip)) ? true : undefined), 15_000);
      await mustExecIn(bed.client.ns, ['ping', '-c', '1', '-W', '2', ip]);
      assert.ok(macs.has((await neighborMac(ip)) ?? ''), `${ip} not in the client's neighbor table with a node's MAC`);
      assert.match(await tcpHello(bed.client.ns, ip), /^node\d$/);
    }
    for (const ip of [BGP_OLD, BGP_NEW]) {
      assert.deepEqual(
        await waitFor(
          `${ip}/32 from both nodes`,
          async () => {
            const hops = await paths(ip);
            return hops.length === 2 ? hops : undefined;
          },
          20_000,
        ),
        nodeV4(),
      );
      assert.match(await tcpHello(bed.client2.ns, ip), /^node\d$/, `${ip} from behind the router`);
    }

    // beaconlb status names the draining pool and the old address's end.
    const res = await execIn(undefined, [
      join(REPO_ROOT, 'bin/beaconlb'),
      'status',
      `--kubeconfig=${cluster.cp.kubeconfig}`,
      '--output=json',
    ]);
    assert.equal(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout) as {
      pools: Array<{ name: string; drain: string }>;
      services: Array<{ service: string; address: string; pool: string; retiring: string }>;
    };
    assert.equal(report.pools.find((p) => p.name === 'old-l2')?.drain, 'Draining');
    assert.equal(report.pools.find((p) => p.name === 'new-l2')?.drain, '');
    assert.deepEqual(
      report.services.filter((r) => r.service === 'l2/web').map((r) => [r.address, r.pool, r.retiring]),
      [
        [L2_NEW, 'new-l2', ''],
        [V6_NEW, 'new-l2', ''],
        [L2_OLD, 'old-l2', rfc3339(ends.l2)],
        [V6_OLD, 'old-l2', rfc3339(ends.l2)],
      ],
    );
    assert.ok(Date.now() < ends.l2, 'the checks finished inside the window (the machine was too slow for this case)');
    assert.deepEqual(ingressIps(await readService(kube, 'l2', 'web')), [L2_NEW, V6_NEW, L2_OLD, V6_OLD]);
    assert.deepEqual(await windowEnd('l2'), ends.l2, 'the restarted controller keeps the recorded end');

    // After the end: only the new addresses.
    await waitFor(
      'the layer-2 window to end',
      async () => (ingressIps(await readService(kube, 'l2', 'web')).length === 2 ? true : undefined),
      (WINDOW_S + 30) * 1000,
    );
    const l2Released = Date.now();
    await waitFor(
      'the BGP window to end',
      async () => (ingressIps(await readService(kube, 'bgp', 'web')).length === 1 ? true : undefined),
      30_000,
    );
    const bgpReleased = Date.now();
    assert.deepEqual(ingressIps(await readService(kube, 'l2', 'web')), [L2_NEW, V6_NEW]);
    assert.deepEqual(ingressIps(await readService(kube, 'bgp', 'web')), [BGP_NEW]);
    assert.ok(l2Released >= ends.l2, `released ${ends.l2 - l2Released} ms before the recorded end`);
    const completed = await waitFor('a RenumberCompleted Event per family', async () => {
      const found = (await eventsFor(kube, 'l2', 'web'))
        .filter((e) => e.reason === 'RenumberCompleted')
        .map((e) => e.message)
        .sort();
      return found.length === 2 ? found : undefined;
    });
    assert.deepEqual(
      completed,
      [L2_OLD, V6_OLD].map(
        (old) => `released ${old}: its renumbering window ended; the Service's address is ${L2_NEW}, ${V6_NEW}`,
      ),
    );

    await waitFor(
      `${BGP_OLD}/32 withdrawn`,
      async () => ((await paths(BGP_OLD)).length === 0 ? true : undefined),
      15_000,
    );
    assert.equal((await paths(BGP_NEW)).length, 2);
    await waitFor(
      `${L2_OLD} no longer answered`,
      async () => ((await arpingMacs(bed.client.ns, L2_OLD, 1)).length === 0 ? true : undefined),
      15_000,
    );
    await waitFor(
      `${V6_OLD} no longer answered`,
      async () => ((await ndiscMacs(bed.client.ns, V6_OLD)).length === 0 ? true : undefined),
      15_000,
    );
    // The client's neighbor table: the old entry, flushed and probed again, resolves to nothing; the new one does.
    await mustExecIn(bed.client.ns, ['ip', 'neigh', 'flush', 'dev', 'eth0']);
    await mustExecIn(bed.client.ns, ['ip', '-6', 'neigh', 'flush', 'dev', 'eth0']);
    const oldPing = await execIn(bed.client.ns, ['ping', '-c', '1', '-W', '2', L2_OLD]);
    assert.notEqual(oldPing.code, 0, `${L2_OLD} still answers pings`);
    assert.equal(
      await neighborMac(L2_OLD),
      undefined,
      `${L2_OLD} resolved in the client's neighbor table after the window`,
    );
    await mustExecIn(bed.client.ns, ['ping', '-c', '1', '-W', '2', L2_NEW]);
    assert.ok(macs.has((await neighborMac(L2_NEW)) ?? ''));
    const oldPing6 = await execIn(bed.client.ns, ['ping', '-c', '1', '-W', '2', V6_OLD]);
    assert.notEqual(oldPing6.code, 0, `${V6_OLD} still answers pings`);
    assert.equal(
      await neighborMac(V6_OLD),
      undefined,
      `${V6_OLD} resolved in the client's neighbor table after the window`,
    );
    await mustExecIn(bed.client.ns, ['ping', '-c', '1', '-W', '2', V6_NEW]);
    assert.ok(macs.has((await neighborMac(V6_NEW)) ?? ''));
    console.log(
      JSON.stringify({
        renumberWindowS: WINDOW_S,
        l2ReleasedAfterRecordedEndMs: l2Released - ends.l2,
        bgpReleasedAfterRecordedEndMs: bgpReleased - ends.bgp,
      }),
    );

    // The drained pools have nothing left in use.
    for (const pool of ['old-l2', 'old-bgp']) {
      await waitFor(
        `${pool} Drained`,
        () => {
          const out = cluster.cp.kubectl([
            'get',
            'ippool',
            pool,
            '-o',
            'jsonpath={.status.conditions[?(@.type=="Draining")].reason}',
          ]);
          return Promise.resolve(out.trim() === 'Drained' ? true : undefined);
        },
        10_000,
      );
    }
  });
});
