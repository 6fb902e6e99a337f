import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ipv4 } from '../../core/ip/ip-address.ts';
import * as peers from '../testdata/bgp-captures.ts';
import { bgpErrorOf, capability, openMessage as anyOpen, theCaptured } from '../testdata/bgp-arbitraries.ts';
import { FUZZ_RUNS, mutatedFrom } from '../testdata/decoder-fuzzing.ts';
import { atOffset, fromHex, toHex } from '../testdata/hex-bytes.ts';
import { decodeBgpMessage, encodeBgpMessage } from './bgp-message.ts';
import {
  capabilityName,
  decodeCapabilities,
  describeCapability,
  encodeCapability,
  type Capability,
} from './capability.ts';
import {
  capabilitiesOf,
  decodeOpenBody,
  encodeOpenBody,
  formatBgpIdentifier,
  openMessage,
  speakerAsOf,
  type OpenMessage,
} from './open-message.ts';

const FOUR = { fourOctetAs: true };
const MARKER = 'ff'.repeat(16);

function openOf(bytes: Uint8Array): OpenMessage {
  const outcome = decodeBgpMessage(bytes, FOUR);
  if (outcome.kind !== 'ok' || outcome.message.type !== 'open') assert.fail(`not an OPEN: ${outcome.kind}`);
  return outcome.message;
}

