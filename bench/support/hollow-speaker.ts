// A "hollow speaker": one layer-2 election participant of a speaker, without packets. It runs the real code of a
// speaker's liveness and election (src/speaker/layer2/layer2-speaker.ts with its heartbeat Lease from
// src/k8s/heartbeat-lease.ts and the Lease watch of src/k8s/speaker-lease-watch.ts) over its own API client, that
// is its own connections to the API server, and replaces only the announcer (it records what it would announce)
// and the caches of Services, pools and Nodes (one in-memory world shared by all participants of a process: their
// cost is not liveness, and N copies of 50,000 Services would not fit one process). Many run in one process.
// With `detection: 'probes'` (ADR 0019) it runs the speaker's failure detector instead of the Lease watch: the real
// ProbeRunner over its own UDP socket on 127.0.0.1 (its port in its Lease's probe address), reading the membership
// record and the key with every renewal (MembershipReader), as src/cmd/speaker-command.ts wires it.
import type { Clock } from '../../src/core/clock.ts';
import type { Layer2Inputs } from '../../src/core/config/layer2-plan.ts';
import { ipv4 } from '../../src/core/ip/ip-address.ts';
import { ApiClient } from '../../src/k8s/api/api-client.ts';
import type { Connection } from '../../src/k8s/api/kube-config.ts';
import { HeartbeatLease } from '../../src/k8s/heartbeat-lease.ts';
import type { Informer } from '../../src/k8s/informer.ts';
import { peerLeasesOf, speakerLeaseInformer, type LeaseObject } from '../../src/k8s/speaker-lease-watch.ts';
import type { Logger } from '../../src/platform/logger.ts';
import type { InterfaceTable } from '../../src/platform/network-interfaces.ts';
import type { OwnedAddress } from '../../src/speaker/layer2/layer2-announcer.ts';
import { Layer2Speaker } from '../../src/speaker/layer2/layer2-speaker.ts';
import { randomBytes } from 'node:crypto';
import { formatProbeAddress } from '../../src/core/election/membership-record.ts';
import { MembershipReader } from '../../src/k8s/speaker-membership.ts';
import { probeKey } from '../../src/platform/probe-key.ts';
import type { ProbeSocket } from '../../src/platform/probe-transport.ts';
import type { ProbeKey } from '../../src/protocol/probe/probe-datagram.ts';
import { ProbeRunner } from '../../src/speaker/layer2/probe-runner.ts';
import { probeTimingsFor } from '../../src/cmd/speaker-flags.ts';

export type Detection = 'lease' | 'probes';

export interface HollowTimings {
  renewIntervalMs: number;
  leaseDurationMs: number;
  fenceMarginMs: number;
  handoverOverlapMs: number;
  /** The speaker's --stale-view-after: a Lease watch with no proof of being live for this long is stale. */
  staleAfterMs: number;
}

export interface HollowSpeakerOptions {
  node: string;
  connection: Connection;
  namespace: string;
  clock: Clock;
  log: Logger;
  timings: HollowTimings;
  world: () => Layer2Inputs;
  /** Each ownership pass's live set, with the clock's time. */
  onLive: (node: string, live: ReadonlySet<string>, at: number) => void;
  /** What the participant would announce now, with the clock's time. */
  onOwned: (node: string, owned: ReadonlyMap<bigint, OwnedAddress>, at: number) => void;
  /** Lease liveness (ADR 0007) or probes (ADR 0019; needs `socket`, opened by the caller). */
  detection?: Detection;
  socket?: ProbeSocket;
}

/** One interface on the segment of the hollow world's pool, as every hollow node has. */
const TABLE: InterfaceTable = {
  interfaces: [
    {
      name: 'eth0',
      index: 2,
      mac: '00:00:5e:00:53:01',
      up: true,
      addresses: [{ family: 4, address: ipv4(198, 51, 100, 1), prefixLength: 24 }],
    },
  ],
  defaultRoute: { 4: 'eth0' },
};

export class HollowSpeaker {
  readonly node: string;
  readonly #client: ApiClient;
  readonly #leases: Informer<LeaseObject>;
  readonly #speaker: Layer2Speaker;
  /** Lease watch events this participant received (adds, updates, deletes; bookmarks excluded). */
  watchEvents = 0;
  renewals = 0;
  renewFailures = 0;
  fenced = true;
  live: ReadonlySet<string> = new Set();
  owned: ReadonlyMap<bigint, OwnedAddress> = new Map();
  #running = false;
  readonly #runner: ProbeRunner | undefined;
  readonly #socket: ProbeSocket | undefined;
  #joinTimer: { cancel(): void } | undefined;
  /** Failure-detector datagrams sent and received by this participant. */
  datagramsSent = 0;
  datagramsReceived = 0;

