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

  it('yields to the event loop between passes: one turn runs at most `concurrency` passes that need no I/O', async () => {
    let passes = 0;
    const queue = new WorkQueue({ concurrency: 4, clock: systemClock, process: (): Promise<Outcome> => {
      passes++;
      return Promise.resolve('done');
    } });
    queue.start();
    for (let i = 0; i < 1000; i++) queue.add(`k${i}`);
    const perTurn: number[] = [];
    let seen = passes;
    for (let turn = 0; turn < 2000 && queue.depth > 0; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
      perTurn.push(passes - seen);
      seen = passes;
    }
    assert.equal(passes, 1000);
    assert.ok(Math.max(...perTurn) <= 4, `${Math.max(...perTurn)} passes in one turn`);
    await queue.stop(0);
  });

  it('a pass that has not started when the queue stops never starts', async () => {
    let passes = 0;
    const queue = new WorkQueue({ concurrency: 2, clock: systemClock, process: (): Promise<Outcome> => {
      passes++;
      return Promise.resolve('done');
    } });
    queue.start();
    queue.add('a');
    queue.add('b');
    await queue.stop(0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(passes, 0);
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
