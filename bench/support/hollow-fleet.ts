// Many hollow speakers (hollow-speaker.ts) in one process against one real API server: starts them, waits until
// every one sees every other live and each address has exactly one owner, kills one like kill -9 and measures
// how long until every other participant has declared it dead and its addresses have new owners.
import { allocationCondition } from '../../src/core/config/allocation-record.ts';
import type { IPPool, L2Advertisement } from '../../src/core/config/api-types.generated.ts';
import type { Layer2Inputs } from '../../src/core/config/layer2-plan.ts';
import type { ServiceObject } from '../../src/core/config/service-object.ts';
import { formatIp, ipv4 } from '../../src/core/ip/ip-address.ts';
import { connectionFromKubeconfig } from '../../src/k8s/api/kube-config.ts';
import type { ControlPlane } from '../../src/lab/control-plane.ts';
import { INSTALL_NAMESPACE } from '../../src/lab/component-process.ts';
import { systemClock } from '../../src/platform/clock.ts';
import { createLogger } from '../../src/platform/logger.ts';
import type { OwnedAddress } from '../../src/speaker/layer2/layer2-announcer.ts';
import { HollowSpeaker, type Detection, type HollowTimings } from './hollow-speaker.ts';
import { MembershipPublisher } from '../../src/k8s/speaker-membership.ts';
import { ApiClient } from '../../src/k8s/api/api-client.ts';
import { openProbeSocket, type ProbeSocket } from '../../src/platform/probe-transport.ts';

/** The speaker's defaults (src/cmd/speaker-command.ts). */
export const DEFAULT_TIMINGS: HollowTimings = {
  renewIntervalMs: 1000,
  leaseDurationMs: 3000,
  fenceMarginMs: 500,
  handoverOverlapMs: 1000,
  staleAfterMs: 10_000,
};
/** The speaker's defaults with --failure-detection=probes. */
export const PROBE_TIMINGS: HollowTimings = {
  renewIntervalMs: 10_000,
  leaseDurationMs: 40_000,
  fenceMarginMs: 2000,
  handoverOverlapMs: 1000,
  staleAfterMs: 10_000,
};

export function hollowNodeName(i: number): string {
  return `hollow-${String(i + 1).padStart(4, '0')}`;
}

/**
 * `addresses` Services of ours (one IPv4 address each from 198.51.100.0/24 then 203.0.113.0/24) in one pool,
 * announced by one advertisement from every node.
 */
