import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { IPPool, L2Advertisement, L2AdvertisementSpec } from '../../core/config/api-types.generated.ts';
import { SERVICE_NAME_LABEL, type EndpointSliceObject, type NodeObject } from '../../core/config/cluster-objects.ts';
import { planLayer2, type Layer2Inputs } from '../../core/config/layer2-plan.ts';
import { allocationCondition } from '../../core/config/allocation-record.ts';
import type { ServiceObject } from '../../core/config/service-object.ts';
import { ownersOf } from '../../core/election/rendezvous-owner.ts';
import { formatIp, parseIp } from '../../core/ip/ip-address.ts';
import { decodeArpFrame, encodeArpFrame } from '../../protocol/arp/arp-packet.ts';
import { BROADCAST_MAC, ZERO_MAC } from '../../protocol/ethernet/mac-address.ts';
import { decodeNdpFrame, encodeNdpFrame, solicitedNodeMulticast } from '../../protocol/ndp/neighbor-discovery.ts';
import type { InterfaceTable } from '../../platform/network-interfaces.ts';
import { Layer2Speaker, type Layer2Announcer, type OwnedAddress, type PeerLeaseView } from './layer2-speaker.ts';
import { PacketAnnouncer } from './packet-announcer.ts';
import { FakeFrameChannels, RecordingMetrics } from '../../test-support/layer2-doubles.ts';
import { ManualClock } from '../../test-support/manual-clock.ts';
import { silentLogger } from '../../test-support/silent-logger.ts';

const RENEW_MS = 1000;
const LEASE_MS = 5000;
const MARGIN_MS = 1000;
const OVERLAP_MS = 1500;
/**
 * How soon a speaker acts on an event that is not a deadline (an informer event, a new Lease version): passes are
 * coalesced, at most one per 50 ms (RECOMPUTE_SPACING_MS in layer2-speaker.ts).
 */
const SOON_MS = 100;

/** The address of a text form, failing the test on an error. */
function ip(text: string): bigint {
  const parsed = parseIp(text);
  if (!parsed.ok) assert.fail(parsed.error);
  return parsed.value;
}

// ---------------------------------------------------------------------------------------------------------------
// The cluster around the speakers: Leases on a fake API server with watches, the informer caches, the node.

/** The Leases on the API server and every speaker's watch of them (its informer cache). */
class LeaseServer {
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
class FakeRenewer {
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
class RecordingAnnouncer implements Layer2Announcer {
  readonly updates: Array<Map<bigint, OwnedAddress>> = [];

