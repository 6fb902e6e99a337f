// A raw Ethernet channel on one interface, as the announcer needs it; src/platform's PacketSocket provides it.
export type ChannelKind = 'arp' | 'ndp';

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
  onFrame: (frame: Uint8Array) => void,
  onError: (message: string) => void,
) => FrameChannel;
