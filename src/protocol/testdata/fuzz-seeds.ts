// What the decoder fuzz campaign (decoder-fuzz-campaign.ts) starts from and checks with: the checks of a decode
// Result and of a round trip, seed frames and messages (encoder-built and captured), repairs that put length fields
// and checksums right again after a mutation so the damage reaches deeper parsers, BGP and BFD sessions in every
// FSM state, and the check of a BGP decode outcome.
import { isDeepStrictEqual } from 'node:util';
import { ipv4, parseIp } from '../../core/ip/ip-address.ts';
import type { Result } from '../../core/result.ts';
import { encodeArpFrame, gratuitousArpReply, gratuitousArpRequest, type ArpFrame } from '../arp/arp-packet.ts';
import {
  initialBfdState,
  stepBfd,
  type BfdEvent,
  type BfdSessionConfig,
  type BfdSessionState,
} from '../bfd/session-fsm.ts';
import { decodeBgpMessage, encodeBgpMessage, type BgpDecodeOutcome } from '../bgp/bgp-message.ts';
import { MAX_MESSAGE_LENGTH } from '../bgp/message-header.ts';
import type { BgpCodecContext } from '../bgp/path-attribute.ts';
import { localOpen, type SessionConfig } from '../bgp/session-negotiation.ts';
import {
  initialSessionState,
  step,
  type SessionEvent,
  type SessionState,
  type SessionStateName,
} from '../bgp/session-fsm.ts';
import type { DecodeError } from '../ethernet/decode-error.ts';
import { icmpv6Checksum } from '../ndp/icmpv6-checksum.ts';
import { encodeNdpFrame, solicitedNodeMulticast, type NdpMessage } from '../ndp/neighbor-discovery.ts';
import { receivedPacket } from './bfd-received.ts';
import * as bgpCaptures from './bgp-captures.ts';
import { fromHex } from './hex-bytes.ts';
import * as linux from './linux-captures.ts';

/** A check found a result that is not well formed (as opposed to an exception from the decoder). */
export class BadResult extends Error {
  readonly kind: 'bad-result' | 'round-trip';
  constructor(kind: 'bad-result' | 'round-trip', message: string) {
    super(message);
    this.kind = kind;
  }
}

export const DECODE_REASONS = new Set(['truncated', 'unsupported', 'malformed', 'invalid']);

export function checkResult<T>(result: Result<T, DecodeError>): string {
  if (typeof result !== 'object') throw new BadResult('bad-result', `not a Result: ${typeof result}`);
  if (result.ok) {
    if (result.value === undefined) throw new BadResult('bad-result', 'ok without a value');
    return 'ok';
  }
  // Typed as a union; read as any string, since a broken decoder is what the fuzz is looking for.
  const reason: string = result.error.reason;
  if (!DECODE_REASONS.has(reason)) throw new BadResult('bad-result', `unknown reason ${reason}`);
  if (typeof result.error.message !== 'string' || result.error.message.length === 0)
    throw new BadResult('bad-result', 'error without a message');
  return result.error.reason;
}

/** Decodes, checks the Result, and for a value checks that encoding it and decoding again gives it back. */
export function decodeRoundTrip<T>(
  bytes: Uint8Array,
  decode: (b: Uint8Array) => Result<T, DecodeError>,
  encode: (v: T) => Uint8Array,
): string {
  const result = decode(bytes);
  const label = checkResult(result);
  if (result.ok) {
    const again = decode(encode(result.value));
    if (!again.ok || !isDeepStrictEqual(again.value, result.value)) {
      throw new BadResult(
        'round-trip',
        again.ok ? 'decode(encode(value)) differs from value' : `decode(encode(value)) failed: ${again.error.message}`,
      );
    }
  }
  return label;
}

// ---- seeds ----

