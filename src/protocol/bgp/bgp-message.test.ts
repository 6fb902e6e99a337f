import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as peers from '../testdata/bgp-captures.ts';
import { bgpMessage, capturedBytes, codecContext } from '../testdata/bgp-arbitraries.ts';
import { FUZZ_RUNS, mutatedFrom, randomBytes } from '../testdata/decoder-fuzzing.ts';
import { atOffset, fromHex, toHex } from '../testdata/hex-bytes.ts';
import { repairBgp } from '../testdata/fuzz-seeds.ts';
import { decodeBgpMessage, encodeBgpMessage, KEEPALIVE, type BgpDecodeOutcome } from './bgp-message.ts';
import { MAX_MESSAGE_LENGTH } from './message-header.ts';
import type { BgpCodecContext } from './path-attribute.ts';

const FOUR: BgpCodecContext = { fourOctetAs: true };
const TWO: BgpCodecContext = { fourOctetAs: false };
const KINDS = new Set(['ok', 'treat-as-withdraw', 'attribute-discard', 'session-reset']);

/** A classification is well formed: a known kind, a message or a NOTIFICATION with a reason that reads well. */
function assertClassified(outcome: BgpDecodeOutcome): void {
  assert.ok(KINDS.has(outcome.kind), `unknown kind ${outcome.kind}`);
  if (outcome.kind === 'session-reset') {
    assert.equal(outcome.notification.type, 'notification');
    assert.ok(
      outcome.notification.code >= 1 && outcome.notification.code <= 7,
      `NOTIFICATION code ${outcome.notification.code}`,
    );
    assert.ok(['truncated', 'unsupported', 'malformed', 'invalid'].includes(outcome.error.reason));
    assert.ok(
      outcome.error.message.startsWith('BGP') ||
        outcome.error.message.startsWith('UPDATE') ||
        outcome.error.message.startsWith('OPEN') ||
        outcome.error.message.startsWith('ROUTE-REFRESH'),
      outcome.error.message,
    );
    assert.deepEqual(outcome.error.notification, outcome.notification);
    return;
  }
  assert.equal(typeof outcome.message.type, 'string');
  if (outcome.kind !== 'ok') {
    assert.equal(outcome.message.type, 'update');
    assert.ok(outcome.reason.startsWith('UPDATE: '), outcome.reason);
  }
}

/** Every message captured from real peers, with the session context it was sent in. */
const ALL_CAPTURES: { name: string; context: BgpCodecContext; list: readonly peers.CapturedBgpMessage[] }[] = [
  { name: 'gobgpd', context: FOUR, list: peers.gobgpd },
  { name: 'gobgpd (type 9 run)', context: FOUR, list: peers.gobgpdBadType },
  { name: 'gobgpd with a 2-octet client', context: TWO, list: peers.gobgpdFourOctetAs },
  { name: 'BIRD', context: FOUR, list: peers.bird },
  { name: 'FRR', context: FOUR, list: peers.frr },
];

describe('BGP messages captured from gobgpd, BIRD and FRR', () => {
  for (const { name, context, list } of ALL_CAPTURES) {
    it(`${name}: every message decodes (ok) and re-encodes to the same bytes`, () => {
      assert.ok(list.length > 0);
      for (const entry of list) {
        const outcome = decodeBgpMessage(fromHex(entry.hex), context);
        assert.equal(
          outcome.kind,
          'ok',
          `${entry.step}: ${outcome.kind === 'session-reset' ? outcome.error.message : outcome.kind}`,
        );
        assert.equal(toHex(encodeBgpMessage(outcome.message, context)), entry.hex, entry.step);
        assert.deepEqual(decodeBgpMessage(atOffset(fromHex(entry.hex)), context), outcome, 'byteOffset respected');
      }
    });
  }

  it('the capture covers every message type', () => {
    const types = new Set<string>();
    for (const { context, list } of ALL_CAPTURES) {
      for (const entry of list) {
        const outcome = decodeBgpMessage(fromHex(entry.hex), context);
        if (outcome.kind === 'ok') types.add(outcome.message.type);
      }
    }
    assert.deepEqual([...types].sort(), ['keepalive', 'notification', 'open', 'route-refresh', 'update']);
  });
});

describe('BGP message round trips', () => {
  it('RFC 4271 section 4.4: a KEEPALIVE is the header alone', () => {
    assert.equal(toHex(encodeBgpMessage(KEEPALIVE, FOUR)), 'ffffffffffffffffffffffffffffffff001304');
  });

  it('property: decode(encode(message)) gives the message back, for every type and codec context', () => {
    fc.assert(
      fc.property(
        codecContext.chain((context) => fc.tuple(fc.constant(context), bgpMessage(context))),
        ([context, message]) => {
          const bytes = encodeBgpMessage(message, context);
          assert.ok(bytes.length <= MAX_MESSAGE_LENGTH);
          const outcome = decodeBgpMessage(bytes, context);
          assert.notEqual(outcome.kind, 'session-reset', outcome.kind === 'session-reset' ? outcome.error.message : '');
          if (outcome.kind === 'session-reset') return;
          assert.deepEqual(outcome.message, message);
          assert.equal(toHex(encodeBgpMessage(outcome.message, context)), toHex(bytes));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('the decoder takes the message at the start of a buffer and leaves what follows', () => {
    const keepalive = encodeBgpMessage(KEEPALIVE, FOUR);
    const two = new Uint8Array(keepalive.length * 2);
    two.set(keepalive);
    two.set(keepalive, keepalive.length);
    assert.deepEqual(decodeBgpMessage(two, FOUR), { kind: 'ok', message: KEEPALIVE });
  });
});

describe('BGP decoder fuzzing: never throws, always classifies', () => {
  const goldens = ALL_CAPTURES.flatMap(({ list }) => capturedBytes(list));

  it(`random bytes (${FUZZ_RUNS} runs)`, () => {
    fc.assert(
      fc.property(randomBytes, codecContext, (bytes, context) => {
        assertClassified(decodeBgpMessage(bytes, context));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it(`random bodies behind a valid header of every type (${FUZZ_RUNS} runs)`, () => {
    const validHeader = fc
      .tuple(fc.integer({ min: 1, max: 5 }), fc.uint8Array({ maxLength: 300 }), codecContext)
      .map(([type, body, context]) => {
        const bytes = new Uint8Array(19 + body.length).fill(0xff, 0, 16);
        bytes[16] = bytes.length >>> 8;
        bytes[17] = bytes.length & 0xff;
        bytes[18] = type;
        bytes.set(body, 19);
        return { bytes, context };
      });
    fc.assert(
      fc.property(validHeader, ({ bytes, context }) => {
        assertClassified(decodeBgpMessage(bytes, context));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it(`captured messages with random damage (${FUZZ_RUNS} runs)`, () => {
    fc.assert(
      fc.property(mutatedFrom(goldens), codecContext, (bytes, context) => {
        assertClassified(decodeBgpMessage(bytes, context));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it(`captured messages with random damage and the header length repaired, to reach the body parsers (${FUZZ_RUNS} runs)`, () => {
    let kinds = new Set<string>();
    fc.assert(
      fc.property(mutatedFrom(goldens, repairBgp), codecContext, (bytes, context) => {
        const outcome = decodeBgpMessage(bytes, context);
        assertClassified(outcome);
        kinds = kinds.add(outcome.kind);
      }),
      { numRuns: FUZZ_RUNS },
    );
    assert.deepEqual(
      [...kinds].sort(),
      ['attribute-discard', 'ok', 'session-reset', 'treat-as-withdraw'],
      'the fuzz reaches every classification',
    );
  });
});
