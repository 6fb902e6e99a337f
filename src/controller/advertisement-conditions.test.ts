import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IPPool, L2Advertisement } from '../core/config/api-types.generated.ts';
import { advertisementStatus, statusSays } from './advertisement-conditions.ts';

const NOW = new Date('2026-12-07T12:00:00Z');
const pool = (name: string, labels: Record<string, string> = {}): IPPool => ({
  apiVersion: 'beaconlb.io/v1alpha1',
  kind: 'IPPool',
  metadata: { name, labels },
  spec: { addresses: ['198.51.100.64/27'] },
});
const adv = (spec: L2Advertisement['spec'], status?: L2Advertisement['status']): L2Advertisement => ({
  apiVersion: 'beaconlb.io/v1alpha1',
  kind: 'L2Advertisement',
  metadata: { name: 'l2', generation: 3 },
  spec,
  ...(status ? { status } : {}),
});
const POOLS = [pool('a', { tier: 'front' }), pool('b', { tier: 'front' }), pool('c')];
const summary = (s: ReturnType<typeof advertisementStatus>): string[] =>
  s.conditions.map((c) => `${c.type} ${c.status} ${c.reason}: ${c.message}`);

describe('advertisementStatus', () => {
  it('no pool choice: every IPPool', () => {
    const s = advertisementStatus('L2Advertisement', adv({}), POOLS, NOW);
    assert.equal(s.matchingPools, 3);
    assert.equal(s.observedGeneration, 3);
    assert.deepEqual(summary(s), [
      'Accepted True Accepted: in use: applies to every IPPool',
      'PoolsSelected True PoolsSelected: selects 3 IPPools: a, b, c',
    ]);
  });

  it('a selector counts the pools it matches', () => {
    const s = advertisementStatus(
      'BGPAdvertisement',
      adv({ ipPoolSelector: { matchLabels: { tier: 'front' } } }),
      POOLS,
      NOW,
    );
    assert.equal(s.matchingPools, 2);
  });

  it('a name that matches no IPPool is UnknownPool, the others still selected', () => {
    const s = advertisementStatus('L2Advertisement', adv({ ipPools: ['a', 'typo'] }), POOLS, NOW);
    assert.equal(s.matchingPools, 1);
    assert.deepEqual(
      summary(s)[1],
      'PoolsSelected False UnknownPool: ipPools names an IPPool that does not exist: typo; selects a',
    );
  });

  it('selecting nothing is NoMatchingPool', () => {
    const s = advertisementStatus(
      'L2Advertisement',
      adv({ ipPoolSelector: { matchLabels: { tier: 'none' } } }),
      POOLS,
      NOW,
    );
    assert.deepEqual(summary(s)[1], 'PoolsSelected False NoMatchingPool: selects no IPPool: announces nothing');
  });

  it('a malformed object (stored without the schema) is not Accepted', () => {
    const bad = { ...adv({}), spec: { ipPools: 'a' } };
    const s = advertisementStatus('L2Advertisement', bad, POOLS, NOW);
    assert.equal(s.matchingPools, 0);
    const [accepted] = s.conditions;
    assert.ok(accepted);
    assert.equal(accepted.status, 'False');
    assert.equal(accepted.reason, 'MalformedObject');
    assert.match(accepted.message, /spec\.ipPools/);
  });

  it("keeps the transition time while a status holds, and statusSays ignores it and other writers' conditions", () => {
    const first = advertisementStatus('L2Advertisement', adv({}), POOLS, NOW);
    const tooLarge = {
      type: 'UpdateTooLarge',
      status: 'True' as const,
      reason: 'UpdateTooLarge',
      message: 'x',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    };
    const stored = adv({}, { observedGeneration: 3, matchingPools: 3, conditions: [...first.conditions, tooLarge] });
    const later = advertisementStatus('L2Advertisement', stored, POOLS, new Date('2026-12-08T00:00:00Z'));
    assert.deepEqual(
      later.conditions.map((c) => c.lastTransitionTime),
      ['2026-12-07T12:00:00Z', '2026-12-07T12:00:00Z'],
    );
    assert.equal(statusSays(stored, later), true);
    assert.equal(statusSays(stored, advertisementStatus('L2Advertisement', stored, POOLS.slice(0, 2), NOW)), false);
    assert.equal(statusSays(adv({}), first), false);
  });
});
