// Runs inside the client namespace: sends ARP requests for one address at a fixed rate and measures how many
// are answered and how fast. Each request comes from one of 256 sender addresses in turn, so a reply (addressed to
// its request's sender address) is matched to the latest request from that address. Prints one JSON line.
import { decodeArpFrame, encodeArpFrame } from '../../src/protocol/arp/arp-packet.ts';
import { BROADCAST_MAC, ZERO_MAC } from '../../src/protocol/ethernet/mac-address.ts';
import { ipv4, parseIp } from '../../src/core/ip/ip-address.ts';
import { percentile } from './measure.ts';
import { bpfArpOnly } from '../../src/platform/bpf-program.ts';
import { PacketSocket } from '../../src/platform/packet-socket.ts';
import { formatMac } from '../../src/protocol/ethernet/mac-address.ts';
import { interfaceIndex, interfaceMac } from '../../e2e/support/sysfs-interface.ts';

const { ifname, target, count, rate } = JSON.parse(process.argv[2] ?? '{}') as {
  ifname: string;
  target: string;
  count: number;
  rate: number;
};
const ip = parseIp(target);
const index = interfaceIndex(ifname);
const macBytes = interfaceMac(ifname);
if (!ip.ok || !index.ok || !macBytes.ok) throw new Error('bad arguments');
const mac = formatMac(macBytes.value);

const sentAt = new Float64Array(256);
const rtts: number[] = [];
let received = 0;
const socket = PacketSocket.open({
  ifindex: index.value,
  protocol: 'arp',
  filter: bpfArpOnly(),
  receiveBufferBytes: 8 * 1024 * 1024,
  onFrame: (frame) => {
    const decoded = decodeArpFrame(frame);
    if (!decoded.ok || decoded.value.packet.op !== 'reply' || decoded.value.packet.senderIp !== ip.value) return;
    const slot = Number(decoded.value.packet.targetIp & 0xffn);
    const at = sentAt[slot] ?? 0;
    if (at > 0) {
      rtts.push(performance.now() - at);
      sentAt[slot] = 0;
    }
    received++;
  },
});
if (!socket.ok) throw new Error(socket.error.message);
const frames = Array.from({ length: 256 }, (_, i) =>
  encodeArpFrame({
    destination: BROADCAST_MAC,
    source: mac,
    packet: { op: 'request', senderMac: mac, senderIp: ipv4(203, 0, 113, i), targetMac: ZERO_MAC, targetIp: ip.value },
  }),
);

let sent = 0;
const start = performance.now();
await new Promise<void>((resolve) => {
  const tick = (): void => {
    const due = Math.min(count, Math.floor(((performance.now() - start) / 1000) * rate));
    while (sent < due) {
      const slot = sent % 256;
      sentAt[slot] = performance.now();
      socket.value.send(frames[slot]!);
      sent++;
    }
    if (sent >= count) resolve();
    else setImmediate(tick);
  };
  tick();
});
const sendMs = performance.now() - start;
await new Promise((r) => setTimeout(r, 200));
socket.value.close();
const pct = (p: number): number => Math.round(percentile(rtts, p) * 1000) / 1000;
process.stdout.write(
  `${JSON.stringify({ sent, received, answered_ratio: Math.round((received / sent) * 1000) / 1000, offered_per_s: Math.round(sent / (sendMs / 1000)), answered_per_s: Math.round(received / (sendMs / 1000)), rtt_ms: { p50: pct(50), p99: pct(99), max: pct(100) } })}\n`,
);
