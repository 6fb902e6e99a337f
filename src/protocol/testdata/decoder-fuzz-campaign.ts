// A fuzz campaign over every decoder of src/protocol, sized in inputs rather than fast-check runs (a million inputs
// take seconds here, not minutes): Ethernet, ARP (frame and packet), IPv6, NDP (frame and packet), and BGP
// (decodeBgpMessage with the 4-octet and the 2-octet codec context, internal and external), each outcome turned into
// an FSM event (eventForInbound) and stepped through a session in every FSM state; and BFD control packets (RFC 5880),
// each decoded packet stepped through a BFD session in every state.
// Inputs: random bytes; real captures (Linux ARP/NDP frames; gobgpd, BIRD and FRR BGP messages; BIRD and FRR BFD
// packets) and encoder-built
// frames with one to eight mutations (bit flips, interesting values, 16-bit writes, truncation, extension,
// insertion, deletion, duplication, splices of two seeds), most of them with their length fields and checksums
// repaired so that the damage reaches the parsers behind them; half of all inputs sit at a byteOffset inside a
// larger buffer of garbage. A failure is an exception, a result that is not a well-formed Result/classification,
// or a decoded value that does not survive encode-then-decode. Deterministic for a seed.//
// Seeds, repairs, result checks and the FSM states are in fuzz-seeds.ts. runDecoderFuzzCampaign is one ~230-line
// loop body: the mutators and the per-target checks share the campaign's seeded generator and counters, and read
// in order.
import type { Result } from '../../core/result.ts';
import type { DecodeError } from '../ethernet/decode-error.ts';
import { decodeArpFrame, decodeArpPacket, encodeArpFrame, encodeArpPacket } from '../arp/arp-packet.ts';
import { decodeBfdControlPacket, encodeBfdControlPacket } from '../bfd/control-packet.ts';
import { stepBfd } from '../bfd/session-fsm.ts';
import { decodeBgpMessage } from '../bgp/bgp-message.ts';
import type { BgpCodecContext } from '../bgp/path-attribute.ts';
import { eventForInbound, step } from '../bgp/session-fsm.ts';
import { decodeEthernetFrame, encodeEthernetFrame } from '../ethernet/ethernet-frame.ts';
import { decodeIpv6Packet, encodeIpv6Packet } from '../ndp/ipv6-packet.ts';
import { decodeNdpFrame, decodeNdpPacket, encodeNdpFrame, encodeNdpPacket } from '../ndp/neighbor-discovery.ts';
import * as bfdPeers from './bfd-captures.ts';
import { fromHex, toHex } from './hex-bytes.ts';
import { seededRandom } from '../../core/seeded-random.ts';
import {
  BadResult,
  decodeRoundTrip,
  linuxFrames,
  isEtherType,
  arpSeeds,
  ndpSeeds,
  bgpSeeds,
  ipv6Offset,
  repairIpv6,
  repairBgp,
  sessionsInEveryState,
  bfdSessionsInEveryState,
  repairBfd,
  checkBgpOutcome,
} from './fuzz-seeds.ts';

export interface FuzzCampaignOptions {
  seed: number;
  /** Inputs in total, spread over the targets by weight. */
  inputs: number;
  /** Failures kept with their bytes (all are counted). */
  keepFailures?: number;
}

export interface FuzzFailure {
  target: string;
  kind: 'exception' | 'bad-result' | 'round-trip';
  detail: string;
  hex: string;
}

export interface FuzzTargetReport {
  inputs: number;
  /** Outcome labels (ok, decode error reasons, BGP classifications) and how often each came out. */
  outcomes: Record<string, number>;
}

export interface FuzzCampaignReport {
  seed: number;
  inputs: number;
  /** FSM steps taken on decoded BGP outcomes (one per FSM state per BGP input). */
  fsmSteps: number;
  /** BFD FSM steps taken on decoded BFD packets (one per BFD state per decoded packet). */
  bfdFsmSteps: number;
  failureCount: number;
  failures: FuzzFailure[];
  targets: Record<string, FuzzTargetReport>;
}

// ---- the campaign ----

interface Target {
  name: string;
  weight: number;
  seeds: Uint8Array[];
  repair: ((bytes: Uint8Array) => Uint8Array) | undefined;
  maxRandomLength: number;
  check(bytes: Uint8Array): string;
}

/** A target checked by the decode-encode round trip of one codec. */
function codecTarget<T>(
  name: string,
  weight: number,
  seeds: Uint8Array[],
  repair: Target['repair'],
  maxRandomLength: number,
  decode: (bytes: Uint8Array) => Result<T, DecodeError>,
  encode: (value: T) => Uint8Array,
): Target {
  return { name, weight, seeds, repair, maxRandomLength, check: (bytes) => decodeRoundTrip(bytes, decode, encode) };
}

