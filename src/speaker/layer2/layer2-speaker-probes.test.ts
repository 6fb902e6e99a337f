// The layer-2 speaker with failure detection by probes (ADR 0019): the live set and the right to answer come from
// the probes (a scripted ProbeLiveness here; the real runner is tested in probe-runner.test.ts), owners from the
// preference order over the membership, and the Lease only fences.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ownersOf } from '../../core/election/rendezvous-owner.ts';
import { parseIp } from '../../core/ip/ip-address.ts';
import type { OwnedAddress } from './layer2-announcer.ts';
import { Layer2Speaker } from './layer2-speaker.ts';
import type { ProbeLiveness } from './probe-liveness.ts';
import { RecordingMetrics } from '../../test-support/layer2-doubles.ts';
import { flushMicrotasks, ManualClock } from '../../test-support/manual-clock.ts';
import { silentLogger } from '../../test-support/silent-logger.ts';
import { ADDRESSES, NODES, quietSurroundings, world } from '../../test-support/layer2-probe-world.ts';

/** What the probes say, set by the test. */
class ScriptedProbes implements ProbeLiveness {
  members: ReadonlySet<string> | undefined = new Set(NODES);
  down = new Set<string>();
  confirmed = true;
  cannotAnswer: boolean[] = [];
  left = false;
  live(now: number): Set<string> {
    const live = new Set([...(this.members ?? [])].filter((m) => !this.down.has(m)));
    if (!this.answering(now)) live.delete('node1');
    return live;
  }
  answering(_now?: number): boolean {
    return this.confirmed && this.cannotAnswer.at(-1) !== true;
  }
  setCannotAnswer(cannot: boolean): void {
    if (this.cannotAnswer.at(-1) !== cannot) this.cannotAnswer.push(cannot);
  }
  leave(): void {
    this.left = true;
  }
}

async function speakerWith(
  probes: ScriptedProbes,
  renew: () => Promise<string>,
): Promise<{ speaker: Layer2Speaker; clock: ManualClock; owned: () => ReadonlyMap<bigint, OwnedAddress> }> {
  const clock = new ManualClock();
  const surroundings = quietSurroundings();
  const speaker = new Layer2Speaker({
    node: 'node1',
    clock,
    log: silentLogger(),
    metrics: new RecordingMetrics(),
    inputs: world,
    peers: () => {
      throw new Error('peers() is not read with probes');
    },
    renew,
    ...surroundings.options,
    renewIntervalMs: 10_000,
    leaseDurationMs: 30_000,
    fenceMarginMs: 2000,
    handoverOverlapMs: 1000,
    probes,
  });
  speaker.start(Promise.resolve());
  await clock.settle(100);
  return { speaker, clock, owned: surroundings.owned };
}

const mine = (owners: Map<bigint, string | undefined>): bigint[] =>
  [...owners]
    .filter(([, o]) => o === 'node1')
    .map(([a]) => a)
    .sort();
const addressOf = (text: string): bigint => {
  const parsed = parseIp(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};
const addresses = () => ADDRESSES.map((text) => ({ address: addressOf(text), eligible: NODES }));

describe('Layer2Speaker with failure detection by probes', () => {
  it('with every member live it owns exactly the bounded-load placement over the membership', async () => {
    const probes = new ScriptedProbes();
    const { owned } = await speakerWith(probes, () => Promise.resolve('1'));
    const expected = mine(ownersOf({ addresses: addresses(), live: new Set(NODES) }));
    assert.deepEqual([...owned().keys()].sort(), expected);
    assert.ok(expected.length > 0);
  });

  it("when a peer goes down only that peer's addresses move; its own stay put (preference order, not a re-balance)", async () => {
    const probes = new ScriptedProbes();
    const { speaker, clock, owned } = await speakerWith(probes, () => Promise.resolve('1'));
    const before = new Set(owned().keys());
    const all = ownersOf({ addresses: addresses(), live: new Set(NODES) });
    probes.down.add('node3');
    speaker.urgent();
    await clock.settle(10);
    const after = new Set(owned().keys());
    for (const address of before) assert.ok(after.has(address), 'an address of node1 moved away');
    for (const address of after)
      if (!before.has(address)) assert.equal(all.get(address), 'node3', "only node3's addresses may arrive");
  });

  it('answers nothing while the probes do not confirm it, and again once they do', async () => {
    const probes = new ScriptedProbes();
    const { speaker, clock, owned } = await speakerWith(probes, () => Promise.resolve('1'));
    assert.ok(owned().size > 0);
    probes.confirmed = false;
    speaker.urgent();
    assert.equal(owned().size, 0);
    probes.confirmed = true;
    speaker.urgent();
    await clock.settle(10);
    assert.ok(owned().size > 0);
  });

  it('renewals (with the membership read) failing: fences at the last good one + lease window - margin and tells the probes', async () => {
    const probes = new ScriptedProbes();
    let fail = false;
    const { clock, owned } = await speakerWith(probes, () =>
      fail ? Promise.reject(new Error('API cut')) : Promise.resolve('1'),
    );
    assert.ok(owned().size > 0);
    fail = true;
    // The last good renewal was sent at 0: the fence is at 30 s - 2 s.
    await clock.settle(27_900 - clock.now());
    assert.ok(owned().size > 0, 'fenced early');
    await clock.settle(200);
    assert.equal(owned().size, 0, 'not fenced at 28 s');
    assert.equal(probes.cannotAnswer.at(-1), true, 'the probes were not told (peers would wait for the Lease)');
    fail = false;
    await clock.settle(10_000);
    await flushMicrotasks();
    assert.equal(probes.cannotAnswer.at(-1), false);
  });

  it('nothing before the first membership record', async () => {
    const probes = new ScriptedProbes();
    probes.members = undefined;
    const { owned } = await speakerWith(probes, () => Promise.resolve('1'));
    assert.equal(owned().size, 0);
  });

  it('on leave it tells the probes at once (peers take over) and keeps answering for the overlap', async () => {
    const probes = new ScriptedProbes();
    const { speaker, clock, owned } = await speakerWith(probes, () => Promise.resolve('1'));
    const count = owned().size;
    const leaving = speaker.leave();
    assert.equal(probes.left, true);
    await clock.settle(500);
    assert.equal(owned().size, count);
    await clock.settle(600);
    await leaving;
    assert.equal(owned().size, 0);
  });
});
