// NDP codec over random input: round trips of any message and frame (property), and the decoders' fuzz runs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FUZZ_RUNS,
  assertDecodeResult,
  decoded,
  mutatedFrom,
  randomBytes,
  roundTripCheck,
  fuzzDecoder,
  linuxFramesOfType,
} from '../testdata/decoder-fuzzing.ts';
import { icmpv6Checksum } from './icmpv6-checksum.ts';
import { IPV6_ALL_NODES, IPV6_UNSPECIFIED, isIpv6Multicast } from './ipv6-packet.ts';
import {
  decodeNdpFrame,
  decodeNdpMessage,
  decodeNdpPacket,
  encodeNdpFrame,
  encodeNdpMessage,
  encodeNdpPacket,
  neighborAdvertisementFor,
  solicitedNodeMulticast,
  type NdpFrame,
  type NdpMessage,
  type NeighborAdvertisement,
  type NeighborSolicitation,
} from './neighbor-discovery.ts';
import { anyMac, anyVlan } from '../testdata/ethernet-arbitraries.ts';
import { ADDR_1, SOLICITED_2, RFC_GOLDENS, ICMP, resigned } from '../testdata/ndp-goldens.ts';

const anyAddress = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n });
const anyUnicast = anyAddress.filter((addr) => !isIpv6Multicast(addr));
const anyIpExtras = fc
  .tuple(
    fc.option(fc.integer({ min: 1, max: 255 }), { nil: undefined }),
    fc.option(fc.integer({ min: 1, max: 0xfffff }), { nil: undefined }),
  )
  .map(([trafficClass, flowLabel]) => ({
    ...(trafficClass === undefined ? {} : { trafficClass }),
    ...(flowLabel === undefined ? {} : { flowLabel }),
  }));

/** Valid solicitations: multicast or unicast, and DAD (from ::, to the target's group, no option). */
const anySolicitation: fc.Arbitrary<NeighborSolicitation> = fc
  .tuple(
    anyUnicast.filter((addr) => addr !== IPV6_UNSPECIFIED),
    anyAddress,
    anyUnicast,
    fc.option(anyMac, { nil: undefined }),
    fc.constantFrom('multicast', 'unicast', 'dad'),
    anyIpExtras,
  )
  .map(([source, destination, target, mac, kind, extras]) => {
    if (kind === 'dad')
      return {
        type: 'neighbor-solicitation',
        source: 0n,
        destination: solicitedNodeMulticast(target),
        target,
        ...extras,
      };
    const base = {
      type: 'neighbor-solicitation' as const,
      source,
      destination: kind === 'multicast' ? solicitedNodeMulticast(target) : destination,
      target,
      ...extras,
    };
    return mac === undefined ? base : { ...base, sourceLinkLayerAddress: mac };
  });

/** Valid advertisements: S only when the destination is unicast. */
const anyAdvertisement: fc.Arbitrary<NeighborAdvertisement> = fc
  .tuple(
    anyAddress,
    anyAddress,
    anyUnicast,
    fc.boolean(),
    fc.boolean(),
    fc.boolean(),
    fc.option(anyMac, { nil: undefined }),
    anyIpExtras,
  )
  .map(([source, destination, target, router, solicited, override, mac, extras]) => {
    const base = {
      type: 'neighbor-advertisement' as const,
      source,
      destination,
      target,
      router,
      solicited: solicited && !isIpv6Multicast(destination),
      override,
      ...extras,
    };
    return mac === undefined ? base : { ...base, targetLinkLayerAddress: mac };
  });

const anyMessage: fc.Arbitrary<NdpMessage> = fc.oneof(anySolicitation, anyAdvertisement);
const anyFrame: fc.Arbitrary<NdpFrame> = fc
  .tuple(anyMac, anyMac, anyMessage, fc.option(anyVlan, { nil: undefined }))
  .map(([destination, source, message, vlan]) =>
    vlan ? { destination, source, vlan, message } : { destination, source, message },
  );

