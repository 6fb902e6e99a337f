import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue, type Outcome } from './work-queue.ts';
import { ManualClock } from '../test-support/manual-clock.ts';

/** A queue on a manual clock whose passes need no I/O and are counted. */
function countingQueue(concurrency: number): { queue: WorkQueue; passes: () => number } {
  let passes = 0;
  const queue = new WorkQueue({
    concurrency,
    clock: new ManualClock(),
    process: (): Promise<Outcome> => {
      passes++;
      return Promise.resolve('done');
    },
  });
  return { queue, passes: () => passes };
}

describe('WorkQueue', () => {
  it('processes a key at most once at a time and again if re-added meanwhile', async () => {
    const clock = new ManualClock();
    const seen: string[] = [];
    let active = 0;
    let maxActive = 0;
    const queue = new WorkQueue({
      concurrency: 4,
      clock,
      process: async (key): Promise<Outcome> => {
        active++;
        maxActive = Math.max(maxActive, active);
        seen.push(key);
        await new Promise((resolve) =>
          clock.after(20, () => {
            resolve(undefined);
          }),
        );
        active--;
        return 'done';
      },
    });
    queue.start();
    queue.add('a');
    queue.add('a');
    await clock.settle(5);
    queue.add('a');
    for (const k of ['b', 'c', 'd', 'e', 'f']) queue.add(k);
    await clock.settle(120);
    assert.deepEqual(seen.filter((k) => k === 'a').length, 2, 'a ran twice: once, then once more after the re-add');
    assert.ok(maxActive <= 4);
    assert.equal(queue.depth, 0);
  });

  it('yields to the event loop between passes: one turn runs at most `concurrency` passes that need no I/O', async () => {
    const { queue, passes } = countingQueue(4);
    queue.start();
    for (let i = 0; i < 1000; i++) queue.add(`k${i}`);
    const perTurn: number[] = [];
    let seen = passes();
    for (let turn = 0; turn < 2000 && queue.depth > 0; turn++) {
      await new Promise((resolve) => setImmediate(resolve));
      perTurn.push(passes() - seen);
      seen = passes();
    }
    assert.equal(passes(), 1000);
    assert.ok(Math.max(...perTurn) <= 4, `${Math.max(...perTurn)} passes in one turn`);
    await queue.stop(0);
  });

  it('a pass that has not started when the queue stops never starts', async () => {
    const { queue, passes } = countingQueue(2);
    queue.start();
    queue.add('a');
    queue.add('b');
    await queue.stop(0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(passes(), 0);
  });

  it('retries failures with backoff and stops within the grace period', async () => {
    const clock = new ManualClock();
    let attempts = 0;
    const queue = new WorkQueue({
      concurrency: 1,
      clock,
      baseBackoffMs: 10,
      process: (): Promise<Outcome> => {
        attempts++;
        return Promise.resolve(attempts < 3 ? { retry: 'conflict' } : 'done');
      },
    });
    queue.start();
    queue.add('x');
    await clock.settle(9);
    assert.equal(attempts, 1, 'the first retry waits the base backoff, 10 ms');
    await clock.settle(1);
    assert.equal(attempts, 2);
    await clock.settle(19);
    assert.equal(attempts, 2, 'the second waits twice as long');
    await clock.settle(1);
    assert.equal(attempts, 3);
    await clock.settle(1000);
    assert.equal(attempts, 3, 'done: no more retries');
    const slow = new WorkQueue({ concurrency: 1, clock, process: () => new Promise<Outcome>(() => undefined) });
    slow.start();
    slow.add('stuck');
    await clock.settle(0);
    let stopped = false;
    void slow.stop(50).then(() => {
      stopped = true;
    });
    await clock.settle(49);
    assert.equal(stopped, false, 'the pass in flight gets the grace period');
    await clock.settle(1);
    assert.equal(stopped, true, 'and no more');
  });
});
