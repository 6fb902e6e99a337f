import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ipv4 } from '../../core/ip/ip-address.ts';
import * as peers from '../testdata/bgp-captures.ts';
import { theCaptured } from '../testdata/bgp-arbitraries.ts';
import { toHex } from '../testdata/hex-bytes.ts';
import { FSM_CONFIG } from '../testdata/fuzz-seeds.ts';
import { encodeBgpMessage } from './bgp-message.ts';
import type { OpenMessage } from './open-message.ts';
import { localOpen, negotiateSession, sessionConfigProblems, type SessionConfig } from './session-negotiation.ts';

const FOUR = { fourOctetAs: true };
/** The FSM tests' session with Graceful Restart (its idle hold time plays no part in negotiation). */
const CONFIG: SessionConfig = { ...FSM_CONFIG, gracefulRestart: { restartTime: 120 } };

function captured(list: readonly peers.CapturedBgpMessage[]): OpenMessage {
  return theCaptured(list, 'open', FOUR, ({ session }) => session === 1).message;
}

function rejection(config: SessionConfig, open: OpenMessage): [number, number, string, string] {
  const result = negotiateSession(config, open);
  if (result.ok) assert.fail('accepted');
  return [
    result.error.notification.code,
    result.error.notification.subcode,
    toHex(result.error.notification.data),
    result.error.reason,
  ];
}

