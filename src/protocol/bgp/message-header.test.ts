import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FUZZ_RUNS, randomBytes } from '../testdata/decoder-fuzzing.ts';
import { atOffset, fromHex, toHex } from '../testdata/hex-bytes.ts';
import * as peers from '../testdata/bgp-captures.ts';
import {
  HEADER_LENGTH,
  MAX_MESSAGE_LENGTH,
  decodeHeader,
  nextMessageLength,
  withHeader,
  type BgpMessageType,
} from './message-header.ts';
import { decoded } from '../testdata/decoder-fuzzing.ts';
import { bgpErrorOf } from '../testdata/bgp-arbitraries.ts';

const MARKER = 'ff'.repeat(16);

describe('BGP header (RFC 4271 section 4.1)', () => {
  it('RFC 4271 section 4.1: marker of all ones, length, type; KEEPALIVE is 19 bytes', () => {
    assert.deepEqual(decoded(decodeHeader(fromHex(`${MARKER} 0013 04`))), { type: 'keepalive', length: 19 });
    assert.deepEqual(decoded(decodeHeader(atOffset(fromHex(`${MARKER} 0013 04`)))), { type: 'keepalive', length: 19 });
    assert.equal(toHex(withHeader('keepalive', new Uint8Array(0))), `${MARKER}001304`);
    assert.equal(toHex(withHeader('route-refresh', Uint8Array.of(0, 1, 0, 1))), `${MARKER}00170500010001`);
  });

  it('every type code 1-5 and its minimum length (RFC 4271 section 6.1, RFC 2918)', () => {
    const minimum: [BgpMessageType, number, number][] = [
      ['open', 1, 29],
      ['update', 2, 23],
      ['notification', 3, 21],
      ['keepalive', 4, 19],
      ['route-refresh', 5, 23],
    ];
    for (const [type, code, length] of minimum) {
      const bytes = new Uint8Array(length).fill(0xff, 0, 16);
      bytes[17] = length;
      bytes[18] = code;
      assert.deepEqual(decoded(decodeHeader(bytes)), { type, length });
      const short = bytes.slice(0, length - 1);
      short[17] = length - 1;
      if (length > 19) assert.equal(bgpErrorOf(decodeHeader(short)).reason, 'malformed', type);
    }
  });

  it('RFC 4271 section 6.1: a marker that is not all ones is Connection Not Synchronized', () => {
    const error = bgpErrorOf(decodeHeader(fromHex('ffffffffffffffffffffffffffffff00 0013 04')));
    assert.deepEqual([error.notification.code, error.notification.subcode], [1, 1]);
  });

  it('RFC 4271 section 6.1: Bad Message Length carries the length; KEEPALIVE of 18 bytes (captured against gobgpd)', () => {
    const error = bgpErrorOf(decodeHeader(fromHex(`${MARKER} 0012 04`)));
    assert.deepEqual(
      [error.notification.code, error.notification.subcode, toHex(error.notification.data)],
      [1, 2, '0012'],
    );
    const long = bgpErrorOf(decodeHeader(fromHex(`${MARKER} 1001 02`)));
    assert.deepEqual([long.notification.subcode, toHex(long.notification.data)], [2, '1001']);
    const keepalive = bgpErrorOf(decodeHeader(fromHex(`${MARKER} 0014 04 00`)));
    assert.match(keepalive.message, /KEEPALIVE of length 20; its length is exactly 19/);
    // gobgpd answered the 18-byte KEEPALIVE with 1/2 but without the data RFC 4271 asks for:
    const captured = peers.gobgpd.find((entry) => entry.step === 'client sent a KEEPALIVE of length 18');
    assert.equal(captured?.hex, `${MARKER}0015030102`);
  });

  it('surprises of gobgpd 3.10.0 (captured): it ignores a bad marker, and a message of type 9 crashes it instead of a NOTIFICATION', () => {
    const badMarkerSession = peers.gobgpd.filter((entry) => entry.step === 'marker not all ones');
    assert.ok(badMarkerSession.length > 0);
    assert.ok(
      badMarkerSession.every((entry) => entry.hex.slice(36, 38) !== '03'),
      'no NOTIFICATION in the bad-marker session',
    );
    assert.ok(
      peers.gobgpdBadType.every((entry) => entry.hex.slice(36, 38) !== '03'),
      'no NOTIFICATION for type 9: gobgpd panics',
    );
  });

  it('RFC 4271 section 6.1: Bad Message Type carries the type', () => {
    const error = bgpErrorOf(decodeHeader(fromHex(`${MARKER} 0013 09`)));
    assert.deepEqual(
      [error.reason, error.notification.code, error.notification.subcode, toHex(error.notification.data)],
      ['unsupported', 1, 3, '09'],
    );
  });

  it('fewer bytes than the header or its length are truncated', () => {
    assert.equal(bgpErrorOf(decodeHeader(fromHex(MARKER))).reason, 'truncated');
    assert.equal(bgpErrorOf(decodeHeader(fromHex(`${MARKER} 0020 02 0000`))).reason, 'truncated');
  });

  it('nextMessageLength frames a TCP stream: wait for 19 bytes, then the length, or the header error', () => {
    assert.deepEqual(nextMessageLength(fromHex(MARKER)), { ok: true, value: undefined });
    assert.deepEqual(nextMessageLength(fromHex(`${MARKER} 0017 02 0000`)), { ok: true, value: 23 });
    assert.equal(bgpErrorOf(nextMessageLength(fromHex(`${'00'.repeat(16)} 0017 02`))).notification.subcode, 1);
    assert.equal(bgpErrorOf(nextMessageLength(fromHex(`${MARKER} 0005 02`))).notification.subcode, 2);
  });

  it('withHeader refuses more than 4096 bytes (a bug)', () => {
    assert.throws(() => withHeader('update', new Uint8Array(MAX_MESSAGE_LENGTH - HEADER_LENGTH + 1)), RangeError);
    assert.equal(withHeader('update', new Uint8Array(MAX_MESSAGE_LENGTH - HEADER_LENGTH)).length, MAX_MESSAGE_LENGTH);
  });

  it('property: a header written for any type and length reads back', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<BgpMessageType>('open', 'update', 'notification', 'route-refresh'),
        fc.integer({ min: 29, max: MAX_MESSAGE_LENGTH }),
        (type, length) => {
          const bytes = withHeader(type, new Uint8Array(length - HEADER_LENGTH));
          assert.deepEqual(decoded(decodeHeader(bytes)), { type, length });
          assert.deepEqual(nextMessageLength(bytes), { ok: true, value: length });
        },
      ),
    );
  });

  it(`fuzz: decodeHeader and nextMessageLength never throw (${FUZZ_RUNS} runs)`, () => {
    fc.assert(
      fc.property(randomBytes, (bytes) => {
        const header = decodeHeader(bytes);
        if (!header.ok) assert.ok(header.error.notification.code === 1);
        const next = nextMessageLength(bytes);
        if (next.ok && next.value !== undefined) assert.ok(next.value >= 19 && next.value <= 4096);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
