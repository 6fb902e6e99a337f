// The replay guard: duplicates and replays within an incarnation are refused, reordering within the window is
// accepted, a new incarnation starts over, and a DOWN vote outside the wall-clock window is refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ProbeDatagram } from './probe-datagram.ts';
import { ReplayGuard } from './replay-guard.ts';

const datagram = (seq: number, incarnation = 7n, kind: 'ack' | 'down' = 'ack', wallSecond = 1000): ProbeDatagram => ({
  incarnation,
  seq,
  wallSecond,
  from: 'n1',
  to: 'n2',
  message: kind === 'ack' ? { kind, epoch: 'e', seq: 1, ackSeq: 1 } : { kind, epoch: 'e', target: 'n3' },
});

describe('replay guard', () => {
  it('accepts increasing and reordered sequences once, refuses duplicates and ones behind the window', () => {
    const guard = new ReplayGuard({ window: 4 });
    assert.equal(guard.check(datagram(10), 1000), 'accept');
    assert.equal(guard.check(datagram(12), 1000), 'accept');
    assert.equal(guard.check(datagram(11), 1000), 'accept');
    assert.equal(guard.check(datagram(11), 1000), 'replayed');
    assert.equal(guard.check(datagram(12), 1000), 'replayed');
    assert.equal(guard.check(datagram(20), 1000), 'accept');
    assert.equal(guard.check(datagram(16), 1000), 'replayed');
    assert.equal(guard.check(datagram(17), 1000), 'accept');
  });

  it('starts over with a new incarnation of the sender', () => {
    const guard = new ReplayGuard();
    assert.equal(guard.check(datagram(100), 1000), 'accept');
    assert.equal(guard.check(datagram(1, 8n), 1000), 'accept');
    assert.equal(guard.check(datagram(1, 8n), 1000), 'replayed');
  });

  it('refuses a DOWN vote whose wall-clock second is outside the window, even as the first datagram', () => {
    const guard = new ReplayGuard({ maxSkewSeconds: 30 });
    assert.equal(guard.check(datagram(1, 7n, 'down', 900), 1000), 'stale-vote');
    assert.equal(guard.check(datagram(2, 7n, 'down', 975), 1000), 'accept');
    assert.equal(guard.check(datagram(3, 7n, 'ack', 1), 1000), 'accept');
  });
});
