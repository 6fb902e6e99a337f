import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nextWatchTimeoutSeconds, WatchFreshness, watchProofTime, watchTimeoutSeconds } from './watch-freshness.ts';

describe('WatchFreshness', () => {
  it('is stale until the first proof, and fresh for maxAgeMs after it', () => {
    const f = new WatchFreshness(3000);
    assert.equal(f.isStale(0), true);
    f.listed(100);
    assert.equal(f.isStale(100), false);
    assert.equal(f.isStale(3099), false);
    assert.equal(f.isStale(3100), true);
    assert.equal(f.staleAt(), 3100);
  });

  it('a watch ended on schedule proves the cache up to then; silence proves nothing', () => {
    const f = new WatchFreshness(3000);
    f.listed(0);
    f.watchEnded(2000);
    assert.equal(f.staleAt(), 5000);
    // A dead watch delivers nothing: no proof, so the cache goes stale at the bound.
    assert.equal(f.isStale(4999), false);
    assert.equal(f.isStale(5000), true);
  });

  it('once stale after being fresh, a list alone does not make it fresh again; a watch that ends does', () => {
    const f = new WatchFreshness(3000);
    f.listed(0);
    assert.equal(f.isStale(3000), true);
    f.listed(3500);
    assert.equal(f.isStale(3600), true, 'lists work but the watch is still dead');
    f.watchEnded(5000);
    assert.equal(f.isStale(5100), false);
    f.listed(9000);
    assert.equal(f.isStale(11_000), false, 'after a watch proved itself, lists count again');
  });

  it('never goes back: an older proof does not replace a newer one', () => {
    const f = new WatchFreshness(3000);
    f.watchEnded(2000);
    f.listed(1000);
    assert.equal(f.provenAt, 2000);
  });

  it('property: with a watch ending every timeout, it is never stale; without proofs it is stale exactly at the bound', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2000, max: 60_000 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 50 }),
        (maxAgeMs, latencies) => {
          const f = new WatchFreshness(maxAgeMs);
          const timeoutMs = watchTimeoutSeconds(maxAgeMs) * 1000;
          let now = 0;
          f.listed(now);
          for (const latency of latencies) {
            // A watch sent now, ended by the server after its timeout, the end arriving `latency` later.
            const sent = now;
            const slack = Math.min(latency, maxAgeMs - timeoutMs - 1);
            now = sent + timeoutMs + slack;
            assert.equal(f.isStale(now), false);
            f.watchEnded(watchProofTime(sent, now, timeoutMs));
          }
          assert.equal(f.isStale(f.provenAt + maxAgeMs - 1), false);
          assert.equal(f.isStale(f.provenAt + maxAgeMs), true);
        },
      ),
    );
  });
});

describe('watchProofTime', () => {
  it('a watch ended at its timeout proves sentAt + timeout; one ended early proves only sentAt', () => {
    assert.equal(watchProofTime(1000, 3200, 2000), 3000);
    assert.equal(watchProofTime(1000, 1500, 2000), 1000);
  });
});

describe('watchTimeoutSeconds', () => {
  it('asks the server to end a watch after three quarters of the bound, in whole seconds, at least 1', () => {
    assert.equal(watchTimeoutSeconds(10_000), 7);
    assert.equal(watchTimeoutSeconds(3000), 2);
    assert.equal(watchTimeoutSeconds(2000), 1);
    assert.equal(watchTimeoutSeconds(500), 1);
  });
});

describe('nextWatchTimeoutSeconds', () => {
  it('a watch started right after a proof runs the full length; one started later ends before the bound', () => {
    assert.equal(nextWatchTimeoutSeconds(10_000, 10_000, 50), 7);
    // Reconnected 6 s into the cycle: 4 s left, the watch ends after 3.
    assert.equal(nextWatchTimeoutSeconds(10_000, 10_000, 6000), 3);
    assert.equal(nextWatchTimeoutSeconds(10_000, 10_000, 9500), 1);
  });

  it('a stale cache gets 1 s watches', () => {
    assert.equal(nextWatchTimeoutSeconds(10_000, 10_000, 12_000), 1);
    assert.equal(nextWatchTimeoutSeconds(10_000, Number.NEGATIVE_INFINITY, 0), 1);
  });

  it('property: a watch sent before the bound with at least 1.4 s left ends (at its timeout) before the bound', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2000, max: 60_000 }), fc.integer({ min: 0, max: 60_000 }), (maxAgeMs, elapsed) => {
        const staleAt = maxAgeMs;
        const now = Math.min(elapsed, staleAt - 1400);
        fc.pre(now >= 0);
        assert.ok(now + nextWatchTimeoutSeconds(maxAgeMs, staleAt, now) * 1000 < staleAt);
      }),
    );
  });
});
