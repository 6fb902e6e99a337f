import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp } from '../../core/ip/ip-address.ts';
import type { InterfaceTable } from '../../platform/network-interfaces.ts';
import { ip, service, pool, advertisement, NODE_NAMES, segmentA, tableOf } from '../../test-support/layer2-world.ts';
import { RENEW_MS, LEASE_MS, OVERLAP_MS, SOON_MS } from '../../test-support/layer2-timing.ts';
import { Cluster, threeNodes, shareOf } from '../../test-support/layer2-cluster.ts';

describe('Layer2Speaker', () => {
  describe('not ready for layer 2', () => {
    /** Runs in 10 ms steps until `t`, failing at the first moment an address is answered by two nodes. */
    async function stepUntil(cluster: Cluster, t: number): Promise<void> {
      while (cluster.clock.now() < t) {
        await cluster.run(Math.min(10, t - cluster.clock.now()));
        cluster.assertNoAddressAnsweredTwice();
      }
    }

    /** node1 with eth0 down: the kernel keeps the IPv4 address, drops the IPv6 one and both default routes. */
    function linkDown(table: InterfaceTable): InterfaceTable {
      return {
        interfaces: table.interfaces.map((i) =>
          i.name === 'eth0' ? { ...i, up: false, addresses: i.addresses.filter((a) => a.family === 4) } : i,
        ),
        defaultRoute: {},
      };
    }

    it('a stale cache: stops answering at once, says why in its Lease, peers take over; back only after peers let go', async () => {
      const cluster = await threeNodes();
      await cluster.until(2500);
      const node1 = cluster.rig('node1');
      const share = shareOf(cluster, 'node1', NODE_NAMES);
      assert.ok(share.length > 0);
      cluster.staleViews.set('node1', ['services']);
      cluster.touch();
      await stepUntil(cluster, 2500 + SOON_MS);
      assert.deepEqual(cluster.ownedBy('node1'), []);
      assert.match(node1.renewer.calls.at(-1)?.layer2NotReady ?? '', /^StaleView: .*services/);
      cluster.assertOwners(['node2', 'node3'], 'peers took over from the not-ready Lease');
      assert.ok(
        node1.events.some((e) => e.reason === 'Layer2NotReady' && e.type === 'Warning'),
        'an Event on the Services it gave up',
      );
      // Renewed all along, still not live for the peers.
      await stepUntil(cluster, 2500 + 3 * LEASE_MS);
      cluster.assertOwners(['node2', 'node3']);

      cluster.staleViews.delete('node1');
      cluster.touch();
      const ready = cluster.clock.now();
      await stepUntil(cluster, ready + RENEW_MS + SOON_MS);
      cluster.assertOwners(NODE_NAMES, 'node1 answers again');
      assert.equal(node1.renewer.calls.at(-1)?.layer2NotReady, undefined);
      assert.deepEqual(node1.metrics.readyChanges, [
        { ready: true, reason: undefined },
        { ready: false, reason: 'StaleView' },
        { ready: true, reason: undefined },
      ]);
    });

    it('waits one renew interval after its ready Lease came back before answering, so peers let go first', async () => {
      const cluster = await threeNodes({ latencyMs: 100 });
      await cluster.until(2500);
      cluster.staleViews.set('node1', ['endpointslices']);
      cluster.touch();
      await stepUntil(cluster, 3000);
      cluster.staleViews.delete('node1');
      cluster.touch();
      // The ready renewal is sent at once and stored after 100 ms; node1 waits RENEW_MS more from then.
      await stepUntil(cluster, 3000 + 100 + RENEW_MS - SOON_MS);
      assert.deepEqual(cluster.ownedBy('node1'), [], 'not before peers had a renew interval to let go');
      await stepUntil(cluster, 3000 + 100 + RENEW_MS + SOON_MS);
      cluster.assertOwners(NODE_NAMES);
    });

    it('a dead link: an address whose every interface is down makes the node not ready (LinkDown) until the link is back', async () => {
      const cluster = await threeNodes();
      await cluster.until(2500);
      const healthy = tableOf('node1');
      cluster.tables.set('node1', linkDown(healthy));
      cluster.touch();
      await stepUntil(cluster, 2500 + SOON_MS);
      assert.equal(cluster.rig('node1').renewer.calls.at(-1)?.layer2NotReady, 'LinkDown: eth0 is down');
      cluster.assertOwners(['node2', 'node3']);
      cluster.tables.set('node1', healthy);
      cluster.touch();
      await stepUntil(cluster, 2500 + 2 * SOON_MS + RENEW_MS);
      cluster.assertOwners(NODE_NAMES);
    });

    it('broken packet sockets on the only interface count as a dead link', async () => {
      const cluster = await threeNodes();
      await cluster.until(2500);
      cluster.brokenInterfaces.set('node1', new Set(['eth0']));
      cluster.touch();
      await stepUntil(cluster, 2500 + SOON_MS);
      assert.equal(
        cluster.rig('node1').renewer.calls.at(-1)?.layer2NotReady,
        'LinkDown: eth0 has broken packet sockets',
      );
      cluster.assertOwners(['node2', 'node3']);
    });

    it('one of two interfaces down is not a dead link while the other still serves the address', async () => {
      const two = (name: string): InterfaceTable => {
        const table = tableOf(name);
        const eth0 = table.interfaces.find((i) => i.name === 'eth0')!;
        return { ...table, interfaces: [...table.interfaces, { ...eth0, name: 'eth1', index: 3 }] };
      };
      const cluster = new Cluster();
      for (const name of NODE_NAMES) cluster.tables.set(name, two(name));
      for (const name of NODE_NAMES) cluster.add(name);
      await cluster.until(2500);
      const table = two('node1');
      cluster.tables.set('node1', {
        ...table,
        interfaces: table.interfaces.map((i) => (i.name === 'eth1' ? { ...i, up: false } : i)),
      });
      cluster.touch();
      await stepUntil(cluster, 2500 + SOON_MS);
      assert.equal(cluster.rig('node1').renewer.calls.at(-1)?.layer2NotReady, undefined);
      cluster.assertOwners(NODE_NAMES);
    });

    it('a down link holding Service addresses as host addresses (IPVS kube-ipvs0) is no announcing link', async () => {
      const world = segmentA();
      world.pools = [...world.pools, pool('routed', ['203.0.113.0/28'])];
      world.services = [...world.services, service('shop/routed', ['203.0.113.5'])];
      const withIpvs = (name: string): InterfaceTable => {
        const table = tableOf(name);
        const hosts = ['198.51.100.20', '203.0.113.5'].map((text) => ({
          family: 4 as const,
          address: ip(text),
          prefixLength: 32,
        }));
        return {
          ...table,
          interfaces: [
            ...table.interfaces,
            { name: 'kube-ipvs0', index: 9, mac: '00:00:5e:00:53:f0', up: false, addresses: hosts },
          ],
        };
      };
      const cluster = new Cluster(world);
      for (const name of NODE_NAMES) cluster.tables.set(name, withIpvs(name));
      for (const name of NODE_NAMES) cluster.add(name);
      await cluster.until(2500);
      for (const rig of cluster.rigs.values())
        assert.equal(rig.renewer.calls.at(-1)?.layer2NotReady, undefined, rig.name);
      cluster.assertOwners(NODE_NAMES);
    });

    it('an address no interface of the node matches (configuration) does not make it give up the others', async () => {
      const world = segmentA();
      world.pools = [...world.pools, pool('elsewhere', ['203.0.113.0/28'])];
      world.advertisements = [
        advertisement('segment-a', { ipPools: ['segment-a'] }),
        advertisement('elsewhere', { ipPools: ['elsewhere'], interfaces: ['eth9'] }),
      ];
      world.services = [...world.services, service('shop/elsewhere', ['203.0.113.5'])];
      const cluster = await threeNodes({}, world);
      await cluster.until(2500);
      for (const rig of cluster.rigs.values())
        assert.equal(rig.renewer.calls.at(-1)?.layer2NotReady, undefined, rig.name);
      cluster.assertOwners(NODE_NAMES);
    });
  });

  describe('leave', () => {
    it('marks the Lease leaving, then owns nothing after the overlap and stops renewing', async () => {
      const cluster = await threeNodes();
      await cluster.until(2500);
      const rig = cluster.rig('node3');
      let left = false;
      const leaving = rig.speaker.leave().then(() => {
        left = true;
      });
      await cluster.until(2500 + OVERLAP_MS - 1);
      assert.equal(left, false, 'leave() waits for the overlap');
      await cluster.until(2500 + OVERLAP_MS);
      await leaving;
      assert.equal(left, true);
      assert.deepEqual(cluster.ownedBy('node3'), []);
      assert.deepEqual(rig.renewer.calls.at(-1), {
        at: 2500,
        leaving: true,
        timeoutMs: 1000,
        layer2NotReady: undefined,
      });
      const calls = rig.renewer.calls.length;
      await cluster.until(20_000);
      assert.equal(rig.renewer.calls.length, calls, 'no renewal after leaving');
      assert.deepEqual(cluster.ownedBy('node3'), []);
      cluster.rigs.delete('node3');
      cluster.assertOwners(['node1', 'node2']);
    });

    it('keeps answering its addresses for handoverOverlapMs after marking the Lease leaving', async () => {
      const cluster = await threeNodes();
      await cluster.until(2500);
      const rig = cluster.rig('node3');
      const before = cluster.ownedBy('node3');
      assert.ok(before.length > 0);
      void rig.speaker.leave();
      await cluster.until(2500);
      assert.deepEqual(cluster.ownedBy('node3'), before, 'still answering right after marking the Lease');
      await cluster.until(2500 + OVERLAP_MS - 1);
      assert.deepEqual(cluster.ownedBy('node3'), before, 'still answering at the end of the overlap');
      await cluster.until(2500 + OVERLAP_MS);
      assert.deepEqual(cluster.ownedBy('node3'), []);
    });

    // node3's renewal started at 3000 takes 800 ms (a slow API server); SIGTERM at 3100: leave() sends
    // renew(true), stored at 3200, and node1 and node2 take over. The renewal of 3000 is stored at 3800 and clears
    // the leaving mark: the peers see node3 active again and hand its addresses back to a node that has stopped.
    it('is not undone by a renewal still in flight when leave() is called', async () => {
      const cluster = await threeNodes();
      await cluster.until(2500);
      const rig = cluster.rig('node3');
      const node3Share = shareOf(cluster, 'node3', NODE_NAMES);
      rig.renewer.latencyMs = 800;
      await cluster.until(3100);
      rig.renewer.latencyMs = 100;
      const progress = { left: false };
      void rig.speaker.leave().then(() => {
        progress.left = true;
      });
      // leave() waits for the renewal in flight (stored at 3800), then marks the Lease leaving; during the overlap
      // node3 and its successor both answer (the designed hand-over). After it, one node answers, never node3.
      for (let t = 3200; !progress.left && t <= 9000; t += 100) await cluster.until(t);
      assert.ok(progress.left, 'leave() finished');
      for (let t = cluster.clock.now() + 200; t <= 9000; t += 200) {
        await cluster.until(t);
        for (const address of node3Share) {
          const answering = cluster.actual().get(address) ?? [];
          assert.equal(answering.length, 1, `${formatIp(address)} answered by ${answering.length} nodes at ${t} ms`);
          assert.ok(!answering.includes('node3'), `${formatIp(address)} handed back to the stopped node3 at ${t} ms`);
        }
      }
    });

    it('still waits out the overlap and stops when the Lease cannot be marked leaving', async () => {
      const cluster = await threeNodes();
      await cluster.until(2500);
      const rig = cluster.rig('node3');
      rig.renewer.outcome = 'fail';
      let left = false;
      void rig.speaker.leave().then(() => {
        left = true;
      });
      await cluster.until(2500 + OVERLAP_MS);
      assert.equal(left, true);
      assert.deepEqual(cluster.ownedBy('node3'), []);
      // Peers take over when the Lease goes stale (last written at 2000).
      cluster.rigs.delete('node3');
      await cluster.until(2000 + LEASE_MS + SOON_MS);
      cluster.assertOwners(['node1', 'node2']);
    });
  });
});
