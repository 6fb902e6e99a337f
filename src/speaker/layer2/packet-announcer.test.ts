import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIp } from '../../core/ip/ip-address.ts';
import { decodeArpFrame, encodeArpFrame, type ArpFrame } from '../../protocol/arp/arp-packet.ts';
import { BROADCAST_MAC, ZERO_MAC, ipv6MulticastMac } from '../../protocol/ethernet/mac-address.ts';
import { IPV6_ALL_NODES, IPV6_UNSPECIFIED } from '../../protocol/ndp/ipv6-packet.ts';
import {
  decodeNdpFrame,
  encodeNdpFrame,
  solicitedNodeMulticast,
  type NdpFrame,
  type NeighborAdvertisement,
} from '../../protocol/ndp/neighbor-discovery.ts';
import type { InterfaceTable, NetInterface } from '../../platform/network-interfaces.ts';
import type { ChannelKind } from './frame-channel.ts';
import type { OwnedAddress } from './layer2-speaker.ts';
import { PacketAnnouncer, type PacketAnnouncerOptions } from './packet-announcer.ts';
import { FakeFrameChannels, RecordingMetrics, type FakeFrameChannel } from '../../test-support/layer2-doubles.ts';
import { ManualClock } from '../../test-support/manual-clock.ts';
import { silentLogger } from '../../test-support/silent-logger.ts';

/** The address of a text form, failing the test on an error. */
function ip(text: string): bigint {
  const parsed = parseIp(text);
  if (!parsed.ok) assert.fail(parsed.error);
  return parsed.value;
}

// RFC 7042 documentation MACs; RFC 5737 / RFC 3849 documentation addresses.
const ETH0_MAC = '00:00:5e:00:53:10';
const ETH1_MAC = '00:00:5e:00:53:11';
const CLIENT_MAC = '00:00:5e:00:53:99';
const OTHER_MAC = '00:00:5e:00:53:98';
const CLIENT_IP = ip('198.51.100.99');
const CLIENT_V6 = ip('2001:db8:a::99');
const V4 = ip('198.51.100.10');
const V4_B = ip('198.51.100.11');
const V4_SEGMENT_B = ip('203.0.113.10');
const V6 = ip('2001:db8:a::110');
const V6_B = ip('2001:db8:a::111');

function netInterface(name: string, index: number, mac: string, up = true): NetInterface {
  return { name, index, mac, up, addresses: [] };
}

interface Rig {
  clock: ManualClock;
  channels: FakeFrameChannels;
  metrics: RecordingMetrics;
  announcer: PacketAnnouncer;
  table: InterfaceTable;
}

function rig(
  options: Partial<
    Pick<PacketAnnouncerOptions, 'burstMs' | 'announceIntervalMs' | 'maxAnswersPerSecond' | 'onHealthChange'>
  > = {},
): Rig {
  const clock = new ManualClock(1_000_000);
  const channels = new FakeFrameChannels();
  const metrics = new RecordingMetrics();
  const table: InterfaceTable = {
    interfaces: [
      netInterface('lo', 1, '00:00:00:00:00:00'),
      netInterface('eth0', 2, ETH0_MAC),
      netInterface('eth1', 3, ETH1_MAC),
    ],
    defaultRoute: { 4: 'eth0', 6: 'eth0' },
  };
  const announcer = new PacketAnnouncer({
    open: channels.open,
    interfaceTable: () => table,
    clock,
    log: silentLogger(),
    metrics,
    burstMs: [0, 250, 1000],
    announceIntervalMs: 0,
    maxAnswersPerSecond: 1000,
    ...options,
  });
  return { clock, channels, metrics, announcer, table };
}

/** What the speaker hands the announcer: each address with its interfaces. */
function owning(entries: Array<[bigint, string[]]>): Map<bigint, OwnedAddress> {
  return new Map(entries.map(([address, interfaces]) => [address, { interfaces, services: ['shop/web'] }]));
}