export function hollowWorld(nodes: readonly string[], addresses: number): Layer2Inputs {
  if (addresses > 500) throw new Error('the hollow world holds at most 500 addresses');
  const addressAt = (i: number): string => formatIp(i < 250 ? ipv4(198, 51, 100, i + 2) : ipv4(203, 0, 113, i - 248));
  const services: ServiceObject[] = Array.from({ length: addresses }, (_, i) => ({
    metadata: { namespace: 'scale', name: `svc-${i}` },
    spec: { type: 'LoadBalancer', ports: [{ port: 443, protocol: 'TCP' }] },
    // With the controller's allocation record: speakers announce only recorded addresses (ADR 0015).
    status: {
      loadBalancer: { ingress: [{ ip: addressAt(i) }] },
      conditions: [allocationCondition([addressAt(i)], '2026-01-01T00:00:00Z')],
    },
  }));
  const pool: IPPool = {
    apiVersion: 'beaconlb.io/v1alpha1',
    kind: 'IPPool',
    metadata: { name: 'scale', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { addresses: ['198.51.100.0/24', '203.0.113.0/24'] },
  };
  const advertisement: L2Advertisement = {
    apiVersion: 'beaconlb.io/v1alpha1',
    kind: 'L2Advertisement',
    metadata: { name: 'scale' },
    spec: {},
  };
  return {
    services,
    pools: [pool],
    advertisements: [advertisement],
    nodes: nodes.map((name) => ({ metadata: { name, labels: { 'kubernetes.io/hostname': name } } })),
    endpointSlices: [],
    namespaces: [],
    loadBalancerClass: 'beaconlb.io/beaconlb',
  };
}

export interface FailoverSample {
  victim: string;
  /** Addresses the victim owned when it was killed. */
  owned: number;
  /** Kill -> the last of the other participants no longer counts the victim live. */
  allDeclaredDeadMs: number;
  /** Kill -> the median participant no longer counts it live. */
  medianDeclaredDeadMs: number;
  /** Kill -> every address the victim owned is owned by another participant. */
  newOwnersMs: number;
}

export interface FleetOptions {
  cp: ControlPlane;
  count: number;
  addresses: number;
  timings?: HollowTimings;
  /** Participants started per 100 ms (spreads the TLS handshakes and the first lists). */
  startRate?: number;
  /** Lease liveness (default) or probes, with the controller's membership publisher in this process. */
  detection?: Detection;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class HollowFleet {
  readonly names: string[];
  readonly timings: HollowTimings;
  readonly #o: FleetOptions;
  readonly #participants = new Map<string, HollowSpeaker>();
  readonly #world: Layer2Inputs;
  readonly #log = createLogger({ level: 'silent', component: 'hollow-speaker' });
  /** Each hollow node's kubeconfig: a token bound to a Pod on that node, as a DaemonSet's speaker has. */
  readonly #kubeconfigs = new Map<string, string>();
  /** While a failover is measured: the victim, the kill time, and the first time each observer lost it. */
  #trial: { victim: string; at: number; dead: Map<string, number>; pending: Set<bigint>; movedAt?: number } | undefined;
  /** Ownership passes whose live set lacked a running participant outside a trial (a false death). */
  falseDeaths = 0;
  #steady = false;
  #runningCount = 0;
  #publisher: MembershipPublisher | undefined;
  #publisherClient: ApiClient | undefined;

  constructor(o: FleetOptions) {
    this.#o = o;
    this.timings = o.timings ?? DEFAULT_TIMINGS;
    this.names = Array.from({ length: o.count }, (_, i) => hollowNodeName(i));
    this.#world = hollowWorld(this.names, o.addresses);
  }

  get participants(): HollowSpeaker[] {
    return [...this.#participants.values()];
  }

  get detection(): Detection {
    return this.#o.detection ?? 'lease';
  }

  async #create(node: string): Promise<HollowSpeaker> {
    if (this.detection !== 'probes') return this.#make(node, undefined);
    const holder: { speaker?: HollowSpeaker } = {};
    const opened = await openProbeSocket({
      port: 0,
      bindAddress: '127.0.0.1',
      onDatagram: (d) => holder.speaker?.receive(d.bytes),
    });
    if (!opened.ok) throw new Error(opened.error);
    holder.speaker = this.#make(node, opened.value);
    return holder.speaker;
  }

  #make(node: string, socket: ProbeSocket | undefined): HollowSpeaker {
    const speaker = new HollowSpeaker({
      detection: this.detection,
      ...(socket ? { socket } : {}),
      node,
      connection: connectionFromKubeconfig(this.#kubeconfigOf(node)),
      namespace: INSTALL_NAMESPACE,
      clock: systemClock,
      log: this.#log,
      timings: this.timings,
      world: () => this.#world,
      onLive: (observer, live, at) => {
        this.#observeLive(observer, live, at);
      },
      onOwned: (owner, owned, at) => {
        this.#observeOwned(owner, owned, at);
      },
    });
    this.#participants.set(node, speaker);
    this.#runningCount++;
    return speaker;
  }

  /**
   * The speaker's ServiceAccount with a token bound to a Pod on the node (the Lease admission policy lets a speaker
   * write only its own node's Lease, ADR 0015): one Pod object and one TokenRequest per hollow node, made once.
   */
  #kubeconfigOf(node: string): string {
    let path = this.#kubeconfigs.get(node);
    if (!path)
      this.#kubeconfigs.set(node, (path = this.#o.cp.nodeBoundKubeconfig(INSTALL_NAMESPACE, 'beaconlb-speaker', node)));
    return path;
  }

  /** Starts every participant with the speaker's ServiceAccount (as a DaemonSet's pods would). */
  async start(): Promise<void> {
    for (const name of this.names) this.#kubeconfigOf(name);
    if (this.detection === 'probes') {
      // The controller leader's duty: the membership record and the key, over the controller's ServiceAccount.
      this.#publisherClient = new ApiClient(
        connectionFromKubeconfig(this.#o.cp.serviceAccountKubeconfig(INSTALL_NAMESPACE, 'beaconlb-controller')),
        'beaconlb-controller/bench',
      );
      this.#publisher = new MembershipPublisher({
        client: this.#publisherClient,
        clock: systemClock,
        log: this.#log,
        namespace: INSTALL_NAMESPACE,
        keyRotationMs: 0,
        minIntervalMs: 3 * this.timings.renewIntervalMs,
      });
      this.#publisher.start();
    }
    const rate = this.#o.startRate ?? 20;
    for (let i = 0; i < this.names.length; i++) {
      (await this.#create(this.names[i]!)).start();
      if ((i + 1) % rate === 0) await sleep(100);
    }
  }

  /** Running participants whose live set is not exactly the running participants. */
  viewProblems(): string[] {
    const running = this.participants.filter((p) => p.running).map((p) => p.node);
    const runningSet = new Set(running);
    const problems: string[] = [];
    for (const p of this.participants) {
      if (!p.running) continue;
      const missing =
        p.live.size === running.length && [...p.live].every((n) => runningSet.has(n))
          ? []
          : running.filter((n) => !p.live.has(n));
      const extra = [...p.live].filter((n) => !runningSet.has(n));
      if (missing.length || extra.length)
        problems.push(
          `${p.node}: missing ${missing.length} (${missing.slice(0, 3).join(', ')}), extra ${extra.length} (${extra.slice(0, 3).join(', ')})`,
        );
    }
    return problems;
  }

  /** Addresses of the world with no owner or more than one among running participants. */
  ownershipProblems(): string[] {
    const owners = new Map<bigint, string[]>();
    for (const p of this.participants) {
      if (!p.running) continue;
      for (const address of p.owned.keys()) owners.set(address, [...(owners.get(address) ?? []), p.node]);
    }
    const byText = new Map([...owners].map(([address, nodes]) => [formatIp(address), nodes]));
    const problems: string[] = [];
    for (const svc of this.#world.services) {
      const text = svc.status?.loadBalancer?.ingress?.[0]?.ip ?? '';
      const found = byText.get(text) ?? [];
      if (found.length !== 1) problems.push(`${text}: ${found.length} owners (${found.join(', ')})`);
    }
    return problems;
  }

  /** Waits until there are no view or ownership problems; throws with them after timeoutMs. */
  async converged(timeoutMs: number): Promise<number> {
    const start = performance.now();
    for (;;) {
      const problems = [...this.viewProblems(), ...this.ownershipProblems()];
      if (problems.length === 0) return performance.now() - start;
      if (performance.now() - start > timeoutMs) {
        const detail =
          this.detection === 'probes'
            ? ` detectors: ${JSON.stringify(this.participants.slice(0, 4).map((p) => p.diagnostics()))}`
            : '';
        throw new Error(
          `not converged after ${timeoutMs} ms: ${problems.length} problems, e.g. ${problems.slice(0, 5).join('; ')}${detail}`,
        );
      }
      await sleep(50);
    }
  }

  /** From now on, an ownership pass that lacks a running participant counts as a false death. */
  watchForFalseDeaths(on: boolean): void {
    this.#steady = on;
  }

  /** A running participant that owns at least one address, preferring ones not in `avoid`. */
  pickOwner(avoid: ReadonlySet<string>): HollowSpeaker {
    const owners = this.participants.filter((p) => p.running && p.owned.size > 0);
    const fresh = owners.filter((p) => !avoid.has(p.node));
    const pick = fresh[0] ?? owners[0];
    if (!pick)
      throw new Error(
        `no participant owns an address: ${JSON.stringify(this.participants.slice(0, 4).map((p) => ({ ...p.diagnostics(), owned: p.owned.size })))}`,
      );
    return pick;
  }

  /** Kills `victim` like kill -9 and measures until every other participant declared it dead and its addresses moved. */
  async killAndMeasure(victim: HollowSpeaker, timeoutMs: number): Promise<FailoverSample> {
    const at = performance.now();
    this.#trial = { victim: victim.node, at, dead: new Map(), pending: new Set(victim.owned.keys()) };
    const owned = victim.owned.size;
    victim.kill();
    this.#runningCount--;
    // With probes a process believes no DOWN vote for 3 x membershipSkew after it started (ADR 0019, P4 rule 3): a
    // participant restarted by an earlier trial does not declare anyone dead for 90 s, by design; it is left out of
    // "all declared dead" (the others take the addresses over).
    const believesVotesAfterMs = this.detection === 'probes' ? 9 * this.timings.renewIntervalMs : 0;
    const observers = this.participants.filter((p) => p.running && at - p.startedAt >= believesVotesAfterMs);
    try {
      for (;;) {
        const trial = this.#trial;
        if (observers.every((p) => trial.dead.has(p.node)) && trial.movedAt !== undefined) break;
        if (performance.now() - at > timeoutMs) {
          const alive = observers.filter((p) => !trial.dead.has(p.node)).map((p) => p.node);
          throw new Error(
            `after ${timeoutMs} ms ${alive.length} participants still count ${victim.node} live (${alive.slice(0, 5).join(', ')}); ${trial.pending.size} of its addresses unowned`,
          );
        }
        await sleep(20);
      }
      const dead = this.#trial.dead;
      const times = observers
        .flatMap((p) => {
          const t = dead.get(p.node);
          return t === undefined ? [] : [t - at];
        })
        .sort((a, b) => a - b);
      return {
        victim: victim.node,
        owned,
        allDeclaredDeadMs: Math.round(times[times.length - 1] ?? Number.NaN),
        medianDeclaredDeadMs: Math.round(times[Math.floor(times.length / 2)] ?? Number.NaN),
        newOwnersMs: Math.round((this.#trial.movedAt ?? Number.NaN) - at),
      };
    } finally {
      this.#trial = undefined;
    }
  }

  /** Starts a fresh participant under a killed one's name (a restarted speaker). */
  async restart(node: string): Promise<void> {
    (await this.#create(node)).start();
  }

  /** Failure-detector datagrams sent by all participants so far. */
  get datagramsSent(): number {
    return this.participants.reduce((s, p) => s + p.datagramsSent, 0);
  }

  async stop(): Promise<void> {
    this.#publisher?.stop();
    this.#publisherClient?.close();
    for (const p of this.participants) if (p.running) p.kill();
    this.#participants.clear();
    this.#runningCount = 0;
    await sleep(0);
  }

  #observeLive(observer: string, live: ReadonlySet<string>, at: number): void {
    const trial = this.#trial;
    if (trial && observer !== trial.victim && !live.has(trial.victim) && !trial.dead.has(observer))
      trial.dead.set(observer, at);
    // Outside trials the live set should be exactly the running participants: fewer means one was called dead.
    if (this.#steady && !trial && live.size < this.#runningCount) this.falseDeaths++;
  }

  #observeOwned(owner: string, owned: ReadonlyMap<bigint, OwnedAddress>, at: number): void {
    const trial = this.#trial;
    if (!trial || owner === trial.victim) return;
    for (const address of owned.keys()) trial.pending.delete(address);
    if (trial.pending.size === 0) trial.movedAt ??= at;
  }
}