  constructor(o: HollowSpeakerOptions) {
    this.node = o.node;
    this.#client = new ApiClient(o.connection, `beaconlb-speaker/${o.node}`);
    const probes = o.detection === 'probes';
    if (probes && !o.socket) throw new Error('probes need a socket');
    this.#socket = o.socket;
    let keys: ProbeKey[] = [];
    const membership = new MembershipReader(this.#client, o.namespace);
    if (probes && o.socket) {
      const socket = o.socket;
      this.#runner = new ProbeRunner({
        node: o.node,
        clock: o.clock,
        log: o.log,
        timings: probeTimingsFor(o.timings.renewIntervalMs),
        send: (bytes, address, port) => {
          socket.send(bytes, address, port);
        },
        keys: () => keys,
        incarnation: randomBytes(8).readBigUInt64BE(),
        wallSecond: () => Math.floor(Date.now() / 1000),
        onChange: () => {
          this.#speaker.urgent();
        },
        metrics: {
          sent: (n) => {
            this.datagramsSent += n;
          },
          received: () => {
            this.datagramsReceived++;
          },
          rejected: () => undefined,
        },
      });
    }
    const runner = this.#runner;
    let renewals = 0;
    const readMembership = async (timeoutMs: number, renewal?: string): Promise<void> => {
      if (!runner) return;
      if (keys.length === 0 || renewals++ % 6 === 0) keys = (await membership.keys(timeoutMs, renewal)).map(probeKey);
      const record = await membership.record(timeoutMs, renewal);
      if (record) runner.setMembership(record);
    };
    this.readMembership = readMembership;
    const heartbeat = new HeartbeatLease({
      client: this.#client,
      namespace: o.namespace,
      node: o.node,
      clock: o.clock,
      leaseDurationMs: o.timings.leaseDurationMs,
      probeAddress: () => (o.socket && probes ? formatProbeAddress('127.0.0.1', o.socket.port) : undefined),
    });
    this.#leases = speakerLeaseInformer({
      client: this.#client,
      clock: o.clock,
      log: o.log,
      namespace: o.namespace,
      staleAfterMs: o.timings.staleAfterMs,
      onChange: () => {
        this.watchEvents++;
        this.#speaker.changed();
      },
      onFreshness: () => {
        this.#speaker.changed();
      },
    });
    this.#speaker = new Layer2Speaker({
      node: o.node,
      clock: o.clock,
      log: o.log,
      metrics: {
        owned: () => undefined,
        ownershipChange: () => undefined,
        liveSpeakers: () => undefined,
        fenced: (fenced) => {
          this.fenced = fenced;
        },
        ready: () => undefined,
      },
      inputs: o.world,
      peers: () => peerLeasesOf(this.#leases.list()),
      staleViews: () => (!probes && this.#leases.stale ? ['leases'] : []),
      brokenInterfaces: () => new Set(),
      renew: async (leaving, timeoutMs, layer2NotReady) => {
        try {
          const version = await heartbeat.renew(leaving, timeoutMs, layer2NotReady);
          if (!leaving) await readMembership(timeoutMs, version);
          this.renewals++;
          return version;
        } catch (error) {
          this.renewFailures++;
          throw error;
        }
      },
      interfaceTable: () => TABLE,
      announcer: {
        update: (owned) => {
          this.owned = new Map(owned);
          o.onOwned(o.node, this.owned, o.clock.now());
        },
      },
      recordEvent: () => undefined,
      onStaleView: () => {
        this.#leases.restart();
      },
      onLiveNodes: (live) => {
        this.live = new Set(live);
        o.onLive(o.node, this.live, o.clock.now());
      },
      renewIntervalMs: o.timings.renewIntervalMs,
      leaseDurationMs: runner
        ? Math.min(o.timings.leaseDurationMs, probeTimingsFor(o.timings.renewIntervalMs).membershipSkewMs)
        : o.timings.leaseDurationMs,
      fenceMarginMs: o.timings.fenceMarginMs,
      handoverOverlapMs: o.timings.handoverOverlapMs,
      ...(runner ? { probes: runner } : {}),
    });
  }

  readonly readMembership: (timeoutMs: number, renewal?: string) => Promise<void>;

  /** For a failed convergence: what this participant's detector holds. */
  diagnostics(): Record<string, unknown> {
    const now = performance.now();
    return {
      node: this.node,
      fenced: this.fenced,
      renewals: this.renewals,
      renewFailures: this.renewFailures,
      sent: this.datagramsSent,
      received: this.datagramsReceived,
      members: this.#runner?.members?.size,
      answering: this.#runner?.answering(now),
      live: this.#runner?.live(now).size,
    };
  }

  /** A datagram for this participant's failure detector. */
  receive(bytes: Uint8Array): void {
    this.#runner?.receive(bytes);
  }

  get running(): boolean {
    return this.#running;
  }

  /** performance.now() when this participant (this process of its node) started. */
  startedAt = 0;

  start(): void {
    this.#running = true;
    this.startedAt = performance.now();
    if (this.#runner) {
      const runner = this.#runner;
      runner.start();
      // Until the controller lists it, the record is read every second (as the speaker does).
      const poll = (): void => {
        if (!this.#running || runner.members?.has(this.node)) return;
        this.#joinTimer = setTimeoutTimer(1000, () => {
          void this.readMembership(1000)
            .catch(() => undefined)
            .finally(poll);
        });
      };
      poll();
      this.#speaker.start(Promise.resolve());
      return;
    }
    this.#leases.start();
    this.#speaker.start(this.#leases.synced);
  }

  /** Like kill -9: falls silent at once, renews nothing more, drops its connections; its Lease stays as it was. */
  kill(): void {
    this.#running = false;
    this.#joinTimer?.cancel();
    this.#runner?.stop();
    this.#socket?.close();
    this.#speaker.stop();
    this.#leases.stop();
    this.#client.close();
  }

  /** Like SIGTERM: marks the Lease leaving, keeps answering for the overlap, then stops. */
  async leave(): Promise<void> {
    await this.#speaker.leave();
    this.#running = false;
    this.#joinTimer?.cancel();
    this.#runner?.stop();
    this.#socket?.close();
    this.#leases.stop();
    this.#client.close();
  }
}

function setTimeoutTimer(ms: number, fn: () => void): { cancel(): void } {
  const handle = setTimeout(fn, ms);
  return {
    cancel: () => {
      clearTimeout(handle);
    },
  };
}