/** `bytes` with `insert` put in at offset `at`. */
function insertedAt(bytes: Uint8Array, at: number, insert: Uint8Array): Uint8Array {
  const longer = new Uint8Array(bytes.length + insert.length);
  longer.set(bytes.subarray(0, at));
  longer.set(insert, at);
  longer.set(bytes.subarray(at), at + insert.length);
  return longer;
}

const INTERESTING = [0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff];

export function runDecoderFuzzCampaign(options: FuzzCampaignOptions): FuzzCampaignReport {
  const rand = seededRandom(options.seed);
  const below = (n: number): number => Math.floor(rand() * n);
  const pick = <T>(items: readonly T[]): T => {
    const item = items[below(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  };
  const keep = options.keepFailures ?? 20;
  const sessions = sessionsInEveryState();
  const bfdSessions = bfdSessionsInEveryState();
  let fsmSteps = 0;
  let bfdFsmSteps = 0;

  const arp = arpSeeds();
  const ndp = ndpSeeds();
  const l2 = [...arp, ...ndp, ...linuxFrames];
  const ipv6Packets = ndp.filter((f) => isEtherType(f, 0x86dd)).map((f) => f.subarray(14));
  const arpPackets = arp.filter((f) => isEtherType(f, 0x0806)).map((f) => f.subarray(14));
  const repairNdpFrame = (b: Uint8Array): Uint8Array => repairIpv6(b, ipv6Offset(b));
  const repairIpv6Packet = (b: Uint8Array): Uint8Array => repairIpv6(b, 0);
  const unpadded = { padToMinimum: false };
  const bgp = bgpSeeds();
  const bgpTarget = (name: string, context: BgpCodecContext, weight: number): Target => ({
    name,
    weight,
    seeds: bgp,
    repair: repairBgp,
    maxRandomLength: 300,
    check(bytes) {
      const outcome = decodeBgpMessage(bytes, context);
      checkBgpOutcome(outcome, context);
      const event = eventForInbound(outcome);
      for (const state of sessions) {
        const result = step(state, event, 1_000_000);
        if (!Array.isArray(result.actions) || typeof result.state.name !== 'string')
          throw new BadResult('bad-result', `step in ${state.name} returned no state/actions`);
        fsmSteps++;
      }
      return outcome.kind === 'session-reset'
        ? `session-reset ${outcome.notification.code}/${outcome.notification.subcode}`
        : outcome.kind;
    },
  });
  // codecTarget(name, weight, seeds, repair, maxRandomLength, decode, encode)
  const targets: Target[] = [
    codecTarget('ethernet', 1, l2, undefined, 160, decodeEthernetFrame, (f) => encodeEthernetFrame(f, unpadded)),
    codecTarget('arp-frame', 1, arp, undefined, 80, decodeArpFrame, (f) => encodeArpFrame(f)),
    codecTarget('arp-packet', 1, arpPackets, undefined, 64, decodeArpPacket, encodeArpPacket),
    codecTarget('ipv6-packet', 1, ipv6Packets, repairIpv6Packet, 160, decodeIpv6Packet, encodeIpv6Packet),
    codecTarget('ndp-frame', 2, ndp, repairNdpFrame, 160, decodeNdpFrame, (f) => encodeNdpFrame(f, unpadded)),
    codecTarget('ndp-packet', 2, ipv6Packets, repairIpv6Packet, 160, decodeNdpPacket, encodeNdpPacket),
    bgpTarget('bgp-4-octet', { fourOctetAs: true }, 3),
    bgpTarget('bgp-4-octet-ebgp', { fourOctetAs: true, external: true }, 1),
    bgpTarget('bgp-2-octet', { fourOctetAs: false }, 3),
    bgpTarget('bgp-2-octet-ebgp', { fourOctetAs: false, external: true }, 1),
    {
      name: 'bfd',
      weight: 2,
      seeds: [...bfdPeers.bird, ...bfdPeers.frr].map((p) => fromHex(p.hex)),
      repair: repairBfd,
      maxRandomLength: 64,
      check(bytes) {
        const label = decodeRoundTrip(bytes, decodeBfdControlPacket, encodeBfdControlPacket);
        const decoded = decodeBfdControlPacket(bytes);
        if (!decoded.ok) return label;
        for (const state of bfdSessions) {
          const result = stepBfd(state, { type: 'PacketReceived', packet: decoded.value }, 1_000_000);
          if (!Array.isArray(result.actions) || typeof result.state.name !== 'string')
            throw new BadResult('bad-result', `stepBfd in ${state.name} returned no state/actions`);
          for (const action of result.actions) {
            if (action.type === 'send') encodeBfdControlPacket(action.packet); // throws on a field out of range
            if (action.type === 'startTimer' && !(Number.isFinite(action.ms) && action.ms >= 0))
              throw new BadResult('bad-result', `BFD timer ${action.timer} ${action.ms} ms`);
          }
          bfdFsmSteps++;
        }
        return label;
      },
    },
  ];
  const totalWeight = targets.reduce((sum, t) => sum + t.weight, 0);
  const schedule = targets.flatMap((t) => Array.from({ length: t.weight }, () => t));

  const randomBytes = (max: number): Uint8Array => {
    const r = rand();
    const bytes = new Uint8Array(Math.floor(r * r * (max + 1)));
    for (let i = 0; i < bytes.length; i++) bytes[i] = below(256);
    return bytes;
  };
  const mutate = (seed: Uint8Array, seeds: readonly Uint8Array[]): Uint8Array => {
    let bytes = seed;
    // One to eight mutations, mostly few: one damaged field reaches deeper than many.
    const r = rand();
    for (let n = 1 + Math.floor(r * r * 8); n > 0; n--) {
      const length = bytes.length;
      const at = below(length + 1);
      switch (below(10)) {
        case 0:
        case 1:
          if (length > 0) {
            bytes = bytes.slice();
            bytes[at % length] = (bytes[at % length] ?? 0) ^ (1 << below(8));
          }
          break;
        case 2:
          if (length > 0) {
            bytes = bytes.slice();
            bytes[at % length] = pick(INTERESTING);
          }
          break;
        case 3:
          if (length > 1) {
            bytes = bytes.slice();
            const value = rand() < 0.5 ? below(0x10000) : pick([0, 1, 0x7fff, 0x8000, 0xffff, length, length - 19]);
            new DataView(bytes.buffer).setUint16(at % (length - 1), value & 0xffff);
          }
          break;
        case 4:
          bytes = bytes.slice(0, at);
          break;
        case 5:
        case 6: {
          bytes = insertedAt(bytes, at, randomBytes(rand() < 0.5 ? 8 : 64));
          break;
        }
        case 7: {
          const count = 1 + below(16);
          const shorter = new Uint8Array(Math.max(0, length - Math.min(count, length - at)));
          shorter.set(bytes.subarray(0, at));
          shorter.set(bytes.subarray(at + count), at);
          bytes = shorter;
          break;
        }
        case 8: {
          // Duplicate a chunk in place (repeated options, attributes, prefixes).
          const from = below(length + 1);
          const chunk = bytes.slice(from, from + 1 + below(24));
          bytes = insertedAt(bytes, at, chunk);
          break;
        }
        default: {
          // Splice: the head of this input and the tail of another seed.
          const other = pick(seeds);
          const cut = below(other.length + 1);
          const spliced = new Uint8Array(at + other.length - cut);
          spliced.set(bytes.subarray(0, at));
          spliced.set(other.subarray(cut), at);
          bytes = spliced;
        }
      }
    }
    return bytes;
  };
  /** Half the inputs sit at an offset inside a larger buffer of garbage: decoders must respect byteOffset and length. */
  const place = (bytes: Uint8Array): Uint8Array => {
    if (rand() < 0.5) return bytes;
    const offset = 1 + below(7);
    const buffer = new Uint8Array(offset + bytes.length + below(8));
    for (let i = 0; i < buffer.length; i++) buffer[i] = below(256);
    buffer.set(bytes, offset);
    return buffer.subarray(offset, offset + bytes.length);
  };

  const report: FuzzCampaignReport = {
    seed: options.seed,
    inputs: 0,
    fsmSteps: 0,
    bfdFsmSteps: 0,
    failureCount: 0,
    failures: [],
    targets: {},
  };
  for (const t of targets) report.targets[t.name] = { inputs: 0, outcomes: {} };
  for (let i = 0; i < options.inputs; i++) {
    const target = schedule[i % totalWeight] ?? targets[0];
    if (!target) throw new Error('no fuzz targets');
    const r = rand();
    let input: Uint8Array;
    if (r < 0.15) input = randomBytes(target.maxRandomLength);
    else if (r < 0.25) {
      // A seed's head followed by random bytes.
      const seed = pick(target.seeds);
      const head = seed.subarray(0, below(seed.length + 1));
      const tail = randomBytes(target.maxRandomLength);
      input = new Uint8Array(head.length + tail.length);
      input.set(head);
      input.set(tail, head.length);
      if (target.repair && rand() < 0.5) input = target.repair(input);
    } else {
      input = mutate(pick(target.seeds), target.seeds);
      if (target.repair && rand() < 0.7) input = target.repair(input);
    }
    input = place(input);
    const entry = (report.targets[target.name] ??= { inputs: 0, outcomes: {} });
    entry.inputs++;
    report.inputs++;
    let label: string;
    try {
      label = target.check(input);
    } catch (error) {
      report.failureCount++;
      label = 'FAILURE';
      if (report.failures.length < keep) {
        report.failures.push({
          target: target.name,
          kind: error instanceof BadResult ? error.kind : 'exception',
          detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
          hex: toHex(input),
        });
      }
    }
    entry.outcomes[label] = (entry.outcomes[label] ?? 0) + 1;
  }
  report.fsmSteps = fsmSteps;
  report.bfdFsmSteps = bfdFsmSteps;
  return report;
}
