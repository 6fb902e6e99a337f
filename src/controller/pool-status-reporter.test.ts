// The status a pool should have: a draining pool's Draining condition says how many addresses are still in use and
// by which Services (naming ten at most), and says Drained when none is left.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { desiredPoolStatus } from './pool-status-reporter.ts';
import { ipPool } from '../test-support/fake-controller-ports.ts';

const NOW = new Date('2026-12-07T21:00:00Z');
const usage = (allocated4: number, allocated6 = 0) => ({
  4: { total: 8n, allocated: allocated4, available: 0n },
  6: { total: 0n, allocated: allocated6, available: 0n },
});
const draining = (status: ReturnType<typeof desiredPoolStatus>) =>
  status.conditions?.find((c) => c.type === 'Draining');

describe('desiredPoolStatus: Draining', () => {
  it('is False for a pool that hands out addresses', () => {
    const c = draining(desiredPoolStatus(ipPool('p', ['198.51.100.0/29']), usage(2), [], NOW));
    assert.deepEqual([c?.status, c?.reason], ['False', 'NotDraining']);
  });

  it('counts the addresses still in use and names their Services, ten at most', () => {
    const holders = Array.from({ length: 12 }, (_, i) => `apps/s${String(i).padStart(2, '0')}`);
    const status = desiredPoolStatus(ipPool('p', ['198.51.100.0/29'], { drain: true }), usage(12, 1), [], NOW, {
      count: 12,
      first: holders.slice(0, 10),
    });
    const c = draining(status);
    assert.deepEqual([c?.status, c?.reason], ['True', 'Draining']);
    assert.equal(
      c?.message,
      `hands out no new addresses; 13 addresses still in use by 12 Services: ${holders.slice(0, 10).join(', ')} and 2 more`,
    );
    assert.equal(status.allocated, 13);
  });

  it('says Drained when no address is in use', () => {
    const c = draining(
      desiredPoolStatus(ipPool('p', ['198.51.100.0/29'], { drain: true }), usage(0), [], NOW, { count: 0, first: [] }),
    );
    assert.deepEqual(
      [c?.status, c?.reason, c?.message],
      ['True', 'Drained', 'no address of the pool is in use: it can be deleted'],
    );
  });
});
