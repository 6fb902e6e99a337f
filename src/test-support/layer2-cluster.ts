// The layer-2 speaker's test cluster: Layer2Speakers of node1..node3 on a manual clock, their Leases on a fake API
// server with watches, the informer caches, and the announcements and events each speaker made.
import assert from 'node:assert/strict';
import { planLayer2, type Layer2Inputs } from '../core/config/layer2-plan.ts';
import { ownersOf } from '../core/election/rendezvous-owner.ts';
import { formatIp } from '../core/ip/ip-address.ts';
import type { InterfaceTable } from '../platform/network-interfaces.ts';
import type { Layer2Announcer, OwnedAddress } from '../speaker/layer2/layer2-announcer.ts';
import { Layer2Speaker } from '../speaker/layer2/layer2-speaker.ts';
import type { PeerLeaseView } from '../speaker/layer2/layer2-speaker-options.ts';
import { RecordingMetrics } from './layer2-doubles.ts';
import { ManualClock } from './manual-clock.ts';
import { silentLogger } from './silent-logger.ts';
import { NODE_NAMES, segmentA, tableOf } from './layer2-world.ts';
import { RENEW_MS, LEASE_MS, MARGIN_MS, OVERLAP_MS } from './layer2-timing.ts';

// ---------------------------------------------------------------------------------------------------------------
// The cluster around the speakers: Leases on a fake API server with watches, the informer caches, the node.

/** The Leases on the API server and every speaker's watch of them (its informer cache). */
export class LeaseServer {
  readonly #clock: ManualClock;
  #resourceVersion = 1000;
  readonly #stored = new Map<string, PeerLeaseView>();
  #visible: PeerLeaseView[] = [];
  readonly #frozen = new Map<string, PeerLeaseView[]>();
  readonly #watchers = new Map<string, () => void>();
  /** How long a write takes to reach the watches. */
  watchDelayMs = 0;

  constructor(clock: ManualClock) {
    this.#clock = clock;
  }

  /** A speaker's informer: `onChange` is called for every Lease event it receives. */
  watch(node: string, onChange: () => void): void {
    this.#watchers.set(node, onChange);
  }

  unwatch(node: string): void {
    this.#watchers.delete(node);
  }

