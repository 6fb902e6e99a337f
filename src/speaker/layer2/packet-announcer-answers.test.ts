// PacketAnnouncer answering ARP requests and Neighbor Solicitations for owned addresses, the reflection and spoofing
// limits, and the drop reason counted for every frame it does not answer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeArpFrame } from '../../protocol/arp/arp-packet.ts';
import { BROADCAST_MAC, ZERO_MAC } from '../../protocol/ethernet/mac-address.ts';
import { IPV6_ALL_NODES, IPV6_UNSPECIFIED } from '../../protocol/ndp/ipv6-packet.ts';
import {
  ip,
  ETH0_MAC,
  ETH1_MAC,
  CLIENT_MAC,
  OTHER_MAC,
  CLIENT_IP,
  CLIENT_V6,
  V4,
  V4_B,
  V4_SEGMENT_B,
  V6,
  V6_B,
  BOTH_ON_ETH0,
  rig,
  owning,
  answering,
  openChannel,
  arpRequest,
  neighborSolicitation,
  clientAdvertisement,
  decodedArp,
  decodedAdvertisements,
} from '../../test-support/packet-announcer-rig.ts';

describe('PacketAnnouncer', () => {
  describe('answering ARP', () => {
    it('answers a request for an owned address with a unicast reply from the interface MAC', () => {
      const r = answering([[V4, ['eth0']]]);
      openChannel(r, 'eth0', 'arp').receive(arpRequest(V4));
      assert.deepEqual(decodedArp(r.channels.sentOn('eth0', 'arp')), [
        {
          destination: CLIENT_MAC,
          source: ETH0_MAC,
          packet: { op: 'reply', senderMac: ETH0_MAC, senderIp: V4, targetMac: CLIENT_MAC, targetIp: CLIENT_IP },
        },
      ]);
      assert.equal(r.metrics.answers.arp, 1);
    });

    it('answers on the VLAN the request came on', () => {
      const r = answering([[V4, ['eth0']]]);
      openChannel(r, 'eth0', 'arp').receive(arpRequest(V4, { vlan: 42 }));
      const [reply] = decodedArp(r.channels.sentOn('eth0', 'arp'));
      assert.deepEqual(reply?.vlan, { id: 42, priority: 0, dropEligible: false });
    });

    it("answers an RFC 5227 probe (sender 0.0.0.0) at the prober's MAC: the address is defended", () => {
      const r = answering([[V4, ['eth0']]]);
      openChannel(r, 'eth0', 'arp').receive(arpRequest(V4, { ip: ip('0.0.0.0') }));
      const [reply] = decodedArp(r.channels.sentOn('eth0', 'arp'));
      assert.equal(reply?.destination, CLIENT_MAC);
      assert.equal(reply.packet.op, 'reply');
      assert.equal(reply.packet.senderIp, V4);
      assert.equal(reply.packet.targetIp, ip('0.0.0.0'));
    });

    it('ignores requests for other addresses, replies, its own announcements and frames that do not decode', () => {
      const r = answering([[V4, ['eth0']]]);
      const channel = openChannel(r, 'eth0', 'arp');
      channel.receive(arpRequest(V4_B));
      channel.receive(arpRequest(V4_SEGMENT_B));
      channel.receive(
        encodeArpFrame({
          destination: ETH0_MAC,
          source: CLIENT_MAC,
          packet: { op: 'reply', senderMac: CLIENT_MAC, senderIp: CLIENT_IP, targetMac: ETH0_MAC, targetIp: V4 },
        }),
      );
      channel.receive(arpRequest(V4, { mac: ETH0_MAC, ip: V4 }));
      channel.receive(new Uint8Array(10));
      channel.receive(neighborSolicitation(V6));
      assert.deepEqual(r.channels.sentOn('eth0', 'arp'), []);
      assert.equal(r.metrics.answers.arp, 0);
      assert.deepEqual(
        r.metrics.droppedFrames,
        ['arp/not-owned', 'arp/not-owned', 'arp/not-a-request', 'arp/own-announcement', 'arp/invalid', 'arp/invalid'],
        'each counted with its drop reason (beaconlb_l2_frames_dropped_total)',
      );
    });

    it('answers only on the interfaces the address is owned on', () => {
      const r = answering([
        [V4, ['eth0']],
        [V4_SEGMENT_B, ['eth1']],
      ]);
      openChannel(r, 'eth1', 'arp').receive(arpRequest(V4));
      openChannel(r, 'eth0', 'arp').receive(arpRequest(V4_SEGMENT_B));
      assert.deepEqual(r.channels.sentOn('eth0', 'arp'), []);
      assert.deepEqual(r.channels.sentOn('eth1', 'arp'), []);
      openChannel(r, 'eth1', 'arp').receive(arpRequest(V4_SEGMENT_B));
      assert.equal(decodedArp(r.channels.sentOn('eth1', 'arp'))[0]?.packet.senderMac, ETH1_MAC);
    });

    it('falls silent at once for an address no longer owned, even while its burst is pending', () => {
      const r = rig();
      r.announcer.update(
        owning([
          [V4, ['eth0']],
          [V4_B, ['eth0']],
        ]),
      );
      r.announcer.update(owning([[V4_B, ['eth0']]]));
      r.channels.clearSent();
      openChannel(r, 'eth0', 'arp').receive(arpRequest(V4));
      r.clock.advance(5_000);
      const sent = decodedArp(r.channels.sentOn('eth0', 'arp'));
      assert.ok(
        sent.every((f) => f.packet.senderIp === V4_B),
        'only V4_B is announced',
      );
      assert.equal(sent.length, 2, "the rest of V4_B's burst (250 ms, 1000 ms)");
    });
  });

  describe('reflection and spoofing limits', () => {
    /** An ARP request for V4 whose Ethernet source and sender hardware address are given separately. */
    const spoofedArp = (ethernetSource: string, senderMac: string): Uint8Array =>
      encodeArpFrame({
        destination: BROADCAST_MAC,
        source: ethernetSource,
        packet: { op: 'request', senderMac, senderIp: CLIENT_IP, targetMac: ZERO_MAC, targetIp: V4 },
      });

    it('never answers ARP to a broadcast, multicast or zero sender hardware address, nor from a group Ethernet source', () => {
      const r = answering([[V4, ['eth0']]]);
      const channel = openChannel(r, 'eth0', 'arp');
      channel.receive(spoofedArp(CLIENT_MAC, BROADCAST_MAC));
      channel.receive(spoofedArp(CLIENT_MAC, '01:00:5e:00:00:01'));
      channel.receive(spoofedArp(CLIENT_MAC, '33:33:00:00:00:01'));
      channel.receive(spoofedArp(CLIENT_MAC, ZERO_MAC));
      channel.receive(spoofedArp('01:00:5e:00:00:01', CLIENT_MAC));
      assert.deepEqual(r.channels.sentOn('eth0', 'arp'), [], 'no reply at all');
      assert.deepEqual(r.metrics.ignoredRequests, Array(5).fill('arp/group-sender'));
      // A sane request still gets its unicast reply, to the sender hardware address.
      channel.receive(spoofedArp(OTHER_MAC, CLIENT_MAC));
      assert.deepEqual(
        decodedArp(r.channels.sentOn('eth0', 'arp')).map((f) => f.destination),
        [CLIENT_MAC],
      );
    });

    it('never answers a Neighbor Solicitation to a group link-layer address (option or Ethernet source)', () => {
      const r = answering([[V6, ['eth0']]]);
      const channel = openChannel(r, 'eth0', 'ndp');
      channel.receive(neighborSolicitation(V6, { linkLayer: BROADCAST_MAC }));
      channel.receive(neighborSolicitation(V6, { linkLayer: '33:33:00:00:00:01' }));
      channel.receive(
        neighborSolicitation(V6, {
          linkLayer: undefined,
          ethernetSource: '33:33:00:00:00:01',
          to: { ip: V6, mac: ETH0_MAC },
        }),
      );
      assert.deepEqual(r.channels.sentOn('eth0', 'ndp'), []);
      assert.deepEqual(r.metrics.ignoredRequests, Array(3).fill('ndp/group-sender'));
    });

    it('ignores requests the kernel reports as sent by this host (PACKET_OUTGOING) or addressed to another host', () => {
      const r = answering(BOTH_ON_ETH0);
      openChannel(r, 'eth0', 'arp').receive(arpRequest(V4), { packetType: 'outgoing' });
      openChannel(r, 'eth0', 'ndp').receive(neighborSolicitation(V6), { packetType: 'outgoing' });
      openChannel(r, 'eth0', 'arp').receive(arpRequest(V4), { packetType: 'otherhost' });
      openChannel(r, 'eth0', 'ndp').receive(neighborSolicitation(V6), { packetType: 'otherhost' });
      assert.deepEqual(r.channels.sentOn('eth0', 'arp'), []);
      assert.deepEqual(r.channels.sentOn('eth0', 'ndp'), []);
      assert.deepEqual(r.metrics.ignoredRequests, ['arp/outgoing', 'ndp/outgoing', 'arp/other-host', 'ndp/other-host']);
      openChannel(r, 'eth0', 'arp').receive(arpRequest(V4), { packetType: 'host' });
      assert.equal(r.channels.sentOn('eth0', 'arp').length, 1, 'a request to our MAC is answered');
    });

    it("ignores a request delivered from another interface (a VLAN sub-interface's frames reach its parent's socket)", () => {
      const r = answering([[V4, ['eth0']]]);
      openChannel(r, 'eth0', 'arp').receive(arpRequest(V4), { ifindex: 7 });
      assert.deepEqual(r.channels.sentOn('eth0', 'arp'), []);
      assert.deepEqual(r.metrics.ignoredRequests, ['arp/other-interface']);
    });
  });

  describe('drop reasons: every frame not answered is counted with why', () => {
    it('an answer that cannot be sent is counted as send-failed, not as answered', () => {
      const r = rig();
      r.announcer.update(owning(BOTH_ON_ETH0));
      r.channels.failSend = () => true;
      openChannel(r, 'eth0', 'arp').receive(arpRequest(V4));
      openChannel(r, 'eth0', 'ndp').receive(neighborSolicitation(V6));
      assert.deepEqual(r.metrics.droppedFrames, ['arp/send-failed', 'ndp/send-failed']);
      assert.deepEqual(r.metrics.answers, { arp: 0, ndp: 0 });
    });

    it('a request refused by rule or by the rate limit is counted there, not as dropped', () => {
      const r = rig({ maxAnswersPerSecond: 1 });
      r.announcer.update(owning([[V4, ['eth0']]]));
      const channel = openChannel(r, 'eth0', 'arp');
      channel.receive(arpRequest(V4), { packetType: 'outgoing' });
      for (let i = 0; i < 20; i++) channel.receive(arpRequest(V4));
      assert.deepEqual(r.metrics.ignoredRequests, ['arp/outgoing']);
      assert.equal(r.metrics.answers.arp, 16, 'the burst');
      assert.equal(r.metrics.limited.arp, 4);
      assert.deepEqual(r.metrics.droppedFrames, []);
    });
  });

  describe('answering Neighbor Solicitations', () => {
    it('answers a multicast solicitation with a solicited advertisement to its source link-layer address', () => {
      const r = answering([[V6, ['eth0']]]);
      // The option's MAC differs from the Ethernet source, to show which one the answer goes to.
      openChannel(r, 'eth0', 'ndp').receive(
        neighborSolicitation(V6, { linkLayer: CLIENT_MAC, ethernetSource: OTHER_MAC }),
      );
      const sent = decodedAdvertisements(r.channels.sentOn('eth0', 'ndp'));
      assert.equal(sent.length, 1);
      assert.deepEqual(sent[0], {
        destination: CLIENT_MAC,
        source: ETH0_MAC,
        message: {
          type: 'neighbor-advertisement',
          source: V6,
          destination: CLIENT_V6,
          target: V6,
          router: false,
          solicited: true,
          override: true,
          targetLinkLayerAddress: ETH0_MAC,
        },
      });
      assert.equal(r.metrics.answers.ndp, 1);
    });

    it('answers a unicast solicitation without the option to the Ethernet source it came from', () => {
      const r = answering([[V6, ['eth0']]]);
      openChannel(r, 'eth0', 'ndp').receive(
        neighborSolicitation(V6, { linkLayer: undefined, to: { ip: V6, mac: ETH0_MAC } }),
      );
      const [answer] = decodedAdvertisements(r.channels.sentOn('eth0', 'ndp'));
      assert.equal(answer?.destination, CLIENT_MAC);
      assert.equal(answer.message.destination, CLIENT_V6);
      assert.equal(answer.message.solicited, true);
      assert.equal(answer.message.override, true);
    });

    it('answers Duplicate Address Detection (source ::) to all-nodes with Solicited 0', () => {
      const r = answering([[V6, ['eth0']]]);
      openChannel(r, 'eth0', 'ndp').receive(
        neighborSolicitation(V6, { source: IPV6_UNSPECIFIED, linkLayer: undefined }),
      );
      const [answer] = decodedAdvertisements(r.channels.sentOn('eth0', 'ndp'));
      assert.equal(answer?.destination, '33:33:00:00:00:01');
      assert.equal(answer.message.destination, IPV6_ALL_NODES);
      assert.equal(answer.message.solicited, false);
      assert.equal(answer.message.override, true);
      assert.equal(answer.message.target, V6);
      assert.equal(answer.message.targetLinkLayerAddress, ETH0_MAC);
    });

    it('ignores solicitations for other targets, advertisements, and solicitations failing RFC 4861 validation', () => {
      const r = answering([[V6, ['eth0']]]);
      const channel = openChannel(r, 'eth0', 'ndp');
      channel.receive(neighborSolicitation(V6_B));
      channel.receive(clientAdvertisement(V6));
      const forwarded = neighborSolicitation(V6);
      forwarded[14 + 7] = 64; // hop limit 64: forwarded, not from the link
      channel.receive(forwarded);
      const corrupted = neighborSolicitation(V6);
      corrupted[14 + 40 + 2] = (corrupted[14 + 40 + 2] ?? 0) ^ 0xff; // checksum
      channel.receive(corrupted);
      channel.receive(arpRequest(V4));
      assert.deepEqual(r.channels.sentOn('eth0', 'ndp'), []);
      assert.equal(r.metrics.answers.ndp, 0);
      assert.deepEqual(
        r.metrics.droppedFrames,
        ['ndp/not-owned', 'ndp/not-a-request', 'ndp/invalid', 'ndp/invalid', 'ndp/invalid'],
        'each counted with its drop reason (beaconlb_l2_frames_dropped_total)',
      );
    });
  });
});
