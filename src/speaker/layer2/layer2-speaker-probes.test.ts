// The layer-2 speaker with failure detection by probes (ADR 0019): the live set and the right to answer come from
// the probes (a scripted ProbeLiveness here; the real runner is tested in probe-runner.test.ts), owners from the
// preference order over the membership, and the Lease only fences.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ownersOf } from '../../core/election/rendezvous-owner.ts';
import { stickyOwnersByPreference } from '../../core/election/sticky-owner.ts';
import { parseIp } from '../../core/ip/ip-address.ts';
import type { OwnedAddress } from './layer2-announcer.ts';
import { Layer2Speaker } from './layer2-speaker.ts';
import type { ProbeLiveness } from './probe-liveness.ts';
import type { Layer2SpeakerOptions, PeerLeaseView } from './layer2-speaker-options.ts';
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
  /** Members in their quiet period (ADR 0036), as the detector reports them. */
  rejoiningMembers = new Set<string>();
  rejoins = 0;
  live(now: number): Set<string> {
    const live = new Set([...(this.members ?? [])].filter((m) => !this.down.has(m)));
    if (!this.answering(now)) live.delete('node1');
    return live;
  }
  answering(_now?: number): boolean {
    return this.confirmed && this.cannotAnswer.at(-1) !== true;
  }
  rejoining(): Set<string> {
    return new Set(this.rejoiningMembers);
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
  extra: Partial<Layer2SpeakerOptions> = {},
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
    ...extra,
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

  it('owners by the sticky rule (ADR 0036): a member the detector counts rejoining serves only what no settled member can', async () => {
    const probes = new ScriptedProbes();
    const { speaker, clock, owned } = await speakerWith(probes, () => Promise.resolve('1'));
    const settledShare = new Set(owned().keys());
    assert.ok(settledShare.size > 0);
    for (const rejoining of [['node2'], ['node1'], ['node1', 'node2', 'node3']]) {
      probes.rejoiningMembers = new Set(rejoining);
      speaker.urgent();
      await clock.settle(10);
      const expected = mine(
        stickyOwnersByPreference({
          addresses: addresses(),
          members: new Set(NODES),
          live: new Set(NODES),
          rejoining: new Set(rejoining),
        }),
      );
      assert.deepEqual([...owned().keys()].sort(), expected, `rejoining: ${rejoining.join(', ')}`);
    }
    // Itself rejoining while both peers are settled: nothing; everyone rejoining: the normal share (the fallback).
    probes.rejoiningMembers = new Set(['node1']);
    speaker.urgent();
    await clock.settle(10);
    assert.equal(owned().size, 0);
    probes.rejoiningMembers = new Set(NODES);
    speaker.urgent();
    await clock.settle(10);
    assert.deepEqual(new Set(owned().keys()), settledShare);
  });

  it('with a quiet period, a restart that finds its own Lease while a peer serves tells the detector before its first renewal; a fresh start does not', async () => {
    for (const ownLease of [true, false]) {
      const probes = new ScriptedProbes();
      const events: string[] = [];
      const peers = (): PeerLeaseView[] =>
        NODES.filter((n) => ownLease || n !== 'node1').map((node) => ({ node, version: '1', leaving: false }));
      await speakerWith(
        probes,
        () => {
          events.push('renew');
          return Promise.resolve('2');
        },
        { peers, rejoinQuietMs: 20_000, onRejoinAtStart: () => events.push('rejoin') },
      );
      assert.deepEqual(events.slice(0, 2), ownLease ? ['rejoin', 'renew'] : ['renew'], `own Lease there: ${ownLease}`);
    }
  });
});
