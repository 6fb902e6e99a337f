import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp } from '../../core/ip/ip-address.ts';
import { decodeArpFrame, encodeArpFrame } from '../../protocol/arp/arp-packet.ts';
import { BROADCAST_MAC, ZERO_MAC } from '../../protocol/ethernet/mac-address.ts';
import { decodeNdpFrame, encodeNdpFrame, solicitedNodeMulticast } from '../../protocol/ndp/neighbor-discovery.ts';
import { PacketAnnouncer } from './packet-announcer.ts';
import { FakeFrameChannels, RecordingMetrics } from '../../test-support/layer2-doubles.ts';
import { silentLogger } from '../../test-support/silent-logger.ts';
import {
  ip,
  service,
  pool,
  advertisement,
  NODE_NAMES,
  segmentA,
  nodeMac,
  tableOf,
} from '../../test-support/layer2-world.ts';
import { SOON_MS } from '../../test-support/layer2-timing.ts';
import { type RecordedEvent, Cluster } from '../../test-support/layer2-cluster.ts';

describe('Layer2Speaker', () => {
  describe('events and metrics', () => {
    it('records an AddressAnnounced event per Service for every address gained, once', async () => {
      const world = segmentA();
      world.pools = [...world.pools, pool('isolated', ['203.0.113.0/28'])];
      world.advertisements = [
        advertisement('segment-a', { ipPools: ['segment-a'] }),
        advertisement('isolated', { ipPools: ['isolated'], interfaces: ['eth9'] }),
      ];
      world.services = [
        service('shop/dual', ['198.51.100.40', '2001:db8:a::140']),
        service('shop/a', ['198.51.100.41']),
        service('shop/b', ['198.51.100.41']),
        service('shop/isolated', ['203.0.113.5']),
      ];
      const cluster = new Cluster(world);
      const rig = cluster.add('node1');
      await cluster.until(3000);
      const byMessage = (a: RecordedEvent, b: RecordedEvent): number =>
        a.message + a.service < b.message + b.service ? -1 : 1;
      const expectedEvents: RecordedEvent[] = [
        {
          service: 'shop/dual',
          type: 'Normal',
          reason: 'AddressAnnounced',
          message: '198.51.100.40 is announced by node node1 on eth0',
        },
        {
          service: 'shop/a',
          type: 'Normal',
          reason: 'AddressAnnounced',
          message: '198.51.100.41 is announced by node node1 on eth0',
        },
        {
          service: 'shop/b',
          type: 'Normal',
          reason: 'AddressAnnounced',
          message: '198.51.100.41 is announced by node node1 on eth0',
        },
        {
          service: 'shop/dual',
          type: 'Normal',
          reason: 'AddressAnnounced',
          message: '2001:db8:a::140 is announced by node node1 on eth0',
        },
        {
          service: 'shop/isolated',
          type: 'Warning',
          reason: 'AddressAnnounced',
          message: '203.0.113.5 is announced by node node1 on no interface (none matches)',
        },
      ];
      assert.deepEqual([...rig.events].sort(byMessage), expectedEvents.sort(byMessage));
      assert.deepEqual(rig.metrics.ownershipChanges, { gained: 4, lost: 0 });
      assert.equal(rig.metrics.ownedCounts.at(-1), 4);
      // The named interface appears: the address is announced again, on it.
      const table = tableOf('node1');
      table.interfaces.push({ name: 'eth9', index: 9, mac: '00:00:5e:00:53:29', up: true, addresses: [] });
      cluster.tables.set('node1', table);
      rig.speaker.changed();
      await cluster.run(SOON_MS);
      assert.deepEqual(rig.events.at(-1), {
        service: 'shop/isolated',
        type: 'Normal',
        reason: 'AddressAnnounced',
        message: '203.0.113.5 is announced by node node1 on eth9',
      });
      assert.equal(rig.events.length, 6);
      assert.deepEqual(rig.metrics.ownershipChanges, { gained: 5, lost: 0 });
      // A Service deleted: its address is lost.
      world.services = world.services.filter((s) => s.metadata.name !== 'isolated');
      rig.speaker.changed();
      await cluster.run(SOON_MS);
      assert.deepEqual(rig.metrics.ownershipChanges, { gained: 5, lost: 1 });
      assert.equal(rig.metrics.ownedCounts.at(-1), 3);
    });
  });

  describe('with PacketAnnouncers', () => {
    it('answers each ARP request and Neighbor Solicitation from exactly one node, the owner', async () => {
      const cluster = new Cluster();
      const machines = new Map<string, FakeFrameChannels>();
      for (const name of NODE_NAMES) {
        const channels = new FakeFrameChannels();
        machines.set(name, channels);
        const announcer = new PacketAnnouncer({
          open: channels.open,
          interfaceTable: () => tableOf(name),
          clock: cluster.clock,
          log: silentLogger(),
          metrics: new RecordingMetrics(),
          burstMs: [0, 250, 1000],
          announceIntervalMs: 10_000,
          maxAnswersPerSecond: 1000,
        });
        cluster.add(name, { announcer });
      }
      await cluster.until(2000);
      const client = '00:00:5e:00:53:99';
      const owners = cluster.expected(NODE_NAMES);
      for (const [address, owner] of owners) {
        const v4 = formatIp(address).includes('.');
        const request = v4
          ? encodeArpFrame({
              destination: BROADCAST_MAC,
              source: client,
              packet: {
                op: 'request',
                senderMac: client,
                senderIp: ip('198.51.100.99'),
                targetMac: ZERO_MAC,
                targetIp: address,
              },
            })
          : encodeNdpFrame({
              source: client,
              message: {
                type: 'neighbor-solicitation',
                source: ip('2001:db8:a::99'),
                destination: solicitedNodeMulticast(address),
                target: address,
                sourceLinkLayerAddress: client,
              },
            });
        const answeredBy: string[] = [];
        for (const [name, channels] of machines) {
          channels.clearSent();
          const channel = channels.channel('eth0', v4 ? 'arp' : 'ndp');
          channel?.receive(request);
          for (const frame of channel?.sent ?? []) {
            if (v4) {
              const reply = decodeArpFrame(frame);
              assert.ok(reply.ok && reply.value.packet.op === 'reply' && reply.value.packet.senderIp === address);
              assert.equal(reply.value.packet.senderMac, nodeMac(name));
            } else {
              const answer = decodeNdpFrame(frame);
              assert.ok(
                answer.ok &&
                  answer.value.message.type === 'neighbor-advertisement' &&
                  answer.value.message.target === address,
              );
              assert.equal(answer.value.message.targetLinkLayerAddress, nodeMac(name));
            }
            answeredBy.push(name);
          }
        }
        assert.deepEqual(answeredBy, owner === undefined ? [] : [owner], formatIp(address));
      }
    });
  });
});
