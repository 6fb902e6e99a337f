// parseGoDuration: Go's time.ParseDuration syntax, as MetalLB's durations are written.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoDuration } from './go-duration.ts';

describe('parseGoDuration', () => {
  it('reads what metav1.Duration writes and people type', () => {
    const cases: Array<[string, number]> = [
      ['90s', 90_000],
      ['1m30s', 90_000],
      ['1h0m0s', 3_600_000],
      ['250ms', 250],
      ['1.5s', 1500],
      ['0', 0],
      ['0s', 0],
      ['-3s', -3000],
      ['1500us', 1.5],
      ['2µs', 0.002],
    ];
    for (const [text, ms] of cases) assert.deepEqual(parseGoDuration(text), { ok: true, value: ms }, text);
    for (const text of ['', '90', 's', '1d', '1m 30s', '--1s']) assert.equal(parseGoDuration(text).ok, false, text);
  });
});