export const MAC_A = '02:bb:00:00:00:0a';
export const MAC_B = '02:bb:00:00:00:0b';
export const V4_A = ipv4(198, 51, 100, 10);
export const V4_B = ipv4(198, 51, 100, 11);
export const v6 = (text: string): bigint => {
  const parsed = parseIp(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};
export const V6_A = v6('2001:db8:100::a');
export const V6_B = v6('2001:db8:100::b');
export const VLAN = { id: 100, priority: 3, dropEligible: false };

export const linuxFrames = Object.values(linux).flat().map(fromHex);
export const isEtherType = (frame: Uint8Array, type: number): boolean =>
  frame.length >= 14 && (((frame[12] ?? 0) << 8) | (frame[13] ?? 0)) === type;

export function arpSeeds(): Uint8Array[] {
  const request: ArpFrame = {
    destination: 'ff:ff:ff:ff:ff:ff',
    source: MAC_A,
    packet: { op: 'request', senderMac: MAC_A, senderIp: V4_A, targetMac: '00:00:00:00:00:00', targetIp: V4_B },
  };
  const reply: ArpFrame = {
    destination: MAC_A,
    source: MAC_B,
    packet: { op: 'reply', senderMac: MAC_B, senderIp: V4_B, targetMac: MAC_A, targetIp: V4_A },
  };
  const built = [request, reply, gratuitousArpRequest(MAC_A, V4_A), gratuitousArpReply(MAC_B, V4_B)];
  return [
    ...linuxFrames.filter((f) => isEtherType(f, 0x0806)),
    ...built.map((f) => encodeArpFrame(f)),
    ...built.map((f) => encodeArpFrame(f, { padToMinimum: false })),
    ...built.map((f) => encodeArpFrame({ ...f, vlan: VLAN })),
  ];
}

export function ndpSeeds(): Uint8Array[] {
  const messages: NdpMessage[] = [
    {
      type: 'neighbor-solicitation',
      source: V6_A,
      destination: solicitedNodeMulticast(V6_B),
      target: V6_B,
      sourceLinkLayerAddress: MAC_A,
    },
    { type: 'neighbor-solicitation', source: 0n, destination: solicitedNodeMulticast(V6_B), target: V6_B },
    { type: 'neighbor-solicitation', source: V6_A, destination: V6_B, target: V6_B, flowLabel: 0x12345 },
    {
      type: 'neighbor-advertisement',
      source: V6_B,
      destination: V6_A,
      target: V6_B,
      router: false,
      solicited: true,
      override: true,
      targetLinkLayerAddress: MAC_B,
    },
    {
      type: 'neighbor-advertisement',
      source: V6_B,
      destination: v6('ff02::1'),
      target: V6_B,
      router: true,
      solicited: false,
      override: true,
      targetLinkLayerAddress: MAC_B,
      trafficClass: 0x20,
    },
  ];
  return [
    ...linuxFrames.filter((f) => isEtherType(f, 0x86dd)),
    ...messages.map((message) =>
      encodeNdpFrame({ destination: MAC_B, source: MAC_A, message }, { padToMinimum: false }),
    ),
    ...messages.map((message) =>
      encodeNdpFrame({ destination: MAC_B, source: MAC_A, message, vlan: VLAN }, { padToMinimum: false }),
    ),
  ];
}

/**
 * Every BGP message captured from gobgpd, BIRD and FRR (raw bytes; each also decodes as ok in its own test; gobgpd's
 * OPENs carry the extended next hop capability), and our own extended next hop messages (RFC 8950): an OPEN that
 * offers it, IPv4 NLRI in MP_REACH_NLRI with a 32- and a 16-byte IPv6 next hop, an IPv4 MP_UNREACH_NLRI.
 */
export const bgpSeeds = (): Uint8Array[] => [
  ...[
    bgpCaptures.gobgpd,
    bgpCaptures.gobgpdBadType,
    bgpCaptures.gobgpdFourOctetAs,
    bgpCaptures.bird,
    bgpCaptures.frr,
  ].flatMap((list) => list.map((m) => fromHex(m.hex))),
  ...extendedNextHopSeeds(),
];

function extendedNextHopSeeds(): Uint8Array[] {
  const context: BgpCodecContext = { fourOctetAs: true, external: true };
  const address = (text: string): bigint => {
    const parsed = parseIp(text);
    if (!parsed.ok) throw new Error(parsed.error);
    return parsed.value;
  };
  const nlri = [{ family: 4 as const, address: ipv4(203, 0, 113, 10), length: 32 }];
  const base = [
    { type: 'origin' as const, origin: 'igp' as const },
    { type: 'as-path' as const, segments: [{ type: 'sequence' as const, asns: [65001] }] },
  ];
  return [
    encodeBgpMessage(localOpen({ ...FSM_CONFIG, extendedNextHop: true }), context),
    ...[true, false].map((withLinkLocal) =>
      encodeBgpMessage(
        {
          type: 'update',
          withdrawnRoutes: [],
          pathAttributes: [
            {
              type: 'mp-reach-nlri',
              family: 'ipv4-unicast',
              nextHop: address('2001:db8:1::11'),
              ...(withLinkLocal ? { linkLocalNextHop: address('fe80::11') } : {}),
              nlri,
            },
            ...base,
          ],
          nlri: [],
        },
        context,
      ),
    ),
    encodeBgpMessage(
      {
        type: 'update',
        withdrawnRoutes: [],
        pathAttributes: [{ type: 'mp-unreach-nlri', family: 'ipv4-unicast', withdrawnRoutes: nlri }],
        nlri: [],
      },
      context,
    ),
  ];
}

// ---- repairs: put length fields and checksums right again so that damage reaches deeper parsers ----

/** Offset of the IPv6 header in a frame (after an optional 802.1Q tag), or -1. */
export function ipv6Offset(frame: Uint8Array): number {
  if (isEtherType(frame, 0x86dd)) return 14;
  if (isEtherType(frame, 0x8100) && frame.length >= 18 && frame[16] === 0x86 && frame[17] === 0xdd) return 18;
  return -1;
}

/** IPv6 payload length set to what follows the header, and the ICMPv6 checksum recomputed. */
export function repairIpv6(bytes: Uint8Array, at: number): Uint8Array {
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
export function repairBgp(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 19 || bytes.length > MAX_MESSAGE_LENGTH) return bytes;
  const copy = bytes.slice();
  copy.fill(0xff, 0, 16);
  copy[16] = copy.length >>> 8;
  copy[17] = copy.length & 0xff;
  return copy;
}

// ---- the FSM in every state ----

export const FSM_CONFIG: SessionConfig = {
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
export function sessionsInEveryState(): SessionState[] {
  const peerOpen = localOpen({ ...FSM_CONFIG, localAs: 65000, peerAs: 65001, bgpIdentifier: ipv4(198, 51, 100, 1) });
  const walk = (config: SessionConfig, events: SessionEvent[]): SessionState =>
    events.reduce((state, event, i) => step(state, event, (i + 1) * 1000).state, initialSessionState(config, 0));
  const states = [
    initialSessionState(FSM_CONFIG, 0),
    walk(FSM_CONFIG, [{ type: 'ManualStart' }]),
    walk({ ...FSM_CONFIG, passive: true }, [{ type: 'ManualStart' }]),
    walk(FSM_CONFIG, [{ type: 'ManualStart' }, { type: 'TcpConnectionRequestAcked' }]),
    walk(FSM_CONFIG, [
      { type: 'ManualStart' },
      { type: 'TcpConnectionRequestAcked' },
      { type: 'BGPOpen', open: peerOpen },
    ]),
    walk(FSM_CONFIG, [
      { type: 'ManualStart' },
      { type: 'TcpConnectionRequestAcked' },
      { type: 'BGPOpen', open: peerOpen },
      { type: 'KeepAliveMsg' },
    ]),
  ];
  const names = new Set<SessionStateName>(states.map((s) => s.name));
  if (names.size !== 6) throw new Error(`the FSM set-up reached only ${[...names].join(', ')}`);
  return states;
}

export const BFD_CONFIG: BfdSessionConfig = {
  desiredMinTxMs: 100,
  requiredMinRxMs: 100,
  detectMultiplier: 3,
  passive: false,
  localDiscriminator: 0x76a351f4,
};

/** A BFD session in each state: AdminDown, Down, Init, Up (and a passive Down). */
export function bfdSessionsInEveryState(): BfdSessionState[] {
  const packet = (state: 'Down' | 'Up'): BfdEvent =>
    receivedPacket(state, 0x0ae014a2, state === 'Up' ? BFD_CONFIG.localDiscriminator : 0);
  const walk = (config: BfdSessionConfig, events: BfdEvent[]): BfdSessionState =>
    events.reduce((state, event, i) => stepBfd(state, event, (i + 1) * 10).state, initialBfdState(config, 0));
  const states = [
    initialBfdState(BFD_CONFIG, 0),
    walk(BFD_CONFIG, [{ type: 'Start' }]),
    walk({ ...BFD_CONFIG, passive: true }, [{ type: 'Start' }]),
    walk(BFD_CONFIG, [{ type: 'Start' }, packet('Down')]),
    walk(BFD_CONFIG, [{ type: 'Start' }, packet('Down'), packet('Up')]),
  ];
  if (new Set(states.map((s) => s.name)).size !== 4)
    throw new Error('the BFD FSM set-up did not reach all four states');
  return states;
}

/** Length (byte 3) and, with the A bit, Auth Len (byte 25) set to fit the bytes. */
export function repairBfd(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice(0, 255);
  if (out.length >= 4) out[3] = out.length;
  if (out.length >= 26 && ((out[1] ?? 0) & 0x04) !== 0) out[25] = out.length - 24;
  return out;
}

export const BGP_KINDS = new Set(['ok', 'treat-as-withdraw', 'attribute-discard', 'session-reset']);

export function checkBgpOutcome(outcome: BgpDecodeOutcome, context: BgpCodecContext): void {
  const kind: string = outcome.kind;
  if (!BGP_KINDS.has(kind)) throw new BadResult('bad-result', `unknown kind ${kind}`);
  if (outcome.kind === 'session-reset') {
    const { notification, error } = outcome;
    const type: string = notification.type;
    if (type !== 'notification' || notification.code < 1 || notification.code > 7)
      throw new BadResult('bad-result', `NOTIFICATION code ${notification.code}`);
    if (!DECODE_REASONS.has(error.reason) || error.message.length === 0)
      throw new BadResult('bad-result', `session-reset error ${error.reason}: ${error.message}`);
    return;
  }
  const messageType: string = outcome.message.type;
  if (outcome.kind !== 'ok' && (messageType !== 'update' || !outcome.reason.startsWith('UPDATE: '))) {
    throw new BadResult('bad-result', `${outcome.kind} of a ${messageType}: ${outcome.reason}`);
  }
  if (outcome.kind === 'ok') {
    const again = decodeBgpMessage(encodeBgpMessage(outcome.message, context), context);
    if (again.kind !== 'ok' || !isDeepStrictEqual(again.message, outcome.message)) {
      throw new BadResult(
        'round-trip',
        `decode(encode(message)) gave ${again.kind === 'session-reset' ? again.error.message : again.kind}`,
      );
    }
  }
}
