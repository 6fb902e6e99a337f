// The probe detector of ADR 0019 across process restarts, on the simulated network (src/test-support/probe-network.ts),
// P1 checked after every step: what a restarted process cannot know about its previous incarnation.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedNetwork } from '../../test-support/probe-network.ts';

describe('probe detector: restarts (ADR 0019, "Restarted monitors")', () => {
  it('a monitor restarted right after it voted confirms nothing while its predecessor’s vote may still be held', () => {
    // Breaks if a new process confirms its targets at once: node-1's monitor A hears nothing (inbound lost), votes
    // node-1 down and is restarted with its inbound back; a second monitor B then loses its inbound and votes too.
    // Receivers hold A's last vote (V after receipt) and B's: a down quorum, while node-1 counted A's new process and
    // C as a fence quorum and answered (before: from 7420 ms, about a second).
    const net = new SimulatedNetwork(5, 7);
    net.run(6000);
    const x = 'node-1';
    const [a, b] = net.nodes.get(x)!.monitorsOf(x);
    net.isolate(a!, true, false);
    net.run(800);
    assert.ok(net.sentBy(a!, 'down') > 0, 'A voted');
    assert.ok(net.answering(x), 'node-1 still answers (B and C confirm it)');
    net.kill(a!);
    net.start(a!);
    net.heal();
    net.run(200);
    net.isolate(b!, true, false);
    const down = net.runUntil(() => net.seeingDown(x).length > 0, 2000);
    assert.ok(down !== undefined, 'node-1 is down for the others (A’s old vote and B’s)');
    net.run(3000);
    assert.equal(net.violation, undefined);
  });
});
