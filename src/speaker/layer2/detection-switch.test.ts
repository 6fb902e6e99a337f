// The default failure detection (ADR 0019, "Start-up and fallback"): a layer-2 speaker wired as the speaker command
// wires it serves by its peers' Leases (ADR 0007's timings) until a renewal reads a membership record, then falls
// silent for the fallback's fence window and serves by probes from then on, never going back.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ownersOf } from '../../core/election/rendezvous-owner.ts';
import { parseIp } from '../../core/ip/ip-address.ts';
import { DetectionSwitch, LEASE_FALLBACK_TIMINGS } from './detection-switch.ts';
import type { OwnedAddress } from './layer2-announcer.ts';
import { Layer2Speaker } from './layer2-speaker.ts';
import type { PeerLeaseView } from './layer2-speaker-options.ts';
import type { ProbeLiveness } from './probe-liveness.ts';
import { RecordingMetrics } from '../../test-support/layer2-doubles.ts';
import { ManualClock } from '../../test-support/manual-clock.ts';
import { silentLogger } from '../../test-support/silent-logger.ts';
import { ADDRESSES, NODES, quietSurroundings, world } from '../../test-support/layer2-probe-world.ts';

const WITH_PROBES = { renewIntervalMs: 10_000, leaseDurationMs: 30_000, fenceMarginMs: 2000 };

/** The probe runner as the switch sees it: every member of the record live and this node confirmed. */
class AllLiveProbes implements ProbeLiveness {
  members: ReadonlySet<string> | undefined;
  live(): Set<string> {
    return new Set(this.members ?? []);
  }
  answering(): boolean {
    return this.members !== undefined;
  }
  rejoining(): Set<string> {
    return new Set();
  }
  setCannotAnswer(): void {}
  leave(): void {}
}

/** The API as the speaker reads it: Lease versions (node3's stops changing when `node3Dead`) and the record. */
class Api {
  renewals: number[] = [];
  record = false;
  node3Dead = false;
  #n = 0;
  #node3 = 0;
  peers(): PeerLeaseView[] {
    return NODES.map((node) => ({
      node,
      version: `${node}-${node === 'node3' ? this.#node3 : this.#n}`,
      leaving: false,
    }));
  }
  renew(now: number): string {
    this.renewals.push(now);
    this.#n++;
    if (!this.node3Dead) this.#node3 = this.#n;
    return `node1-${this.#n}`;
  }
}

function speakerWithSwitch(api: Api): {
  clock: ManualClock;
  detection: DetectionSwitch;
  owned: () => ReadonlyMap<bigint, OwnedAddress>;
} {
  const clock = new ManualClock();
  const probes = new AllLiveProbes();
  const surroundings = quietSurroundings();
  const detection: DetectionSwitch = new DetectionSwitch({
    node: 'node1',
    clock,
    probes,
    fallback: LEASE_FALLBACK_TIMINGS,
    withProbes: WITH_PROBES,
    wake: () => {
      speaker.urgent();
    },
  });
  const speaker: Layer2Speaker = new Layer2Speaker({
    node: 'node1',
    clock,
    log: silentLogger(),
    metrics: new RecordingMetrics(),
    inputs: world,
    peers: () => api.peers(),
    renew: (leaving) => {
      const version = api.renew(clock.now());
      // The speaker command reads the record in every renewal; the switch is told when one exists.
      if (!leaving && api.record) {
        probes.members = new Set(NODES);
        detection.recordSeen(clock.now());
      }
      return Promise.resolve(version);
    },
    ...surroundings.options,
    get renewIntervalMs() {
      return detection.timings.renewIntervalMs;
    },
    get leaseDurationMs() {
      return detection.timings.leaseDurationMs;
    },
    get fenceMarginMs() {
      return detection.timings.fenceMarginMs;
    },
    handoverOverlapMs: 1000,
    get probes() {
      return detection.liveness;
    },
  });
  speaker.start(Promise.resolve());
  return { clock, detection, owned: surroundings.owned };
}

const addressOf = (text: string): bigint => {
  const parsed = parseIp(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};
const mineWith = (live: readonly string[]): bigint[] =>
  [...ownersOf({ addresses: ADDRESSES.map((t) => ({ address: addressOf(t), eligible: NODES })), live: new Set(live) })]
    .filter(([, o]) => o === 'node1')
    .map(([a]) => a)
    .sort();
const ownedNow = (owned: () => ReadonlyMap<bigint, OwnedAddress>): bigint[] => [...owned().keys()].sort();

describe('DetectionSwitch: Lease liveness until the first membership record, probes after it', () => {
  it("before any record: serves by the peers' Leases at ADR 0007's timings (renewal every second, 3 s expiry)", async () => {
    const api = new Api();
    const { clock, detection, owned } = speakerWithSwitch(api);
    await clock.settle(5000);
    assert.equal(detection.active, false);
    assert.deepEqual(ownedNow(owned), mineWith(NODES));
    assert.ok(api.renewals.length >= 5, `${api.renewals.length} renewals in 5 s`);
    api.node3Dead = true;
    await clock.settle(4000);
    assert.deepEqual(ownedNow(owned), mineWith(['node1', 'node2', 'node4']), "node3's Lease expired: its share moved");
  });

  it('a record read in a renewal: silent at once, for the fallback fence window, then serving by probes; renewals every 10 s', async () => {
    const api = new Api();
    const { clock, detection, owned } = speakerWithSwitch(api);
    await clock.settle(5000);
    assert.ok(owned().size > 0);
    api.record = true;
    await clock.settle(1000);
    assert.equal(detection.active, true);
    const switchedAt = api.renewals.at(-1)!;
    assert.equal(owned().size, 0, 'still answering by Leases after reading a record');
    await clock.settle(switchedAt + detection.quietMs - 50 - clock.now());
    assert.equal(owned().size, 0, 'answering by probes within the quiet time');
    await clock.settle(100);
    assert.deepEqual(ownedNow(owned), mineWith(NODES));
    const before = api.renewals.length;
    await clock.settle(30_000);
    assert.ok(api.renewals.length - before <= 3, `${api.renewals.length - before} renewals in 30 s after the switch`);
  });

  it('never back: a record that disappears leaves the speaker on probes', async () => {
    const api = new Api();
    const { clock, detection, owned } = speakerWithSwitch(api);
    api.record = true;
    await clock.settle(5000);
    api.record = false;
    await clock.settle(30_000);
    assert.equal(detection.active, true);
    assert.deepEqual(ownedNow(owned), mineWith(NODES));
  });

  it('a record at the first renewal: nothing is ever answered by Leases (no claim on start-up)', async () => {
    const api = new Api();
    api.record = true;
    const { clock, detection, owned } = speakerWithSwitch(api);
    for (let t = 0; t < detection.quietMs - 50; t += 50) {
      await clock.settle(50);
      assert.equal(owned().size, 0, `answering at ${clock.now()} ms`);
    }
    await clock.settle(200);
    assert.deepEqual(ownedNow(owned), mineWith(NODES));
  });
});
