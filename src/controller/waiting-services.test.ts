import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WaitingServices } from './waiting-services.ts';
import type { WaitFor } from '../core/ipam/allocation-table.ts';

const pool: WaitFor = { kind: 'pool', pool: 'a', family: 4 };
const address: WaitFor = { kind: 'address', address: 5n };

describe('WaitingServices', () => {
  it('wakes every waiter of an address, and one waiter of a pool per wake, in line order', () => {
    const waiting = new WaitingServices();
    waiting.set('x', [pool, address]);
    waiting.set('y', [pool]);
    waiting.set('z', [address]);
    assert.deepEqual(waiting.wake(address, 1), ['x', 'z']);
    assert.deepEqual(waiting.wake(pool, 2), ['x']);
    assert.deepEqual(waiting.wake(pool, 3), ['y'], 'x is already woken for the pool');
    assert.deepEqual(waiting.wake(pool, 4), [], 'nobody left in line');
    assert.equal(waiting.waitingForPool('a', 4), 2);
  });

  it('after a pass: hands on what a served waiter was woken for; a waiter that still waits goes to the end of the line', () => {
    const waiting = new WaitingServices();
    waiting.set('x', [pool]);
    waiting.set('y', [pool]);
    assert.deepEqual(waiting.wake(pool, 10), ['x']);
    assert.deepEqual(waiting.passDone('x', 5), [], 'a pass that started before the wake does not count');
    assert.deepEqual(waiting.passDone('x', 11), [], 'x still waits: nothing to hand on');
    assert.deepEqual(waiting.wake(pool, 12), ['y'], 'x went to the end of the line');
    waiting.delete('y');
    assert.deepEqual(
      waiting.passDone('y', 13),
      [pool],
      'y was served: the next waiter gets the address it did not take',
    );
    assert.deepEqual(waiting.wake(pool, 14), ['x']);
  });

  it("keeps a waiter's place in line when what it waits for stays, and forgets it when it is served", () => {
    const waiting = new WaitingServices();
    waiting.set('x', [pool]);
    waiting.set('y', [pool]);
    waiting.set('x', [pool, address]);
    assert.deepEqual(waiting.wake(pool, 1), ['x']);
    waiting.delete('x');
    waiting.delete('y');
    assert.deepEqual([waiting.size, waiting.has('x'), waiting.wake(address, 2)], [0, false, []]);
  });
});