function openChannel(r: Rig, name: string, kind: ChannelKind): FakeFrameChannel {
  const channel = r.channels.channel(name, kind);
  if (!channel) assert.fail(`no open ${kind} channel on ${name} (open: ${r.channels.openChannels().join(', ')})`);
  return channel;
}

/** An ARP request from a client on the segment, broadcast, asking who has `target`. */
function arpRequest(target: bigint, from: { mac?: string; ip?: bigint; vlan?: number } = {}): Uint8Array {
  const mac = from.mac ?? CLIENT_MAC;
  const frame: ArpFrame = {
    destination: BROADCAST_MAC,
    source: mac,
    packet: { op: 'request', senderMac: mac, senderIp: from.ip ?? CLIENT_IP, targetMac: ZERO_MAC, targetIp: target },
    ...(from.vlan === undefined ? {} : { vlan: { id: from.vlan, priority: 0, dropEligible: false } }),
  };
  return encodeArpFrame(frame);
}

/** A Neighbor Solicitation for `target`: multicast to its solicited-node group unless `to` says otherwise. */
function neighborSolicitation(
  target: bigint,
  from: {
    source?: bigint;
    ethernetSource?: string;
    linkLayer?: string | undefined;
    to?: { ip: bigint; mac: string };
  } = {},
): Uint8Array {
  const source = from.source ?? CLIENT_V6;
  const linkLayer = 'linkLayer' in from ? from.linkLayer : CLIENT_MAC;
  return encodeNdpFrame({
    source: from.ethernetSource ?? CLIENT_MAC,
    ...(from.to ? { destination: from.to.mac } : {}),
    message: {
      type: 'neighbor-solicitation',
      source,
      destination: from.to?.ip ?? solicitedNodeMulticast(target),
      target,
      ...(linkLayer === undefined ? {} : { sourceLinkLayerAddress: linkLayer }),
    },
  });
}

/** An unsolicited Neighbor Advertisement from the client for `target`: no request, never answered. */
function clientAdvertisement(target: bigint): Uint8Array {
  return encodeNdpFrame({
    source: CLIENT_MAC,
    message: {
      type: 'neighbor-advertisement',
      source: CLIENT_V6,
      destination: IPV6_ALL_NODES,
      target,
      router: false,
      solicited: false,
      override: true,
      targetLinkLayerAddress: CLIENT_MAC,
    },
  });
}

function decodedArp(frames: readonly Uint8Array[]): ArpFrame[] {
  return frames.map((bytes) => {
    const decoded = decodeArpFrame(bytes);
    if (!decoded.ok) assert.fail(`the announcer sent an undecodable ARP frame: ${decoded.error.message}`);
    return decoded.value;
  });
}

function decodedAdvertisements(frames: readonly Uint8Array[]): Array<NdpFrame<NeighborAdvertisement>> {
  return frames.map((bytes) => {
    const decoded = decodeNdpFrame(bytes);
    if (!decoded.ok) assert.fail(`the announcer sent an undecodable NDP frame: ${decoded.error.message}`);
    const frame = decoded.value;
    if (frame.message.type !== 'neighbor-advertisement') assert.fail('the announcer sent a solicitation');
    return { ...frame, message: frame.message };
  });
}

