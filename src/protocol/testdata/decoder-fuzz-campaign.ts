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
// or a decoded value that does not survive encode-then-decode. Deterministic for a seed.
import { isDeepStrictEqual } from 'node:util';
import { ipv4, parseIp } from '../../core/ip/ip-address.ts';
import type { Result } from '../../core/result.ts';
import { decodeArpFrame, decodeArpPacket, encodeArpFrame, encodeArpPacket, gratuitousArpReply, gratuitousArpRequest, type ArpFrame } from '../arp/arp-packet.ts';
import { decodeBfdControlPacket, encodeBfdControlPacket } from '../bfd/control-packet.ts';
import { initialBfdState, stepBfd, type BfdEvent, type BfdSessionConfig, type BfdSessionState } from '../bfd/session-fsm.ts';
import { decodeBgpMessage, encodeBgpMessage, type BgpDecodeOutcome } from '../bgp/bgp-message.ts';
import { MAX_MESSAGE_LENGTH } from '../bgp/message-header.ts';
import type { BgpCodecContext } from '../bgp/path-attribute.ts';
import { localOpen, type SessionConfig } from '../bgp/session-negotiation.ts';
import { eventForInbound, initialSessionState, step, type SessionEvent, type SessionState, type SessionStateName } from '../bgp/session-fsm.ts';
import type { DecodeError } from '../ethernet/decode-error.ts';
import { decodeEthernetFrame, encodeEthernetFrame } from '../ethernet/ethernet-frame.ts';
import { icmpv6Checksum } from '../ndp/icmpv6-checksum.ts';
import { decodeIpv6Packet, encodeIpv6Packet } from '../ndp/ipv6-packet.ts';
import { decodeNdpFrame, decodeNdpPacket, encodeNdpFrame, encodeNdpPacket, solicitedNodeMulticast, type NdpMessage } from '../ndp/neighbor-discovery.ts';
import * as bfdPeers from './bfd-captures.ts';
import * as bgpCaptures from './bgp-captures.ts';
import { fromHex, toHex } from './hex-bytes.ts';
import * as linux from './linux-captures.ts';
import { seededRandom } from '../../core/seeded-random.ts';

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

/** A check found a result that is not well formed (as opposed to an exception from the decoder). */
class BadResult extends Error {
  readonly kind: 'bad-result' | 'round-trip';
  constructor(kind: 'bad-result' | 'round-trip', message: string) {
    super(message);
    this.kind = kind;
  }
}


const DECODE_REASONS = new Set(['truncated', 'unsupported', 'malformed', 'invalid']);

function checkResult<T>(result: Result<T, DecodeError>): string {
  if (typeof result !== 'object') throw new BadResult('bad-result', `not a Result: ${typeof result}`);
  if (result.ok) {
    if (result.value === undefined) throw new BadResult('bad-result', 'ok without a value');
    return 'ok';
  }
  // Typed as a union; read as any string, since a broken decoder is what the fuzz is looking for.
  const reason: string = result.error.reason;
  if (!DECODE_REASONS.has(reason)) throw new BadResult('bad-result', `unknown reason ${reason}`);
  if (typeof result.error.message !== 'string' || result.error.message.length === 0) throw new BadResult('bad-result', 'error without a message');
  return result.error.reason;
}

/** Decodes, checks the Result, and for a value checks that encoding it and decoding again gives it back. */
function decodeRoundTrip<T>(bytes: Uint8Array, decode: (b: Uint8Array) => Result<T, DecodeError>, encode: (v: T) => Uint8Array): string {
  const result = decode(bytes);
  const label = checkResult(result);
  if (result.ok) {
    const again = decode(encode(result.value));
    if (!again.ok || !isDeepStrictEqual(again.value, result.value)) {
      throw new BadResult('round-trip', again.ok ? 'decode(encode(value)) differs from value' : `decode(encode(value)) failed: ${again.error.message}`);
    }
  }
  return label;
}

// ---- seeds ----

