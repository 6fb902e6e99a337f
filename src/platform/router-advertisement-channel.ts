// The packet socket router discovery reads Router Advertisements from and sends Router Solicitations on (ADR 0035):
// AF_PACKET bound to one interface and to IPv6, with a kernel BPF filter that lets only ICMPv6 type 134 through, and
// membership of the all-nodes group (33:33:00:00:00:01) that RAs go to. Needs CAP_NET_RAW, as the layer-2 responders.
import { err, ok, type Result } from '../core/result.ts';
import { macBytes } from '../protocol/ethernet/mac-address.ts';
import { bpfRouterAdvertisementOnly } from './bpf-program.ts';
import { PacketSocket } from './packet-socket.ts';

export interface RouterAdvertisementChannel {
  /** Sends one Ethernet frame (a Router Solicitation) on the interface; an error sentence on failure. */
  send(frame: Uint8Array): Result<void>;
  close(): void;
}

/** Opens the channel on the interface with this index; frames reach onFrame only if the filter took them. */
export function openRouterAdvertisementChannel(
  ifindex: number,
  onFrame: (frame: Uint8Array) => void,
  onError: (message: string) => void,
): Result<RouterAdvertisementChannel> {
  const socket = PacketSocket.open({
    ifindex,
    protocol: 'ipv6',
    filter: bpfRouterAdvertisementOnly(),
    ref: false,
    onFrame: (frame) => {
      onFrame(frame);
    },
    onError: (error) => {
      onError(error.message);
    },
  });
  if (!socket.ok) return err(socket.error.message);
  const joined = socket.value.addMulticast(macBytes('33:33:00:00:00:01'));
  if (!joined.ok) {
    socket.value.close();
    return err(joined.error.message);
  }
  const opened = socket.value;
  return ok({
    send: (frame) => {
      const sent = opened.send(frame);
      return sent.ok ? ok(undefined) : err(sent.error.message);
    },
    close: () => {
      opened.close();
    },
  });
}
