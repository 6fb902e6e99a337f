import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from './duration.ts';

describe('parseDuration', () => {
  for (const [text, ms] of [
    ['90s', 90_000],
    ['1m30s', 90_000],
    ['250ms', 250],
    ['1.5h', 5_400_000],
    ['0s', 0],
    ['2m0.5s', 120_500],
  ] as const) {
    it(`reads ${text}`, () => {
      assert.deepEqual(parseDuration(text), { ok: true, value: ms });
    });
  }
  for (const text of ['', '90', '-5s', 's', '1x', '1s ', ' 1s', '1s2', '1.s']) {
    it(`refuses "${text}"`, () => {
      const parsed = parseDuration(text);
      assert.equal(parsed.ok, false);
    });
  }
});