describe('OPEN golden bytes from the RFCs', () => {
  // RFC 4271 section 4.2: version, My AS, Hold Time, BGP Identifier, Opt Parm Len, parameters (type 2, RFC 5492).
  const golden = fromHex(
    `${MARKER} 0047 01 04 fde9 005a c633640b 2a` +
      ' 02 06 01 04 0001 00 01' + // RFC 4760 section 8: multiprotocol IPv4 unicast
      ' 02 06 01 04 0002 00 01' + // multiprotocol IPv6 unicast
      ' 02 02 02 00' + // RFC 2918 section 2: route refresh
      ' 02 0c 40 0a 8078 0001 01 80 0002 01 80' + // RFC 4724 section 3: R bit, 120 s, IPv4 and IPv6 with F
      ' 02 06 41 04 0000fde9', // RFC 6793 section 3: 4-octet AS 65001
  );
  const capabilities: Capability[] = [
    { type: 'multiprotocol', afi: 1, safi: 1 },
    { type: 'multiprotocol', afi: 2, safi: 1 },
    { type: 'route-refresh' },
    {
      type: 'graceful-restart',
      restartState: true,
      notification: false,
      restartTime: 120,
      families: [
        { afi: 1, safi: 1, forwardingState: true },
        { afi: 2, safi: 1, forwardingState: true },
      ],
    },
  ];

  it('RFC 4271 section 4.2 with RFC 5492 capabilities: multiprotocol, route refresh, graceful restart, 4-octet AS', () => {
    const open = openMessage({ asn: 65001, holdTime: 90, bgpIdentifier: ipv4(198, 51, 100, 11), capabilities });
    assert.equal(toHex(encodeBgpMessage(open, FOUR)), toHex(golden));
    assert.deepEqual(openOf(golden), open);
    assert.deepEqual(openOf(atOffset(golden)), open);
    assert.equal(speakerAsOf(open), 65001);
    assert.equal(formatBgpIdentifier(open.bgpIdentifier), '198.51.100.11');
  });

  it('RFC 6793 section 4.1: a 4-octet AS goes in the capability, My AS carries AS_TRANS (23456)', () => {
    const open = openMessage({ asn: 4200000001, holdTime: 0, bgpIdentifier: ipv4(198, 51, 100, 11), capabilities: [] });
    const bytes = encodeBgpMessage(open, FOUR);
    assert.equal(toHex(bytes), `${MARKER}002501045ba00000c633640b0802064104fa56ea01`);
    assert.equal(open.myAs, 23456);
    assert.equal(speakerAsOf(openOf(bytes)), 4200000001);
  });

  it('RFC 5492 section 4: several capabilities in one parameter decode the same and re-encode as they came', () => {
    const oneParameter = fromHex(`${MARKER} 0029 01 04 fde9 005a c633640b 0c 02 0a 01 04 0002 00 01 02 00 46 00`);
    const open = openOf(oneParameter);
    assert.equal(open.optionalParameters.length, 1);
    assert.deepEqual(capabilitiesOf(open), [
      { type: 'multiprotocol', afi: 2, safi: 1 },
      { type: 'route-refresh' },
      { type: 'other', code: 70, value: new Uint8Array(0) },
    ]);
    assert.equal(toHex(encodeBgpMessage(open, FOUR)), toHex(oneParameter));
  });

  it('RFC 8950 section 3: extended next hop, 6 bytes per tuple (NLRI AFI, NLRI SAFI in 2 bytes, next hop AFI)', () => {
    const value = fromHex('05 0c 0001 0001 0002 0001 0080 0002');
    const decoded = decodeCapabilities(value);
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value, [
      {
        type: 'extended-next-hop',
        tuples: [
          { afi: 1, safi: 1, nextHopAfi: 2 },
          { afi: 1, safi: 128, nextHopAfi: 2 },
        ],
      },
    ]);
    assert.equal(toHex(encodeCapability(decoded.value[0]!)), toHex(value));
    assert.equal(
      describeCapability(decoded.value[0]!),
      'extended next hop [AFI 1 / SAFI 1 (ipv4-unicast) next hop AFI 2, AFI 1 / SAFI 128 next hop AFI 2]',
    );
    const short = decodeCapabilities(fromHex('05 04 0001 0001'));
    assert.ok(!short.ok);
    assert.match(short.error, /extended next hop capability of length 4; it is a multiple of 6/);
    assert.match(
      bgpErrorOf(decodeOpenBody(fromHex('04 fde9 005a c633640b 09 02 07 05 05 0001000100'))).message,
      /extended next hop capability of length 5/,
    );
    assert.throws(
      () => encodeCapability({ type: 'extended-next-hop', tuples: [{ afi: 1, safi: 1, nextHopAfi: 0x10000 }] }),
      RangeError,
    );
  });

  it('RFC 4271 section 6.2: layout errors are OPEN Message Error (unspecific), other parameters are kept for negotiation', () => {
    const lengthMismatch = bgpErrorOf(decodeOpenBody(fromHex('04 fde9 005a c633640b 05 02 02 02 00')));
    assert.deepEqual([lengthMismatch.notification.code, lengthMismatch.notification.subcode], [2, 0]);
    assert.match(
      bgpErrorOf(decodeOpenBody(fromHex('04 fde9 005a c633640b 04 02 03 02 00'))).message,
      /runs past the message/,
    );
    assert.match(
      bgpErrorOf(decodeOpenBody(fromHex('04 fde9 005a c633640b 05 02 03 01 01 00'))).message,
      /multiprotocol capability of length 1/,
    );
    assert.match(
      bgpErrorOf(decodeOpenBody(fromHex('04 fde9 005a c633640b 04 02 02 41 05'))).message,
      /runs past its parameter/,
    );
    const authentication = decodeOpenBody(fromHex('04 fde9 005a c633640b 03 01 01 00'));
    assert.ok(authentication.ok);
    assert.deepEqual(authentication.value.optionalParameters, [{ type: 'other', code: 1, value: Uint8Array.of(0) }]);
  });
});

