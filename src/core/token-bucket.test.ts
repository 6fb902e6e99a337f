import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from './token-bucket.ts';

describe('TokenBucket', () => {
  it('allows a burst, then the rate', () => {
    const bucket = new TokenBucket(1000, 5, 0);
    const first = Array.from({ length: 10 }, () => bucket.take(0)).filter(Boolean).length;
    assert.equal(first, 5);
    assert.equal(bucket.take(0.5), false);
    assert.equal(bucket.take(1), true, 'one token per millisecond at 1000/s');
    const second = Array.from({ length: 100 }, (_, i) => bucket.take(1 + i * 0.1)).filter(Boolean).length;
    assert.ok(second >= 9 && second <= 11, `${second} in 10 ms`);
  });
});
