import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { labelSelectorProblem, matchesLabelSelector } from './label-selector.ts';

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
    [
      'all must hold',
      { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] },
      false,
    ],
  ];
  // Possible only in objects stored without the current schema: they match nothing (they matched everything).
  const malformed: Array<[string, unknown]> = [
    ['an unknown operator', { matchExpressions: [{ key: 'app', operator: 'Matches', values: ['web'] }] }],
    ['a lower-case operator', { matchExpressions: [{ key: 'app', operator: 'in', values: ['web'] }] }],
    ['In without values', { matchExpressions: [{ key: 'app', operator: 'In' }] }],
    ['NotIn with a value that is no list', { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: 'a' }] }],
    ['Exists with values', { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['web'] }] }],
    ['matchLabels that is a list', { matchLabels: ['app'] }],
    ['matchLabels with a number', { matchLabels: { app: 7 } }],
    ['matchExpressions that is an object', { matchExpressions: { key: 'app', operator: 'Exists' } }],
    ['an expression without a key', { matchExpressions: [{ operator: 'DoesNotExist' }] }],
  ];
  for (const [name, selector] of malformed) {
    it(`matches nothing with ${name}`, () => {
      assert.equal(matchesLabelSelector(selector as Parameters<typeof matchesLabelSelector>[0], labels), false);
      assert.equal(matchesLabelSelector(selector as Parameters<typeof matchesLabelSelector>[0], {}), false);
    });
    it(`says why a selector with ${name} matches nothing`, () => {
      assert.match(labelSelectorProblem(selector) ?? '', /./);
    });
  }
  for (const [name, selector, expected] of cases) {
    it(name, () => {
      assert.equal(matchesLabelSelector(selector, labels), expected);
      assert.equal(labelSelectorProblem(selector), undefined);
    });
  }
});

describe('labelSelectorProblem', () => {
  it('names the requirement and the rule it breaks', () => {
    assert.equal(
      labelSelectorProblem({
        matchExpressions: [
          { key: 'app', operator: 'Exists' },
          { key: 'tier', operator: 'In', values: [] },
        ],
      }),
      'matchExpressions[1] (tier): In needs at least one value',
    );
    assert.equal(
      labelSelectorProblem({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist', values: ['x'] }] }),
      'matchExpressions[0] (app): DoesNotExist takes no values',
    );
    assert.equal(
      labelSelectorProblem({ matchExpressions: [{ key: 'app', operator: 'Like', values: ['x'] }] }),
      'matchExpressions[0] (app): operator "Like" is not In, NotIn, Exists or DoesNotExist',
    );
  });
});
