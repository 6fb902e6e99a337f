// The Service reconciler. Level-triggered: a pass reads the Service from the cache, asks the allocation table
// (synchronous, in memory) what it should hold, and writes status only when that differs from what the server
// has. Started only on the leader, after the caches synced; it first rebuilds the table from the Services'
// statuses (allocating nothing), so a restart never moves an address or hands one out twice.
import type { Logger } from '../platform/logger.ts';
import type { Clock } from '../core/clock.ts';
import { AllocationTable, type AssignResult, type ReleasedAddress } from '../core/ipam/allocation-table.ts';
import { compilePools } from '../core/config/pool-config.ts';
import { formatIp } from '../core/ip/ip-address.ts';
import { isOurService, readServiceRequest, type ServiceRequest } from '../core/config/service-request.ts';
import { sharingConflict } from '../core/ipam/sharing.ts';
import { recordMatches } from '../core/config/allocation-record.ts';
import { creationTime, ingressAddresses, serviceKey, type LoadBalancerIngress, type ServiceObject } from '../core/config/service-object.ts';
import type { ConfigProblem } from '../core/config/config-problem.ts';
import type { ControllerPorts } from './controller-ports.ts';
import type { ControllerMetrics } from './controller-metrics.ts';
import { WorkQueue, type Outcome } from './work-queue.ts';
import { PoolStatusReporter } from './pool-status-reporter.ts';

export interface ServiceControllerOptions {
  ports: ControllerPorts;
  clock: Clock;
  log: Logger;
  metrics: ControllerMetrics;
  loadBalancerClass: string;
  quarantineMs: number;
  /** Reconciles (status writes) in flight at once. */
  concurrency: number;
  /** Minimum interval between two status writes of one pool. */
  poolStatusIntervalMs: number;
}

function sameIngress(have: readonly LoadBalancerIngress[] | undefined, want: readonly LoadBalancerIngress[]): boolean {
  const current = have ?? [];
  return (
    current.length === want.length &&
    current.every((c, i) => c.ip === want[i]?.ip && c.ipMode === want[i]?.ipMode && c.hostname === undefined)
  );
}

/**
 * The order in which the rebuild restores Services that hold addresses: first come, first kept, so where the
 * statuses on the server now conflict (Services sharing an address whose sharing request changed before the last
 * leader reconciled it), the Service that agrees with more of the address's other holders than it disagrees with
 * goes first. The one whose request changed is then the one that moves, not the group it left. Ties (two holders,
 * nothing to tell them apart) keep creation order: the older Service wins.
 */
export function rebuildOrder<T extends { request: ServiceRequest; current: readonly bigint[] }>(holding: readonly T[]): T[] {
  const holders = new Map<bigint, ServiceRequest[]>();
  for (const { request, current } of holding) for (const address of current) holders.set(address, [...(holders.get(address) ?? []), request]);
  const support = new Map<string, number>();
  for (const { request, current } of holding) {
    let score = 0;
    for (const address of current) {
      for (const other of holders.get(address) ?? []) {
        if (other.key !== request.key) score += sharingConflict(request, other) === undefined ? 1 : -1;
      }
    }
    support.set(request.key, score);
  }
  // Array.prototype.sort is stable: equal support keeps the creation order of `holding`.
  return [...holding].sort((a, b) => (support.get(b.request.key) ?? 0) - (support.get(a.request.key) ?? 0));
}

export class ServiceController {
  readonly #o: ServiceControllerOptions;
  readonly #table: AllocationTable;
  readonly #queue: WorkQueue;
  readonly #pools: PoolStatusReporter;
  /** Services that failed to get an address: retried whenever an address frees or pools change. */
  readonly #waiting = new Set<string>();
  /** The warnings reported per Service (one per line), so a level-triggered loop does not repeat Events. */
  readonly #lastWarning = new Map<string, string>();
  /** The status we last wrote per Service and the resourceVersion it was written against. */
  readonly #lastWrite = new Map<string, { fromVersion: string | undefined; ingress: string }>();
  #problems: ConfigProblem[] = [];
  #started = false;

