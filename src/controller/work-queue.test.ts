import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkQueue, type Outcome } from './work-queue.ts';
import { systemClock } from '../platform/clock.ts';

describe('WorkQueue', () => {
  it('processes a key at most once at a time and again if re-added meanwhile', async () => {
    const seen: string[] = [];
    let active = 0;
    let maxActive = 0;
    const queue = new WorkQueue({
      concurrency: 4,
      clock: systemClock,
      process: async (key): Promise<Outcome> => {
        active++;
        maxActive = Math.max(maxActive, active);
        seen.push(key);
        await sleep(20);
        active--;
        return 'done';
      },
    });
    queue.start();
    queue.add('a');
    queue.add('a');
    await sleep(5);
    queue.add('a');
    for (const k of ['b', 'c', 'd', 'e', 'f']) queue.add(k);
    await sleep(120);
    assert.deepEqual(seen.filter((k) => k === 'a').length, 2, 'a ran twice: once, then once more after the re-add');
    assert.ok(maxActive <= 4);
    assert.equal(queue.depth, 0);
  });

  it('retries failures with backoff and stops within the grace period', async () => {
    let attempts = 0;
    const queue = new WorkQueue({
      concurrency: 1,
      clock: systemClock,
      baseBackoffMs: 10,
      process: (): Promise<Outcome> => {
        attempts++;
        return Promise.resolve(attempts < 3 ? { retry: 'conflict' } : 'done');
      },
    });
    queue.start();
    queue.add('x');
    await sleep(100);
    assert.equal(attempts, 3);
    const slow = new WorkQueue({ concurrency: 1, clock: systemClock, process: () => new Promise<Outcome>(() => undefined) });
    slow.start();
    slow.add('stuck');
    const t = performance.now();
    await slow.stop(50);
    assert.ok(performance.now() - t < 200);
  });
});