describe('session negotiation on OPEN (RFC 4271 sections 4.2 and 6.2, RFC 5492)', () => {
  it('our OPEN: multiprotocol IPv4 and IPv6, route refresh, graceful restart, 4-octet AS, one capability per parameter', () => {
    assert.equal(
      toHex(encodeBgpMessage(localOpen(CONFIG), FOUR)),
      'ffffffffffffffffffffffffffffffff004701' + // header: length 71, OPEN
        '04fde9005ac633640b2a' + // version 4, AS 65001, hold 90, 198.51.100.11, 42 bytes of parameters
        '0206010400010001' + // multiprotocol IPv4 unicast
        '0206010400020001' + // multiprotocol IPv6 unicast
        '02020200' + // route refresh
        '020c400a00780001010000020100' + // graceful restart 120 s, IPv4 and IPv6 without F
        '020641040000fde9', // 4-octet AS 65001
    );
  });

  it("against gobgpd's captured OPEN: hold 90 s, keepalive 30 s, 4-octet AS, both families, route refresh, its graceful restart", () => {
    const result = negotiateSession(CONFIG, captured(peers.gobgpd));
    assert.ok(result.ok);
    const { peerCapabilities, ...negotiated } = result.value;
    assert.equal(peerCapabilities.length, 7);
    assert.deepEqual(negotiated, {
      peerAs: 65000,
      peerBgpIdentifier: ipv4(198, 51, 100, 1),
      external: true,
      holdTime: 90,
      keepaliveTimeMs: 30_000,
      fourOctetAs: true,
      families: ['ipv4-unicast', 'ipv6-unicast'],
      routeRefresh: true,
      extendedNextHop: false,
      codec: { fourOctetAs: true, external: true },
      gracefulRestart: {
        restartTime: 120,
        restartState: false,
        notification: false,
        families: [
          { family: 'ipv4-unicast', forwardingState: false },
          { family: 'ipv6-unicast', forwardingState: false },
        ],
      },
    });
  });

  it('against BIRD (hold 240) and FRR (hold 180): the smaller hold time wins; FRR says it has just restarted (R bit)', () => {
    const bird = negotiateSession(CONFIG, captured(peers.bird));
    const frr = negotiateSession({ ...CONFIG, holdTime: 240 }, captured(peers.frr));
    assert.ok(bird.ok && frr.ok);
    assert.equal(bird.value.holdTime, 90);
    assert.equal(frr.value.holdTime, 180);
    assert.equal(frr.value.keepaliveTimeMs, 60_000);
    assert.deepEqual(frr.value.gracefulRestart, {
      restartTime: 120,
      restartState: true,
      notification: false,
      families: [],
    });
  });

  it('against gobgpd with AS 4200000000 (AS_TRANS in My AS): the 4-octet AS is the one checked; IPv4 only in common', () => {
    const result = negotiateSession({ ...CONFIG, peerAs: 4200000000 }, captured(peers.gobgpdFourOctetAs));
    assert.ok(result.ok);
    assert.deepEqual([result.value.peerAs, result.value.families], [4200000000, ['ipv4-unicast']]);
  });

  it('RFC 8950: extended next hop (IPv4 unicast, IPv6 next hop) is offered when asked for and IPv4 is offered', () => {
    const offered = toHex(encodeBgpMessage(localOpen({ ...CONFIG, extendedNextHop: true }), FOUR));
    assert.ok(offered.includes('020805060001000100020'), offered); // parameter 2, capability 5, length 6, 1/1/2
    const v6Only = toHex(
      encodeBgpMessage(localOpen({ ...CONFIG, extendedNextHop: true, families: ['ipv6-unicast'] }), FOUR),
    );
    assert.ok(!v6Only.includes('0208050600010001'), 'no IPv4 unicast, nothing to offer');
    assert.ok(!toHex(encodeBgpMessage(localOpen(CONFIG), FOUR)).includes('02080506'), 'not offered by default');
  });

  it('RFC 8950: negotiated only when both sides offer IPv4 unicast with an IPv6 next hop and IPv4 unicast is in common', () => {
    const gobgpd = captured(peers.gobgpd); // offers 1/1/2
    const on = (config: SessionConfig, open: OpenMessage): boolean => {
      const result = negotiateSession(config, open);
      assert.ok(result.ok);
      return result.value.extendedNextHop;
    };
    assert.equal(on({ ...CONFIG, extendedNextHop: true }, gobgpd), true);
    assert.equal(on(CONFIG, gobgpd), false, 'we did not offer it');
    assert.equal(on({ ...CONFIG, extendedNextHop: true }, captured(peers.bird)), false, 'BIRD did not offer it');
    assert.equal(
      on({ ...CONFIG, extendedNextHop: true }, captured(peers.frr)),
      false,
      'FRR over IPv4 did not offer it',
    );
    const otherTuple = {
      ...gobgpd,
      optionalParameters: [
        ...gobgpd.optionalParameters.map((p) =>
          p.type === 'capabilities'
            ? { ...p, capabilities: p.capabilities.filter((c) => c.type !== 'extended-next-hop') }
            : p,
        ),
        {
          type: 'capabilities' as const,
          capabilities: [{ type: 'extended-next-hop' as const, tuples: [{ afi: 1, safi: 128, nextHopAfi: 2 }] }],
        },
      ],
    };
    assert.equal(on({ ...CONFIG, extendedNextHop: true }, otherTuple), false, 'only VPN-IPv4 with IPv6 next hops');
    const v6 = negotiateSession({ ...CONFIG, extendedNextHop: true, families: ['ipv6-unicast'] }, gobgpd);
    assert.ok(v6.ok && !v6.value.extendedNextHop, 'no IPv4 unicast in common');
  });

  it('keepalive: a third of the hold time unless configured lower; none with hold time 0', () => {
    const open = captured(peers.gobgpd);
    const lower = negotiateSession({ ...CONFIG, keepaliveTime: 10 }, open);
    const higher = negotiateSession({ ...CONFIG, keepaliveTime: 60 }, open);
    const zero = negotiateSession(CONFIG, { ...open, holdTime: 0 });
    assert.deepEqual(
      [lower, higher, zero].map((r) => (r.ok ? [r.value.holdTime, r.value.keepaliveTimeMs] : [])),
      [
        [90, 10_000],
        [90, 30_000],
        [0, 0],
      ],
    );
    const ten = negotiateSession({ ...CONFIG, holdTime: 10 }, open);
    assert.ok(ten.ok && ten.value.keepaliveTimeMs === 3333);
  });

  it('RFC 4760 section 8: a peer without multiprotocol capabilities does IPv4 unicast', () => {
    const open = localOpen({ ...CONFIG, localAs: 65000, bgpIdentifier: ipv4(198, 51, 100, 1), families: [] });
    const result = negotiateSession(CONFIG, open);
    assert.ok(result.ok && result.value.families.length === 1 && result.value.families[0] === 'ipv4-unicast');
  });

  it('RFC 4271 section 6.2 rejections, each with its NOTIFICATION', () => {
    const open = captured(peers.gobgpd);
    assert.deepEqual(rejection(CONFIG, { ...open, version: 3 }).slice(0, 3), [2, 1, '0004']);
    assert.deepEqual(rejection({ ...CONFIG, peerAs: 65099 }, open).slice(0, 2), [2, 2]);
    assert.match(rejection({ ...CONFIG, peerAs: 65099 }, open)[3], /peer announced AS 65000, configured AS 65099/);
    assert.deepEqual(rejection(CONFIG, { ...open, holdTime: 2 }).slice(0, 2), [2, 6]);
    assert.deepEqual(rejection(CONFIG, { ...open, holdTime: 1 }).slice(0, 2), [2, 6]);
    assert.deepEqual(rejection(CONFIG, { ...open, bgpIdentifier: ipv4(0, 0, 0, 0) }).slice(0, 2), [2, 3]);
    assert.deepEqual(
      rejection(CONFIG, {
        ...open,
        optionalParameters: [...open.optionalParameters, { type: 'other', code: 1, value: Uint8Array.of(0) }],
      }).slice(0, 2),
      [2, 4],
    );
  });

  it('RFC 6286 section 2.2: an internal peer may not use our BGP identifier; an external one may', () => {
    const internal = localOpen({ ...CONFIG, localAs: 65001 });
    assert.deepEqual(rejection({ ...CONFIG, peerAs: 65001 }, internal).slice(0, 2), [2, 3]);
    const external = localOpen({ ...CONFIG, localAs: 65000 });
    assert.ok(negotiateSession(CONFIG, external).ok);
  });

  it('dynamic peers: internal accepts only our AS, external any AS but ours; the AS comes from the OPEN', () => {
    const gobgpd = captured(peers.gobgpd); // AS 65000
    const external = negotiateSession({ ...CONFIG, peerAs: 'external' }, gobgpd);
    assert.ok(external.ok);
    assert.deepEqual(
      [external.value.peerAs, external.value.external, external.value.codec.external],
      [65000, true, true],
    );
    const fourOctet = negotiateSession({ ...CONFIG, peerAs: 'external' }, captured(peers.gobgpdFourOctetAs));
    assert.ok(fourOctet.ok && fourOctet.value.peerAs === 4200000000);
    const ourAs = localOpen({ ...CONFIG, localAs: 65001, bgpIdentifier: ipv4(198, 51, 100, 1) });
    assert.deepEqual(rejection({ ...CONFIG, peerAs: 'external' }, ourAs).slice(0, 2), [2, 2]);
    assert.match(
      rejection({ ...CONFIG, peerAs: 'external' }, ourAs)[3],
      /peer announced our own AS 65001; an external peer must announce another AS/,
    );
    const internal = negotiateSession({ ...CONFIG, peerAs: 'internal' }, ourAs);
    assert.ok(internal.ok);
    assert.deepEqual([internal.value.peerAs, internal.value.external], [65001, false]);
    assert.match(
      rejection({ ...CONFIG, peerAs: 'internal' }, gobgpd)[3],
      /peer announced AS 65000; an internal peer must announce our AS 65001/,
    );
    assert.deepEqual(sessionConfigProblems({ ...CONFIG, peerAs: 'external' }), []);
  });

  it('RFC 5492 section 5: no address family in common is Unsupported Capability with our multiprotocol capabilities as data', () => {
    const open = captured(peers.gobgpdFourOctetAs);
    assert.deepEqual(rejection({ ...CONFIG, peerAs: 4200000000, families: ['ipv6-unicast'] }, open).slice(0, 3), [
      2,
      7,
      '010400020001',
    ]);
  });

  it('configuration problems are reported as sentences', () => {
    assert.deepEqual(sessionConfigProblems(CONFIG), []);
    assert.deepEqual(
      sessionConfigProblems({ ...CONFIG, holdTime: 2, localAs: 0, families: [], bgpIdentifier: ipv4(0, 0, 0, 0) }),
      [
        'local AS 0 is not 1-4294967295',
        'the BGP identifier must be a non-zero IPv4 address',
        'hold time 2 is not 0 or 3-65535 seconds',
        'no address family to offer',
      ],
    );
  });
});