const MAC_A = '02:bb:00:00:00:0a';
const MAC_B = '02:bb:00:00:00:0b';
const V4_A = ipv4(198, 51, 100, 10);
const V4_B = ipv4(198, 51, 100, 11);
const v6 = (text: string): bigint => {
  const parsed = parseIp(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};
const V6_A = v6('2001:db8:100::a');
const V6_B = v6('2001:db8:100::b');
const VLAN = { id: 100, priority: 3, dropEligible: false };

const linuxFrames = Object.values(linux).flat().map(fromHex);
const isEtherType = (frame: Uint8Array, type: number): boolean => frame.length >= 14 && ((frame[12] ?? 0) << 8 | (frame[13] ?? 0)) === type;

function arpSeeds(): Uint8Array[] {
  const request: ArpFrame = { destination: 'ff:ff:ff:ff:ff:ff', source: MAC_A, packet: { op: 'request', senderMac: MAC_A, senderIp: V4_A, targetMac: '00:00:00:00:00:00', targetIp: V4_B } };
  const reply: ArpFrame = { destination: MAC_A, source: MAC_B, packet: { op: 'reply', senderMac: MAC_B, senderIp: V4_B, targetMac: MAC_A, targetIp: V4_A } };
  const built = [request, reply, gratuitousArpRequest(MAC_A, V4_A), gratuitousArpReply(MAC_B, V4_B)];
  return [
    ...linuxFrames.filter((f) => isEtherType(f, 0x0806)),
    ...built.map((f) => encodeArpFrame(f)),
    ...built.map((f) => encodeArpFrame(f, { padToMinimum: false })),
    ...built.map((f) => encodeArpFrame({ ...f, vlan: VLAN })),
  ];
}

function ndpSeeds(): Uint8Array[] {
  const messages: NdpMessage[] = [
    { type: 'neighbor-solicitation', source: V6_A, destination: solicitedNodeMulticast(V6_B), target: V6_B, sourceLinkLayerAddress: MAC_A },
    { type: 'neighbor-solicitation', source: 0n, destination: solicitedNodeMulticast(V6_B), target: V6_B },
    { type: 'neighbor-solicitation', source: V6_A, destination: V6_B, target: V6_B, flowLabel: 0x12345 },
    { type: 'neighbor-advertisement', source: V6_B, destination: V6_A, target: V6_B, router: false, solicited: true, override: true, targetLinkLayerAddress: MAC_B },
    { type: 'neighbor-advertisement', source: V6_B, destination: v6('ff02::1'), target: V6_B, router: true, solicited: false, override: true, targetLinkLayerAddress: MAC_B, trafficClass: 0x20 },
  ];
  return [
    ...linuxFrames.filter((f) => isEtherType(f, 0x86dd)),
    ...messages.map((message) => encodeNdpFrame({ destination: MAC_B, source: MAC_A, message }, { padToMinimum: false })),
    ...messages.map((message) => encodeNdpFrame({ destination: MAC_B, source: MAC_A, message, vlan: VLAN }, { padToMinimum: false })),
  ];
}

/** Every BGP message captured from gobgpd, BIRD and FRR (raw bytes; each also decodes as ok in its own test). */
const bgpSeeds = (): Uint8Array[] =>
  [bgpCaptures.gobgpd, bgpCaptures.gobgpdBadType, bgpCaptures.gobgpdFourOctetAs, bgpCaptures.bird, bgpCaptures.frr].flatMap((list) => list.map((m) => fromHex(m.hex)));

// ---- repairs: put length fields and checksums right again so that damage reaches deeper parsers ----

/** Offset of the IPv6 header in a frame (after an optional 802.1Q tag), or -1. */
function ipv6Offset(frame: Uint8Array): number {
  if (isEtherType(frame, 0x86dd)) return 14;
  if (isEtherType(frame, 0x8100) && frame.length >= 18 && frame[16] === 0x86 && frame[17] === 0xdd) return 18;
  return -1;
}

/** IPv6 payload length set to what follows the header, and the ICMPv6 checksum recomputed. */
function repairIpv6(bytes: Uint8Array, at: number): Uint8Array {
  if (at < 0 || bytes.length < at + 40 + 4) return bytes;
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  view.setUint16(at + 4, copy.length - at - 40);
  const icmp = at + 40;
  view.setUint16(icmp + 2, 0);
  const address = (offset: number): bigint => (view.getBigUint64(offset) << 64n) | view.getBigUint64(offset + 8);
  view.setUint16(icmp + 2, icmpv6Checksum(address(at + 8), address(at + 24), copy.subarray(icmp)));
  return copy;
}

/** The BGP marker and header length put right (the type is left as damaged). */
function repairBgp(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 19 || bytes.length > MAX_MESSAGE_LENGTH) return bytes;
  const copy = bytes.slice();
  copy.fill(0xff, 0, 16);
  copy[16] = copy.length >>> 8;
  copy[17] = copy.length & 0xff;
  return copy;
}

