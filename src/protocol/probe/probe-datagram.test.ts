// The failure detector's datagram (ADR 0019): golden bytes of a ping, round trips of every kind at any byteOffset,
// authentication (a flipped byte anywhere, another key, a key id not held: refused; the previous key: accepted),
// and a fuzz run: no input makes the decoder throw.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import type { ProbeMessage } from '../../core/election/probe-messages.ts';
import { decodeProbeDatagram, encodeProbeDatagram, type ProbeDatagram, type ProbeKey } from './probe-datagram.ts';

function hmacKey(id: number, secret: string): ProbeKey {
  return { id, mac: (bytes) => new Uint8Array(createHmac('sha256', secret).update(bytes).digest()) };
}

const CURRENT = hmacKey(1, 'current-secret-32-bytes-long....');
const PREVIOUS = hmacKey(0, 'previous-secret-32-bytes-long...');
const OTHER = hmacKey(1, 'another-cluster-secret..........');

const PING: ProbeDatagram = {
  incarnation: 0x0102030405060708n,
  seq: 9,
  wallSecond: 1_800_000_000,
  from: 'n1',
  to: 'n2',
  message: { kind: 'ping', epoch: 'e7', seq: 42, for: 'n1', confirmed: 41, report: { generation: 3, heldMs: 12_345 } },
};

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('probe datagram', () => {
  it('golden bytes of a ping (header, names, body; the MAC is HMAC-SHA256 of the rest)', () => {
    const bytes = encodeProbeDatagram(PING, CURRENT);
    const body =
      '424c4250' +
      '02' +
      '00' +
      '01' +
      '0102030405060708' +
      '00000009' +
      '6b49d200' +
      '00000003' +
      '00003039' +
      '026537' +
      '026e31' +
      '026e32' +
      '0000002a' +
      '026e31' +
      '01' +
      '00000029';
    assert.equal(hex(bytes.subarray(0, bytes.length - 32)), body);
    assert.equal(
      hex(bytes.subarray(bytes.length - 32)),
      createHmac('sha256', 'current-secret-32-bytes-long....').update(Buffer.from(body, 'hex')).digest('hex'),
    );
  });

  it('a version 1 datagram (no record report) still decodes, without a report', () => {
    const v1 =
      '424c4250' + '01' + '00' + '01' + '0102030405060708' + '00000009' + '6b49d200' + '026537' + '026e31' + '026e32';
    const body = Buffer.from(v1 + '0000002a' + '026e31' + '01' + '00000029', 'hex');
    const tag = createHmac('sha256', 'current-secret-32-bytes-long....').update(body).digest();
    const decoded = decodeProbeDatagram(new Uint8Array(Buffer.concat([body, tag])), [CURRENT]);
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value.message, { kind: 'ping', epoch: 'e7', seq: 42, for: 'n1', confirmed: 41 });
  });

  it('golden bytes of a REJOINING claim (kind 7, no body; ADR 0036), and a version 1 one decodes too', () => {
    const rejoining: ProbeDatagram = {
      ...PING,
      message: { kind: 'rejoining', epoch: 'e7', report: PING.message.report! },
    };
    const header = '0102030405060708' + '00000009' + '6b49d200';
    const body = '424c4250' + '02' + '07' + '01' + header + '00000003' + '00003039' + '026537' + '026e31' + '026e32';
    const bytes = encodeProbeDatagram(rejoining, CURRENT);
    assert.equal(hex(bytes.subarray(0, bytes.length - 32)), body);
    const decoded = decodeProbeDatagram(bytes, [CURRENT]);
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value.message, rejoining.message);
    const v1 = Buffer.from('424c4250' + '01' + '07' + '01' + header + '026537' + '026e31' + '026e32', 'hex');
    const tag = createHmac('sha256', 'current-secret-32-bytes-long....').update(v1).digest();
    const old = decodeProbeDatagram(new Uint8Array(Buffer.concat([v1, tag])), [CURRENT]);
    assert.ok(old.ok);
    assert.deepEqual(old.value.message, { kind: 'rejoining', epoch: 'e7' });
  });

  const name = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,62}$/);
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const confirmed = fc.option(u32, { nil: null });
  const epoch = fc.string({ maxLength: 20 });
  const report = fc.record({ generation: fc.integer({ min: 1, max: 0xffffffff }), heldMs: u32 });
  const bare: fc.Arbitrary<ProbeMessage> = fc.oneof(
    fc.record({ kind: fc.constant('ping' as const), epoch, seq: u32, for: name, confirmed }),
    fc.record({ kind: fc.constant('ack' as const), epoch, seq: u32, ackSeq: u32 }),
    fc.record({ kind: fc.constant('ping-req' as const), epoch, target: name, seq: u32, confirmed }),
    fc.record({ kind: fc.constant('relay' as const), epoch, target: name, seq: u32, ackSeq: u32 }),
    fc.record({ kind: fc.constant('down' as const), epoch, target: name }),
    fc.record({ kind: fc.constant('fenced' as const), epoch }),
    fc.record({ kind: fc.constant('leaving' as const), epoch }),
    fc.record({ kind: fc.constant('rejoining' as const), epoch }),
  );
  const message: fc.Arbitrary<ProbeMessage> = fc
    .tuple(bare, fc.option(report, { nil: undefined }))
    .map(([m, r]) => (r ? { ...m, report: { ...r } } : m));
  const datagram: fc.Arbitrary<ProbeDatagram> = fc.record({
    incarnation: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    seq: u32,
    wallSecond: u32,
    from: name,
    to: name,
    message,
  });

  it('round-trips every kind, also from a view at an offset into a larger buffer', () => {
    fc.assert(
      fc.property(datagram, fc.nat({ max: 16 }), (d, offset) => {
        const bytes = encodeProbeDatagram(d, CURRENT);
        const buffer = new Uint8Array(offset + bytes.length + 7).fill(0xee);
        buffer.set(bytes, offset);
        const decoded = decodeProbeDatagram(buffer.subarray(offset, offset + bytes.length), [CURRENT, PREVIOUS]);
        assert.ok(decoded.ok, decoded.ok ? '' : decoded.error.message);
        assert.deepEqual(decoded.value, { ...d, message: { ...d.message } });
      }),
    );
  });

  it('refuses a datagram with any byte changed, signed with another key, or with a key id not held; accepts the previous key', () => {
    const bytes = encodeProbeDatagram(PING, CURRENT);
    for (let i = 0; i < bytes.length; i++) {
      const bad = bytes.slice();
      bad[i] = bad[i]! ^ 0x01;
      const decoded = decodeProbeDatagram(bad, [CURRENT, PREVIOUS]);
      assert.ok(!decoded.ok, `byte ${i} flipped was accepted`);
    }
    const foreign = decodeProbeDatagram(encodeProbeDatagram(PING, OTHER), [CURRENT, PREVIOUS]);
    assert.deepEqual(foreign.ok ? undefined : foreign.error, {
      reason: 'invalid',
      message: 'probe: authentication failed',
    });
    const old = decodeProbeDatagram(encodeProbeDatagram(PING, PREVIOUS), [CURRENT, PREVIOUS]);
    assert.ok(old.ok);
    const unknown = decodeProbeDatagram(encodeProbeDatagram(PING, PREVIOUS), [CURRENT]);
    assert.equal(unknown.ok ? undefined : unknown.error.reason, 'invalid');
  });

  it('never throws on random or mutated bytes (truncated, malformed, unsupported or invalid)', () => {
    const seeds = [encodeProbeDatagram(PING, CURRENT)];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(), fc.nat({ max: 80 }), (random, cut, at) => {
        for (const input of [
          random,
          seeds[0]!.subarray(0, cut % (seeds[0]!.length + 1)),
          Uint8Array.from([...seeds[0]!.subarray(0, at), ...random]),
        ]) {
          const decoded = decodeProbeDatagram(input, [CURRENT, PREVIOUS]);
          if (!decoded.ok)
            assert.ok(['truncated', 'malformed', 'unsupported', 'invalid'].includes(decoded.error.reason));
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('an encoder given fields out of range throws RangeError (a bug, not input)', () => {
    assert.throws(() => encodeProbeDatagram({ ...PING, seq: -1 }, CURRENT), RangeError);
    assert.throws(() => encodeProbeDatagram({ ...PING, from: 'x'.repeat(254) }, CURRENT), RangeError);
    assert.throws(() => encodeProbeDatagram({ ...PING, incarnation: 1n << 64n }, CURRENT), RangeError);
  });
});