describe('PacketAnnouncer', () => {
  describe('takeover announcements', () => {
    it('sends RFC 5227 gratuitous ARP announcements at the burst delays, then stops', () => {
      const r = rig();
      r.announcer.update(owning([[V4, ['eth0']]]));
      const sent = (): ArpFrame[] => decodedArp(r.channels.sentOn('eth0', 'arp'));
      assert.equal(sent().length, 1, 'the first at once');
      const [garp] = sent();
      assert.deepEqual(garp, {
        destination: BROADCAST_MAC,
        source: ETH0_MAC,
        packet: { op: 'request', senderMac: ETH0_MAC, senderIp: V4, targetMac: ZERO_MAC, targetIp: V4 },
      });
      r.clock.advance(249);
      assert.equal(sent().length, 1);
      r.clock.advance(1);
      assert.equal(sent().length, 2, 'the second at 250 ms');
      r.clock.advance(749);
      assert.equal(sent().length, 2);
      r.clock.advance(1);
      assert.equal(sent().length, 3, 'the third at 1000 ms');
      r.clock.advance(60_000);
      assert.equal(sent().length, 3, 'no periodic announcements when the interval is 0');
      for (const frame of sent()) assert.deepEqual(frame, garp);
      assert.equal(r.metrics.announcements.arp, 3);
      assert.equal(r.channels.sentOn('eth0', 'ndp').length, 0);
    });

    it('sends unsolicited Neighbor Advertisements (Override 1, Solicited 0) to all-nodes for an IPv6 address', () => {
      const r = rig();
      r.announcer.update(owning([[V6, ['eth0']]]));
      r.clock.advance(1000);
      const sent = decodedAdvertisements(r.channels.sentOn('eth0', 'ndp'));
      assert.equal(sent.length, 3);
      for (const frame of sent) {
        assert.equal(frame.destination, '33:33:00:00:00:01');
        assert.equal(frame.source, ETH0_MAC);
        assert.equal(frame.message.destination, IPV6_ALL_NODES);
        assert.equal(frame.message.source, V6);
        assert.equal(frame.message.target, V6);
        assert.equal(frame.message.override, true);
        assert.equal(frame.message.solicited, false);
        assert.equal(frame.message.router, false);
        assert.equal(frame.message.targetLinkLayerAddress, ETH0_MAC);
      }
      assert.equal(r.metrics.announcements.ndp, 3);
      assert.equal(r.channels.sentOn('eth0', 'arp').length, 0);
    });

    it('announces only newly owned addresses when the owned set grows', () => {
      const r = rig({ burstMs: [0] });
      r.announcer.update(owning([[V4, ['eth0']]]));
      r.channels.clearSent();
      r.announcer.update(
        owning([
          [V4, ['eth0']],
          [V4_B, ['eth0']],
        ]),
      );
      assert.deepEqual(
        decodedArp(r.channels.sentOn('eth0', 'arp')).map((f) => f.packet.senderIp),
        [V4_B],
      );
    });

    it("announces an address owned on two interfaces on each, with that interface's MAC", () => {
      const r = rig({ burstMs: [0] });
      r.announcer.update(owning([[V4, ['eth0', 'eth1']]]));
      assert.deepEqual(
        decodedArp(r.channels.sentOn('eth0', 'arp')).map((f) => f.packet.senderMac),
        [ETH0_MAC],
      );
      assert.deepEqual(
        decodedArp(r.channels.sentOn('eth1', 'arp')).map((f) => f.packet.senderMac),
        [ETH1_MAC],
      );
    });

    it('re-announces every owned address every announceIntervalMs, until it is no longer owned', () => {
      const r = rig({ burstMs: [0], announceIntervalMs: 10_000 });
      r.announcer.update(
        owning([
          [V4, ['eth0']],
          [V6, ['eth0']],
        ]),
      );
      r.channels.clearSent();
      r.clock.advance(9_999);
      assert.equal(r.channels.sentOn('eth0', 'arp').length, 0);
      r.clock.advance(1);
      assert.equal(r.channels.sentOn('eth0', 'arp').length, 1);
      assert.equal(r.channels.sentOn('eth0', 'ndp').length, 1);
      r.clock.advance(20_000);
      assert.equal(r.channels.sentOn('eth0', 'arp').length, 3);
      r.announcer.update(owning([[V6, ['eth0']]]));
      r.channels.clearSent();
      r.clock.advance(30_000);
      assert.equal(r.channels.sentOn('eth0', 'arp').length, 0, 'the released address is not announced');
      assert.equal(r.channels.sentOn('eth0', 'ndp').length, 3);
    });
  });

  describe('answering ARP', () => {
    it('answers a request for an owned address with a unicast reply from the interface MAC', () => {
      const r = rig();
      r.announcer.update(owning([[V4, ['eth0']]]));
      r.channels.clearSent();
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
      const r = rig();
      r.announcer.update(owning([[V4, ['eth0']]]));
      r.channels.clearSent();
      openChannel(r, 'eth0', 'arp').receive(arpRequest(V4, { vlan: 42 }));
      const [reply] = decodedArp(r.channels.sentOn('eth0', 'arp'));
      assert.deepEqual(reply?.vlan, { id: 42, priority: 0, dropEligible: false });
    });

    it("answers an RFC 5227 probe (sender 0.0.0.0) at the prober's MAC: the address is defended", () => {
      const r = rig();
      r.announcer.update(owning([[V4, ['eth0']]]));
      r.channels.clearSent();
      openChannel(r, 'eth0', 'arp').receive(arpRequest(V4, { ip: ip('0.0.0.0') }));
      const [reply] = decodedArp(r.channels.sentOn('eth0', 'arp'));
      assert.equal(reply?.destination, CLIENT_MAC);
      assert.equal(reply.packet.op, 'reply');
      assert.equal(reply.packet.senderIp, V4);
      assert.equal(reply.packet.targetIp, ip('0.0.0.0'));
    });

    it('ignores requests for other addresses, replies, its own announcements and frames that do not decode', () => {
      const r = rig();
      r.announcer.update(owning([[V4, ['eth0']]]));
      r.channels.clearSent();
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
      const r = rig();
      r.announcer.update(
        owning([
          [V4, ['eth0']],
          [V4_SEGMENT_B, ['eth1']],
        ]),
      );
      r.channels.clearSent();
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
      const r = rig();
      r.announcer.update(owning([[V4, ['eth0']]]));
      r.channels.clearSent();
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
      const r = rig();
      r.announcer.update(owning([[V6, ['eth0']]]));
      r.channels.clearSent();
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
      const r = rig();
      r.announcer.update(
        owning([
          [V4, ['eth0']],
          [V6, ['eth0']],
        ]),
      );
      r.channels.clearSent();
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
      const r = rig();
      r.announcer.update(owning([[V4, ['eth0']]]));
      r.channels.clearSent();
      openChannel(r, 'eth0', 'arp').receive(arpRequest(V4), { ifindex: 7 });
      assert.deepEqual(r.channels.sentOn('eth0', 'arp'), []);
      assert.deepEqual(r.metrics.ignoredRequests, ['arp/other-interface']);
    });
  });

  describe('drop reasons: every frame not answered is counted with why', () => {
    it('an answer that cannot be sent is counted as send-failed, not as answered', () => {
      const r = rig();
      r.announcer.update(
        owning([
          [V4, ['eth0']],
          [V6, ['eth0']],
        ]),
      );
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
      const r = rig();
      r.announcer.update(owning([[V6, ['eth0']]]));
      r.channels.clearSent();
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
      const r = rig();
      r.announcer.update(owning([[V6, ['eth0']]]));
      r.channels.clearSent();
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
      const r = rig();
      r.announcer.update(owning([[V6, ['eth0']]]));
      r.channels.clearSent();
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
      const r = rig();
      r.announcer.update(owning([[V6, ['eth0']]]));
      r.channels.clearSent();
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

  describe('channels and multicast groups', () => {
    it('opens nothing before an address is owned, and only the channel of each family owned', () => {
      const r = rig();
      assert.deepEqual(r.channels.openChannels(), []);
      r.announcer.update(owning([[V4, ['eth0']]]));
      assert.deepEqual(r.channels.openChannels(), ['eth0/arp']);
      assert.deepEqual(openChannel(r, 'eth0', 'arp').iface, { name: 'eth0', index: 2 });
      r.announcer.update(
        owning([
          [V4, ['eth0']],
          [V6, ['eth0']],
        ]),
      );
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
      r.announcer.update(
        owning([
          [V4, ['eth0']],
          [V6, ['eth0']],
        ]),
      );
      assert.deepEqual(r.channels.openChannels(), ['eth0/ndp']);
      assert.equal(decodedAdvertisements(r.channels.sentOn('eth0', 'ndp')).length, 1);
      assert.deepEqual([...openChannel(r, 'eth0', 'ndp').memberships], ['33:33:ff:00:01:10']);
    });

    it('opens a socket again after it reports a receive error, and it answers again (at most once a second)', () => {
      const r = rig({ burstMs: [0] });
      r.announcer.update(
        owning([
          [V4, ['eth0']],
          [V6, ['eth0']],
        ]),
      );
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
        r.announcer.update(
          owning([
            [V4, ['eth0']],
            [V6, ['eth0']],
          ]),
        );
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
      r.announcer.update(
        owning([
          [V4, ['eth0']],
          [V6, ['eth0']],
        ]),
      );
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

  describe('rate limit', () => {
    it('answers at most the burst at once, then at the rate, per interface and protocol', () => {
      // 20 per second: a burst of max(16, 20 / 10) = 16, then one every 50 ms.
      const r = rig({ maxAnswersPerSecond: 20, burstMs: [0] });
      r.announcer.update(
        owning([
          [V4, ['eth0', 'eth1']],
          [V6, ['eth0']],
        ]),
      );
      r.channels.clearSent();
      const arp0 = openChannel(r, 'eth0', 'arp');
      for (let i = 0; i < 20; i++) arp0.receive(arpRequest(V4));
      assert.equal(arp0.sent.length, 16);
      assert.equal(r.metrics.answers.arp, 16);
      assert.equal(r.metrics.limited.arp, 4);
      // Other interfaces and the other protocol have buckets of their own.
      const arp1 = openChannel(r, 'eth1', 'arp');
      for (let i = 0; i < 16; i++) arp1.receive(arpRequest(V4));
      assert.equal(arp1.sent.length, 16);
      const ndp0 = openChannel(r, 'eth0', 'ndp');
      for (let i = 0; i < 16; i++) ndp0.receive(neighborSolicitation(V6));
      assert.equal(ndp0.sent.length, 16);
      // Refill: one token per 50 ms.
      r.clock.advance(49);
      arp0.receive(arpRequest(V4));
      assert.equal(arp0.sent.length, 16);
      r.clock.advance(1);
      arp0.receive(arpRequest(V4));
      arp0.receive(arpRequest(V4));
      assert.equal(arp0.sent.length, 17);
      assert.equal(r.metrics.limited.arp, 6);
      // A second later the whole burst is back, no more.
      r.clock.advance(10_000);
      for (let i = 0; i < 20; i++) arp0.receive(arpRequest(V4));
      assert.equal(arp0.sent.length, 17 + 16);
    });

    it('does not count takeover and periodic announcements against the answer budget', () => {
      const r = rig({
        maxAnswersPerSecond: 20,
        burstMs: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
      });
      r.announcer.update(owning([[V4, ['eth0']]]));
      r.clock.advance(19);
      assert.equal(r.metrics.announcements.arp, 20);
      r.channels.clearSent();
      const arp0 = openChannel(r, 'eth0', 'arp');
      for (let i = 0; i < 16; i++) arp0.receive(arpRequest(V4));
      assert.equal(arp0.sent.length, 16);
    });
  });

  describe('interface changes', () => {
    it('rebinds an interface whose MAC changed and announces again with the new MAC', () => {
      const r = rig({ burstMs: [0] });
      r.announcer.update(
        owning([
          [V4, ['eth0']],
          [V6, ['eth0']],
        ]),
      );
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

  describe('close', () => {
    it('closes every channel, cancels pending announcements and ignores later updates', () => {
      const r = rig({ announceIntervalMs: 10_000 });
      r.announcer.update(
        owning([
          [V4, ['eth0']],
          [V6, ['eth1']],
        ]),
      );
      r.announcer.close();
      assert.deepEqual(r.channels.openChannels(), []);
      r.channels.clearSent();
      r.clock.advance(60_000);
      assert.equal(r.clock.pendingTimers, 0);
      r.announcer.update(owning([[V4_B, ['eth0']]]));
      r.announcer.interfacesChanged();
      assert.deepEqual(r.channels.openChannels(), []);
      assert.equal(
        r.channels.opened.reduce((n, c) => n + c.sent.length, 0),
        0,
      );
    });
  });

  describe('properties', () => {
    const v4Pool = [V4, V4_B, ip('198.51.100.12'), V4_SEGMENT_B];
    const v6Pool = [V6, V6_B, ip('2001:db8:b::110'), ip('2001:db8:b::5')];
    const ownedArb = fc.array(
      fc.tuple(fc.constantFrom(...v4Pool, ...v6Pool), fc.subarray(['eth0', 'eth1'], { minLength: 1 })),
      { maxLength: 6 },
    );
    const requestArb = fc.tuple(fc.constantFrom('eth0', 'eth1'), fc.constantFrom(...v4Pool, ...v6Pool), fc.boolean());

    it('answers a request exactly when its target is owned on the interface it arrived on', () => {
      fc.assert(
        fc.property(ownedArb, fc.array(requestArb, { maxLength: 12 }), (entries, requests) => {
          const r = rig({ burstMs: [0] });
          const owned = new Map<bigint, OwnedAddress>();
          for (const [address, interfaces] of entries) owned.set(address, { interfaces, services: ['shop/web'] });
          r.announcer.update(owned);
          for (const [name, target, withOption] of requests) {
            const v4 = v4Pool.includes(target);
            const channel = r.channels.channel(name, v4 ? 'arp' : 'ndp');
            const ownedHere = owned.get(target)?.interfaces.includes(name) ?? false;
            if (!channel) {
              assert.ok(!ownedHere, `${name} has an open channel for every family it owns`);
              continue;
            }
            const before = channel.sent.length;
            channel.receive(
              v4 ? arpRequest(target) : neighborSolicitation(target, withOption ? {} : { linkLayer: undefined }),
            );
            assert.equal(channel.sent.length - before, ownedHere ? 1 : 0);
            const mac = name === 'eth0' ? ETH0_MAC : ETH1_MAC;
            for (const frame of channel.sent.slice(before)) {
              if (v4) assert.equal(decodedArp([frame])[0]?.packet.senderMac, mac);
              else assert.equal(decodedAdvertisements([frame])[0]?.message.targetLinkLayerAddress, mac);
            }
          }
          r.announcer.close();
        }),
        { numRuns: 200 },
      );
    });

    it('never throws on damaged or random frames, and answers nothing but valid requests for an owned address', () => {
      const r = rig();
      r.announcer.update(
        owning([
          [V4, ['eth0']],
          [V6, ['eth0']],
        ]),
      );
      r.channels.clearSent();
      const arp = openChannel(r, 'eth0', 'arp');
      const ndp = openChannel(r, 'eth0', 'ndp');
      const valid = [
        arpRequest(V4),
        neighborSolicitation(V6),
        neighborSolicitation(V6, { source: IPV6_UNSPECIFIED, linkLayer: undefined }),
      ];
      // A valid request with one byte flipped and possibly cut short.
      const mutated = fc
        .tuple(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.nat({ max: 40 }))
        .map(([frame, at, flip, cut]) => {
          const copy = Uint8Array.from(frame);
          const index = at % copy.length;
          copy[index] = (copy[index] ?? 0) ^ flip;
          return copy.subarray(0, copy.length - cut);
        });
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 90 }), mutated), (bytes) => {
          arp.receive(bytes);
          ndp.receive(bytes);
          for (const frame of arp.sent) {
            const reply = decodedArp([frame])[0];
            assert.equal(reply?.packet.op, 'reply');
            assert.equal(reply.packet.senderIp, V4, 'any answer is for the owned address');
          }
          for (const frame of ndp.sent) assert.equal(decodedAdvertisements([frame])[0]?.message.target, V6);
        }),
        { numRuns: 500 },
      );
    });
  });
});