  update(owned: ReadonlyMap<bigint, OwnedAddress>): void {
    this.updates.push(new Map(owned));
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

interface RecordedEvent {
  service: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

interface SpeakerRig {
  name: string;
  speaker: Layer2Speaker;
  renewer: FakeRenewer;
  recorder: RecordingAnnouncer;
  metrics: RecordingMetrics;
  events: RecordedEvent[];
  /** Times (on the manual clock) at which onStaleView was called. */
  staleViews: number[];
}

interface SpeakerOptions {
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

function service(
  key: string,
  ips: string[],
  options: { local?: boolean; labels?: Record<string, string> } = {},
): ServiceObject {
  const [namespace = '', name = ''] = key.split('/');
  return {
    metadata: { namespace, name, ...(options.labels ? { labels: options.labels } : {}) },
    spec: {
      type: 'LoadBalancer',
      ports: [{ port: 443, protocol: 'TCP' }],
      ...(options.local ? { externalTrafficPolicy: 'Local' } : {}),
    },
    status: {
      loadBalancer: { ingress: ips.map((text) => ({ ip: text })) },
      conditions: [allocationCondition(ips, '2025-01-01T00:00:00Z')],
    },
  };
}

function pool(name: string, addresses: string[]): IPPool {
  return {
    apiVersion: 'beaconlb.io/v1alpha1',
    kind: 'IPPool',
    metadata: { name, creationTimestamp: '2025-01-01T00:00:00Z' },
    spec: { addresses },
  };
}

function advertisement(name: string, spec: L2AdvertisementSpec = {}): L2Advertisement {
  return { apiVersion: 'beaconlb.io/v1alpha1', kind: 'L2Advertisement', metadata: { name }, spec };
}

function node(name: string): NodeObject {
  return { metadata: { name, labels: { 'kubernetes.io/hostname': name } } };
}

function endpointsOn(key: string, nodes: string[]): EndpointSliceObject {
  const [namespace = '', name = ''] = key.split('/');
  return {
    metadata: { namespace, name: `${name}-eps`, labels: { [SERVICE_NAME_LABEL]: name } },
    endpoints: nodes.map((nodeName) => ({ nodeName, conditions: { ready: true } })),
  };
}

const NODE_NAMES = ['node1', 'node2', 'node3'];

/** Thirteen addresses of segment A, both families, in one pool announced by one advertisement on every node. */
function segmentA(): Layer2Inputs {
  return {
    services: [
      ...Array.from({ length: 9 }, (_, i) => service(`shop/web-${i}`, [`198.51.100.${20 + i}`])),
      service('shop/dual', ['198.51.100.40', '2001:db8:a::140']),
      ...Array.from({ length: 2 }, (_, i) => service(`shop/v6-${i}`, [`2001:db8:a::${150 + i}`])),
    ],
    pools: [pool('segment-a', ['198.51.100.0/25', '2001:db8:a::100/120'])],
    advertisements: [advertisement('segment-a')],
    nodes: NODE_NAMES.map(node),
    endpointSlices: [],
    namespaces: [],
    loadBalancerClass: 'beaconlb.io/beaconlb',
  };
}

function nodeMac(name: string): string {
  const n = Number(name.replace(/\D/g, '')) || 0;
  return `00:00:5e:00:53:${n.toString(16).padStart(2, '0')}`;
}

/** Every node has eth0 on segment A (the default route) and lo. */
function tableOf(name: string): InterfaceTable {
  const n = Number(name.replace(/\D/g, '')) || 0;
  return {
    interfaces: [
      {
        name: 'lo',
        index: 1,
        mac: '00:00:00:00:00:00',
        up: true,
        addresses: [{ family: 4, address: ip('127.0.0.1'), prefixLength: 8 }],
      },
      {
        name: 'eth0',
        index: 2,
        mac: nodeMac(name),
        up: true,
        addresses: [
          { family: 4, address: ip(`198.51.100.${n}`), prefixLength: 25 },
          { family: 6, address: ip(`2001:db8:a::${n}`), prefixLength: 64 },
        ],
      },
    ],
    defaultRoute: { 4: 'eth0', 6: 'eth0' },
  };
}

class Cluster {
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
        update: (owned) => {
          recorder.update(owned);
          extra?.update(owned);
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
async function threeNodes(options: SpeakerOptions = {}, world?: Layer2Inputs): Promise<Cluster> {
  const cluster = new Cluster(world);
  for (const name of NODE_NAMES) cluster.add(name, options);
  await cluster.until(0);
  return cluster;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Addresses ownersOf gives `owner` for `live`. */
function shareOf(cluster: Cluster, owner: string, live: readonly string[]): bigint[] {
  return [...cluster.expected(live)]
    .filter(([, o]) => o === owner)
    .map(([address]) => address)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------------------------

describe('Layer2Speaker', () => {
  describe('start', () => {
    it('owns nothing until the caches synced, even when its Lease was renewed', async () => {
      const cluster = new Cluster();
      const synced = deferred();
      const rig = cluster.add('node1', { synced: synced.promise });
      await cluster.until(3000);
      assert.equal(rig.renewer.calls.length, 4, 'renews from the start, every renewInterval');
      assert.equal(rig.recorder.everAnnounced, false);
      assert.equal(rig.speaker.owned.size, 0);
      synced.resolve();
      await cluster.run(SOON_MS);
      cluster.assertOwners(['node1']);
      assert.equal(rig.speaker.owned.size, 13);
    });

    it('owns nothing until its first renewal succeeded, even when the caches synced', async () => {
      const cluster = new Cluster();
      const rig = cluster.add('node1', { latencyMs: 700 });
      await cluster.until(699);
      assert.equal(rig.recorder.everAnnounced, false, 'synced, renewal in flight');
      await cluster.until(700);
      cluster.assertOwners(['node1']);
    });

    it('owns nothing while its renewals fail from the start, and starts answering after the first success', async () => {
      const cluster = new Cluster();
      const rig = cluster.add('node1', { outcome: 'fail' });
      await cluster.until(4500);
      assert.equal(rig.recorder.everAnnounced, false);
      assert.equal(rig.renewer.calls.length, 5, 'keeps trying every renewInterval');
      rig.renewer.outcome = 'succeed';
      await cluster.until(5000);
      cluster.assertOwners(['node1']);
    });
  });

  describe('ownership', () => {
    it('with three live nodes, every address is answered by exactly the node ownersOf names', async () => {
      const cluster = await threeNodes();
      cluster.assertOwners(NODE_NAMES);
      for (const name of NODE_NAMES) assert.ok(cluster.ownedBy(name).length > 0, `${name} owns some of 13 addresses`);
      // Renewals go on; nothing moves.
      for (let t = 100; t <= 20_000; t += 100) {
        await cluster.until(t);
        cluster.assertOwners(NODE_NAMES);
      }
      for (const name of NODE_NAMES)
        assert.equal(cluster.rig(name).metrics.ownershipChanges.lost, 0, `${name} lost nothing`);
    });

    it('property: any set of Services, ETP Local or not, is split as ownersOf says, each address answered once', async () => {
      const addresses = [
        ...Array.from({ length: 12 }, (_, i) => `198.51.100.${10 + i}`),
        ...Array.from({ length: 6 }, (_, i) => `2001:db8:a::${110 + i}`),
      ];
      const serviceArb = fc.record({
        ips: fc.subarray(addresses, { minLength: 1, maxLength: 2 }),
        endpoints: fc.option(fc.subarray(NODE_NAMES), { nil: undefined }),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(serviceArb, { minLength: 1, maxLength: 10 }), async (specs) => {
          const world = segmentA();
          world.services = specs.map((s, i) => service(`shop/svc-${i}`, s.ips, { local: s.endpoints !== undefined }));
          world.endpointSlices = specs.flatMap((s, i) =>
            s.endpoints ? [endpointsOn(`shop/svc-${i}`, s.endpoints)] : [],
          );
          const cluster = await threeNodes({}, world);
          cluster.assertOwners(NODE_NAMES);
          await cluster.until(2500);
          cluster.assertOwners(NODE_NAMES);
        }),
        { numRuns: 25 },
      );
    });

    it('moves an ETP Local address with its endpoints', async () => {
      const world = segmentA();
      world.services = [service('shop/local', ['198.51.100.50'], { local: true })];
      world.endpointSlices = [endpointsOn('shop/local', ['node2'])];
      const cluster = await threeNodes({}, world);
      assert.deepEqual(cluster.actual().get(ip('198.51.100.50')), ['node2']);
      world.endpointSlices = [endpointsOn('shop/local', ['node3'])];
      cluster.touch();
      await cluster.run(SOON_MS);
      assert.deepEqual(cluster.actual().get(ip('198.51.100.50')), ['node3']);
      world.endpointSlices = [];
      cluster.touch();
      await cluster.run(SOON_MS);
      assert.equal(cluster.actual().get(ip('198.51.100.50')), undefined, 'no ready endpoint: nobody answers');
    });

    it('tells the announcer the interfaces chosen for each address', async () => {
      const world = segmentA();
      world.pools = [...world.pools, pool('segment-b', ['203.0.113.0/24'])];
      world.advertisements = [
        advertisement('segment-a', { ipPools: ['segment-a'] }),
        advertisement('segment-b', { ipPools: ['segment-b'], interfaces: ['eth1'] }),
      ];
      world.services = [service('shop/a', ['198.51.100.20']), service('shop/b', ['203.0.113.20'])];
      const cluster = new Cluster(world);
      const table = tableOf('node1');
      table.interfaces.push({ name: 'eth1', index: 3, mac: '00:00:5e:00:53:21', up: true, addresses: [] });
      cluster.tables.set('node1', table);
      const rig = cluster.add('node1');
      await cluster.until(0);
      assert.deepEqual(rig.recorder.current.get(ip('198.51.100.20')), { interfaces: ['eth0'], services: ['shop/a'] });
      assert.deepEqual(rig.recorder.current.get(ip('203.0.113.20')), { interfaces: ['eth1'], services: ['shop/b'] });
    });
  });

  describe('rejoin quiet period (ADR 0036)', () => {
    const QUIET_MS = 20_000;

    /** node3 crashes at 2500 and restarts at 9000; returns the cluster at 9000 with what each node owned before. */
    async function node3Back(quietMs: number | undefined): Promise<Cluster> {
      const options = quietMs === undefined ? {} : { rejoinQuietMs: quietMs };
      const cluster = await threeNodes(options);
      await cluster.until(2500);
      cluster.assertOwners(NODE_NAMES, 'a fresh cluster spreads at once: nobody is rejoining');
      assert.ok([...cluster.rigs.values()].every((rig) => rig.renewer.calls.every((call) => call.rejoining !== true)));
      cluster.crash('node3');
      await cluster.until(2000 + LEASE_MS + SOON_MS);
      cluster.assertOwners(['node1', 'node2'], 'node3 failed');
      await cluster.until(9000);
      cluster.add('node3', options);
      await cluster.until(9000);
      return cluster;
    }

    it('without it, a node back from a failure takes its addresses back at once (the second move)', async () => {
      const cluster = await node3Back(undefined);
      await cluster.until(9000 + RENEW_MS + SOON_MS);
      cluster.assertOwners(NODE_NAMES, 'node3 back');
    });

    it('with it, the node back marks its Lease from the first write, owns nothing while its peers serve, then takes its share once', async () => {
      const cluster = await node3Back(QUIET_MS);
      const node3 = cluster.rig('node3');
      assert.equal(node3.renewer.calls[0]?.rejoining, true, 'the first renewal of the restarted node carries the mark');
      for (let t = 9000; t < 9000 + QUIET_MS; t += 100) {
        await cluster.until(t);
        cluster.assertOwners(['node1', 'node2'], 'node3 rejoining: the placement of its failure');
      }
      // The cleared mark is written at 29 000, seen back at once here; node3 counts itself one renew interval later.
      await cluster.until(9000 + QUIET_MS + SOON_MS);
      assert.equal(node3.renewer.calls.at(-1)?.rejoining, undefined, 'the mark cleared at the end of the period');
      for (let t = 9000 + QUIET_MS + SOON_MS; t < 9000 + QUIET_MS + 2 * RENEW_MS; t += 50) {
        await cluster.until(t);
        cluster.assertNoAddressAnsweredTwice();
      }
      await cluster.until(9000 + QUIET_MS + 2 * RENEW_MS + SOON_MS);
      cluster.assertOwners(NODE_NAMES, 'node3 settled');
    });

    it('a node rejoining serves at once an address no settled peer is eligible for', async () => {
      const cluster = await node3Back(QUIET_MS);
      // An address only node3 may announce: the node selector of its advertisement picks node3 alone.
      const world = cluster.world;
      cluster.world = {
        ...world,
        advertisements: world.advertisements.map((a) => ({
          ...a,
          spec: { ...a.spec, nodeSelector: { matchLabels: { 'kubernetes.io/hostname': 'node3' } } },
        })),
      };
      cluster.touch();
      await cluster.until(9000 + 2 * RENEW_MS);
      const planned = cluster.expected(['node3']);
      assert.ok(planned.size > 0);
      for (const [address] of planned)
        assert.deepEqual(cluster.actual().get(address), ['node3'], `${formatIp(address)} at ${cluster.clock.now()}`);
    });

    it('a node whose renewals failed until its peers took over rejoins quietly with the first renewal that succeeds', async () => {
      const cluster = await threeNodes({ rejoinQuietMs: QUIET_MS });
      await cluster.until(2500);
      const node1 = cluster.rig('node1');
      node1.renewer.outcome = 'fail'; // last success: the renewal of 2000
      await cluster.until(2000 + LEASE_MS + SOON_MS);
      assert.deepEqual(cluster.ownedBy('node1'), [], 'fenced');
      cluster.assertOwners(['node2', 'node3'], 'peers took over');
      node1.renewer.outcome = 'succeed';
      await cluster.until(9000);
      const back = node1.renewer.calls.find((call) => call.at > 7100);
      assert.equal(back?.rejoining, true, 'the first renewal after the fence carries the mark');
      for (let t = 9000; t < 7100 + QUIET_MS - RENEW_MS; t += 200) {
        await cluster.until(t);
        cluster.assertOwners(['node2', 'node3'], 'node1 rejoining');
      }
      await cluster.until(7100 + QUIET_MS + 3 * RENEW_MS);
      cluster.assertOwners(NODE_NAMES, 'node1 settled');
    });

    it('a node ready for layer 2 again rejoins quietly: its ready renewal carries the mark', async () => {
      const cluster = await threeNodes({ rejoinQuietMs: QUIET_MS });
      await cluster.until(2500);
      cluster.staleViews.set('node1', ['services']);
      cluster.touch();
      await cluster.until(2500 + SOON_MS);
      cluster.assertOwners(['node2', 'node3'], 'node1 not ready');
      cluster.staleViews.delete('node1');
      cluster.touch();
      await cluster.until(2500 + 2 * SOON_MS);
      const ready = cluster.rig('node1').renewer.calls.at(-1);
      assert.equal(ready?.layer2NotReady, undefined);
      assert.equal(ready?.rejoining, true);
      for (let t = 3000; t < 2600 + QUIET_MS - RENEW_MS; t += 200) {
        await cluster.until(t);
        cluster.assertOwners(['node2', 'node3'], 'node1 rejoining');
      }
      await cluster.until(2600 + QUIET_MS + 3 * RENEW_MS);
      cluster.assertOwners(NODE_NAMES, 'node1 settled');
    });

    it('with nobody else serving, a restarted node does not wait', async () => {
      const cluster = new Cluster();
      cluster.add('node1', { rejoinQuietMs: QUIET_MS });
      await cluster.until(2500);
      cluster.crash('node1');
      await cluster.until(2000 + LEASE_MS + SOON_MS);
      cluster.add('node1', { rejoinQuietMs: QUIET_MS });
      await cluster.until(2000 + LEASE_MS + 3 * RENEW_MS);
      cluster.assertOwners(['node1'], 'alone: no quiet period');
    });
  });

  describe('peers', () => {
    it("takes a silent peer's addresses after leaseDuration on its own clock, not before", async () => {
      const cluster = await threeNodes();
      await cluster.until(2500);
      const node3Share = shareOf(cluster, 'node3', NODE_NAMES);
      assert.ok(node3Share.length > 0);
      cluster.crash('node3'); // its last renewal was written at 2000
      for (let t = 2600; t < 2000 + LEASE_MS; t += 100) {
        await cluster.until(t);
        for (const address of node3Share)
          assert.equal(cluster.actual().get(address), undefined, `${formatIp(address)} not taken at ${t} ms`);
      }
      await cluster.until(2000 + LEASE_MS - 1);
      for (const address of node3Share)
        assert.equal(cluster.actual().get(address), undefined, `${formatIp(address)} not taken 1 ms early`);
      await cluster.until(2000 + LEASE_MS + SOON_MS);
      cluster.assertOwners(['node1', 'node2'], 'after node3 went stale');
      const gained =
        cluster.rig('node1').metrics.ownershipChanges.gained + cluster.rig('node2').metrics.ownershipChanges.gained;
      assert.ok(gained >= 13, 'every address gained by someone');
    });

    it('presumes a peer first seen after a restart live for a full leaseDuration from that moment', async () => {
      const cluster = await threeNodes();
      await cluster.until(2500);
      const threeLive = cluster.expected(NODE_NAMES);
      cluster.crash('node3'); // last written at 2000: stale for node2 at 7000
      await cluster.until(4000);
      cluster.crash('node1');
      cluster.add('node1'); // restarted: sees node3's Lease for the first time at 4000
      await cluster.until(4000);
      await cluster.until(2000 + LEASE_MS + SOON_MS);
      // node2 has taken its part of node3's addresses; the new node1 still counts node3 live.
      assert.deepEqual(cluster.ownedBy('node1'), shareOf(cluster, 'node1', NODE_NAMES));
      assert.deepEqual(cluster.ownedBy('node2'), shareOf(cluster, 'node2', ['node1', 'node2']));
      await cluster.until(4000 + LEASE_MS - 1);
      assert.deepEqual(
        cluster.ownedBy('node1'),
        shareOf(cluster, 'node1', NODE_NAMES),
        "node1 has not taken node3's addresses",
      );
      for (const [address, owner] of threeLive) {
        if (owner === 'node3') assert.notDeepEqual(cluster.actual().get(address), ['node1'], formatIp(address));
      }
      await cluster.until(4000 + LEASE_MS + SOON_MS);
      cluster.assertOwners(['node1', 'node2']);
    });

    it("takes a leaving peer's addresses at once", async () => {
      const cluster = await threeNodes();
      await cluster.until(2500);
      void cluster.rig('node3').speaker.leave();
      await cluster.until(2500);
      const expected = cluster.expected(['node1', 'node2']);
      const actual = cluster.actual();
      for (const [address, owner] of expected) {
        assert.ok(owner === 'node1' || owner === 'node2');
        assert.ok(actual.get(address)?.includes(owner), `${formatIp(address)} taken by ${owner} at once`);
      }
      for (const name of ['node1', 'node2'])
        assert.deepEqual(cluster.ownedBy(name), shareOf(cluster, name, ['node1', 'node2']));
    });

    it('gives addresses back to a peer that comes back (a new Lease version after it went stale)', async () => {
      const cluster = await threeNodes();
      await cluster.until(1500);
      cluster.rig('node3').renewer.outcome = 'hang';
      await cluster.until(1000 + LEASE_MS + SOON_MS);
      // node3 fenced itself (see below); node1 and node2 have everything.
      cluster.assertOwners(['node1', 'node2']);
      // node3 restarts: its first renewal writes a new Lease version, which the peers count as a change.
      cluster.crash('node3');
      cluster.add('node3');
      await cluster.run(SOON_MS);
      cluster.assertOwners(NODE_NAMES);
    });
  });

  describe('self-fencing', () => {
    /** node1..3 renewing with 300 ms latency; node1's renewals fail from the one started at 2000 on. */
    async function node1CutOff(): Promise<Cluster> {
      const cluster = await threeNodes({ latencyMs: 300 });
      await cluster.until(1500); // renewals started at 0 and 1000 succeeded (stored at 300 and 1300)
      cluster.rig('node1').renewer.outcome = 'fail';
      return cluster;
    }
    const LAST_RENEW_START = 1000;
    const FENCE_AT = LAST_RENEW_START + LEASE_MS - MARGIN_MS; // 5000
    const PEERS_TAKE_OVER_AT = 1300 + LEASE_MS; // node1's Lease last changed at 1300 on the peers' clocks

    it('stops answering before peers can take over when its renewals fail, and answers again after a renewal', async () => {
      const cluster = await node1CutOff();
      const node1Share = shareOf(cluster, 'node1', NODE_NAMES);
      assert.ok(node1Share.length > 0);
      for (let t = 1600; t < FENCE_AT; t += 100) {
        await cluster.until(t);
        cluster.assertOwners(NODE_NAMES);
      }
      await cluster.until(FENCE_AT - 1);
      assert.deepEqual(cluster.ownedBy('node1'), node1Share, 'still answering 1 ms before the fence');
      await cluster.until(FENCE_AT + 1);
      assert.deepEqual(cluster.ownedBy('node1'), [], 'fenced: answers nothing');
      assert.deepEqual(cluster.rig('node1').metrics.fencedChanges, [false, true]);
      // Nobody answers for node1's addresses until the peers call node1 dead: never two answers at once.
      for (let t = FENCE_AT + 100; t < PEERS_TAKE_OVER_AT; t += 100) {
        await cluster.until(t);
        cluster.assertNoAddressAnsweredTwice();
        for (const address of node1Share)
          assert.equal(cluster.actual().get(address), undefined, `${formatIp(address)} at ${t}`);
      }
      await cluster.until(PEERS_TAKE_OVER_AT + SOON_MS);
      cluster.assertOwners(['node2', 'node3'], 'after the peers called node1 dead');
      assert.deepEqual(cluster.ownedBy('node1'), []);
      // The API server is reachable again: the renewal started at 7000 succeeds at 7300.
      await cluster.until(6500);
      cluster.rig('node1').renewer.outcome = 'succeed';
      await cluster.until(7299);
      assert.deepEqual(cluster.ownedBy('node1'), []);
      await cluster.until(7300);
      cluster.assertOwners(NODE_NAMES, 'after node1 renewed again');
      assert.deepEqual(cluster.rig('node1').metrics.fencedChanges, [false, true, false]);
      assert.deepEqual(cluster.rig('node1').staleViews, [], 'a failing renewal is not a stale view');
    });

    it('measures the fence from the start of the last successful renewal, not from its reply', async () => {
      const cluster = await node1CutOff();
      // The renewal started at 1000 was answered at 1300; fencing from the reply would keep answering until 5300.
      await cluster.until(FENCE_AT + 250);
      assert.deepEqual(cluster.ownedBy('node1'), []);
    });

    it('answers nothing from lastRenewStart + leaseDuration - fenceMargin itself (selfFenced: now >= fenceTime)', async () => {
      const cluster = await node1CutOff();
      await cluster.until(FENCE_AT);
      assert.deepEqual(cluster.ownedBy('node1'), []);
    });

    // An informer event 10 ms before the fence time makes a pass at 4990; the fence timer fires at 5001 and calls
    // changed(), which waits for the 50 ms pass spacing: node1 answers until 5040, 40 ms into the fence margin.
    it('fences on time even when an unrelated pass ran just before the fence time', async () => {
      const cluster = await node1CutOff();
      await cluster.until(FENCE_AT - 10);
      cluster.touch();
      await cluster.until(FENCE_AT + 1);
      assert.deepEqual(cluster.ownedBy('node1'), []);
    });

    it('fences when a renewal hangs as well', async () => {
      const cluster = await threeNodes({ latencyMs: 300 });
      await cluster.until(1500);
      cluster.rig('node1').renewer.outcome = 'hang';
      await cluster.until(FENCE_AT - 1);
      assert.ok(cluster.ownedBy('node1').length > 0);
      assert.equal(
        cluster.rig('node1').renewer.calls.length,
        3,
        'the hanging renewal (started at 2000) holds the loop',
      );
      await cluster.until(FENCE_AT + 1);
      assert.deepEqual(cluster.ownedBy('node1'), []);
    });
  });

  describe('stale view', () => {
    it('fences when its own renewals stop coming back through the watch, and asks for the watches to reconnect', async () => {
      const cluster = await threeNodes();
      await cluster.until(1500);
      cluster.server.freeze('node1'); // its cache last saw node1's Lease change at 1000
      const node1Share = shareOf(cluster, 'node1', NODE_NAMES);
      assert.ok(node1Share.length > 0);
      await cluster.until(1000 + LEASE_MS - MARGIN_MS - 1);
      assert.deepEqual(cluster.ownedBy('node1'), node1Share);
      assert.deepEqual(cluster.rig('node1').staleViews, []);
      await cluster.until(1000 + LEASE_MS - MARGIN_MS + 1);
      assert.deepEqual(cluster.ownedBy('node1'), [], 'fenced: its view of the peers can not be trusted');
      assert.deepEqual(cluster.rig('node1').staleViews, [5000]);
      // Renewals still succeed, so the peers see node1 live and do not take its addresses: nobody answers them.
      for (const name of ['node2', 'node3'])
        assert.deepEqual(cluster.ownedBy(name), shareOf(cluster, name, NODE_NAMES));
      // Still stale: asks again, at most once per leaseDuration.
      await cluster.until(10_500);
      assert.deepEqual(cluster.rig('node1').staleViews, [5000]);
      await cluster.until(11_000);
      assert.deepEqual(cluster.rig('node1').staleViews, [5000, 11_000]);
      // The watch reconnects: node1's own latest renewal is in the cache again.
      cluster.server.thaw('node1');
      await cluster.run(SOON_MS);
      cluster.assertOwners(NODE_NAMES, 'after the watch reconnected');
    });

    it('recovers when onStaleView reconnects the watch', async () => {
      const cluster = new Cluster();
      for (const name of NODE_NAMES) {
        cluster.add(name, {
          onStaleView: () => {
            cluster.clock.after(200, () => {
              cluster.server.thaw(name);
            });
          },
        });
      }
      await cluster.until(1500);
      cluster.server.freeze('node2');
      await cluster.until(5001);
      assert.deepEqual(cluster.ownedBy('node2'), []);
      await cluster.until(5200);
      cluster.assertOwners(NODE_NAMES);
      assert.deepEqual(cluster.rig('node2').staleViews, [5000]);
    });

    it('does not call its view stale at start, while its first renewal is still on its way through the watch', async () => {
      const cluster = new Cluster();
      cluster.server.watchDelayMs = 50;
      const rig = cluster.add('node1');
      await cluster.until(49);
      assert.equal(rig.recorder.everAnnounced, false, 'not before its own Lease is seen');
      await cluster.until(1000);
      cluster.assertOwners(['node1']);
      assert.deepEqual(rig.staleViews, [], 'a renewal 0 ms old is not stale');
    });

    // A rolling restart: the old pod marked the Lease leaving; the new pod's first renewal clears the mark, but its
    // first pass still sees the leaving Lease in its cache (the watch event is 50 ms away) and calls that stale.
    it('does not call its view stale after a hand-over restart, while the cache still holds its old leaving Lease', async () => {
      const cluster = new Cluster();
      const old = cluster.add('node1');
      await cluster.until(2500);
      let left = false;
      void old.speaker.leave().then(() => {
        left = true;
      });
      await cluster.run(OVERLAP_MS);
      assert.ok(left);
      assert.equal(cluster.server.view('node1')[0]?.leaving, true);
      cluster.crash('node1');
      cluster.server.watchDelayMs = 50;
      const restarted = cluster.add('node1');
      await cluster.run(1000);
      cluster.assertOwners(['node1']);
      assert.deepEqual(restarted.staleViews, []);
    });

    it('answers only once its own renewal came back through the watch, even with its old Lease in the cache', async () => {
      const cluster = new Cluster();
      cluster.add('node1');
      await cluster.until(100);
      cluster.crash('node1'); // kill -9: its Lease stays, active
      await cluster.until(10_000);
      cluster.server.watchDelayMs = 50;
      const restarted = cluster.add('node1');
      await cluster.run(49);
      assert.equal(restarted.recorder.everAnnounced, false, 'its renewal of 10000 ms reaches the cache at 10050 ms');
    });
  });

  describe('not ready for layer 2', () => {
    /** Runs in 10 ms steps until `t`, failing at the first moment an address is answered by two nodes. */
    async function stepUntil(cluster: Cluster, t: number): Promise<void> {
      while (cluster.clock.now() < t) {
        await cluster.run(Math.min(10, t - cluster.clock.now()));
        cluster.assertNoAddressAnsweredTwice();
      }
    }

    /** node1 with eth0 down: the kernel keeps the IPv4 address, drops the IPv6 one and both default routes. */
    function linkDown(table: InterfaceTable): InterfaceTable {
      return {
        interfaces: table.interfaces.map((i) =>
          i.name === 'eth0' ? { ...i, up: false, addresses: i.addresses.filter((a) => a.family === 4) } : i,
        ),
        defaultRoute: {},
      };
    }

    it('a stale cache: stops answering at once, says why in its Lease, peers take over; back only after peers let go', async () => {
      const cluster = await threeNodes();
      await cluster.until(2500);
      const node1 = cluster.rig('node1');
      const share = shareOf(cluster, 'node1', NODE_NAMES);
      assert.ok(share.length > 0);
      cluster.staleViews.set('node1', ['services']);
      cluster.touch();
      await stepUntil(cluster, 2500 + SOON_MS);
      assert.deepEqual(cluster.ownedBy('node1'), []);
      assert.match(node1.renewer.calls.at(-1)?.layer2NotReady ?? '', /^StaleView: .*services/);
      cluster.assertOwners(['node2', 'node3'], 'peers took over from the not-ready Lease');
      assert.ok(
        node1.events.some((e) => e.reason === 'Layer2NotReady' && e.type === 'Warning'),
        'an Event on the Services it gave up',
      );
      // Renewed all along, still not live for the peers.
      await stepUntil(cluster, 2500 + 3 * LEASE_MS);
      cluster.assertOwners(['node2', 'node3']);

      cluster.staleViews.delete('node1');
      cluster.touch();
      const ready = cluster.clock.now();
      await stepUntil(cluster, ready + RENEW_MS + SOON_MS);
      cluster.assertOwners(NODE_NAMES, 'node1 answers again');
      assert.equal(node1.renewer.calls.at(-1)?.layer2NotReady, undefined);
      assert.deepEqual(node1.metrics.readyChanges, [
        { ready: true, reason: undefined },
        { ready: false, reason: 'StaleView' },
        { ready: true, reason: undefined },
      ]);
    });

    it('waits one renew interval after its ready Lease came back before answering, so peers let go first', async () => {
      const cluster = await threeNodes({ latencyMs: 100 });
      await cluster.until(2500);
      cluster.staleViews.set('node1', ['endpointslices']);
      cluster.touch();
      await stepUntil(cluster, 3000);
      cluster.staleViews.delete('node1');
      cluster.touch();
      // The ready renewal is sent at once and stored after 100 ms; node1 waits RENEW_MS more from then.
      await stepUntil(cluster, 3000 + 100 + RENEW_MS - SOON_MS);
      assert.deepEqual(cluster.ownedBy('node1'), [], 'not before peers had a renew interval to let go');
      await stepUntil(cluster, 3000 + 100 + RENEW_MS + SOON_MS);
      cluster.assertOwners(NODE_NAMES);
    });

    it('a dead link: an address whose every interface is down makes the node not ready (LinkDown) until the link is back', async () => {
      const cluster = await threeNodes();
      await cluster.until(2500);
      const healthy = tableOf('node1');
      cluster.tables.set('node1', linkDown(healthy));
      cluster.touch();
      await stepUntil(cluster, 2500 + SOON_MS);
      assert.equal(cluster.rig('node1').renewer.calls.at(-1)?.layer2NotReady, 'LinkDown: eth0 is down');
      cluster.assertOwners(['node2', 'node3']);
      cluster.tables.set('node1', healthy);
      cluster.touch();
      await stepUntil(cluster, 2500 + 2 * SOON_MS + RENEW_MS);
      cluster.assertOwners(NODE_NAMES);
    });

    it('broken packet sockets on the only interface count as a dead link', async () => {
      const cluster = await threeNodes();
      await cluster.until(2500);
      cluster.brokenInterfaces.set('node1', new Set(['eth0']));
      cluster.touch();
      await stepUntil(cluster, 2500 + SOON_MS);
      assert.equal(
        cluster.rig('node1').renewer.calls.at(-1)?.layer2NotReady,
        'LinkDown: eth0 has broken packet sockets',
      );
      cluster.assertOwners(['node2', 'node3']);
    });

    it('one of two interfaces down is not a dead link while the other still serves the address', async () => {
      const two = (name: string): InterfaceTable => {
        const table = tableOf(name);
        const eth0 = table.interfaces.find((i) => i.name === 'eth0')!;
        return { ...table, interfaces: [...table.interfaces, { ...eth0, name: 'eth1', index: 3 }] };
      };
      const cluster = new Cluster();
      for (const name of NODE_NAMES) cluster.tables.set(name, two(name));
      for (const name of NODE_NAMES) cluster.add(name);
      await cluster.until(2500);
      const table = two('node1');
      cluster.tables.set('node1', {
        ...table,
        interfaces: table.interfaces.map((i) => (i.name === 'eth1' ? { ...i, up: false } : i)),
      });
      cluster.touch();
      await stepUntil(cluster, 2500 + SOON_MS);
      assert.equal(cluster.rig('node1').renewer.calls.at(-1)?.layer2NotReady, undefined);
      cluster.assertOwners(NODE_NAMES);
    });

    it('a down link holding Service addresses as host addresses (IPVS kube-ipvs0) is no announcing link', async () => {
      const world = segmentA();
      world.pools = [...world.pools, pool('routed', ['203.0.113.0/28'])];
      world.services = [...world.services, service('shop/routed', ['203.0.113.5'])];
      const withIpvs = (name: string): InterfaceTable => {
        const table = tableOf(name);
        const hosts = ['198.51.100.20', '203.0.113.5'].map((text) => ({
          family: 4 as const,
          address: ip(text),
          prefixLength: 32,
        }));
        return {
          ...table,
          interfaces: [
            ...table.interfaces,
            { name: 'kube-ipvs0', index: 9, mac: '00:00:5e:00:53:f0', up: false, addresses: hosts },
          ],
        };
      };
      const cluster = new Cluster(world);
      for (const name of NODE_NAMES) cluster.tables.set(name, withIpvs(name));
      for (const name of NODE_NAMES) cluster.add(name);
      await cluster.until(2500);
      for (const rig of cluster.rigs.values())
        assert.equal(rig.renewer.calls.at(-1)?.layer2NotReady, undefined, rig.name);
      cluster.assertOwners(NODE_NAMES);
    });

    it('an address no interface of the node matches (configuration) does not make it give up the others', async () => {
      const world = segmentA();
      world.pools = [...world.pools, pool('elsewhere', ['203.0.113.0/28'])];
      world.advertisements = [
        advertisement('segment-a', { ipPools: ['segment-a'] }),
        advertisement('elsewhere', { ipPools: ['elsewhere'], interfaces: ['eth9'] }),
      ];
      world.services = [...world.services, service('shop/elsewhere', ['203.0.113.5'])];
      const cluster = await threeNodes({}, world);
      await cluster.until(2500);
      for (const rig of cluster.rigs.values())
        assert.equal(rig.renewer.calls.at(-1)?.layer2NotReady, undefined, rig.name);
      cluster.assertOwners(NODE_NAMES);
    });
  });

  describe('leave', () => {
    it('marks the Lease leaving, then owns nothing after the overlap and stops renewing', async () => {
      const cluster = await threeNodes();
      await cluster.until(2500);
      const rig = cluster.rig('node3');
      let left = false;
      const leaving = rig.speaker.leave().then(() => {
        left = true;
      });
      await cluster.until(2500 + OVERLAP_MS - 1);
      assert.equal(left, false, 'leave() waits for the overlap');
      await cluster.until(2500 + OVERLAP_MS);
      await leaving;
      assert.equal(left, true);
      assert.deepEqual(cluster.ownedBy('node3'), []);
      assert.deepEqual(rig.renewer.calls.at(-1), {
        at: 2500,
        leaving: true,
        timeoutMs: 1000,
        layer2NotReady: undefined,
      });
      const calls = rig.renewer.calls.length;
      await cluster.until(20_000);
      assert.equal(rig.renewer.calls.length, calls, 'no renewal after leaving');
      assert.deepEqual(cluster.ownedBy('node3'), []);
      cluster.rigs.delete('node3');
      cluster.assertOwners(['node1', 'node2']);
    });

    it('keeps answering its addresses for handoverOverlapMs after marking the Lease leaving', async () => {
      const cluster = await threeNodes();
      await cluster.until(2500);
      const rig = cluster.rig('node3');
      const before = cluster.ownedBy('node3');
      assert.ok(before.length > 0);
      void rig.speaker.leave();
      await cluster.until(2500);
      assert.deepEqual(cluster.ownedBy('node3'), before, 'still answering right after marking the Lease');
      await cluster.until(2500 + OVERLAP_MS - 1);
      assert.deepEqual(cluster.ownedBy('node3'), before, 'still answering at the end of the overlap');
      await cluster.until(2500 + OVERLAP_MS);
      assert.deepEqual(cluster.ownedBy('node3'), []);
    });

    // node3's renewal started at 3000 takes 800 ms (a slow API server); SIGTERM at 3100: leave() sends
    // renew(true), stored at 3200, and node1 and node2 take over. The renewal of 3000 is stored at 3800 and clears
    // the leaving mark: the peers see node3 active again and hand its addresses back to a node that has stopped.
    it('is not undone by a renewal still in flight when leave() is called', async () => {
      const cluster = await threeNodes();
      await cluster.until(2500);
      const rig = cluster.rig('node3');
      const node3Share = shareOf(cluster, 'node3', NODE_NAMES);
      rig.renewer.latencyMs = 800;
      await cluster.until(3100);
      rig.renewer.latencyMs = 100;
      const progress = { left: false };
      void rig.speaker.leave().then(() => {
        progress.left = true;
      });
      // leave() waits for the renewal in flight (stored at 3800), then marks the Lease leaving; during the overlap
      // node3 and its successor both answer (the designed hand-over). After it, one node answers, never node3.
      for (let t = 3200; !progress.left && t <= 9000; t += 100) await cluster.until(t);
      assert.ok(progress.left, 'leave() finished');
      for (let t = cluster.clock.now() + 200; t <= 9000; t += 200) {
        await cluster.until(t);
        for (const address of node3Share) {
          const answering = cluster.actual().get(address) ?? [];
          assert.equal(answering.length, 1, `${formatIp(address)} answered by ${answering.length} nodes at ${t} ms`);
          assert.ok(!answering.includes('node3'), `${formatIp(address)} handed back to the stopped node3 at ${t} ms`);
        }
      }
    });

    it('still waits out the overlap and stops when the Lease cannot be marked leaving', async () => {
      const cluster = await threeNodes();
      await cluster.until(2500);
      const rig = cluster.rig('node3');
      rig.renewer.outcome = 'fail';
      let left = false;
      void rig.speaker.leave().then(() => {
        left = true;
      });
      await cluster.until(2500 + OVERLAP_MS);
      assert.equal(left, true);
      assert.deepEqual(cluster.ownedBy('node3'), []);
      // Peers take over when the Lease goes stale (last written at 2000).
      cluster.rigs.delete('node3');
      await cluster.until(2000 + LEASE_MS + SOON_MS);
      cluster.assertOwners(['node1', 'node2']);
    });
  });

  describe('events and metrics', () => {
    it('records an AddressAnnounced event per Service for every address gained, once', async () => {
      const world = segmentA();
      world.pools = [...world.pools, pool('isolated', ['203.0.113.0/28'])];
      world.advertisements = [
        advertisement('segment-a', { ipPools: ['segment-a'] }),
        advertisement('isolated', { ipPools: ['isolated'], interfaces: ['eth9'] }),
      ];
      world.services = [
        service('shop/dual', ['198.51.100.40', '2001:db8:a::140']),
        service('shop/a', ['198.51.100.41']),
        service('shop/b', ['198.51.100.41']),
        service('shop/isolated', ['203.0.113.5']),
      ];
      const cluster = new Cluster(world);
      const rig = cluster.add('node1');
      await cluster.until(3000);
      const byMessage = (a: RecordedEvent, b: RecordedEvent): number =>
        a.message + a.service < b.message + b.service ? -1 : 1;
      const expectedEvents: RecordedEvent[] = [
        {
          service: 'shop/dual',
          type: 'Normal',
          reason: 'AddressAnnounced',
          message: '198.51.100.40 is announced by node node1 on eth0',
        },
        {
          service: 'shop/a',
          type: 'Normal',
          reason: 'AddressAnnounced',
          message: '198.51.100.41 is announced by node node1 on eth0',
        },
        {
          service: 'shop/b',
          type: 'Normal',
          reason: 'AddressAnnounced',
          message: '198.51.100.41 is announced by node node1 on eth0',
        },
        {
          service: 'shop/dual',
          type: 'Normal',
          reason: 'AddressAnnounced',
          message: '2001:db8:a::140 is announced by node node1 on eth0',
        },
        {
          service: 'shop/isolated',
          type: 'Warning',
          reason: 'AddressAnnounced',
          message: '203.0.113.5 is announced by node node1 on no interface (none matches)',
        },
      ];
      assert.deepEqual([...rig.events].sort(byMessage), expectedEvents.sort(byMessage));
      assert.deepEqual(rig.metrics.ownershipChanges, { gained: 4, lost: 0 });
      assert.equal(rig.metrics.ownedCounts.at(-1), 4);
      // The named interface appears: the address is announced again, on it.
      const table = tableOf('node1');
      table.interfaces.push({ name: 'eth9', index: 9, mac: '00:00:5e:00:53:29', up: true, addresses: [] });
      cluster.tables.set('node1', table);
      rig.speaker.changed();
      await cluster.run(SOON_MS);
      assert.deepEqual(rig.events.at(-1), {
        service: 'shop/isolated',
        type: 'Normal',
        reason: 'AddressAnnounced',
        message: '203.0.113.5 is announced by node node1 on eth9',
      });
      assert.equal(rig.events.length, 6);
      assert.deepEqual(rig.metrics.ownershipChanges, { gained: 5, lost: 0 });
      // A Service deleted: its address is lost.
      world.services = world.services.filter((s) => s.metadata.name !== 'isolated');
      rig.speaker.changed();
      await cluster.run(SOON_MS);
      assert.deepEqual(rig.metrics.ownershipChanges, { gained: 5, lost: 1 });
      assert.equal(rig.metrics.ownedCounts.at(-1), 3);
    });
  });

  describe('with PacketAnnouncers', () => {
    it('answers each ARP request and Neighbor Solicitation from exactly one node, the owner', async () => {
      const cluster = new Cluster();
      const machines = new Map<string, FakeFrameChannels>();
      for (const name of NODE_NAMES) {
        const channels = new FakeFrameChannels();
        machines.set(name, channels);
        const announcer = new PacketAnnouncer({
          open: channels.open,
          interfaceTable: () => tableOf(name),
          clock: cluster.clock,
          log: silentLogger(),
          metrics: new RecordingMetrics(),
          burstMs: [0, 250, 1000],
          announceIntervalMs: 10_000,
          maxAnswersPerSecond: 1000,
        });
        cluster.add(name, { announcer });
      }
      await cluster.until(2000);
      const client = '00:00:5e:00:53:99';
      const owners = cluster.expected(NODE_NAMES);
      for (const [address, owner] of owners) {
        const v4 = formatIp(address).includes('.');
        const request = v4
          ? encodeArpFrame({
              destination: BROADCAST_MAC,
              source: client,
              packet: {
                op: 'request',
                senderMac: client,
                senderIp: ip('198.51.100.99'),
                targetMac: ZERO_MAC,
                targetIp: address,
              },
            })
          : encodeNdpFrame({
              source: client,
              message: {
                type: 'neighbor-solicitation',
                source: ip('2001:db8:a::99'),
                destination: solicitedNodeMulticast(address),
                target: address,
                sourceLinkLayerAddress: client,
              },
            });
        const answeredBy: string[] = [];
        for (const [name, channels] of machines) {
          channels.clearSent();
          const channel = channels.channel('eth0', v4 ? 'arp' : 'ndp');
          channel?.receive(request);
          for (const frame of channel?.sent ?? []) {
            if (v4) {
              const reply = decodeArpFrame(frame);
              assert.ok(reply.ok && reply.value.packet.op === 'reply' && reply.value.packet.senderIp === address);
              assert.equal(reply.value.packet.senderMac, nodeMac(name));
            } else {
              const answer = decodeNdpFrame(frame);
              assert.ok(
                answer.ok &&
                  answer.value.message.type === 'neighbor-advertisement' &&
                  answer.value.message.target === address,
              );
              assert.equal(answer.value.message.targetLinkLayerAddress, nodeMac(name));
            }
            answeredBy.push(name);
          }
        }
        assert.deepEqual(answeredBy, owner === undefined ? [] : [owner], formatIp(address));
      }
    });
  });
});
