import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as peers from '../testdata/bgp-captures.ts';
import { capturedOfType, notificationMessage } from '../testdata/bgp-arbitraries.ts';
import { FUZZ_RUNS } from '../testdata/decoder-fuzzing.ts';
import { fromHex, toHex } from '../testdata/hex-bytes.ts';
import { decodeBgpMessage, encodeBgpMessage } from './bgp-message.ts';
import {
  CEASE,
  ERROR_CODE,
  ceaseNotification,
  decodeNotificationBody,
  describeNotification,
  encodeNotificationBody,
  errorCodeName,
  errorSubcodeName,
  notification,
  shutdownCommunicationOf,
} from './notification-message.ts';

const FOUR = { fourOctetAs: true };
const MARKER = 'ff'.repeat(16);

describe('NOTIFICATION (RFC 4271 section 4.5)', () => {
  it('RFC 4271 section 4.5: error code, subcode, data; Hold Timer Expired has no subcode (section 6.5)', () => {
    const bytes = fromHex(`${MARKER} 0015 03 04 00`);
    assert.deepEqual(decodeBgpMessage(bytes, FOUR), { kind: 'ok', message: notification(4, 0) });
    assert.equal(toHex(encodeBgpMessage(notification(ERROR_CODE.holdTimerExpired, 0), FOUR)), toHex(bytes));
  });

  it('RFC 4271 section 6.2: Unsupported Version Number carries the largest version we support', () => {
    const bytes = fromHex(`${MARKER} 0017 03 02 01 0004`);
    assert.deepEqual(decodeBgpMessage(bytes, FOUR), { kind: 'ok', message: notification(2, 1, Uint8Array.of(0, 4)) });
  });

  it('RFC 9003 section 2: Cease / Administrative Shutdown with a shutdown communication (length byte + UTF-8)', () => {
    const bytes = fromHex(`${MARKER} 001b 03 06 02 05 68656c6c6f`);
    const decoded = decodeBgpMessage(bytes, FOUR);
    assert.equal(decoded.kind, 'ok');
    assert.equal(decoded.message.type, 'notification');
    assert.equal(shutdownCommunicationOf(decoded.message), 'hello');
    assert.equal(describeNotification(decoded.message), 'Cease / Administrative Shutdown (6/2): "hello"');
    assert.equal(toHex(encodeBgpMessage(ceaseNotification(CEASE.administrativeShutdown, 'hello'), FOUR)), toHex(bytes));
    const long = ceaseNotification(CEASE.administrativeReset, 'é'.repeat(200));
    assert.equal(long.data[0], 254, 'cut to 255 bytes without splitting a UTF-8 sequence');
    assert.equal(shutdownCommunicationOf(long), 'é'.repeat(127));
    assert.equal(
      shutdownCommunicationOf(notification(6, 2, Uint8Array.of(3, 0xff, 0xfe, 0xfd))),
      undefined,
      'not UTF-8',
    );
    assert.deepEqual(ceaseNotification(CEASE.peerDeconfigured), notification(6, 3));
  });

  it('names: RFC 4271 section 4.5 codes, section 6 subcodes, RFC 4486 Cease subcodes, RFC 6608 FSM subcodes', () => {
    assert.equal(errorCodeName(3), 'UPDATE Message Error');
    assert.equal(errorSubcodeName(3, 11), 'Malformed AS_PATH');
    assert.equal(errorSubcodeName(2, 6), 'Unacceptable Hold Time');
    assert.equal(errorSubcodeName(2, 7), 'Unsupported Capability');
    assert.equal(errorSubcodeName(6, 8), 'Out of Resources');
    assert.equal(errorSubcodeName(5, 2), 'Receive Unexpected Message in OpenConfirm State');
    assert.equal(errorSubcodeName(4, 0), 'unspecific');
    assert.equal(errorCodeName(99), 'error code 99');
    assert.equal(
      describeNotification(notification(1, 2, Uint8Array.of(0, 18))),
      'Message Header Error / Bad Message Length (1/2), 2 bytes of data',
    );
  });

  it('the NOTIFICATIONs the real peers sent, by name', () => {
    const seen = [peers.gobgpd, peers.bird, peers.frr].flatMap((list) =>
      capturedOfType(list, 'notification', FOUR).map(
        ({ step, message }) => `${step}: ${describeNotification(message)}`,
      ),
    );
    assert.deepEqual(seen, [
      'client sent a KEEPALIVE of length 18: Message Header Error / Bad Message Length (1/2)',
      'client sent UPDATE whose attributes run past the message: UPDATE Message Error / Malformed Attribute List (3/1)',
      'OPEN with hold time 2: OPEN Message Error / Unacceptable Hold Time (2/6)',
      'OPEN from the wrong AS (65099): OPEN Message Error / Bad Peer AS (2/2)',
      'OPEN with BGP version 3: OPEN Message Error / Unsupported Version Number (2/1)',
      'hold time 3 and no KEEPALIVE from the client: Hold Timer Expired / unspecific (4/0)',
      'daemon stopped with SIGTERM: Cease / Peer De-configured (6/3)',
      'birdc disable n1: Cease / Administrative Shutdown (6/2)',
      'client sent UPDATE with ORIGIN 5: UPDATE Message Error / Invalid Network Field (3/10)',
    ]);
  });

  it('property: body round trip for any code, subcode and data', () => {
    fc.assert(
      fc.property(notificationMessage, (message) => {
        assert.deepEqual(decodeNotificationBody(encodeNotificationBody(message)), message);
      }),
    );
  });

  it(`fuzz: the body decoder and shutdownCommunicationOf never throw (${FUZZ_RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 80 }), (body) => {
        const message = decodeNotificationBody(body);
        assert.equal(typeof describeNotification(message), 'string');
        const text = shutdownCommunicationOf(message);
        assert.ok(text === undefined || typeof text === 'string');
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