// ---- the FSM in every state ----

const FSM_CONFIG: SessionConfig = {
  localAs: 65001,
  peerAs: 65000,
  bgpIdentifier: ipv4(198, 51, 100, 11),
  holdTime: 90,
  connectRetryTime: 5,
  passive: false,
  families: ['ipv4-unicast', 'ipv6-unicast'],
  idleHoldTime: 5,
};

/** One session in each of the six states, reached through the FSM itself. */
function sessionsInEveryState(): SessionState[] {
  const peerOpen = localOpen({ ...FSM_CONFIG, localAs: 65000, peerAs: 65001, bgpIdentifier: ipv4(198, 51, 100, 1) });
  const walk = (config: SessionConfig, events: SessionEvent[]): SessionState =>
    events.reduce((state, event, i) => step(state, event, (i + 1) * 1000).state, initialSessionState(config, 0));
  const states = [
    initialSessionState(FSM_CONFIG, 0),
    walk(FSM_CONFIG, [{ type: 'ManualStart' }]),
    walk({ ...FSM_CONFIG, passive: true }, [{ type: 'ManualStart' }]),
    walk(FSM_CONFIG, [{ type: 'ManualStart' }, { type: 'TcpConnectionRequestAcked' }]),
    walk(FSM_CONFIG, [{ type: 'ManualStart' }, { type: 'TcpConnectionRequestAcked' }, { type: 'BGPOpen', open: peerOpen }]),
    walk(FSM_CONFIG, [{ type: 'ManualStart' }, { type: 'TcpConnectionRequestAcked' }, { type: 'BGPOpen', open: peerOpen }, { type: 'KeepAliveMsg' }]),
  ];
  const names = new Set<SessionStateName>(states.map((s) => s.name));
  if (names.size !== 6) throw new Error(`the FSM set-up reached only ${[...names].join(', ')}`);
  return states;
}

const BFD_CONFIG: BfdSessionConfig = { desiredMinTxMs: 100, requiredMinRxMs: 100, detectMultiplier: 3, passive: false, localDiscriminator: 0x76a351f4 };

/** A BFD session in each state: AdminDown, Down, Init, Up (and a passive Down). */
function bfdSessionsInEveryState(): BfdSessionState[] {
  const packet = (state: 'Down' | 'Up'): BfdEvent => ({
    type: 'PacketReceived',
    packet: {
      diagnostic: 0, state, poll: false, final: false, controlPlaneIndependent: false, demand: false, detectMultiplier: 3,
      myDiscriminator: 0x0ae014a2, yourDiscriminator: state === 'Up' ? BFD_CONFIG.localDiscriminator : 0,
      desiredMinTxInterval: 100_000, requiredMinRxInterval: 100_000, requiredMinEchoRxInterval: 0,
    },
  });
  const walk = (config: BfdSessionConfig, events: BfdEvent[]): BfdSessionState =>
    events.reduce((state, event, i) => stepBfd(state, event, (i + 1) * 10).state, initialBfdState(config, 0));
  const states = [
    initialBfdState(BFD_CONFIG, 0),
    walk(BFD_CONFIG, [{ type: 'Start' }]),
    walk({ ...BFD_CONFIG, passive: true }, [{ type: 'Start' }]),
    walk(BFD_CONFIG, [{ type: 'Start' }, packet('Down')]),
    walk(BFD_CONFIG, [{ type: 'Start' }, packet('Down'), packet('Up')]),
  ];
  if (new Set(states.map((s) => s.name)).size !== 4) throw new Error('the BFD FSM set-up did not reach all four states');
  return states;
}

/** Length (byte 3) and, with the A bit, Auth Len (byte 25) set to fit the bytes. */
function repairBfd(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice(0, 255);
  if (out.length >= 4) out[3] = out.length;
  if (out.length >= 26 && ((out[1] ?? 0) & 0x04) !== 0) out[25] = out.length - 24;
  return out;
}

const BGP_KINDS = new Set(['ok', 'treat-as-withdraw', 'attribute-discard', 'session-reset']);

