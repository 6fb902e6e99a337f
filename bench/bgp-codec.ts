// BGP codec throughput (prints one JSON object): UPDATEs announcing N host routes (IPv4 /32 with NEXT_HOP, IPv6
// /128 in MP_REACH_NLRI) with ORIGIN, AS_PATH, COMMUNITIES and LARGE_COMMUNITIES, packed into 4096-byte messages;
// encode (announcementUpdates + encodeBgpMessage) and decode (decodeBgpMessage) rates in prefixes per second, best
// of several rounds. Addresses exist only in memory here. Usage: node bench/bgp-codec.ts [--prefixes 200000]
import { parseArgs } from 'node:util';
import { parseIp } from '../src/core/ip/ip-address.ts';
import { decodeBgpMessage, encodeBgpMessage } from '../src/protocol/bgp/bgp-message.ts';
import type { BgpPrefix } from '../src/protocol/bgp/nlri-prefix.ts';
import type { PathAttribute } from '../src/protocol/bgp/path-attribute.ts';
import { announcementUpdates } from '../src/protocol/bgp/update-packing.ts';

const { values } = parseArgs({
  options: { prefixes: { type: 'string', default: '200000' }, rounds: { type: 'string', default: '5' } },
});
const N = Number(values.prefixes);
const ROUNDS = Number(values.rounds);
const codec = { fourOctetAs: true, external: true };
const ip = (text: string): bigint => {
  const parsed = parseIp(text);
  if (!parsed.ok) throw new Error(text);
  return parsed.value;
};
const attributes: PathAttribute[] = [
  { type: 'origin', origin: 'igp' },
  { type: 'as-path', segments: [{ type: 'sequence', asns: [65001, 65001] }] },
  { type: 'communities', communities: [65000 * 65536 + 100] },
  { type: 'large-communities', largeCommunities: [{ globalAdmin: 65000, localData1: 1, localData2: 2 }] },
];

function measure(family: 4 | 6): {
  encode_prefixes_per_s: number;
  decode_prefixes_per_s: number;
  updates: number;
  bytes: number;
} {
  const base = family === 4 ? ip('10.0.0.0') : ip('2001:db8::');
  const prefixes: BgpPrefix[] = Array.from({ length: N }, (_, i) => ({
    family,
    address: base + BigInt(i),
    length: family === 4 ? 32 : 128,
  }));
  const nextHop = family === 4 ? ip('198.51.100.11') : ip('2001:db8:a::b');
  let bestEncode = Infinity;
  let bestDecode = Infinity;
  let messages: Uint8Array[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = performance.now();
    const updates = announcementUpdates(
      { family: family === 4 ? 'ipv4-unicast' : 'ipv6-unicast', nextHop, attributes, prefixes },
      codec,
    );
    messages = updates.map((u) => encodeBgpMessage(u, codec));
    const t1 = performance.now();
    let decoded = 0;
    for (const bytes of messages) {
      const outcome = decodeBgpMessage(bytes, codec);
      if (outcome.kind !== 'ok' || outcome.message.type !== 'update') throw new Error('decode failed');
      const update = outcome.message;
      decoded += update.nlri.length;
      for (const a of update.pathAttributes) if (a.type === 'mp-reach-nlri') decoded += a.nlri.length;
    }
    const t2 = performance.now();
    if (decoded !== N) throw new Error(`decoded ${decoded} of ${N}`);
    bestEncode = Math.min(bestEncode, t1 - t0);
    bestDecode = Math.min(bestDecode, t2 - t1);
  }
  return {
    encode_prefixes_per_s: Math.round(N / (bestEncode / 1000)),
    decode_prefixes_per_s: Math.round(N / (bestDecode / 1000)),
    updates: messages.length,
    bytes: messages.reduce((sum, m) => sum + m.length, 0),
  };
}

console.log(JSON.stringify({ prefixes: N, ipv4: measure(4), ipv6: measure(6), goal_prefixes_per_s: 500_000 }, null, 2));