  /** The speaker of `node` updated its Lease: a new resourceVersion, delivered to every watch that is not stuck. */
  write(node: string, leaving: boolean, layer2NotReady?: string, rejoining = false): string {
    this.#resourceVersion++;
    this.#stored.set(node, {
      node,
      version: String(this.#resourceVersion),
      leaving,
      ...(layer2NotReady === undefined ? {} : { layer2NotReady }),
      ...(rejoining ? { rejoining } : {}),
    });
    const snapshot = [...this.#stored.values()];
    const deliver = (): void => {
      this.#visible = snapshot;
      for (const [watcher, onChange] of this.#watchers) if (!this.#frozen.has(watcher)) onChange();
    };
    if (this.watchDelayMs > 0) this.#clock.after(this.watchDelayMs, deliver);
    else deliver();
    return String(this.#resourceVersion);
  }

  /** What the informer cache of `node` holds. */
  view(node: string): PeerLeaseView[] {
    return (this.#frozen.get(node) ?? this.#visible).map((lease) => ({ ...lease }));
  }

  /** The watch of `node` hangs: its cache keeps what it holds now and no events arrive. */
  freeze(node: string): void {
    this.#frozen.set(node, this.#visible);
  }

  /** The watch of `node` is reconnected: it relists (sees the current Leases) and reports a change. */
  thaw(node: string): void {
    this.#frozen.delete(node);
    this.#watchers.get(node)?.();
  }
}

/** The heartbeat Lease client of one speaker: succeeds, fails or hangs on demand, after a latency. */
export class FakeRenewer {
  readonly #node: string;
  readonly #clock: ManualClock;
  readonly #server: LeaseServer;
  outcome: 'succeed' | 'fail' | 'hang' = 'succeed';
  latencyMs: number;
  readonly calls: Array<{
    at: number;
    leaving: boolean;
    timeoutMs: number;
    layer2NotReady: string | undefined;
    rejoining?: boolean;
  }> = [];

  constructor(node: string, clock: ManualClock, server: LeaseServer, latencyMs: number) {
    this.#node = node;
    this.#clock = clock;
    this.#server = server;
    this.latencyMs = latencyMs;
  }

  readonly renew = (
    leaving: boolean,
    timeoutMs: number,
    layer2NotReady: string | undefined,
    rejoining = false,
  ): Promise<string> => {
    this.calls.push({ at: this.#clock.now(), leaving, timeoutMs, layer2NotReady, ...(rejoining ? { rejoining } : {}) });
    const outcome = this.outcome;
    if (outcome === 'hang') return new Promise<string>(() => undefined);
    return new Promise<string>((resolve, reject) => {
      const finish = (): void => {
        if (outcome === 'fail') {
          reject(new Error('connect ECONNREFUSED 127.0.0.1:6443'));
          return;
        }
        resolve(this.#server.write(this.#node, leaving, layer2NotReady, rejoining));
      };
      if (this.latencyMs > 0) this.#clock.after(this.latencyMs, finish);
      else finish();
    });
  };
}

/** What the speaker told its announcer, update by update. */
export class RecordingAnnouncer implements Layer2Announcer {
  readonly updates: Array<Map<bigint, OwnedAddress>> = [];
  /** The addresses each update said had changed (undefined: any). */
  readonly changed: Array<ReadonlySet<bigint> | undefined> = [];

  update(owned: ReadonlyMap<bigint, OwnedAddress>, changed?: ReadonlySet<bigint>): void {
    this.updates.push(new Map(owned));
    this.changed.push(changed && new Set(changed));
  }

  /** What the node answers for now. */
  get current(): ReadonlyMap<bigint, OwnedAddress> {
    return this.updates.at(-1) ?? new Map<bigint, OwnedAddress>();
  }

  /** Whether the announcer was ever told to answer for anything. */
  get everAnnounced(): boolean {
    return this.updates.some((u) => u.size > 0);
  }
}

export interface RecordedEvent {
  service: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface SpeakerRig {
  name: string;
  speaker: Layer2Speaker;
  renewer: FakeRenewer;
  recorder: RecordingAnnouncer;
  metrics: RecordingMetrics;
  events: RecordedEvent[];
  /** Times (on the manual clock) at which onStaleView was called. */
  staleViews: number[];
}

export interface SpeakerOptions {
  latencyMs?: number;
  /** How the renewals end, from the first one on. */
  outcome?: FakeRenewer['outcome'];
  /** Resolves when the caches synced; default: already synced. */
  synced?: Promise<void>;
  /** Another announcer besides the recording one (a real PacketAnnouncer). */
  announcer?: Layer2Announcer;
  /** What onStaleView does besides being recorded. */
  onStaleView?: () => void;
  /** Ownership stickiness (ADR 0036). */
  rejoinQuietMs?: number;
}

export class Cluster {
  readonly clock = new ManualClock(0);
  readonly server = new LeaseServer(this.clock);
  world: Layer2Inputs;
  readonly tables = new Map<string, InterfaceTable>();
  readonly rigs = new Map<string, SpeakerRig>();
  /** Stale caches per node (what the adapter's informers would report). */
  readonly staleViews = new Map<string, string[]>();
  /** Interfaces with broken packet sockets per node (what the announcer would report). */
  readonly brokenInterfaces = new Map<string, Set<string>>();

  constructor(world: Layer2Inputs = segmentA()) {
    this.world = world;
  }

  /** Creates (or replaces, for a restart) the speaker of `name`, watching the Leases; start() starts it. */
  add(name: string, options: SpeakerOptions = {}): SpeakerRig {
    const renewer = new FakeRenewer(name, this.clock, this.server, options.latencyMs ?? 0);
    if (options.outcome) renewer.outcome = options.outcome;
    const recorder = new RecordingAnnouncer();
    const metrics = new RecordingMetrics();
    const events: RecordedEvent[] = [];
    const staleViews: number[] = [];
    const extra = options.announcer;
    if (!this.tables.has(name)) this.tables.set(name, tableOf(name));
    const speaker = new Layer2Speaker({
      node: name,
      clock: this.clock,
      log: silentLogger(),
      metrics,
      inputs: () => this.world,
      peers: () => this.server.view(name),
      renew: renewer.renew,
      staleViews: () => this.staleViews.get(name) ?? [],
      brokenInterfaces: () => this.brokenInterfaces.get(name) ?? new Set<string>(),
      interfaceTable: () => this.tables.get(name) ?? tableOf(name),
      announcer: {
        update: (owned, changed) => {
          recorder.update(owned, changed);
          extra?.update(owned, changed);
        },
      },
      recordEvent: (svc, type, reason, message) => {
        events.push({ service: svc, type, reason, message });
      },
      onStaleView: () => {
        staleViews.push(this.clock.now());
        options.onStaleView?.();
      },
      renewIntervalMs: RENEW_MS,
      leaseDurationMs: LEASE_MS,
      fenceMarginMs: MARGIN_MS,
      handoverOverlapMs: OVERLAP_MS,
      ...(options.rejoinQuietMs === undefined ? {} : { rejoinQuietMs: options.rejoinQuietMs }),
    });
    this.server.watch(name, () => {
      speaker.changed();
    });
    const rig: SpeakerRig = { name, speaker, renewer, recorder, metrics, events, staleViews };
    this.rigs.set(name, rig);
    speaker.start(options.synced ?? Promise.resolve());
    return rig;
  }

  rig(name: string): SpeakerRig {
    const found = this.rigs.get(name);
    if (!found) assert.fail(`no speaker ${name}`);
    return found;
  }

  /** A node dies (kill -9): it stops renewing and answering, its Lease stays as it is. */
  crash(name: string): void {
    this.rig(name).speaker.stop();
    this.server.unwatch(name);
    this.rigs.delete(name);
  }

  /** An informer event for every speaker: the inputs changed. */
  touch(): void {
    for (const rig of this.rigs.values()) rig.speaker.changed();
  }

  /** Runs the cluster for `ms` more. */
  async run(ms: number): Promise<void> {
    await this.clock.settle(ms);
  }

  /** Runs the cluster until absolute time `t`. */
  async until(t: number): Promise<void> {
    assert.ok(t >= this.clock.now(), `time goes forward (now ${this.clock.now()}, asked ${t})`);
    await this.clock.settle(t - this.clock.now());
  }

  /** Owners per planned address as ownersOf computes them for `live`. */
  expected(live: readonly string[]): Map<bigint, string | undefined> {
    const plan = planLayer2(this.world);
    return ownersOf({
      addresses: [...plan.values()].map((a) => ({ address: a.address, eligible: a.eligible })),
      live: new Set(live),
    });
  }

  /** Which speakers answer for each address now (from what their announcers were told). */
  actual(): Map<bigint, string[]> {
    const owners = new Map<bigint, string[]>();
    for (const rig of this.rigs.values()) {
      for (const address of rig.recorder.current.keys())
        owners.set(address, [...(owners.get(address) ?? []), rig.name].sort());
    }
    return owners;
  }

  /** Addresses the speaker of `name` answers for, sorted. */
  ownedBy(name: string): bigint[] {
    return [...this.rig(name).recorder.current.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Fails unless every address is answered by exactly the node ownersOf gives for `live` (none when undefined). */
  assertOwners(live: readonly string[], why = ''): void {
    const expected = this.expected(live);
    const actual = this.actual();
    for (const [address, owner] of expected) {
      assert.deepEqual(
        actual.get(address) ?? [],
        owner === undefined ? [] : [owner],
        `${formatIp(address)} at ${this.clock.now()} ms ${why}`,
      );
    }
    for (const address of actual.keys()) assert.ok(expected.has(address), `${formatIp(address)} is not planned`);
    for (const rig of this.rigs.values()) {
      assert.deepEqual(
        new Map(rig.speaker.owned),
        new Map(rig.recorder.current),
        `${rig.name}: owned is what the announcer was told`,
      );
    }
  }

  /** Fails if any address is answered by more than one node. */
  assertNoAddressAnsweredTwice(): void {
    for (const [address, owners] of this.actual()) {
      assert.ok(
        owners.length <= 1,
        `${formatIp(address)} answered by ${owners.join(' and ')} at ${this.clock.now()} ms`,
      );
    }
  }
}

/** A started cluster of node1..node3, settled at t=0. */
export async function threeNodes(options: SpeakerOptions = {}, world?: Layer2Inputs): Promise<Cluster> {
  const cluster = new Cluster(world);
  for (const name of NODE_NAMES) cluster.add(name, options);
  await cluster.until(0);
  return cluster;
}

/** Addresses ownersOf gives `owner` for `live`. */
export function shareOf(cluster: Cluster, owner: string, live: readonly string[]): bigint[] {
  return [...cluster.expected(live)]
    .filter(([, o]) => o === owner)
    .map(([address]) => address)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
