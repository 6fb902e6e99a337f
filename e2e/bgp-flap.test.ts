// A BGP peer flapping 100 times: BIRD restarts its session with the speaker again and again (Cease, then a new
// connection); every time the session comes back with the full table, and the speaker's memory stays flat.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBgpRouter, type BgpRouter } from '../src/lab/bgp-router.ts';
import { execIn } from '../src/lab/netns.ts';
import type { TestBed } from '../src/lab/test-bed.ts';
import { startNodeBed } from './support/node-bed.ts';
import { useCluster } from './support/cluster.ts';
import { startController } from './support/controller-process.ts';
import { applyPool, createObject, createService, kubeClients, waitFor, type Kube } from './support/kube.ts';
import { startSpeaker, type SpeakerProcess } from './support/speaker-process.ts';

const FLAPS = 100;
const SERVICES = 200;

const rssMb = (pid: number): number => {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(match?.[1] ?? 0) / 1024);
};

describe('BGP: a peer flapping 100 times', () => {
  const cluster = useCluster();
  let kube: Kube;
  let bed: TestBed;
  let router: BgpRouter;
  let speaker: SpeakerProcess;

  before(async () => {
    kube = kubeClients(cluster.cp);
    ({ bed } = await startNodeBed(cluster, kube, 1));
    const node = bed.nodes[0]!;
    await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
    await applyPool(kube, 'bgp', { addresses: ['2001:db8:c::/120'] });
    await createObject(kube, 'BGPPeer', 'router', {
      myASN: 65001,
      peerASN: 65000,
      peerAddress: bed.router.ipv4,
      connectTime: '1s',
    });
    await createObject(kube, 'BGPAdvertisement', 'all', {});
    const controller = await startController(cluster, ['--no-leader-elect', '--log-level=warn']);
    cluster.defer(() => controller.stop(1000));
    for (let i = 0; i < SERVICES; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          createService(kube, { name: `s${i + j}`, namespace: 'web', ipFamilies: ['IPv6'] }),
        ),
      );
    }
    router = await startBgpRouter({
      kind: 'bird',
      ns: bed.router.ns,
      dir: join(cluster.dir, 'router'),
      run: cluster.run,
      asn: 65000,
      routerId: bed.router.ipv4,
      neighbors: [{ address: node.ipv4, asn: 65001 }],
    });
    cluster.defer(() => router.stop());
    speaker = await startSpeaker(cluster, node, ['--log-level=info']);
    cluster.defer(() => speaker.stop(3000));
  });

  it('comes back with the whole table after every flap, with flat memory', async () => {
    const node = bed.nodes[0]!;
    const fullTable = async (): Promise<true | undefined> =>
      (await router.established()).includes(node.ipv4) && (await router.routes(6)).length === SERVICES
        ? true
        : undefined;
    await waitFor('the first full table', fullTable, 60_000, 100);
    const rss: number[] = [];
    const started = performance.now();
    for (let flap = 1; flap <= FLAPS; flap++) {
      const restart = await execIn(undefined, ['birdc', '-s', join(router.dir, 'bird.ctl'), 'restart', 'peer0']);
      assert.equal(restart.code, 0, restart.stderr);
      await waitFor(
        `the session down (flap ${flap})`,
        async () => ((await router.established()).includes(node.ipv4) ? undefined : true),
        10_000,
        20,
      ).catch(() => true);
      await waitFor(`the full table back (flap ${flap})`, fullTable, 20_000, 50);
      if (flap % 10 === 0) rss.push(rssMb(speaker.pid));
    }
    const metrics = await speaker.metrics();
    const flaps = Number(/^beaconlb_bgp_session_flaps_total\{peer="router"\} (\d+)/m.exec(metrics)?.[1] ?? 0);
    console.log(
      JSON.stringify({
        flaps: FLAPS,
        seconds: Math.round((performance.now() - started) / 100) / 10,
        counted: flaps,
        rssMbEvery10: rss,
      }),
    );
    assert.ok(flaps >= FLAPS, `the speaker counted ${flaps} flaps`);
    assert.ok(speaker.running(), 'the speaker is still running');
    // Flat: after warming up (the first 20 flaps), memory grows by less than 15 MB over the next 80.
    const growth = Math.max(...rss.slice(2)) - rss[1]!;
    assert.ok(growth < 15, `RSS grew ${growth} MB over 80 flaps: ${rss.join(', ')}`);
  });
});