  constructor(options: ServiceControllerOptions) {
    this.#o = options;
    this.#table = new AllocationTable({ quarantineMs: options.quarantineMs });
    this.#queue = new WorkQueue({
      concurrency: options.concurrency,
      clock: options.clock,
      process: (key) => this.#reconcile(key),
      onError: (key, error) => {
        options.log.error({ service: key, err: error }, 'reconcile failed');
      },
    });
    this.#pools = new PoolStatusReporter({
      ports: options.ports,
      clock: options.clock,
      metrics: options.metrics,
      log: options.log,
      intervalMs: options.poolStatusIntervalMs,
      usage: (pool) => this.#table.usage(pool),
      problems: () => this.#problems,
    });
  }

  get table(): AllocationTable {
    return this.#table;
  }

  /** Rebuilds the table from the caches, then reconciles every Service. Call once the caches have synced. */
  start(): void {
    const started = this.#o.clock.now();
    this.#applyPools();
    let restored = 0;
    const services = [...this.#o.ports.services.list()].sort((a, b) => creationTime(a).localeCompare(creationTime(b)));
    const holding: Array<{ request: ServiceRequest; current: bigint[] }> = [];
    for (const svc of services) {
      if (!isOurService(svc, this.#o.loadBalancerClass) || svc.metadata.deletionTimestamp) continue;
      const request = readServiceRequest(svc);
      const current = ingressAddresses(svc);
      if (request.ok && current.length > 0) holding.push({ request: request.value, current: [...current] });
    }
    const dropped: bigint[] = [];
    for (const { request, current } of rebuildOrder(holding)) {
      const kept = this.#table.assign(request, current, {
        namespaceLabels: this.#o.ports.namespaceLabels(request.namespace),
        now: this.#o.clock.now(),
        allocate: false,
      });
      restored += kept.addresses.length;
      dropped.push(...current.filter((address) => !kept.addresses.includes(address)));
    }
    // What a status still shows but the rebuild did not keep (its Service's request changed before the last leader
    // reconciled it) rests in quarantine, as a release would have left it: it is still in that status for now.
    for (const address of dropped) this.#table.quarantineUnheld(address, this.#o.clock.now());
    this.#started = true;
    this.#queue.start();
    for (const svc of services) this.#queue.add(serviceKey(svc));
    this.#pools.start();
    this.#pools.markAll();
    this.#o.log.info(
      { services: services.length, addresses: restored, ms: Math.round(this.#o.clock.now() - started) },
      'allocation table rebuilt from Service status',
    );
  }

  async stop(graceMs: number): Promise<void> {
    this.#started = false;
    this.#pools.stop();
    await this.#queue.stop(graceMs);
  }

  serviceChanged(key: string): void {
    if (this.#started) this.#queue.add(key);
  }

  poolsChanged(): void {
    if (!this.#started) return;
    this.#applyPools();
    for (const svc of this.#o.ports.services.list()) this.#queue.add(serviceKey(svc));
    this.#pools.markAll();
  }

  namespaceChanged(namespace: string): void {
    if (!this.#started) return;
    for (const svc of this.#o.ports.services.list()) {
      if (svc.metadata.namespace === namespace) this.#queue.add(serviceKey(svc));
    }
  }

  get queueDepth(): number {
    return this.#queue.depth;
  }

  #applyPools(): void {
    const compiled = compilePools(this.#o.ports.pools());
    this.#problems = compiled.problems;
    this.#table.setPools(compiled.pools);
  }

  /** Reports a pass's failures: each once while it lasts, also when a Service fails for several families at once. */
  #warn(svc: ServiceObject, key: string, failures: ReadonlyArray<{ reason: string; message: string }>): void {
    const reported = new Set(this.#lastWarning.get(key)?.split('\n'));
    const texts = failures.map((f) => `${f.reason}: ${f.message}`);
    this.#lastWarning.set(key, texts.join('\n'));
    failures.forEach(({ reason, message }, i) => {
      this.#o.metrics.allocationFailure(reason);
      if (reported.has(texts[i] ?? '')) return;
      this.#o.log.warn({ service: key, reason }, message);
      this.#o.ports.recordEvent(svc, 'Warning', reason, message);
    });
  }

  /** Marks the pools the addresses came from for a status update, and retries the Services waiting for one. */
  #released(released: readonly ReleasedAddress[], by: string): void {
    if (released.length === 0) return;
    for (const { pool } of released) this.#pools.mark(pool);
    for (const key of this.#waiting) if (key !== by) this.#queue.add(key);
  }

  async #reconcile(key: string): Promise<Outcome> {
    const started = this.#o.clock.now();
    const svc = this.#o.ports.services.get(key);
    if (!svc || !isOurService(svc, this.#o.loadBalancerClass) || svc.metadata.deletionTimestamp) {
      const released = this.#table.release(key, this.#o.clock.now());
      this.#waiting.delete(key);
      this.#lastWarning.delete(key);
      this.#lastWrite.delete(key);
      // A Service that stopped being ours (type or class changed) loses the address we gave it.
      if (svc && !svc.metadata.deletionTimestamp && released.length > 0) {
        const outcome = await this.#write(svc, key, []);
        this.#released(released, key);
        return outcome;
      }
      this.#released(released, key);
      return 'done';
    }

    const request = readServiceRequest(svc);
    if (!request.ok) {
      this.#warn(svc, key, [request.error]);
      return 'done';
    }
    const result: AssignResult = this.#table.assign(request.value, ingressAddresses(svc), {
      namespaceLabels: this.#o.ports.namespaceLabels(request.value.namespace),
      now: this.#o.clock.now(),
    });
    for (const address of result.allocated) this.#pools.mark(this.#table.poolOf(address));
    for (const { address, why } of result.released) {
      this.#o.ports.recordEvent(svc, 'Warning', 'AddressChanged', `released ${formatIp(address)}: ${why}`);
    }
    const failed = result.failures.filter(
      (f) => !(request.value.policy === 'PreferDualStack' && result.addresses.length > 0 && f.reason === 'NoMatchingPool'),
    );
    if (failed.length > 0 && (result.addresses.length === 0 || request.value.policy === 'RequireDualStack' || failed.some((f) => f.reason !== 'NoMatchingPool'))) {
      this.#waiting.add(key);
      this.#warn(svc, key, failed);
    } else {
      this.#waiting.delete(key);
      this.#lastWarning.delete(key);
    }
    if (result.allocated.length > 0) {
      const described = result.allocated.map((a) => `${formatIp(a)} (pool ${this.#table.poolOf(a) ?? '?'})`).join(', ');
      this.#o.ports.recordEvent(svc, 'Normal', 'IPAllocated', `assigned ${described}`);
      this.#o.log.info({ service: key, ips: result.allocated.map(formatIp) }, 'assigned');
    }

    const ingress: LoadBalancerIngress[] = result.addresses.map((a) => ({ ip: formatIp(a), ipMode: 'VIP' }));
    const outcome = await this.#write(svc, key, ingress);
    // Only now may a Service waiting for a released address take it: its status write then follows ours, so the
    // API server never shows the address on both (the table is already free of it either way).
    this.#released(result.released, key);
    if (result.allocated.length > 0) this.#o.metrics.allocationSeconds((this.#o.clock.now() - started) / 1000);
    return outcome;
  }

  async #write(svc: ServiceObject, key: string, ingress: LoadBalancerIngress[]): Promise<Outcome> {
    // The allocation record (the condition speakers check before announcing) is part of a right status.
    if (sameIngress(svc.status?.loadBalancer?.ingress, ingress) && recordMatches(svc, ingress.map((i) => i.ip ?? ''))) return 'done';
    const text = JSON.stringify(ingress);
    const last = this.#lastWrite.get(key);
    // Already written against this version; the cache has not caught up with our write yet.
    if (last && last.fromVersion === svc.metadata.resourceVersion && last.ingress === text) return 'done';
    const outcome = await this.#o.ports.writeServiceStatus(svc, ingress);
    if (outcome === 'written') {
      this.#o.metrics.statusWrite('written');
      this.#lastWrite.set(key, { fromVersion: svc.metadata.resourceVersion, ingress: text });
      return 'done';
    }
    if (outcome === 'gone') {
      this.#o.metrics.statusWrite('gone');
      return 'done';
    }
    this.#o.metrics.statusWrite(outcome === 'conflict' ? 'conflict' : 'error');
    return { retry: outcome === 'conflict' ? 'conflict' : outcome.error };
  }
}

