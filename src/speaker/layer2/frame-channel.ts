// A raw Ethernet channel on one interface, as the announcer needs it; src/platform's PacketSocket provides it.
export type ChannelKind = 'arp' | 'ndp';

/**
 * How the kernel classified a received frame (sll_pkttype): to this host's MAC, broadcast, multicast, to another
 * host's MAC (unknown unicast flooded to us, promiscuous mode, or a VLAN-tagged frame with no VLAN interface for its
 * tag), or sent by this host.
 */
export type FramePacketType = 'host' | 'broadcast' | 'multicast' | 'otherhost' | 'outgoing' | 'other';

/** Where a frame came from: its packet type and the interface the kernel delivered it on (sll_ifindex). */
export interface FrameOrigin {
  readonly packetType: FramePacketType;
  /** A frame received through a VLAN sub-interface (eth0.100) also reaches eth0's socket, with eth0.100's index. */
  readonly ifindex: number;
}

export interface FrameChannel {
  send(frame: Uint8Array): void;
  addMulticast(mac: string): void;
  dropMulticast(mac: string): void;
  close(): void;
}

/** Opens a channel (throws when it cannot); `onError` reports a receive error of the open socket (ENETDOWN, ...). */
export type OpenFrameChannel = (
  iface: { name: string; index: number },
  kind: ChannelKind,
  onFrame: (frame: Uint8Array, origin: FrameOrigin) => void,
  onError: (message: string) => void,
) => FrameChannel;
