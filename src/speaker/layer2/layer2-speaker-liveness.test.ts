import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp } from '../../core/ip/ip-address.ts';
import { NODE_NAMES } from '../../test-support/layer2-world.ts';
import { LEASE_MS, MARGIN_MS, OVERLAP_MS, SOON_MS } from '../../test-support/layer2-timing.ts';
import { Cluster, threeNodes, shareOf } from '../../test-support/layer2-cluster.ts';

describe('Layer2Speaker', () => {
  describe('peers', () => {
    it("takes a silent peer's addresses after leaseDuration on its own clock, not before", async () => {
      const cluster = await threeNodes();
      await cluster.until(2500);
      const node3Share = shareOf(cluster, 'node3', NODE_NAMES);
      assert.ok(node3Share.length > 0);
      cluster.crash('node3'); // its last renewal was written at 2000
      for (let t = 2600; t < 2000 + LEASE_MS; t += 100) {
        await cluster.until(t);
        for (const address of node3Share)
          assert.equal(cluster.actual().get(address), undefined, `${formatIp(address)} not taken at ${t} ms`);
      }
      await cluster.until(2000 + LEASE_MS - 1);
      for (const address of node3Share)
        assert.equal(cluster.actual().get(address), undefined, `${formatIp(address)} not taken 1 ms early`);
      await cluster.until(2000 + LEASE_MS + SOON_MS);
      cluster.assertOwners(['node1', 'node2'], 'after node3 went stale');
      const gained =
        cluster.rig('node1').metrics.ownershipChanges.gained + cluster.rig('node2').metrics.ownershipChanges.gained;
      assert.ok(gained >= 13, 'every address gained by someone');
    });

    it('presumes a peer first seen after a restart live for a full leaseDuration from that moment', async () => {
      const cluster = await threeNodes();
      await cluster.until(2500);
      const threeLive = cluster.expected(NODE_NAMES);
      cluster.crash('node3'); // last written at 2000: stale for node2 at 7000
      await cluster.until(4000);
      cluster.crash('node1');
      cluster.add('node1'); // restarted: sees node3's Lease for the first time at 4000
      await cluster.until(4000);
      await cluster.until(2000 + LEASE_MS + SOON_MS);
      // node2 has taken its part of node3's addresses; the new node1 still counts node3 live.
      assert.deepEqual(cluster.ownedBy('node1'), shareOf(cluster, 'node1', NODE_NAMES));
      assert.deepEqual(cluster.ownedBy('node2'), shareOf(cluster, 'node2', ['node1', 'node2']));
      await cluster.until(4000 + LEASE_MS - 1);
      assert.deepEqual(
        cluster.ownedBy('node1'),
        shareOf(cluster, 'node1', NODE_NAMES),
        "node1 has not taken node3's addresses",
      );
      for (const [address, owner] of threeLive) {
        if (owner === 'node3') assert.notDeepEqual(cluster.actual().get(address), ['node1'], formatIp(address));
      }
      await cluster.until(4000 + LEASE_MS + SOON_MS);
      cluster.assertOwners(['node1', 'node2']);
    });

    it("takes a leaving peer's addresses at once", async () => {
      const cluster = await threeNodes();
      await cluster.until(2500);
      void cluster.rig('node3').speaker.leave();
      await cluster.until(2500);
      const expected = cluster.expected(['node1', 'node2']);
      const actual = cluster.actual();
      for (const [address, owner] of expected) {
        assert.ok(owner === 'node1' || owner === 'node2');
        assert.ok(actual.get(address)?.includes(owner), `${formatIp(address)} taken by ${owner} at once`);
      }
      for (const name of ['node1', 'node2'])
        assert.deepEqual(cluster.ownedBy(name), shareOf(cluster, name, ['node1', 'node2']));
    });

    it('gives addresses back to a peer that comes back (a new Lease version after it went stale)', async () => {
      const cluster = await threeNodes();
      await cluster.until(1500);
      cluster.rig('node3').renewer.outcome = 'hang';
      await cluster.until(1000 + LEASE_MS + SOON_MS);
      // node3 fenced itself (see below); node1 and node2 have everything.
      cluster.assertOwners(['node1', 'node2']);
      // node3 restarts: its first renewal writes a new Lease version, which the peers count as a change.
      cluster.crash('node3');
      cluster.add('node3');
      await cluster.run(SOON_MS);
      cluster.assertOwners(NODE_NAMES);
    });
  });

  describe('self-fencing', () => {
    /** node1..3 renewing with 300 ms latency; node1's renewals fail from the one started at 2000 on. */
    async function node1CutOff(): Promise<Cluster> {
      const cluster = await threeNodes({ latencyMs: 300 });
      await cluster.until(1500); // renewals started at 0 and 1000 succeeded (stored at 300 and 1300)
      cluster.rig('node1').renewer.outcome = 'fail';
      return cluster;
    }
    const LAST_RENEW_START = 1000;
    const FENCE_AT = LAST_RENEW_START + LEASE_MS - MARGIN_MS; // 5000
    const PEERS_TAKE_OVER_AT = 1300 + LEASE_MS; // node1's Lease last changed at 1300 on the peers' clocks

    it('stops answering before peers can take over when its renewals fail, and answers again after a renewal', async () => {
      const cluster = await node1CutOff();
      const node1Share = shareOf(cluster, 'node1', NODE_NAMES);
      assert.ok(node1Share.length > 0);
      for (let t = 1600; t < FENCE_AT; t += 100) {
        await cluster.until(t);
        cluster.assertOwners(NODE_NAMES);
      }
      await cluster.until(FENCE_AT - 1);
      assert.deepEqual(cluster.ownedBy('node1'), node1Share, 'still answering 1 ms before the fence');
      await cluster.until(FENCE_AT + 1);
      assert.deepEqual(cluster.ownedBy('node1'), [], 'fenced: answers nothing');
      assert.deepEqual(cluster.rig('node1').metrics.fencedChanges, [false, true]);
      // Nobody answers for node1's addresses until the peers call node1 dead: never two answers at once.
      for (let t = FENCE_AT + 100; t < PEERS_TAKE_OVER_AT; t += 100) {
        await cluster.until(t);
        cluster.assertNoAddressAnsweredTwice();
        for (const address of node1Share)
          assert.equal(cluster.actual().get(address), undefined, `${formatIp(address)} at ${t}`);
      }
      await cluster.until(PEERS_TAKE_OVER_AT + SOON_MS);
      cluster.assertOwners(['node2', 'node3'], 'after the peers called node1 dead');
      assert.deepEqual(cluster.ownedBy('node1'), []);
      // The API server is reachable again: the renewal started at 7000 succeeds at 7300.
      await cluster.until(6500);
      cluster.rig('node1').renewer.outcome = 'succeed';
      await cluster.until(7299);
      assert.deepEqual(cluster.ownedBy('node1'), []);
      await cluster.until(7300);
      cluster.assertOwners(NODE_NAMES, 'after node1 renewed again');
      assert.deepEqual(cluster.rig('node1').metrics.fencedChanges, [false, true, false]);
      assert.deepEqual(cluster.rig('node1').staleViews, [], 'a failing renewal is not a stale view');
    });

    it('measures the fence from the start of the last successful renewal, not from its reply', async () => {
      const cluster = await node1CutOff();
      // The renewal started at 1000 was answered at 1300; fencing from the reply would keep answering until 5300.
      await cluster.until(FENCE_AT + 250);
      assert.deepEqual(cluster.ownedBy('node1'), []);
    });

    it('answers nothing from lastRenewStart + leaseDuration - fenceMargin itself (selfFenced: now >= fenceTime)', async () => {
      const cluster = await node1CutOff();
      await cluster.until(FENCE_AT);
      assert.deepEqual(cluster.ownedBy('node1'), []);
    });

    // An informer event 10 ms before the fence time makes a pass at 4990; the fence timer fires at 5001 and calls
    // changed(), which waits for the 50 ms pass spacing: node1 answers until 5040, 40 ms into the fence margin.
    it('fences on time even when an unrelated pass ran just before the fence time', async () => {
      const cluster = await node1CutOff();
      await cluster.until(FENCE_AT - 10);
      cluster.touch();
      await cluster.until(FENCE_AT + 1);
      assert.deepEqual(cluster.ownedBy('node1'), []);
    });

    it('fences when a renewal hangs as well', async () => {
      const cluster = await threeNodes({ latencyMs: 300 });
      await cluster.until(1500);
      cluster.rig('node1').renewer.outcome = 'hang';
      await cluster.until(FENCE_AT - 1);
      assert.ok(cluster.ownedBy('node1').length > 0);
      assert.equal(
        cluster.rig('node1').renewer.calls.length,
        3,
        'the hanging renewal (started at 2000) holds the loop',
      );
      await cluster.until(FENCE_AT + 1);
      assert.deepEqual(cluster.ownedBy('node1'), []);
    });
  });

  describe('stale view', () => {
    it('fences when its own renewals stop coming back through the watch, and asks for the watches to reconnect', async () => {
      const cluster = await threeNodes();
      await cluster.until(1500);
      cluster.server.freeze('node1'); // its cache last saw node1's Lease change at 1000
      const node1Share = shareOf(cluster, 'node1', NODE_NAMES);
      assert.ok(node1Share.length > 0);
      await cluster.until(1000 + LEASE_MS - MARGIN_MS - 1);
      assert.deepEqual(cluster.ownedBy('node1'), node1Share);
      assert.deepEqual(cluster.rig('node1').staleViews, []);
      await cluster.until(1000 + LEASE_MS - MARGIN_MS + 1);
      assert.deepEqual(cluster.ownedBy('node1'), [], 'fenced: its view of the peers can not be trusted');
      assert.deepEqual(cluster.rig('node1').staleViews, [5000]);
      // Renewals still succeed, so the peers see node1 live and do not take its addresses: nobody answers them.
      for (const name of ['node2', 'node3'])
        assert.deepEqual(cluster.ownedBy(name), shareOf(cluster, name, NODE_NAMES));
      // Still stale: asks again, at most once per leaseDuration.
      await cluster.until(10_500);
      assert.deepEqual(cluster.rig('node1').staleViews, [5000]);
      await cluster.until(11_000);
      assert.deepEqual(cluster.rig('node1').staleViews, [5000, 11_000]);
      // The watch reconnects: node1's own latest renewal is in the cache again.
      cluster.server.thaw('node1');
      await cluster.run(SOON_MS);
      cluster.assertOwners(NODE_NAMES, 'after the watch reconnected');
    });

    it('recovers when onStaleView reconnects the watch', async () => {
      const cluster = new Cluster();
      for (const name of NODE_NAMES) {
        cluster.add(name, {
          onStaleView: () => {
            cluster.clock.after(200, () => {
              cluster.server.thaw(name);
            });
          },
        });
      }
      await cluster.until(1500);
      cluster.server.freeze('node2');
      await cluster.until(5001);
      assert.deepEqual(cluster.ownedBy('node2'), []);
      await cluster.until(5200);
      cluster.assertOwners(NODE_NAMES);
      assert.deepEqual(cluster.rig('node2').staleViews, [5000]);
    });

    it('does not call its view stale at start, while its first renewal is still on its way through the watch', async () => {
      const cluster = new Cluster();
      cluster.server.watchDelayMs = 50;
      const rig = cluster.add('node1');
      await cluster.until(49);
      assert.equal(rig.recorder.everAnnounced, false, 'not before its own Lease is seen');
      await cluster.until(1000);
      cluster.assertOwners(['node1']);
      assert.deepEqual(rig.staleViews, [], 'a renewal 0 ms old is not stale');
    });

    // A rolling restart: the old pod marked the Lease leaving; the new pod's first renewal clears the mark, but its
    // first pass still sees the leaving Lease in its cache (the watch event is 50 ms away) and calls that stale.
    it('does not call its view stale after a hand-over restart, while the cache still holds its old leaving Lease', async () => {
      const cluster = new Cluster();
      const old = cluster.add('node1');
      await cluster.until(2500);
      let left = false;
      void old.speaker.leave().then(() => {
        left = true;
      });
      await cluster.run(OVERLAP_MS);
      assert.ok(left);
      assert.equal(cluster.server.view('node1')[0]?.leaving, true);
      cluster.crash('node1');
      cluster.server.watchDelayMs = 50;
      const restarted = cluster.add('node1');
      await cluster.run(1000);
      cluster.assertOwners(['node1']);
      assert.deepEqual(restarted.staleViews, []);
    });

    it('answers only once its own renewal came back through the watch, even with its old Lease in the cache', async () => {
      const cluster = new Cluster();
      cluster.add('node1');
      await cluster.until(100);
      cluster.crash('node1'); // kill -9: its Lease stays, active
      await cluster.until(10_000);
      cluster.server.watchDelayMs = 50;
      const restarted = cluster.add('node1');
      await cluster.run(49);
      assert.equal(restarted.recorder.everAnnounced, false, 'its renewal of 10000 ms reaches the cache at 10050 ms');
    });
  });
});