function checkBgpOutcome(outcome: BgpDecodeOutcome, context: BgpCodecContext): void {
  const kind: string = outcome.kind;
  if (!BGP_KINDS.has(kind)) throw new BadResult('bad-result', `unknown kind ${kind}`);
  if (outcome.kind === 'session-reset') {
    const { notification, error } = outcome;
    const type: string = notification.type;
    if (type !== 'notification' || notification.code < 1 || notification.code > 7) throw new BadResult('bad-result', `NOTIFICATION code ${notification.code}`);
    if (!DECODE_REASONS.has(error.reason) || error.message.length === 0) throw new BadResult('bad-result', `session-reset error ${error.reason}: ${error.message}`);
    return;
  }
  const messageType: string = outcome.message.type;
  if (outcome.kind !== 'ok' && (messageType !== 'update' || !outcome.reason.startsWith('UPDATE: '))) {
    throw new BadResult('bad-result', `${outcome.kind} of a ${messageType}: ${outcome.reason}`);
  }
  if (outcome.kind === 'ok') {
    const again = decodeBgpMessage(encodeBgpMessage(outcome.message, context), context);
    if (again.kind !== 'ok' || !isDeepStrictEqual(again.message, outcome.message)) {
      throw new BadResult('round-trip', `decode(encode(message)) gave ${again.kind === 'session-reset' ? again.error.message : again.kind}`);
    }
  }
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
        if (!Array.isArray(result.actions) || typeof result.state.name !== 'string') throw new BadResult('bad-result', `step in ${state.name} returned no state/actions`);
        fsmSteps++;
      }
      return outcome.kind === 'session-reset' ? `session-reset ${outcome.notification.code}/${outcome.notification.subcode}` : outcome.kind;
    },
  });
  const targets: Target[] = [
    {
      name: 'ethernet',
      weight: 1,
      seeds: l2,
      repair: undefined,
      maxRandomLength: 160,
      check: (bytes) => decodeRoundTrip(bytes, decodeEthernetFrame, (f) => encodeEthernetFrame(f, { padToMinimum: false })),
    },
    { name: 'arp-frame', weight: 1, seeds: arp, repair: undefined, maxRandomLength: 80, check: (bytes) => decodeRoundTrip(bytes, decodeArpFrame, (f) => encodeArpFrame(f)) },
    {
      name: 'arp-packet',
      weight: 1,
      seeds: arp.filter((f) => isEtherType(f, 0x0806)).map((f) => f.subarray(14)),
      repair: undefined,
      maxRandomLength: 64,
      check: (bytes) => decodeRoundTrip(bytes, decodeArpPacket, encodeArpPacket),
    },
    { name: 'ipv6-packet', weight: 1, seeds: ipv6Packets, repair: (b) => repairIpv6(b, 0), maxRandomLength: 160, check: (bytes) => decodeRoundTrip(bytes, decodeIpv6Packet, encodeIpv6Packet) },
    {
      name: 'ndp-frame',
      weight: 2,
      seeds: ndp,
      repair: (b) => repairIpv6(b, ipv6Offset(b)),
      maxRandomLength: 160,
      check: (bytes) => decodeRoundTrip(bytes, decodeNdpFrame, (f) => encodeNdpFrame(f, { padToMinimum: false })),
    },
    { name: 'ndp-packet', weight: 2, seeds: ipv6Packets, repair: (b) => repairIpv6(b, 0), maxRandomLength: 160, check: (bytes) => decodeRoundTrip(bytes, decodeNdpPacket, encodeNdpPacket) },
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
          if (!Array.isArray(result.actions) || typeof result.state.name !== 'string') throw new BadResult('bad-result', `stepBfd in ${state.name} returned no state/actions`);
          for (const action of result.actions) {
            if (action.type === 'send') encodeBfdControlPacket(action.packet); // throws on a field out of range
            if (action.type === 'startTimer' && !(Number.isFinite(action.ms) && action.ms >= 0)) throw new BadResult('bad-result', `BFD timer ${action.timer} ${action.ms} ms`);
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
          const insert = randomBytes(rand() < 0.5 ? 8 : 64);
          const longer = new Uint8Array(length + insert.length);
          longer.set(bytes.subarray(0, at));
          longer.set(insert, at);
          longer.set(bytes.subarray(at), at + insert.length);
          bytes = longer;
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
          const longer = new Uint8Array(length + chunk.length);
          longer.set(bytes.subarray(0, at));
          longer.set(chunk, at);
          longer.set(bytes.subarray(at), at + chunk.length);
          bytes = longer;
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

  const report: FuzzCampaignReport = { seed: options.seed, inputs: 0, fsmSteps: 0, bfdFsmSteps: 0, failureCount: 0, failures: [], targets: {} };
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
