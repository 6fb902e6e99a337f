// The packet announcer's test rig: an announcer over fake frame channels, a manual clock and recording metrics on
// a host with lo, eth0 and eth1; the addresses and MACs of the tests, and the client frames (ARP requests, Neighbor
// Solicitations) they send it, with decoders for what it sends back.
import assert from 'node:assert/strict';
import { parseIp } from '../core/ip/ip-address.ts';
import { decodeArpFrame, encodeArpFrame, type ArpFrame } from '../protocol/arp/arp-packet.ts';
import { BROADCAST_MAC, ZERO_MAC } from '../protocol/ethernet/mac-address.ts';
import { IPV6_ALL_NODES } from '../protocol/ndp/ipv6-packet.ts';
import {
  decodeNdpFrame,
  encodeNdpFrame,
  solicitedNodeMulticast,
  type NdpFrame,
  type NeighborAdvertisement,
} from '../protocol/ndp/neighbor-discovery.ts';
import type { InterfaceTable, NetInterface } from '../platform/network-interfaces.ts';
import type { ChannelKind } from '../speaker/layer2/frame-channel.ts';
import type { OwnedAddress } from '../speaker/layer2/layer2-announcer.ts';
import { PacketAnnouncer, type PacketAnnouncerOptions } from '../speaker/layer2/packet-announcer.ts';
import { FakeFrameChannels, RecordingMetrics, type FakeFrameChannel } from './layer2-doubles.ts';
import { ManualClock } from './manual-clock.ts';
import { silentLogger } from './silent-logger.ts';

/** The address of a text form, failing the test on an error. */
export function ip(text: string): bigint {
  const parsed = parseIp(text);
  if (!parsed.ok) assert.fail(parsed.error);
  return parsed.value;
}

// RFC 7042 documentation MACs; RFC 5737 / RFC 3849 documentation addresses.
export const ETH0_MAC = '00:00:5e:00:53:10';
export const ETH1_MAC = '00:00:5e:00:53:11';
export const CLIENT_MAC = '00:00:5e:00:53:99';
export const OTHER_MAC = '00:00:5e:00:53:98';
export const CLIENT_IP = ip('198.51.100.99');
export const CLIENT_V6 = ip('2001:db8:a::99');
export const V4 = ip('198.51.100.10');
export const V4_B = ip('198.51.100.11');
export const V4_SEGMENT_B = ip('203.0.113.10');
export const V6 = ip('2001:db8:a::110');
export const V6_B = ip('2001:db8:a::111');
/** One IPv4 and one IPv6 address, both on eth0. */
export const BOTH_ON_ETH0: Array<[bigint, string[]]> = [
  [V4, ['eth0']],
  [V6, ['eth0']],
];

export function netInterface(name: string, index: number, mac: string, up = true): NetInterface {
  return { name, index, mac, up, addresses: [] };
}

export interface Rig {
  clock: ManualClock;
  channels: FakeFrameChannels;
  metrics: RecordingMetrics;
  announcer: PacketAnnouncer;
  table: InterfaceTable;
}

export function rig(
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
export function owning(entries: Array<[bigint, string[]]>): Map<bigint, OwnedAddress> {
  return new Map(entries.map(([address, interfaces]) => [address, { interfaces, services: ['shop/web'] }]));
}

/**
 * A rig whose announcer owns these addresses, its takeover announcements sent and cleared: how every test of the
 * answers starts.
 */
export function answering(entries: Array<[bigint, string[]]>): Rig {
  const r = rig();
  r.announcer.update(owning(entries));
  r.channels.clearSent();
  return r;
}

export function openChannel(r: Rig, name: string, kind: ChannelKind): FakeFrameChannel {
  const channel = r.channels.channel(name, kind);
  if (!channel) assert.fail(`no open ${kind} channel on ${name} (open: ${r.channels.openChannels().join(', ')})`);
  return channel;
}

/** An ARP request from a client on the segment, broadcast, asking who has `target`. */
export function arpRequest(target: bigint, from: { mac?: string; ip?: bigint; vlan?: number } = {}): Uint8Array {
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
export function neighborSolicitation(
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
export function clientAdvertisement(target: bigint): Uint8Array {
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

export function decodedArp(frames: readonly Uint8Array[]): ArpFrame[] {
  return frames.map((bytes) => {
    const decoded = decodeArpFrame(bytes);
    if (!decoded.ok) assert.fail(`the announcer sent an undecodable ARP frame: ${decoded.error.message}`);
    return decoded.value;
  });
}

export function decodedAdvertisements(frames: readonly Uint8Array[]): Array<NdpFrame<NeighborAdvertisement>> {
  return frames.map((bytes) => {
    const decoded = decodeNdpFrame(bytes);
    if (!decoded.ok) assert.fail(`the announcer sent an undecodable NDP frame: ${decoded.error.message}`);
    const frame = decoded.value;
    if (frame.message.type !== 'neighbor-advertisement') assert.fail('the announcer sent a solicitation');
    return { ...frame, message: frame.message };
  });
}