describe('OPENs captured from real peers', () => {
  it('gobgpd: all capabilities in one parameter, FQDN kept raw, extended next hop for IPv4 over IPv6, graceful restart without F bits', () => {
    const { message } = theCaptured(peers.gobgpd, 'open', FOUR, ({ session }) => session === 1);
    assert.equal(message.optionalParameters.length, 1);
    assert.deepEqual(
      { myAs: message.myAs, holdTime: message.holdTime, id: formatBgpIdentifier(message.bgpIdentifier) },
      { myAs: 65000, holdTime: 90, id: '198.51.100.1' },
    );
    assert.deepEqual(capabilitiesOf(message).map(describeCapability), [
      'route refresh',
      'FQDN (4 bytes)',
      'multiprotocol AFI 1 / SAFI 1 (ipv4-unicast)',
      'multiprotocol AFI 2 / SAFI 1 (ipv6-unicast)',
      '4-octet AS 65000',
      'graceful restart 120 s [AFI 1 / SAFI 1 (ipv4-unicast), AFI 2 / SAFI 1 (ipv6-unicast)]',
      'extended next hop [AFI 1 / SAFI 1 (ipv4-unicast) next hop AFI 2]',
    ]);
    assert.deepEqual(
      capabilitiesOf(message).find((c) => c.type === 'extended-next-hop'),
      { type: 'extended-next-hop', tuples: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
      'RFC 8950 section 3: IPv4 unicast NLRI with an IPv6 next hop',
    );
  });

  it('gobgpd with a 4-octet AS: My AS 23456 and the real AS in the capability', () => {
    const { message } = theCaptured(peers.gobgpdFourOctetAs, 'open', FOUR, () => true);
    assert.equal(message.myAs, 23456);
    assert.equal(speakerAsOf(message), 4200000000);
  });

  it('BIRD: hold time 240, one parameter, enhanced route refresh and long-lived graceful restart of length 0', () => {
    const { message } = theCaptured(peers.bird, 'open', FOUR, () => true);
    assert.equal(message.holdTime, 240);
    assert.equal(message.optionalParameters.length, 1);
    assert.deepEqual(
      capabilitiesOf(message).map((c) => (c.type === 'other' ? capabilityName(c.code) : c.type)),
      [
        'multiprotocol',
        'multiprotocol',
        'route-refresh',
        'graceful-restart',
        'four-octet-as',
        'enhanced route refresh',
        'long-lived graceful restart',
      ],
    );
  });

  it('FRR: hold time 180, one capability per parameter, graceful restart with the R and N bits and no families', () => {
    const { message } = theCaptured(peers.frr, 'open', FOUR, () => true);
    assert.equal(message.holdTime, 180);
    assert.equal(message.optionalParameters.length, capabilitiesOf(message).length);
    const restart = capabilitiesOf(message).find((c) => c.type === 'graceful-restart');
    assert.deepEqual(restart, {
      type: 'graceful-restart',
      restartState: true,
      notification: true,
      restartTime: 120,
      families: [],
    });
    assert.deepEqual(
      capabilitiesOf(message).flatMap((c) => (c.type === 'other' ? [capabilityName(c.code)] : [])),
      [
        'route refresh (Cisco, pre-standard)',
        'enhanced route refresh',
        'extended message',
        'ADD-PATH',
        'FQDN',
        'long-lived graceful restart',
      ],
    );
  });
});

describe('OPEN and capability round trips and fuzzing', () => {
  it('property: decode(encode(capability)) for every capability type', () => {
    fc.assert(
      fc.property(fc.array(capability, { maxLength: 6 }), (capabilities) => {
        const bytes = new Uint8Array(capabilities.reduce((n, c) => n + encodeCapability(c).length, 0));
        let offset = 0;
        for (const c of capabilities) {
          bytes.set(encodeCapability(c), offset);
          offset += encodeCapability(c).length;
        }
        assert.deepEqual(decodeCapabilities(bytes), { ok: true, value: capabilities });
      }),
    );
  });

  it('property: decode(encode(open)) for any OPEN', () => {
    fc.assert(
      fc.property(anyOpen, (open) => {
        assert.deepEqual(decodeOpenBody(encodeOpenBody(open)), { ok: true, value: open });
      }),
    );
  });

  it(`fuzz: OPEN bodies, random and damaged captures, never throw (${FUZZ_RUNS} runs each)`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 280 }), (body) => {
        const result = decodeOpenBody(body);
        if (!result.ok) assert.equal(result.error.notification.code, 2);
      }),
      { numRuns: FUZZ_RUNS },
    );
    const opens = [peers.gobgpd[0], peers.bird[0], peers.frr[0], peers.gobgpdFourOctetAs[0]].map((entry) =>
      fromHex(entry?.hex ?? '').subarray(19),
    );
    fc.assert(
      fc.property(mutatedFrom(opens), (body) => {
        const result = decodeOpenBody(body);
        if (!result.ok) assert.ok(result.error.message.startsWith('OPEN'));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
