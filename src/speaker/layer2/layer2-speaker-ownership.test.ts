import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SERVICE_NAME_LABEL, type EndpointSliceObject } from '../../core/config/cluster-objects.ts';
import { formatIp } from '../../core/ip/ip-address.ts';
import { ip, service, pool, advertisement, NODE_NAMES, segmentA, tableOf } from '../../test-support/layer2-world.ts';
import { RENEW_MS, LEASE_MS, SOON_MS } from '../../test-support/layer2-timing.ts';
import { Cluster, threeNodes } from '../../test-support/layer2-cluster.ts';

function endpointsOn(key: string, nodes: string[]): EndpointSliceObject {
  const [namespace = '', name = ''] = key.split('/');
  return {
    metadata: { namespace, name: `${name}-eps`, labels: { [SERVICE_NAME_LABEL]: name } },
    endpoints: nodes.map((nodeName) => ({ nodeName, conditions: { ready: true } })),
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

// ---------------------------------------------------------------------------------------------------------------

describe('Layer2Speaker', () => {
  describe('start', () => {
    it('owns nothing until the caches synced, even when its Lease was renewed', async () => {
      const cluster = new Cluster();
      const synced = deferred();
      const rig = cluster.add('node1', { synced: synced.promise });
      await cluster.until(3000);
      assert.equal(rig.renewer.calls.length, 4, 'renews from the start, every renewInterval');
      assert.equal(rig.recorder.everAnnounced, false);
      assert.equal(rig.speaker.owned.size, 0);
      synced.resolve();
      await cluster.run(SOON_MS);
      cluster.assertOwners(['node1']);
      assert.equal(rig.speaker.owned.size, 13);
    });

    it('owns nothing until its first renewal succeeded, even when the caches synced', async () => {
      const cluster = new Cluster();
      const rig = cluster.add('node1', { latencyMs: 700 });
      await cluster.until(699);
      assert.equal(rig.recorder.everAnnounced, false, 'synced, renewal in flight');
      await cluster.until(700);
      cluster.assertOwners(['node1']);
    });

    it('owns nothing while its renewals fail from the start, and starts answering after the first success', async () => {
      const cluster = new Cluster();
      const rig = cluster.add('node1', { outcome: 'fail' });
      await cluster.until(4500);
      assert.equal(rig.recorder.everAnnounced, false);
      assert.equal(rig.renewer.calls.length, 5, 'keeps trying every renewInterval');
      rig.renewer.outcome = 'succeed';
      await cluster.until(5000);
      cluster.assertOwners(['node1']);
    });
  });

  describe('ownership', () => {
    it('with three live nodes, every address is answered by exactly the node ownersOf names', async () => {
      const cluster = await threeNodes();
      cluster.assertOwners(NODE_NAMES);
      for (const name of NODE_NAMES) assert.ok(cluster.ownedBy(name).length > 0, `${name} owns some of 13 addresses`);
      // Renewals go on; nothing moves.
      for (let t = 100; t <= 20_000; t += 100) {
        await cluster.until(t);
        cluster.assertOwners(NODE_NAMES);
      }
      for (const name of NODE_NAMES)
        assert.equal(cluster.rig(name).metrics.ownershipChanges.lost, 0, `${name} lost nothing`);
    });

    it('property: any set of Services, ETP Local or not, is split as ownersOf says, each address answered once', async () => {
      const addresses = [
        ...Array.from({ length: 12 }, (_, i) => `198.51.100.${10 + i}`),
        ...Array.from({ length: 6 }, (_, i) => `2001:db8:a::${110 + i}`),
      ];
      const serviceArb = fc.record({
        ips: fc.subarray(addresses, { minLength: 1, maxLength: 2 }),
        endpoints: fc.option(fc.subarray(NODE_NAMES), { nil: undefined }),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(serviceArb, { minLength: 1, maxLength: 10 }), async (specs) => {
          const world = segmentA();
          world.services = specs.map((s, i) => service(`shop/svc-${i}`, s.ips, { local: s.endpoints !== undefined }));
          world.endpointSlices = specs.flatMap((s, i) =>
            s.endpoints ? [endpointsOn(`shop/svc-${i}`, s.endpoints)] : [],
          );
          const cluster = await threeNodes({}, world);
          cluster.assertOwners(NODE_NAMES);
          await cluster.until(2500);
          cluster.assertOwners(NODE_NAMES);
        }),
        { numRuns: 25 },
      );
    });

    it('moves an ETP Local address with its endpoints', async () => {
      const world = segmentA();
      world.services = [service('shop/local', ['198.51.100.50'], { local: true })];
      world.endpointSlices = [endpointsOn('shop/local', ['node2'])];
      const cluster = await threeNodes({}, world);
      assert.deepEqual(cluster.actual().get(ip('198.51.100.50')), ['node2']);
      world.endpointSlices = [endpointsOn('shop/local', ['node3'])];
      cluster.touch();
      await cluster.run(SOON_MS);
      assert.deepEqual(cluster.actual().get(ip('198.51.100.50')), ['node3']);
      world.endpointSlices = [];
      cluster.touch();
      await cluster.run(SOON_MS);
      assert.equal(cluster.actual().get(ip('198.51.100.50')), undefined, 'no ready endpoint: nobody answers');
    });

    it('tells the announcer the interfaces chosen for each address', async () => {
      const world = segmentA();
      world.pools = [...world.pools, pool('segment-b', ['203.0.113.0/24'])];
      world.advertisements = [
        advertisement('segment-a', { ipPools: ['segment-a'] }),
        advertisement('segment-b', { ipPools: ['segment-b'], interfaces: ['eth1'] }),
      ];
      world.services = [service('shop/a', ['198.51.100.20']), service('shop/b', ['203.0.113.20'])];
      const cluster = new Cluster(world);
      const table = tableOf('node1');
      table.interfaces.push({ name: 'eth1', index: 3, mac: '00:00:5e:00:53:21', up: true, addresses: [] });
      cluster.tables.set('node1', table);
      const rig = cluster.add('node1');
      await cluster.until(0);
      assert.deepEqual(rig.recorder.current.get(ip('198.51.100.20')), { interfaces: ['eth0'], services: ['shop/a'] });
      assert.deepEqual(rig.recorder.current.get(ip('203.0.113.20')), { interfaces: ['eth1'], services: ['shop/b'] });
    });
  });

  describe('rejoin quiet period (ADR 0036)', () => {
    const QUIET_MS = 20_000;

    /** node3 crashes at 2500 and restarts at 9000; returns the cluster at 9000 with what each node owned before. */
    async function node3Back(quietMs: number | undefined): Promise<Cluster> {
      const options = quietMs === undefined ? {} : { rejoinQuietMs: quietMs };
      const cluster = await threeNodes(options);
      await cluster.until(2500);
      cluster.assertOwners(NODE_NAMES, 'a fresh cluster spreads at once: nobody is rejoining');
      assert.ok([...cluster.rigs.values()].every((rig) => rig.renewer.calls.every((call) => call.rejoining !== true)));
      cluster.crash('node3');
      await cluster.until(2000 + LEASE_MS + SOON_MS);
      cluster.assertOwners(['node1', 'node2'], 'node3 failed');
      await cluster.until(9000);
      cluster.add('node3', options);
      await cluster.until(9000);
      return cluster;
    }

    it('without it, a node back from a failure takes its addresses back at once (the second move)', async () => {
      const cluster = await node3Back(undefined);
      await cluster.until(9000 + RENEW_MS + SOON_MS);
      cluster.assertOwners(NODE_NAMES, 'node3 back');
    });

    it('with it, the node back marks its Lease from the first write, owns nothing while its peers serve, then takes its share once', async () => {
      const cluster = await node3Back(QUIET_MS);
      const node3 = cluster.rig('node3');
      assert.equal(node3.renewer.calls[0]?.rejoining, true, 'the first renewal of the restarted node carries the mark');
      for (let t = 9000; t < 9000 + QUIET_MS; t += 100) {
        await cluster.until(t);
        cluster.assertOwners(['node1', 'node2'], 'node3 rejoining: the placement of its failure');
      }
      // The cleared mark is written at 29 000, seen back at once here; node3 counts itself one renew interval later.
      await cluster.until(9000 + QUIET_MS + SOON_MS);
      assert.equal(node3.renewer.calls.at(-1)?.rejoining, undefined, 'the mark cleared at the end of the period');
      for (let t = 9000 + QUIET_MS + SOON_MS; t < 9000 + QUIET_MS + 2 * RENEW_MS; t += 50) {
        await cluster.until(t);
        cluster.assertNoAddressAnsweredTwice();
      }
      await cluster.until(9000 + QUIET_MS + 2 * RENEW_MS + SOON_MS);
      cluster.assertOwners(NODE_NAMES, 'node3 settled');
    });

    it('a node rejoining serves at once an address no settled peer is eligible for', async () => {
      const cluster = await node3Back(QUIET_MS);
      // An address only node3 may announce: the node selector of its advertisement picks node3 alone.
      const world = cluster.world;
      cluster.world = {
        ...world,
        advertisements: world.advertisements.map((a) => ({
          ...a,
          spec: { ...a.spec, nodeSelector: { matchLabels: { 'kubernetes.io/hostname': 'node3' } } },
        })),
      };
      cluster.touch();
      await cluster.until(9000 + 2 * RENEW_MS);
      const planned = cluster.expected(['node3']);
      assert.ok(planned.size > 0);
      for (const [address] of planned)
        assert.deepEqual(cluster.actual().get(address), ['node3'], `${formatIp(address)} at ${cluster.clock.now()}`);
    });

    it('a node whose renewals failed until its peers took over rejoins quietly with the first renewal that succeeds', async () => {
      const cluster = await threeNodes({ rejoinQuietMs: QUIET_MS });
      await cluster.until(2500);
      const node1 = cluster.rig('node1');
      node1.renewer.outcome = 'fail'; // last success: the renewal of 2000
      await cluster.until(2000 + LEASE_MS + SOON_MS);
      assert.deepEqual(cluster.ownedBy('node1'), [], 'fenced');
      cluster.assertOwners(['node2', 'node3'], 'peers took over');
      node1.renewer.outcome = 'succeed';
      await cluster.until(9000);
      const back = node1.renewer.calls.find((call) => call.at > 7100);
      assert.equal(back?.rejoining, true, 'the first renewal after the fence carries the mark');
      for (let t = 9000; t < 7100 + QUIET_MS - RENEW_MS; t += 200) {
        await cluster.until(t);
        cluster.assertOwners(['node2', 'node3'], 'node1 rejoining');
      }
      await cluster.until(7100 + QUIET_MS + 3 * RENEW_MS);
      cluster.assertOwners(NODE_NAMES, 'node1 settled');
    });

    it('a node ready for layer 2 again rejoins quietly: its ready renewal carries the mark', async () => {
      const cluster = await threeNodes({ rejoinQuietMs: QUIET_MS });
      await cluster.until(2500);
      cluster.staleViews.set('node1', ['services']);
      cluster.touch();
      await cluster.until(2500 + SOON_MS);
      cluster.assertOwners(['node2', 'node3'], 'node1 not ready');
      cluster.staleViews.delete('node1');
      cluster.touch();
      await cluster.until(2500 + 2 * SOON_MS);
      const ready = cluster.rig('node1').renewer.calls.at(-1);
      assert.equal(ready?.layer2NotReady, undefined);
      assert.equal(ready?.rejoining, true);
      for (let t = 3000; t < 2600 + QUIET_MS - RENEW_MS; t += 200) {
        await cluster.until(t);
        cluster.assertOwners(['node2', 'node3'], 'node1 rejoining');
      }
      await cluster.until(2600 + QUIET_MS + 3 * RENEW_MS);
      cluster.assertOwners(NODE_NAMES, 'node1 settled');
    });

    it('with nobody else serving, a restarted node does not wait', async () => {
      const cluster = new Cluster();
      cluster.add('node1', { rejoinQuietMs: QUIET_MS });
      await cluster.until(2500);
      cluster.crash('node1');
      await cluster.until(2000 + LEASE_MS + SOON_MS);
      cluster.add('node1', { rejoinQuietMs: QUIET_MS });
      await cluster.until(2000 + LEASE_MS + 3 * RENEW_MS);
      cluster.assertOwners(['node1'], 'alone: no quiet period');
    });
  });
});
