// One bad object must not take down the speakers: BGPAdvertisements whose merged communities and large
// communities exceed one BGP UPDATE (4 advertisements x 64 communities + 64 large communities on one route). On the
// real API server, with a speaker in a node namespace and BIRD as the router: that route is not sent, every
// advertisement that gives it gets the UpdateTooLarge condition naming the size, the other route and the session
// stay up (before: the encoder threw inside the speaker's pass, an uncaught exception that ended the process).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startBgpRouter, type BgpRouter } from '../src/lab/bgp-router.ts';
import type { TestBed } from '../src/lab/test-bed.ts';
import { startNodeBed } from './support/node-bed.ts';
import { useCluster } from './support/cluster.ts';
import { startController, type ControllerProcess } from './support/controller-process.ts';
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
import { startSpeaker, type SpeakerProcess } from './support/speaker-process.ts';

const ROUTER_AS = 65000;
const NODE_AS = 65001;
const BIG = [1, 2, 3, 4];

describe('one bad object: BGPAdvertisements whose merged attributes exceed one UPDATE', () => {
  const cluster = useCluster();
  let kube: Kube;
  let bed: TestBed;
  let controller: ControllerProcess;
  let speaker: SpeakerProcess;
  let router: BgpRouter;

  before(async () => {
    kube = kubeClients(cluster.cp);
    ({ bed } = await startNodeBed(cluster, kube, 1));
    await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
    // Off every segment: only BGP routes lead there.
    await applyPool(kube, 'big', { addresses: ['198.51.100.128/28'], autoAssign: false });
    await applyPool(kube, 'small', { addresses: ['198.51.100.144/28'], autoAssign: false });
    await createObject(kube, 'BGPPeer', 'router', {
      myASN: NODE_AS,
      peerASN: ROUTER_AS,
      peerAddress: bed.router.ipv4,
      connectTime: '1s',
      holdTime: '9s',
    });
    for (const tag of BIG) {
      await createObject(kube, 'BGPAdvertisement', `big${tag}`, {
        ipPools: ['big'],
        communities: Array.from({ length: 64 }, (_, i) => `${65000 + tag}:${i}`),
        largeCommunities: Array.from({ length: 64 }, (_, i) => `65000:${tag}:${i}`),
      });
    }
    await createObject(kube, 'BGPAdvertisement', 'small', { ipPools: ['small'], communities: ['65000:7'] });
    router = await startBgpRouter({
      kind: 'bird',
      ns: bed.router.ns,
      dir: join(cluster.dir, 'router'),
      run: cluster.run,
      asn: ROUTER_AS,
      routerId: bed.router.ipv4,
      neighbors: [{ address: bed.nodes[0]!.ipv4, asn: NODE_AS }],
    });
    cluster.defer(() => router.stop());
    controller = await startController(cluster, ['--no-leader-elect']);
    cluster.defer(() => controller.stop(1000));
    speaker = await startSpeaker(cluster, bed.nodes[0]!);
    cluster.defer(() => speaker.stop(3000));
    await createService(kube, { name: 'big', namespace: 'web', annotations: { 'beaconlb.io/ip-pool': 'big' } });
    await createService(kube, { name: 'small', namespace: 'web', annotations: { 'beaconlb.io/ip-pool': 'small' } });
  });

  it('BGPAdvertisements merging past one UPDATE: that route is not sent, each advertisement gets UpdateTooLarge naming the size, the other route and the session stay up', async () => {
    const [big = ''] = await waitForIngress(kube, 'web', 'big', 1, 20_000);
    const [small = ''] = await waitForIngress(kube, 'web', 'small', 1, 20_000);
    const node = bed.nodes[0]!.ipv4;
    await waitFor(
      'the session Established',
      async () => ((await router.established()).includes(node) ? true : undefined),
      40_000,
    );
    const smallRoute = await waitFor(
      'the small route at the router',
      async () => (await router.routes(4)).find((r) => r.prefix === `${small}/32`),
      20_000,
    );
    assert.deepEqual(smallRoute.communities, ['65000:7']);

    type Condition = { type: string; status: string; reason: string; message: string };
    for (const tag of BIG) {
      const condition = await waitFor(
        `UpdateTooLarge on big${tag}`,
        async () => {
          const adv = (await kube.custom.getClusterCustomObject({
            group: 'beaconlb.io',
            version: 'v1alpha1',
            plural: 'bgpadvertisements',
            name: `big${tag}`,
          })) as {
            status?: { conditions?: Condition[] };
          };
          return adv.status?.conditions?.find((c) => c.type === 'UpdateTooLarge');
        },
        20_000,
      );
      assert.equal(condition.status, 'True');
      assert.match(
        condition.message,
        /merged from BGPAdvertisements big1, big2, big3, big4 take 4118 bytes, more than the 4015 bytes a BGP UPDATE \(4096 bytes\)/,
      );
      const events = await eventsFor(kube, 'default', `big${tag}`);
      assert.ok(
        events.some((e) => e.reason === 'UpdateTooLarge' && e.message.includes(`${big}/32 to BGPPeer router`)),
        JSON.stringify(events),
      );
    }
    assert.equal(
      (await router.routes(4)).find((r) => r.prefix === `${big}/32`),
      undefined,
      'the oversized route is not sent',
    );
    // A later change is still served by the same process and session.
    await createService(kube, { name: 'small2', namespace: 'web', annotations: { 'beaconlb.io/ip-pool': 'small' } });
    const [small2 = ''] = await waitForIngress(kube, 'web', 'small2', 1, 20_000);
    await waitFor(
      'the second small route',
      async () => (await router.routes(4)).find((r) => r.prefix === `${small2}/32`),
      20_000,
    );
    assert.ok(speaker.running(), `the speaker exited: ${speaker.tail()}`);
    assert.ok((await router.established()).includes(node), 'the session is still up');
    const down = (await eventsFor(kube, 'default', 'router')).filter((e) => e.reason === 'SessionDown');
    assert.deepEqual(down, [], 'the session never went down');

    // Fewer communities: the route is sent and the condition goes.
    for (const tag of BIG.slice(1)) {
      await kube.custom.deleteClusterCustomObject({
        group: 'beaconlb.io',
        version: 'v1alpha1',
        plural: 'bgpadvertisements',
        name: `big${tag}`,
      });
    }
    await waitFor(
      'the big route once it fits',
      async () => (await router.routes(4)).find((r) => r.prefix === `${big}/32`),
      20_000,
    );
    await waitFor(
      'UpdateTooLarge gone from big1',
      async () => {
        const adv = (await kube.custom.getClusterCustomObject({
          group: 'beaconlb.io',
          version: 'v1alpha1',
          plural: 'bgpadvertisements',
          name: 'big1',
        })) as {
          status?: { conditions?: Condition[] };
        };
        return adv.status?.conditions?.some((c) => c.type === 'UpdateTooLarge') ? undefined : true;
      },
      20_000,
    );
  });
});
