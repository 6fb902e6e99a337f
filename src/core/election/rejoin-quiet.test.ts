// The speaker's own quiet period (ADR 0036): marked while quiet, settled only after the cleared mark came back
// through the watch and one more renew interval, off when the period is 0.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RejoinQuiet } from './rejoin-quiet.ts';

describe('rejoin quiet period', () => {
  it('is off with a period of 0: never marked, always settled', () => {
    const q = new RejoinQuiet(0, 1000);
    assert.equal(q.rejoin(0, true), false);
    assert.equal(q.mark(0), false);
    assert.equal(q.settled(0), true);
    assert.equal(q.nextChange(0), undefined);
  });

  it('a rejoin while others serve marks the Lease for the period, then settles after the echo and one renew interval', () => {
    const q = new RejoinQuiet(10_000, 1000);
    assert.equal(q.rejoin(100, true), true);
    assert.equal(q.settled(100), false);
    assert.equal(q.mark(5000), true);
    assert.equal(q.nextChange(5000), 10_100);
    // A marked version echoing changes nothing.
    q.echoed(true, 5000, 5100);
    assert.equal(q.phase(10_099), 'quiet');
    assert.equal(q.mark(10_100), false);
    assert.equal(q.phase(10_100), 'clearing');
    // An unmarked version sent before the period ended (a late echo of an old write) does not settle it.
    q.echoed(false, 50, 10_200);
    assert.equal(q.settled(20_000), false);
    assert.equal(q.nextChange(20_000), undefined);
    // The cleared write, sent at 10 150, back at 10 300: settled at 11 300.
    q.echoed(false, 10_150, 10_300);
    assert.equal(q.nextChange(10_300), 11_300);
    assert.equal(q.settled(11_299), false);
    assert.equal(q.settled(11_300), true);
    assert.equal(q.mark(11_300), false);
  });

  it('a rejoin with nobody else serving is no quiet period; one during a quiet period ends it at once', () => {
    const q = new RejoinQuiet(10_000, 1000);
    assert.equal(q.rejoin(0, false), false);
    assert.equal(q.settled(0), true);
    q.rejoin(1000, true);
    assert.equal(q.rejoin(2000, false), false);
    assert.equal(q.phase(2000), 'clearing');
    // Still not settled until the cleared mark came back: peers may count it rejoining until then.
    assert.equal(q.settled(2000), false);
    q.echoed(false, 2000, 2100);
    assert.equal(q.settled(3100), true);
  });

  it('a second failure during the quiet period starts it over', () => {
    const q = new RejoinQuiet(10_000, 1000);
    q.rejoin(0, true);
    q.rejoin(8000, true);
    assert.equal(q.mark(12_000), true);
    assert.equal(q.nextChange(12_000), 18_000);
    q.echoed(false, 18_000, 18_050);
    assert.equal(q.settled(19_050), true);
  });
});
