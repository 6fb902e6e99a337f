import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { matchesLabelSelector } from './label-selector.ts';

describe('matchesLabelSelector', () => {
  const labels = { app: 'web', tier: 'front' };
  const cases: Array<[string, Parameters<typeof matchesLabelSelector>[0], boolean]> = [
    ['empty matches all', {}, true],
    ['matchLabels hit', { matchLabels: { app: 'web' } }, true],
    ['matchLabels miss', { matchLabels: { app: 'db' } }, false],
    ['In', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] }, true],
    ['In missing key', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, false],
    ['NotIn', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['back'] }] }, true],
    ['NotIn missing key matches', { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, true],
    ['Exists', { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
    ['all must hold', { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] }, false],
  ];
  for (const [name, selector, expected] of cases) {
    it(name, () => {
      assert.equal(matchesLabelSelector(selector, labels), expected);
    });
  }
});
