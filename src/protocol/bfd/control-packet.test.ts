import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as peers from '../testdata/bfd-captures.ts';
import { bfdControlPacket } from '../testdata/bfd-arbitraries.ts';
import { FUZZ_RUNS } from '../testdata/decoder-fuzzing.ts';
import { fromHex, toHex } from '../testdata/hex-bytes.ts';
import {
  BFD_DIAGNOSTIC,
  decodeBfdControlPacket,
  describeDiagnostic,
  encodeBfdControlPacket,
  type BfdControlPacket,
} from './control-packet.ts';

const UP: BfdControlPacket = {
  diagnostic: 0,
  state: 'Up',
  poll: false,
  final: false,
  controlPlaneIndependent: false,
  demand: false,
  detectMultiplier: 3,
  myDiscriminator: 0x01020304,
  yourDiscriminator: 0x0a0b0c0d,
  desiredMinTxInterval: 100_000,
  requiredMinRxInterval: 100_000,
  requiredMinEchoRxInterval: 0,
};

function decoded(hex: string): BfdControlPacket {
  const result = decodeBfdControlPacket(fromHex(hex));
  assert.ok(result.ok, result.ok ? '' : result.error.message);
  return result.value;
}

describe('BFD control packet (RFC 5880 section 4.1)', () => {
  it('RFC 5880 section 4.1: Vers|Diag, Sta|P|F|C|A|D|M, Detect Mult, Length, discriminators, three intervals in microseconds', () => {
    const bytes = fromHex('20 c0 03 18  01020304  0a0b0c0d  000186a0  000186a0  00000000');
    assert.deepEqual(decodeBfdControlPacket(bytes), { ok: true, value: UP });
    assert.equal(toHex(encodeBfdControlPacket(UP)), toHex(bytes));
  });

  it('RFC 5880 section 4.1: every flag bit and the diagnostic in its place', () => {
    const packet: BfdControlPacket = {
      ...UP,
      diagnostic: BFD_DIAGNOSTIC.neighborSignaledSessionDown,
      state: 'Init',
      poll: true,
      controlPlaneIndependent: true,
      demand: true,
    };
    // 001 00011 | 10 1 0 1 0 1 0
    assert.equal(toHex(encodeBfdControlPacket(packet)).slice(0, 4), '23aa');
    assert.equal(toHex(encodeBfdControlPacket({ ...UP, state: 'AdminDown', final: true })).slice(0, 4), '2010');
  });

  it('RFC 5880 section 4.2: the authentication section sets A, is counted in Length and kept raw', () => {
    const packet: BfdControlPacket = { ...UP, authentication: { type: 1, data: fromHex('01 73 33637233') } };
    const bytes = encodeBfdControlPacket(packet);
    assert.equal(toHex(bytes).slice(0, 8), '20c40320');
    assert.equal(toHex(bytes.subarray(24)), '0108017333637233');
    assert.deepEqual(decodeBfdControlPacket(bytes), { ok: true, value: packet });
  });

  it('captured: every packet BIRD 2.0.12 and FRR bfdd 8.4.4 sent decodes and re-encodes to the same bytes; TTL 255', () => {
    for (const captured of [...peers.bird, ...peers.frr]) {
      const packet = decoded(captured.hex);
      assert.equal(toHex(encodeBfdControlPacket(packet)), captured.hex);
      assert.equal(captured.ttl, 255, `${captured.source} sent TTL ${captured.ttl}`);
    }
  });

  it('captured: FRR answers Down with Init (three-way handshake), advertises 1 s before Up, then polls for 100 ms', () => {
    const frr = peers.frr
      .filter((p) => p.source === '198.51.100.2' && p.step.startsWith('sessions come up'))
      .map((p) => decoded(p.hex));
    assert.deepEqual(
      frr.map((p) => [p.state, p.poll, p.final, p.desiredMinTxInterval, p.requiredMinRxInterval]),
      [
        ['Init', false, false, 1_000_000, 1_000_000],
        ['Up', true, false, 100_000, 100_000],
        ['Up', false, true, 100_000, 100_000],
        ['Up', false, false, 100_000, 100_000],
      ],
    );
    assert.equal(frr[0]?.requiredMinEchoRxInterval, 50_000, 'FRR offers to take echo packets every 50 ms');
    for (const p of peers.frr) assert.ok(p.sourcePort >= 49152, 'FRR sends from 49152-65535 (RFC 5881 section 4)');
  });

  it('captured: BIRD disabled sends no AdminDown, so FRR detects the silence (Down, diag 1); FRR shut down sends AdminDown, diag 7', () => {
    const frrAfterBirdDisabled = peers.frr.filter((p) => p.step.startsWith('BIRD disables')).map((p) => decoded(p.hex));
    assert.ok(
      frrAfterBirdDisabled.some(
        (p) => p.state === 'Down' && p.diagnostic === BFD_DIAGNOSTIC.controlDetectionTimeExpired,
      ),
    );
    assert.ok(!peers.bird.some((p) => p.step.startsWith('BIRD disables')), 'BIRD said nothing when disabled');
    const frrShut = peers.frr.filter((p) => p.step.startsWith('FRR shuts')).map((p) => decoded(p.hex));
    assert.ok(frrShut.some((p) => p.state === 'AdminDown'));
    const birdAnswer = peers.bird.filter((p) => p.step.startsWith('FRR shuts')).map((p) => decoded(p.hex));
    assert.ok(
      birdAnswer.some((p) => p.state === 'Down' && p.diagnostic === BFD_DIAGNOSTIC.neighborSignaledSessionDown),
    );
    // BIRD's source ports come from the kernel's ephemeral range, outside what RFC 5881 section 4 asks for:
    // receivers must not insist on 49152-65535.
    assert.ok(peers.bird.some((p) => p.sourcePort < 49152));
  });

  it('RFC 5880 section 6.8.6: version, lengths, Detect Mult, M bit, My Discriminator 0, and P with F are refused', () => {
    const good = toHex(encodeBfdControlPacket(UP));
    const cases: Array<[string, string, string]> = [
      ['version 2', `40${good.slice(2)}`, 'unsupported'],
      ['Length 23', `${good.slice(0, 6)}17${good.slice(8)}`, 'malformed'],
      ['Length past the datagram', `${good.slice(0, 6)}19${good.slice(8)}`, 'truncated'],
      ['A bit with Length 24', `20c403${good.slice(6)}`, 'malformed'],
      ['Detect Mult 0', `20c000${good.slice(6)}`, 'invalid'],
      ['M bit', `20c1${good.slice(4)}`, 'invalid'],
      ['My Discriminator 0', `${good.slice(0, 8)}00000000${good.slice(16)}`, 'invalid'],
      ['P and F', `20f0${good.slice(4)}`, 'invalid'],
      ['23 bytes', good.slice(0, 46), 'truncated'],
    ];
    for (const [name, hex, reason] of cases) {
      const result = decodeBfdControlPacket(fromHex(hex));
      assert.equal(result.ok ? 'ok' : result.error.reason, reason, name);
      if (!result.ok) assert.match(result.error.message, /^BFD: /, name);
    }
  });

  it('bytes after Length are ignored; a view into a larger buffer is read at its byteOffset', () => {
    const bytes = encodeBfdControlPacket(UP);
    const padded = new Uint8Array(40);
    padded.set(bytes, 0);
    assert.deepEqual(decodeBfdControlPacket(padded), { ok: true, value: UP });
    const buffer = new Uint8Array(60).fill(0xee);
    buffer.set(bytes, 7);
    assert.deepEqual(decodeBfdControlPacket(buffer.subarray(7, 31)), { ok: true, value: UP });
  });

  it('diagnostics in words', () => {
    assert.equal(describeDiagnostic(1), 'Control Detection Time Expired');
    assert.equal(describeDiagnostic(7), 'Administratively Down');
    assert.equal(describeDiagnostic(12), 'reserved (12)');
  });

  it('encoding a field out of range is a bug (RangeError)', () => {
    assert.throws(() => encodeBfdControlPacket({ ...UP, detectMultiplier: 256 }), RangeError);
    assert.throws(() => encodeBfdControlPacket({ ...UP, myDiscriminator: -1 }), RangeError);
    assert.throws(() => encodeBfdControlPacket({ ...UP, diagnostic: 32 }), RangeError);
  });

  it('property: every packet survives encode then decode', () => {
    fc.assert(
      fc.property(bfdControlPacket, (packet) => {
        assert.deepEqual(decodeBfdControlPacket(encodeBfdControlPacket(packet)), { ok: true, value: packet });
      }),
    );
  });

  it(`fuzz: random bytes and damaged captures never throw, and what decodes re-encodes to a packet that decodes the same (${FUZZ_RUNS} runs)`, () => {
    const seeds = [...peers.bird, ...peers.frr].map((p) => fromHex(p.hex));
    const damaged = fc
      .tuple(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(40), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(40),
      )
      .map(([seed, writes, cut]) => {
        const bytes = new Uint8Array(Math.max(seed.length, 26));
        bytes.set(seed);
        for (const [at, value] of writes) if (at < bytes.length) bytes[at] = value;
        return bytes.subarray(0, Math.min(bytes.length, cut + 10));
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), damaged), (bytes) => {
        const result = decodeBfdControlPacket(bytes);
        if (result.ok) assert.deepEqual(decodeBfdControlPacket(encodeBfdControlPacket(result.value)), result);
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});
