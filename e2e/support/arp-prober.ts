// Sends a broadcast ARP request for one address every few milliseconds, from inside a namespace (started under
// `ip netns exec`; Node cannot setns), until killed. iputils arping takes whole seconds only and switches to unicast
// after the first reply; this keeps broadcasting, so every node sees every request and a second answerer shows.
// argv: interface, source IPv4, target IPv4, interval in ms.
import { parseIp } from '../../src/core/ip/ip-address.ts';
import { encodeArpFrame } from '../../src/protocol/arp/arp-packet.ts';
import { BROADCAST_MAC, ZERO_MAC } from '../../src/protocol/ethernet/mac-address.ts';
import { PacketSocket } from '../../src/platform/packet-socket.ts';
import { formatMac } from '../../src/protocol/ethernet/mac-address.ts';
import { interfaceIndex, interfaceMac } from './sysfs-interface.ts';

const [ifname = 'eth0', source = '', target = '', interval = '50'] = process.argv.slice(2);
const sourceIp = parseIp(source);
const targetIp = parseIp(target);
const index = interfaceIndex(ifname);
const mac = interfaceMac(ifname);
if (!sourceIp.ok || !targetIp.ok || !index.ok || !mac.ok)
  throw new Error(`usage: arp-prober IFACE SOURCE TARGET INTERVAL_MS (${process.argv.slice(2).join(' ')})`);
// A filter that takes nothing: the socket only sends (tcpdump sees the replies).
const socket = PacketSocket.open({
  ifindex: index.value,
  protocol: 'arp',
  filter: [{ code: 0x06, jt: 0, jf: 0, k: 0 }],
  onFrame: () => undefined,
});
if (!socket.ok) throw new Error(socket.error.message);
const own = formatMac(mac.value);
const frame = encodeArpFrame({
  destination: BROADCAST_MAC,
  source: own,
  packet: { op: 'request', senderMac: own, senderIp: sourceIp.value, targetMac: ZERO_MAC, targetIp: targetIp.value },
});
setInterval(
  () => {
    const sent = socket.value.send(frame);
    if (!sent.ok) process.stderr.write(`${sent.error.message}\n`);
  },
  Math.max(5, Number(interval)),
);