describe('NDP round trips (property)', () => {
  it('any message: encodeNdpMessage then decodeNdpMessage with its IPv6 fields gives it back', () => {
    fc.assert(
      fc.property(anyMessage, (message) => {
        const ip = {
          source: message.source,
          destination: message.destination,
          hopLimit: 255,
          trafficClass: message.trafficClass ?? 0,
          flowLabel: message.flowLabel ?? 0,
        };
        assert.deepEqual(decoded(decodeNdpMessage(encodeNdpMessage(message), ip)), message);
      }),
    );
  });

  it('any message: encodeNdpPacket then decodeNdpPacket gives it back', () => {
    fc.assert(
      fc.property(anyMessage, (message) => {
        assert.deepEqual(decoded(decodeNdpPacket(encodeNdpPacket(message))), message);
      }),
    );
  });

  it('any frame, tagged or not: encodeNdpFrame then decodeNdpFrame gives it back', () => {
    fc.assert(
      fc.property(anyFrame, (frame) => {
        assert.deepEqual(decoded(decodeNdpFrame(encodeNdpFrame(frame))), frame);
      }),
    );
  });

  it('the answer to any valid solicitation is a valid advertisement that RFC 4861 section 7.2.4 asks for', () => {
    fc.assert(
      fc.property(anySolicitation, anyMac, anyUnicast, (ns, ownMac, ourAddress) => {
        const answer = neighborAdvertisementFor(ns, ownMac, ourAddress);
        assert.deepEqual(decoded(decodeNdpPacket(encodeNdpPacket(answer))), answer);
        assert.equal(answer.target, ns.target);
        assert.equal(answer.targetLinkLayerAddress, ownMac);
        assert.equal(answer.override, true);
        assert.equal(answer.router, false);
        assert.equal(answer.solicited, ns.source !== IPV6_UNSPECIFIED);
        assert.equal(answer.destination, ns.source === IPV6_UNSPECIFIED ? IPV6_ALL_NODES : ns.source);
      }),
    );
  });
});

describe('NDP decoder fuzz', () => {
  const goldens = [...RFC_GOLDENS, ...linuxFramesOfType('86dd')];
  const checkFrame = roundTripCheck(decodeNdpFrame, encodeNdpFrame);
  const checkPacket = roundTripCheck(decodeNdpPacket, encodeNdpPacket);

  fuzzDecoder('decodeNdpFrame', checkFrame, goldens, 'frames');

  it(`decodeNdpFrame never throws on damaged frames whose checksum is then repaired, reaching the option parser (${FUZZ_RUNS} runs)`, () => {
    let decodedCount = 0;
    fc.assert(
      fc.property(mutatedFrom(goldens, resigned), (bytes) => {
        checkFrame(bytes);
        if (decodeNdpFrame(bytes).ok) decodedCount++;
      }),
      { numRuns: FUZZ_RUNS },
    );
    assert.ok(
      decodedCount > FUZZ_RUNS / 20,
      `only ${decodedCount} damaged frames decoded: the fuzz does not reach deep`,
    );
  });

  fuzzDecoder(
    'decodeNdpPacket',
    checkPacket,
    goldens.map((frame) => frame.subarray(14)),
    'packets',
  );

  it(`decodeNdpMessage never throws on random bytes and IPv6 fields (${FUZZ_RUNS} runs)`, () => {
    const anyIp = fc
      .tuple(anyAddress, anyAddress, fc.oneof(fc.constant(255), fc.integer({ min: 0, max: 255 })))
      .map(([source, destination, hopLimit]) => ({ source, destination, hopLimit }));
    fc.assert(
      fc.property(randomBytes, anyIp, (bytes, ip) => {
        assertDecodeResult(decodeNdpMessage(bytes, ip));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it(`decodeNdpMessage never throws on damaged golden messages with repaired checksums (${FUZZ_RUNS} runs)`, () => {
    const messages = goldens.map((frame) => frame.subarray(ICMP));
    const ip = { source: ADDR_1, destination: SOLICITED_2, hopLimit: 255 };
    const sign = (message: Uint8Array): Uint8Array => {
      if (message.length < 4) return message;
      const copy = message.slice();
      copy[2] = 0;
      copy[3] = 0;
      const checksum = icmpv6Checksum(ip.source, ip.destination, copy);
      copy[2] = checksum >>> 8;
      copy[3] = checksum & 0xff;
      return copy;
    };
    fc.assert(
      fc.property(mutatedFrom(messages, sign), (bytes) => {
        const result = decodeNdpMessage(bytes, ip);
        assertDecodeResult(result);
        if (result.ok) assert.deepEqual(decoded(decodeNdpMessage(encodeNdpMessage(result.value), ip)), result.value);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
