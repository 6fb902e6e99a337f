// unionOfSelectors: one label selector matching what any of several matches, when there is one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { unionOfSelectors } from './selector-union.ts';
import type { LabelSelector } from '../api-types.generated.ts';
import { matchesLabelSelector } from '../label-selector.ts';

describe('unionOfSelectors', () => {
  it('merges, drops implied selectors, and gives up when no single selector is exact', () => {
    assert.deepEqual(unionOfSelectors([{ matchLabels: { a: '1' } }, {}]), {});
    assert.deepEqual(unionOfSelectors([{ matchLabels: { a: '1' } }, { matchLabels: { a: '1', b: '2' } }]), {
      matchLabels: { a: '1' },
    });
    assert.deepEqual(
      unionOfSelectors([{ matchLabels: { env: 'prod', team: 'a' } }, { matchLabels: { env: 'prod', team: 'b' } }]),
      {
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['prod'] },
          { key: 'team', operator: 'In', values: ['a', 'b'] },
        ],
      },
    );
    assert.equal(unionOfSelectors([{ matchLabels: { a: '1' } }, { matchLabels: { b: '1' } }]), undefined);
    assert.equal(
      unionOfSelectors([
        { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] },
        { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['2'] }] },
      ]),
      undefined,
    );
    assert.equal(unionOfSelectors([]), undefined);
  });

  it('matches exactly what one of the selectors matches, whenever it gives an answer (property)', () => {
    const keys = ['a', 'b', 'c'];
    const values = ['1', '2', '3'];
    const requirement = fc.oneof(
      fc.record({
        key: fc.constantFrom(...keys),
        operator: fc.constantFrom('In' as const, 'NotIn' as const),
        values: fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: 2 }),
      }),
      fc.record({
        key: fc.constantFrom(...keys),
        operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const),
      }),
    );
    const selector: fc.Arbitrary<LabelSelector> = fc.record(
      {
        matchLabels: fc.dictionary(fc.constantFrom(...keys), fc.constantFrom(...values), { maxKeys: 2 }),
        matchExpressions: fc.array(requirement, { maxLength: 2 }),
      },
      { requiredKeys: [] },
    );
    const labels = fc.dictionary(fc.constantFrom(...keys), fc.constantFrom(...values), { maxKeys: 3 });
    let answered = 0;
    fc.assert(
      fc.property(
        fc.array(selector, { minLength: 1, maxLength: 4 }),
        fc.array(labels, { minLength: 20, maxLength: 20 }),
        (selectors, labelSets) => {
          const union = unionOfSelectors(selectors);
          if (union === undefined) return;
          answered++;
          for (const set of labelSets) {
            assert.equal(
              matchesLabelSelector(union, set),
              selectors.some((s) => matchesLabelSelector(s, set)),
              JSON.stringify({ selectors, union, set }),
            );
          }
        },
      ),
      { numRuns: 2000 },
    );
    assert.ok(answered > 200, `only ${answered} runs had a union`);
  });
});
