// FrameChannels on AF_PACKET sockets (the native addon), with kernel filters: ARP only, or Neighbor
// Solicitations only, so the speaker never sees the rest of the node's traffic.
import { bpfArpOnly, bpfNeighborSolicitationOnly } from '../../platform/bpf-program.ts';
import { PacketSocket } from '../../platform/packet-socket.ts';
import { macBytes } from '../../protocol/ethernet/mac-address.ts';
import type { Logger } from '../../platform/logger.ts';
import type { OpenFrameChannel } from './frame-channel.ts';

export function packetChannels(log: Logger): OpenFrameChannel {
  return (iface, kind, onFrame, onError) => {
    const opened = PacketSocket.open({
      ifindex: iface.index,
      protocol: kind === 'arp' ? 'arp' : 'ipv6',
      filter: kind === 'arp' ? bpfArpOnly() : bpfNeighborSolicitationOnly(),
      onFrame: (frame, meta) => {
        onFrame(frame, { packetType: meta.pktType, ifindex: meta.ifindex });
      },
      onError: (error) => {
        log.warn({ interface: iface.name, kind, err: error.message }, 'packet socket receive error');
        onError(error.message);
      },
      ref: false,
    });
    if (!opened.ok) throw new Error(`${iface.name}: ${opened.error.message}`);
    const socket = opened.value;
    return {
      send(frame) {
        const sent = socket.send(frame);
        if (!sent.ok) throw new Error(sent.error.message);
      },
      addMulticast(m) {
        const res = socket.addMulticast(macBytes(m));
        if (!res.ok) log.warn({ interface: iface.name, mac: m, err: res.error.message }, 'cannot join multicast group');
      },
      dropMulticast(m) {
        const res = socket.dropMulticast(macBytes(m));
        if (!res.ok)
          log.debug({ interface: iface.name, mac: m, err: res.error.message }, 'cannot leave multicast group');
      },
      close() {
        socket.close();
      },
    };
  };
}
