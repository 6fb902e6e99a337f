import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Lifecycle, type Runnable } from './lifecycle.ts';
import { silentLogger } from '../test-support/silent-logger.ts';

/** A part that records its start and stop in `events`; `fail` makes one of them throw. */
function part(name: string, events: string[], fail?: 'start' | 'stop'): Runnable {
  return {
    name,
    start: async () => {
      await Promise.resolve();
      if (fail === 'start') throw new Error(`${name} cannot start`);
      events.push(`start ${name}`);
    },
    stop: () => {
      if (fail === 'stop') throw new Error(`${name} cannot stop`);
      events.push(`stop ${name}`);
    },
  };
}

describe('Lifecycle', () => {
  it('starts in the order declared, each awaited, and stops in the reverse order', async () => {
    const events: string[] = [];
    const lifecycle = new Lifecycle(silentLogger()).add(
      part('client', events),
      part('informers', events),
      part('reconciler', events),
    );
    await lifecycle.start();
    await lifecycle.stop();
    assert.deepEqual(events, [
      'start client',
      'start informers',
      'start reconciler',
      'stop reconciler',
      'stop informers',
      'stop client',
    ]);
  });

  it('a part that fails to start stops what started, in reverse, and the error goes on', async () => {
    const events: string[] = [];
    const lifecycle = new Lifecycle(silentLogger()).add(
      part('a', events),
      part('b', events),
      part('c', events, 'start'),
      part('d', events),
    );
    await assert.rejects(lifecycle.start(), /c cannot start/);
    assert.deepEqual(events, ['start a', 'start b', 'stop b', 'stop a']);
  });

  it('a part that fails to stop does not keep the others running; stop never throws', async () => {
    const events: string[] = [];
    const lifecycle = new Lifecycle(silentLogger()).add(
      part('a', events),
      part('b', events, 'stop'),
      part('c', events),
    );
    await lifecycle.start();
    await lifecycle.stop();
    assert.deepEqual(events, ['start a', 'start b', 'start c', 'stop c', 'stop a']);
  });

  it('parts started by the caller stop with the rest, the latest first; a second stop stops nothing again', async () => {
    const events: string[] = [];
    const lifecycle = new Lifecycle(silentLogger()).add(part('declared', events));
    await lifecycle.start();
    lifecycle.started({ name: 'later', stop: () => void events.push('stop later') });
    const first = lifecycle.stop();
    const second = lifecycle.stop();
    await Promise.all([first, second]);
    await lifecycle.stop();
    assert.deepEqual(events, ['start declared', 'stop later', 'stop declared']);
  });
});
