// Runs inside a namespace (the client, or a node to send frames as that host): sends the given Ethernet frames once
// on one interface, then for `listenMs` records every ARP reply and solicited Neighbor Advertisement (answers, not
// the periodic announcements) the interface receives
// (any destination: broadcast and multicast answers count; with `outgoing`, also those this host sends) and prints
// them as one JSON line. Argument: JSON { ifname, frames: hex[], listenMs, outgoing? }.
import { decodeArpFrame } from '../../src/protocol/arp/arp-packet.ts';
import { decodeNdpFrame } from '../../src/protocol/ndp/neighbor-discovery.ts';
import { formatIp } from '../../src/core/ip/ip-address.ts';
import { PacketSocket } from '../../src/platform/packet-socket.ts';
import { interfaceIndex } from './sysfs-interface.ts';

export interface ProbedAnswer {
  kind: 'arp-reply' | 'neighbor-advertisement';
  destination: string;
  source: string;
  vlan?: number;
  /** The address answered for: the ARP sender IP, the NA target. */
  address: string;
}

const { ifname, frames, listenMs, outgoing } = JSON.parse(process.argv[2] ?? '{}') as {
  ifname: string;
  frames: string[];
  listenMs: number;
  outgoing?: boolean;
};
const index = interfaceIndex(ifname);
if (!index.ok) throw new Error(index.error.message);
const answers: ProbedAnswer[] = [];
const socket = PacketSocket.open({
  ifindex: index.value,
  protocol: 'all',
  outgoing: outgoing ?? false,
  onFrame: (frame) => {
    const arp = decodeArpFrame(frame);
    if (arp.ok && arp.value.packet.op === 'reply') {
      const { destination, source, vlan, packet } = arp.value;
      answers.push({
        kind: 'arp-reply',
        destination,
        source,
        ...(vlan ? { vlan: vlan.id } : {}),
        address: formatIp(packet.senderIp),
      });
      return;
    }
    const ndp = decodeNdpFrame(frame);
    if (ndp.ok && ndp.value.message.type === 'neighbor-advertisement' && ndp.value.message.solicited) {
      const { destination, source, vlan, message } = ndp.value;
      answers.push({
        kind: 'neighbor-advertisement',
        destination,
        source,
        ...(vlan ? { vlan: vlan.id } : {}),
        address: formatIp(message.target),
      });
    }
  },
});
if (!socket.ok) throw new Error(socket.error.message);
for (const hex of frames) {
  const sent = socket.value.send(Buffer.from(hex, 'hex'));
  if (!sent.ok) throw new Error(sent.error.message);
}
await new Promise((resolve) => setTimeout(resolve, listenMs));
socket.value.close();
process.stdout.write(`${JSON.stringify(answers)}\n`);
