// Inputs and checks for fuzzing decoders with fast-check: random bytes, and golden frames with random damage
// (bit flips, overwrites, truncation, extension, insertion, deletion). A decoder passes when it never throws and
// always returns a Result whose error, if any, has a known reason and a message.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Result } from '../../core/result.ts';
import type { DecodeError, DecodeErrorReason } from '../ethernet/decode-error.ts';
import { fromHex } from './hex-bytes.ts';
import * as linux from './linux-captures.ts';

/** Runs per fuzz property; the brief for these codecs asks for at least 20,000. */
export const FUZZ_RUNS = 20_000;

const REASONS: ReadonlySet<DecodeErrorReason> = new Set(['truncated', 'unsupported', 'malformed', 'invalid']);

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'extend'; bytes: Uint8Array }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number };

const anyMutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('extend' as const),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('delete' as const),
      at: fc.nat(),
      count: fc.integer({ min: 1, max: 16 }),
    }),
  },
);

function apply(bytes: Uint8Array, mutation: Mutation): Uint8Array {
  const length = bytes.length;
  switch (mutation.kind) {
    case 'flip': {
      if (length === 0) return bytes;
      const copy = bytes.slice();
      const at = mutation.at % length;
      copy[at] = (copy[at] ?? 0) ^ (1 << mutation.bit);
      return copy;
    }
    case 'set': {
      if (length === 0) return bytes;
      const copy = bytes.slice();
      copy[mutation.at % length] = mutation.value;
      return copy;
    }
    case 'truncate':
      return bytes.slice(0, mutation.at % (length + 1));
    case 'extend': {
      const longer = new Uint8Array(length + mutation.bytes.length);
      longer.set(bytes);
      longer.set(mutation.bytes, length);
      return longer;
    }
    case 'insert': {
      const at = mutation.at % (length + 1);
      const longer = new Uint8Array(length + mutation.bytes.length);
      longer.set(bytes.subarray(0, at));
      longer.set(mutation.bytes, at);
      longer.set(bytes.subarray(at), at + mutation.bytes.length);
      return longer;
    }
    case 'delete': {
      const at = mutation.at % (length + 1);
      const shorter = new Uint8Array(Math.max(0, length - Math.min(mutation.count, length - at)));
      shorter.set(bytes.subarray(0, at));
      shorter.set(bytes.subarray(at + mutation.count), at);
      return shorter;
    }
  }
}

/** Golden frames with one to eight random mutations, sometimes placed at a byteOffset inside a larger buffer. */
export function mutatedFrom(
  goldens: readonly Uint8Array[],
  repair: (bytes: Uint8Array) => Uint8Array = (b) => b,
): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.constantFrom(...goldens), fc.array(anyMutation, { minLength: 1, maxLength: 8 }), fc.nat({ max: 7 }))
    .map(([golden, mutations, offset]) => {
      const damaged = repair(mutations.reduce(apply, golden));
      if (offset === 0) return damaged;
      const buffer = new Uint8Array(damaged.length + offset);
      buffer.set(damaged, offset);
      return buffer.subarray(offset);
    });
}

/** Random bytes of any length up to 160 (beyond the longest frame these codecs take apart), at a random byteOffset. */
export const randomBytes: fc.Arbitrary<Uint8Array> = fc
  .tuple(fc.uint8Array({ maxLength: 160 }), fc.nat({ max: 7 }))
  .map(([bytes, offset]) => {
    const buffer = new Uint8Array(bytes.length + offset);
    buffer.set(bytes, offset);
    return buffer.subarray(offset);
  });

/** Asserts that a decoder's return value is a well-formed Result: a value, or an error with a known reason and text. */
export function assertDecodeResult<T>(result: Result<T, DecodeError>): void {
  assert.equal(typeof result, 'object');
  if (result.ok) {
    assert.notEqual(result.value, undefined);
    return;
  }
  assert.ok(REASONS.has(result.error.reason), `unknown reason ${result.error.reason}`);
  assert.equal(typeof result.error.message, 'string');
  assert.ok(result.error.message.length > 0, 'empty error message');
}

/** The value of a successful decode, failing the test with the decode error otherwise. */
export function decoded<T>(result: Result<T, DecodeError>): T {
  if (!result.ok) assert.fail(`${result.error.reason}: ${result.error.message}`);
  return result.value;
}

/** The error of a failed decode, failing the test when it succeeded. */
export function decodeErrorOf<T>(result: Result<T, DecodeError>): DecodeError {
  if (result.ok)
    assert.fail(
      `decoded, but an error was expected: ${JSON.stringify(result.value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`,
    );
  return result.error;
}

/**
 * The fuzz check of a codec for one input: decoding returns a well-formed Result and never throws, and what decodes
 * encodes back to bytes that decode to the same value.
 */
export function roundTripCheck<T>(
  decode: (bytes: Uint8Array) => Result<T, DecodeError>,
  encode: (value: T) => Uint8Array,
): (bytes: Uint8Array) => void {
  return (bytes) => {
    const result = decode(bytes);
    assertDecodeResult(result);
    if (result.ok) assert.deepEqual(decoded(decode(encode(result.value))), result.value);
  };
}

/**
 * The two fuzz tests of a decoder, `FUZZ_RUNS` runs each: `check` on random bytes, and on `goldens` (golden and
 * Linux-captured `what`, e.g. 'frames') with random damage. `name` leads the test names.
 */
export function fuzzDecoder(
  name: string,
  check: (bytes: Uint8Array) => void,
  goldens: readonly Uint8Array[],
  what: string,
): void {
  const lead = name === '' ? '' : `${name} `;
  void it(`${lead}never throws on random bytes (${FUZZ_RUNS} runs)`, () => {
    fc.assert(fc.property(randomBytes, check), { numRuns: FUZZ_RUNS });
  });
  void it(`${lead}never throws on damaged golden and Linux ${what} (${FUZZ_RUNS} runs)`, () => {
    fc.assert(fc.property(mutatedFrom(goldens), check), { numRuns: FUZZ_RUNS });
  });
}

/** The Linux-captured Ethernet frames of one EtherType (hex, e.g. '0806' ARP, '86dd' IPv6), as fuzz goldens. */
export function linuxFramesOfType(etherType: string): Uint8Array[] {
  return Object.values(linux)
    .flat()
    .filter((hex) => hex.slice(24, 28) === etherType)
    .map(fromHex);
}
