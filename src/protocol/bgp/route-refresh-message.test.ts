import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as peers from '../testdata/bgp-captures.ts';
import { capturedOfType, routeRefreshMessage } from '../testdata/bgp-arbitraries.ts';
import { FUZZ_RUNS } from '../testdata/decoder-fuzzing.ts';
import { fromHex, toHex } from '../testdata/hex-bytes.ts';
import { decodeBgpMessage, encodeBgpMessage } from './bgp-message.ts';
import { decodeRouteRefreshBody, encodeRouteRefreshBody } from './route-refresh-message.ts';
import { routeRefreshFor } from './session-fsm.ts';

const FOUR = { fourOctetAs: true };
const MARKER = 'ff'.repeat(16);

describe('ROUTE-REFRESH (RFC 2918)', () => {
  it('RFC 2918 section 3: AFI, reserved, SAFI', () => {
    const bytes = fromHex(`${MARKER} 0017 05 0002 00 01`);
    assert.deepEqual(decodeBgpMessage(bytes, FOUR), {
      kind: 'ok',
      message: { type: 'route-refresh', afi: 2, safi: 1, subtype: 0 },
    });
    assert.equal(toHex(encodeBgpMessage(routeRefreshFor('ipv6-unicast'), FOUR)), toHex(bytes));
  });

  it('captured: BIRD asks for both families (birdc reload in), FRR for IPv4 (clear bgp soft in)', () => {
    const bird = capturedOfType(peers.bird, 'route-refresh', FOUR).map(({ message }) => message);
    assert.deepEqual(bird, [routeRefreshFor('ipv4-unicast'), routeRefreshFor('ipv6-unicast')]);
    const frr = capturedOfType(peers.frr, 'route-refresh', FOUR).map(({ message }) => message);
    assert.deepEqual(frr, [routeRefreshFor('ipv4-unicast')]);
  });

  it('RFC 7313 section 5: any other length is ROUTE-REFRESH Message Error / Invalid Message Length with the message as data', () => {
    const bytes = fromHex(`${MARKER} 0018 05 0001 00 01 00`);
    const outcome = decodeBgpMessage(bytes, FOUR);
    assert.equal(outcome.kind, 'session-reset');
    assert.deepEqual([outcome.notification.code, outcome.notification.subcode], [7, 1]);
    assert.equal(toHex(outcome.notification.data), toHex(bytes));
  });

  it('property: body round trip, including RFC 7313 subtypes', () => {
    fc.assert(
      fc.property(routeRefreshMessage, (message) => {
        const body = encodeRouteRefreshBody(message);
        assert.deepEqual(decodeRouteRefreshBody(body, body), { ok: true, value: message });
      }),
    );
  });

  it(`fuzz: never throws (${FUZZ_RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), (body) => {
        const result = decodeRouteRefreshBody(body, body);
        assert.equal(result.ok, body.length === 4);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
