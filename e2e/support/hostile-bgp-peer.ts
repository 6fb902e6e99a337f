// A hostile BGP peer for the speaker's e2e test, run inside the router namespace:
//   node e2e/support/hostile-bgp-peer.ts <listen address> <port> <peer AS>
// It accepts the speaker's connections one after another; on each it completes the OPEN exchange, then sends the
// bad messages of one round and reports on stdout (JSON lines) every NOTIFICATION it receives and every close.
// Rounds: 1) malformed ORIGIN (treat-as-withdraw), a 1,000-AS AS_PATH with unknown optional attributes, an
//            attribute with a bad flag combination, then an unrecognized well-known attribute (session reset);
//         2) a message of unknown type (Bad Message Type); 3) a broken marker (Connection Not Synchronized);
//         4) a plain session kept up (the speaker must still be willing to talk).
import net from 'node:net';
import { decodeBgpMessage, encodeBgpMessage, KEEPALIVE } from '../../src/protocol/bgp/bgp-message.ts';
import { nextMessageLength } from '../../src/protocol/bgp/message-header.ts';
import { localOpen } from '../../src/protocol/bgp/session-negotiation.ts';
import { parseIp } from '../../src/core/ip/ip-address.ts';

const [host = '198.51.100.1', portText = '1179', asText = '65000'] = process.argv.slice(2);
const CODEC = { fourOctetAs: true };
const identifier = parseIp(host);
if (!identifier.ok) throw new Error(`bad address ${host}`);
const open = localOpen({
  localAs: Number(asText),
  peerAs: 0,
  bgpIdentifier: identifier.value,
  holdTime: 30,
  connectRetryTime: 1,
  passive: true,
  families: ['ipv4-unicast', 'ipv6-unicast'],
});

const report = (fields: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(fields)}\n`);
};

function message(type: number, body: readonly number[], marker = 0xff): Buffer {
  const length = 19 + body.length;
  return Buffer.from([...Array<number>(16).fill(marker), length >> 8, length & 0xff, type, ...body]);
}

function update(attributes: readonly number[], nlri: readonly number[]): Buffer {
  return message(2, [0, 0, attributes.length >> 8, attributes.length & 0xff, ...attributes, ...nlri]);
}

const nextHop = [0x40, 3, 4, 198, 51, 100, 1];
const nlri = (last: number): number[] => [32, 198, 51, 100, last];
const asPath = (count: number): number[] => {
  const segments: number[] = [];
  for (let left = count; left > 0; left -= 250) {
    const n = Math.min(250, left);
    segments.push(2, n, ...Array.from({ length: n }, () => [0, 0, 0xfd, 0xe8]).flat());
  }
  return [0x50, 2, segments.length >> 8, segments.length & 0xff, ...segments];
};
const emptyAsPath = [0x40, 2, 0];

const ROUNDS: Array<Array<{ name: string; bytes: Buffer }>> = [
  [
    { name: 'malformed ORIGIN', bytes: update([0x40, 1, 1, 5, ...emptyAsPath, ...nextHop], nlri(200)) },
    {
      name: 'huge AS_PATH and unknown optional attributes',
      bytes: update([0x40, 1, 1, 0, ...asPath(1000), ...nextHop, 0xc0, 99, 3, 1, 2, 3, 0x80, 98, 2, 4, 5], nlri(201)),
    },
    {
      name: 'MED with the transitive flag',
      bytes: update([0x40, 1, 1, 0, ...emptyAsPath, ...nextHop, 0xc0, 4, 4, 0, 0, 0, 1], nlri(202)),
    },
    {
      name: 'unrecognized well-known attribute',
      bytes: update([0x40, 1, 1, 0, ...emptyAsPath, ...nextHop, 0x40, 97, 1, 0], nlri(203)),
    },
  ],
  [{ name: 'unknown message type', bytes: message(9, [1, 2, 3]) }],
  [{ name: 'broken marker', bytes: message(4, [], 0xfe) }],
  [],
];

let round = 0;
const server = net.createServer((socket) => {
  const mine = round++;
  report({ event: 'connected', round: mine });
  let buffer = Buffer.alloc(0);
  let opened = false;
  socket.on('error', () => undefined);
  socket.on('close', () => {
    report({ event: 'closed', round: mine });
  });
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const length = nextMessageLength(buffer);
      if (!length.ok || length.value === undefined || buffer.length < length.value) return;
      const decoded = decodeBgpMessage(buffer.subarray(0, length.value), CODEC);
      buffer = buffer.subarray(length.value);
      if (decoded.kind !== 'ok') continue;
      const received = decoded.message;
      if (received.type === 'notification')
        report({ event: 'notification', round: mine, code: received.code, subcode: received.subcode });
      if (received.type === 'open' && !opened) {
        opened = true;
        socket.write(encodeBgpMessage(open, CODEC));
        socket.write(encodeBgpMessage(KEEPALIVE, CODEC));
      } else if (received.type === 'keepalive' && opened) {
        opened = false; // once: the speaker's KEEPALIVE confirms our OPEN
        report({ event: 'established', round: mine });
        const steps = ROUNDS[Math.min(mine, ROUNDS.length - 1)] ?? [];
        steps.forEach((step, index) => {
          setTimeout(
            () => {
              if (socket.destroyed) return;
              report({ event: 'sent', round: mine, name: step.name });
              socket.write(step.bytes);
              socket.write(encodeBgpMessage(KEEPALIVE, CODEC));
            },
            100 * (index + 1),
          );
        });
        const keepalive = setInterval(() => {
          if (!socket.destroyed) socket.write(encodeBgpMessage(KEEPALIVE, CODEC));
        }, 5000);
        socket.once('close', () => {
          clearInterval(keepalive);
        });
      }
    }
  });
});
server.listen({ host, port: Number(portText) }, () => {
  report({ event: 'listening' });
});
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
