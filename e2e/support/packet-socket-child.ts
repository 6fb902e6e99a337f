// Runs a PacketSocket inside a network namespace for e2e/packet-socket.test.ts (Node cannot setns, so the test
// starts this under `ip netns exec`). argv[2] is a JSON ChildConfig; events go to stdout as JSON lines; commands
// come as JSON lines on stdin unless `stdin` is false (then nothing but the socket keeps the process alive).
import { createInterface } from 'node:readline';
import { bpfArpOnly, bpfNeighborSolicitationOnly } from '../../src/platform/bpf-program.ts';
import { PacketSocket, type PacketProtocol } from '../../src/platform/packet-socket.ts';
import { formatMac, macBytes, parseMac } from '../../src/protocol/ethernet/mac-address.ts';
import { interfaceIndex, interfaceMac } from './sysfs-interface.ts';

export interface ChildConfig {
  ifname: string;
  protocol: PacketProtocol;
  filter: 'arp' | 'ns' | 'none';
  /** Print every frame (default) or only count them (flood). */
  print?: boolean;
  ref?: boolean;
  /** Also deliver the frames this namespace sends. */
  outgoing?: boolean;
  /** Close the socket after this many frames. */
  closeAfter?: number;
  /** Read commands from stdin (default true). */
  stdin?: boolean;
}

export type ChildCommand =
  | { op: 'send'; hex: string }
  | { op: 'flood'; hex: string; count: number }
  | { op: 'join' | 'leave'; mac: string }
  | { op: 'count' }
  | { op: 'close' };

const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
const emit = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(event)}\n`);
};

const ifindex = interfaceIndex(config.ifname);
const mac = interfaceMac(config.ifname);
if (!ifindex.ok || !mac.ok) throw new Error(JSON.stringify({ ifindex, mac }));

let frames = 0;
let firstMs = 0;
let lastMs = 0;
const filter =
  config.filter === 'arp' ? bpfArpOnly() : config.filter === 'ns' ? bpfNeighborSolicitationOnly() : undefined;
const opened = PacketSocket.open({
  ifindex: ifindex.value,
  protocol: config.protocol,
  ...(filter ? { filter } : {}),
  ref: config.ref ?? true,
  outgoing: config.outgoing ?? false,
  onFrame: (frame, meta) => {
    frames++;
    lastMs = performance.now();
    if (frames === 1) firstMs = lastMs;
    if (config.print ?? true) emit({ event: 'frame', hex: frame.toString('hex'), ...meta });
    if (frames === config.closeAfter) close();
  },
  onError: (error) => {
    emit({ event: 'error', ...error });
  },
});
if (!opened.ok) {
  emit({ event: 'open-failed', ...opened.error });
  process.exit(2);
}
const socket = opened.value;
emit({ event: 'ready', ifindex: ifindex.value, mac: formatMac(mac.value) });

function close(): void {
  socket.close();
  socket.close(); // twice: must be harmless
  emit({ event: 'closed' });
}

function run(command: ChildCommand): void {
  switch (command.op) {
    case 'send': {
      const sent = socket.send(Buffer.from(command.hex, 'hex'));
      emit({ event: 'sent', ...sent });
      break;
    }
    case 'flood': {
      const frame = Buffer.from(command.hex, 'hex');
      const errors: Record<string, number> = {};
      let sent = 0;
      const start = performance.now();
      for (let i = 0; i < command.count; i++) {
        const result = socket.send(frame);
        if (result.ok) sent++;
        else errors[result.error.reason] = (errors[result.error.reason] ?? 0) + 1;
      }
      emit({ event: 'flooded', sent, errors, ms: performance.now() - start });
      break;
    }
    case 'join':
    case 'leave': {
      const group = parseMac(command.mac);
      if (!group.ok) throw new Error(`bad MAC ${command.mac}`);
      const bytes = macBytes(group.value);
      const result = command.op === 'join' ? socket.addMulticast(bytes) : socket.dropMulticast(bytes);
      emit({ event: command.op, ...result });
      break;
    }
    case 'count':
      emit({ event: 'count', frames, firstMs, lastMs, kernel: socket.stats() });
      break;
    case 'close':
      close();
      process.stdin.destroy();
      break;
  }
}

if (config.stdin ?? true) {
  createInterface({ input: process.stdin }).on('line', (line) => {
    run(JSON.parse(line) as ChildCommand);
  });
}
