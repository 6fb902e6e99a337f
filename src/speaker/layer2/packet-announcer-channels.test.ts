// PacketAnnouncer's frame channels and multicast groups (opened, joined and dropped as addresses and interfaces
// come and go), and how it follows interface changes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ipv6MulticastMac } from '../../protocol/ethernet/mac-address.ts';
import { solicitedNodeMulticast } from '../../protocol/ndp/neighbor-discovery.ts';
import {
  ip,
  ETH0_MAC,
  V4,
  V4_SEGMENT_B,
  V6,
  V6_B,
  BOTH_ON_ETH0,
  netInterface,
  rig,
  owning,
  openChannel,
  arpRequest,
  neighborSolicitation,
  decodedArp,
  decodedAdvertisements,
} from '../../test-support/packet-announcer-rig.ts';

describe('PacketAnnouncer', () => {
  describe('channels and multicast groups', () => {
    it('opens nothing before an address is owned, and only the channel of each family owned', () => {
      const r = rig();
      assert.deepEqual(r.channels.openChannels(), []);
      r.announcer.update(owning([[V4, ['eth0']]]));
      assert.deepEqual(r.channels.openChannels(), ['eth0/arp']);
      assert.deepEqual(openChannel(r, 'eth0', 'arp').iface, { name: 'eth0', index: 2 });
      r.announcer.update(owning(BOTH_ON_ETH0));
      assert.deepEqual(r.channels.openChannels(), ['eth0/arp', 'eth0/ndp']);
      r.announcer.update(owning([[V6, ['eth0']]]));
      assert.deepEqual(r.channels.openChannels(), ['eth0/ndp']);
      r.announcer.update(owning([]));
      assert.deepEqual(r.channels.openChannels(), []);
      assert.equal(r.channels.opened.length, 2, 'no channel opened twice');
    });

    it('joins the solicited-node group of each owned IPv6 address, and leaves it when no owned address needs it', () => {
      const r = rig({ burstMs: [0] });
      // Same low 24 bits: one solicited-node group (ff02::1:ff00:110) for both.
      const sameGroup = ip('2001:db8:b::110');
      const group = ipv6MulticastMac(solicitedNodeMulticast(V6));
      assert.equal(group, '33:33:ff:00:01:10');
      r.announcer.update(
        owning([
          [V6, ['eth0']],
          [sameGroup, ['eth0']],
        ]),
      );
      const ndp = openChannel(r, 'eth0', 'ndp');
      assert.deepEqual([...ndp.memberships], [group]);
      r.announcer.update(
        owning([
          [sameGroup, ['eth0']],
          [V6_B, ['eth0']],
        ]),
      );
      assert.deepEqual([...ndp.memberships].sort(), [group, '33:33:ff:00:01:11']);
      r.announcer.update(owning([[V6_B, ['eth0']]]));
      assert.deepEqual([...ndp.memberships], ['33:33:ff:00:01:11']);
      assert.deepEqual(ndp.membershipCalls, [
        { op: 'add', mac: group },
        { op: 'add', mac: '33:33:ff:00:01:11' },
        { op: 'drop', mac: group },
      ]);
      // A solicitation to the group still joined is answered; the announcer does not care which group it came to.
      r.channels.clearSent();
      ndp.receive(neighborSolicitation(V6_B));
      assert.equal(decodedAdvertisements(r.channels.sentOn('eth0', 'ndp')).length, 1);
    });

    it('keeps working on other interfaces when a channel cannot be opened', () => {
      const r = rig({ burstMs: [0] });
      r.channels.failOpen = (iface) => iface.name === 'eth1';
      assert.doesNotThrow(() => {
        r.announcer.update(
          owning([
            [V4, ['eth0']],
            [V4_SEGMENT_B, ['eth1']],
          ]),
        );
      });
      assert.deepEqual(r.channels.openChannels(), ['eth0/arp']);
      assert.equal(r.channels.sentOn('eth0', 'arp').length, 1);
    });

    // Owning 198.51.100.10 and 2001:db8:a::110 on eth0, the ARP socket fails to open: #syncChannels returns from
    // its catch before opening the NDP channel, so the IPv6 address is neither announced nor answered on eth0.
    it('opens the NDP channel of an interface even when its ARP channel cannot be opened', () => {
      const r = rig({ burstMs: [0] });
      r.channels.failOpen = (_iface, kind) => kind === 'arp';
      r.announcer.update(owning(BOTH_ON_ETH0));
      assert.deepEqual(r.channels.openChannels(), ['eth0/ndp']);
      assert.equal(decodedAdvertisements(r.channels.sentOn('eth0', 'ndp')).length, 1);
      assert.deepEqual([...openChannel(r, 'eth0', 'ndp').memberships], ['33:33:ff:00:01:10']);
    });

    it('opens a socket again after it reports a receive error, and it answers again (at most once a second)', () => {
      const r = rig({ burstMs: [0] });
      r.announcer.update(owning(BOTH_ON_ETH0));
      const arp = openChannel(r, 'eth0', 'arp');
      const ndp = openChannel(r, 'eth0', 'ndp');
      arp.fail('Network is down (ENETDOWN)');
      arp.fail('Network is down (ENETDOWN)');
      r.clock.advance(0);
      assert.equal(arp.closed, true, 'the failed socket is closed');
      const reopened = openChannel(r, 'eth0', 'arp');
      assert.notEqual(reopened, arp);
      assert.equal(ndp.closed, false, 'the other protocol keeps its socket');
      r.channels.clearSent();
      reopened.receive(arpRequest(V4));
      assert.equal(decodedArp(r.channels.sentOn('eth0', 'arp')).length, 1, 'the new socket answers');
      reopened.fail('again');
      r.clock.advance(999);
      assert.equal(openChannel(r, 'eth0', 'arp'), reopened, 'not reopened twice within a second');
      r.clock.advance(1);
      assert.notEqual(openChannel(r, 'eth0', 'arp'), reopened);
      ndp.fail('Network is down (ENETDOWN)');
      r.clock.advance(0);
      assert.deepEqual(
        [...openChannel(r, 'eth0', 'ndp').memberships],
        ['33:33:ff:00:01:10'],
        'the new NDP socket joins the group again',
      );
      assert.deepEqual([...r.announcer.brokenInterfaces()], []);
    });

    it('reports an interface whose socket cannot be opened as broken, retries every second, and heals', () => {
      let changes = 0;
      const r = rig({
        burstMs: [0],
        onHealthChange: () => {
          changes++;
        },
      });
      r.channels.failOpen = (iface) => iface.name === 'eth0';
      r.announcer.update(owning([[V4, ['eth0']]]));
      assert.deepEqual([...r.announcer.brokenInterfaces()], ['eth0']);
      assert.equal(changes, 1);
      r.clock.advance(3000);
      assert.deepEqual([...r.announcer.brokenInterfaces()], ['eth0'], 'still broken');
      assert.equal(changes, 1);
      // The speaker gave the address up meanwhile: a trial open still finds out when the socket works again.
      r.announcer.update(new Map());
      r.channels.failOpen = () => false;
      r.clock.advance(1000);
      assert.deepEqual([...r.announcer.brokenInterfaces()], []);
      assert.equal(changes, 2);
      assert.deepEqual(r.channels.openChannels(), [], 'the trial socket is closed again');
    });

    it('a socket that fails and cannot be opened again makes its interface broken', () => {
      const r = rig({ burstMs: [0] });
      r.announcer.update(owning([[V4, ['eth0']]]));
      r.channels.failOpen = () => true;
      openChannel(r, 'eth0', 'arp').fail('No such device (ENODEV)');
      r.clock.advance(0);
      assert.deepEqual([...r.announcer.brokenInterfaces()], ['eth0']);
      r.channels.failOpen = () => false;
      r.clock.advance(1000);
      assert.deepEqual([...r.announcer.brokenInterfaces()], []);
      assert.deepEqual(r.channels.openChannels(), ['eth0/arp'], 'open again on the binding that wants it');
    });

    it('contains a send failure while announcing', () => {
      const r = rig({ burstMs: [0, 250], announceIntervalMs: 10_000 });
      r.channels.failSend = () => true;
      assert.doesNotThrow(() => {
        r.announcer.update(owning(BOTH_ON_ETH0));
        r.clock.advance(20_000);
      });
      r.channels.failSend = () => false;
      r.clock.advance(10_000);
      assert.equal(r.channels.sentOn('eth0', 'arp').length, 1, 'announcing again once sends work');
    });

    // The real channel (packet-channels.ts) throws when socket.send fails (ENOBUFS under a request flood, ENETDOWN
    // as a link goes down). #onArp and #onNdp send without a try/catch, so the error leaves the frame callback that
    // the native addon calls from libuv: an uncaught exception that ends the speaker process.
    it('contains a send failure while answering: the frame callback never throws', () => {
      const r = rig();
      r.announcer.update(owning(BOTH_ON_ETH0));
      r.channels.failSend = () => true;
      assert.doesNotThrow(() => {
        openChannel(r, 'eth0', 'arp').receive(arpRequest(V4));
      }, 'ARP');
      assert.doesNotThrow(() => {
        openChannel(r, 'eth0', 'ndp').receive(neighborSolicitation(V6));
      }, 'NDP');
    });

    it('skips an interface missing from the table, and binds it once it appears and the address is updated again', () => {
      const r = rig({ burstMs: [0] });
      const owned = owning([[V4, ['eth3']]]);
      r.announcer.update(owned);
      assert.deepEqual(r.channels.openChannels(), []);
      r.table.interfaces.push(netInterface('eth3', 9, '00:00:5e:00:53:13'));
      r.announcer.update(owned);
      assert.deepEqual(r.channels.openChannels(), ['eth3/arp']);
      assert.equal(decodedArp(r.channels.sentOn('eth3', 'arp'))[0]?.packet.senderMac, '00:00:5e:00:53:13');
    });
  });

  describe('interface changes', () => {
    it('rebinds an interface whose MAC changed and announces again with the new MAC', () => {
      const r = rig({ burstMs: [0] });
      r.announcer.update(owning(BOTH_ON_ETH0));
      const before = openChannel(r, 'eth0', 'ndp');
      r.table.interfaces[1] = netInterface('eth0', 2, '00:00:5e:00:53:20');
      r.channels.clearSent();
      r.announcer.interfacesChanged();
      assert.equal(before.closed, true, 'the old channel is closed');
      const ndp = openChannel(r, 'eth0', 'ndp');
      assert.notEqual(ndp, before);
      assert.deepEqual([...ndp.memberships], ['33:33:ff:00:01:10'], 'groups joined again on the new channel');
      assert.equal(decodedArp(r.channels.sentOn('eth0', 'arp'))[0]?.packet.senderMac, '00:00:5e:00:53:20');
      assert.equal(
        decodedAdvertisements(r.channels.sentOn('eth0', 'ndp'))[0]?.message.targetLinkLayerAddress,
        '00:00:5e:00:53:20',
      );
      r.channels.clearSent();
      openChannel(r, 'eth0', 'arp').receive(arpRequest(V4));
      assert.equal(
        decodedArp(r.channels.sentOn('eth0', 'arp'))[0]?.packet.senderMac,
        '00:00:5e:00:53:20',
        'answers carry the new MAC',
      );
    });

    it('rebinds an interface whose index changed (deleted and created again)', () => {
      const r = rig({ burstMs: [0] });
      r.announcer.update(owning([[V4, ['eth0']]]));
      const before = openChannel(r, 'eth0', 'arp');
      r.table.interfaces[1] = netInterface('eth0', 12, ETH0_MAC);
      r.announcer.interfacesChanged();
      assert.equal(before.closed, true);
      assert.deepEqual(openChannel(r, 'eth0', 'arp').iface, { name: 'eth0', index: 12 });
    });

    it('closes the channels of an interface that went down, and opens them and announces when it is up again', () => {
      const r = rig({ burstMs: [0] });
      r.announcer.update(owning([[V4, ['eth0']]]));
      r.table.interfaces[1] = netInterface('eth0', 2, ETH0_MAC, false);
      r.announcer.interfacesChanged();
      assert.deepEqual(r.channels.openChannels(), []);
      r.channels.clearSent();
      r.table.interfaces[1] = netInterface('eth0', 2, ETH0_MAC, true);
      r.announcer.interfacesChanged();
      assert.deepEqual(r.channels.openChannels(), ['eth0/arp']);
      assert.equal(decodedArp(r.channels.sentOn('eth0', 'arp')).length, 1);
    });

    it('re-announces on unchanged interfaces without reopening their channels', () => {
      const r = rig({ burstMs: [0] });
      r.announcer.update(owning([[V4, ['eth0']]]));
      const channel = openChannel(r, 'eth0', 'arp');
      r.channels.clearSent();
      r.announcer.interfacesChanged();
      assert.equal(openChannel(r, 'eth0', 'arp'), channel);
      assert.equal(channel.sent.length, 1);
    });

    it('counts as announced only the announcements actually sent', () => {
      const r = rig({ burstMs: [0], announceIntervalMs: 10_000 });
      r.announcer.update(owning([[V4, ['eth0']]]));
      r.table.interfaces[1] = netInterface('eth0', 2, ETH0_MAC, false);
      r.announcer.interfacesChanged();
      r.clock.advance(30_000);
      assert.equal(r.channels.sentOn('eth0', 'arp').length, 1, 'only the takeover announcement went out');
      assert.equal(r.metrics.announcements.arp, 1);
    });
  });
});
