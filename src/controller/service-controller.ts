// The Service reconciler. Level-triggered: a pass reads the Service from the cache, asks the allocation table
// (synchronous, in memory) what it should hold, and writes status only when that differs from what the server
// has. Started only on the leader, after the caches synced; it first rebuilds the table from the Services'
// statuses (allocating nothing), so a restart never moves an address or hands one out twice.
// An address a Service gives up stays "releasing" in the table until the status write that drops it succeeds; only
// then does it go to another Service (see allocation-table.ts), and only then are the Services that wait for it
// woken (waiting-services.ts). stop() aborts the status writes in flight: a replica that stopped leading must not
// write after its successor may have started.
// Renumbering (ADR 0028): an old address stays in the status beside its successor until its window ends; the end is
// stored in the status (renumber-record.ts) and a timer only wakes the Service's pass then: a restarted controller
// reads the end back and releases the address on time.
import type { Logger } from '../platform/logger.ts';
import type { Clock, Timer } from '../core/clock.ts';
import { AllocationTable, type AssignResult, type WaitFor } from '../core/ipam/allocation-table.ts';
import { compilePools } from '../core/config/pool-config.ts';
import { familyOf, formatIp } from '../core/ip/ip-address.ts';
import { isOurService, readServiceRequest, type ServiceRequest } from '../core/config/service-request.ts';
import { sharingConflict, sharingTerms } from '../core/ipam/sharing.ts';
import { recordedAddresses, recordMatches } from '../core/config/allocation-record.ts';
import {
  recordedRenumbering,
  renumberingMatches,
  rfc3339,
  type RetiringAddress,
} from '../core/config/renumber-record.ts';
import {
  creationTime,
  ingressAddresses,
  serviceKey,
  type LoadBalancerIngress,
  type ServiceObject,
} from '../core/config/service-object.ts';
import type { ConfigProblem } from '../core/config/config-problem.ts';
import type { ControllerPorts, ServiceEventReason } from './controller-ports.ts';
import type { ControllerMetrics } from './controller-metrics.ts';
import { WorkQueue, type Outcome } from './work-queue.ts';
import { PoolStatusReporter } from './pool-status-reporter.ts';
import { WaitingServices } from './waiting-services.ts';

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
  /** For tests: the work queue's yield to the event loop between passes (default: the next turn). */
  yieldToLoop?: () => Promise<void>;
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
export function rebuildOrder<T extends { request: ServiceRequest; current: readonly bigint[] }>(
  holding: readonly T[],
): T[] {
  const holders = new Map<bigint, ServiceRequest[]>();
  for (const { request, current } of holding)
    for (const address of current) holders.set(address, [...(holders.get(address) ?? []), request]);
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
  readonly #ports: ControllerPorts;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: ControllerMetrics;
  readonly #loadBalancerClass: string;
  readonly #table: AllocationTable;
  readonly #queue: WorkQueue;
  readonly #pools: PoolStatusReporter;
  /** Services that failed to get an address, by what they wait for: retried when that frees, or pools change. */
  readonly #waiting = new WaitingServices();
  /** Orders wakes against passes (see WaitingServices.passDone). */
  #seq = 0;
  /** Status writes in flight, aborted by stop(). */
  readonly #writes = new Set<AbortController>();
  #writesAborted = false;
  /** The warnings reported per Service (one per line), so a level-triggered loop does not repeat Events. */
  readonly #lastWarning = new Map<string, string>();
  /** The status we last wrote per Service and the resourceVersion it was written against. */
  readonly #lastWrite = new Map<string, { fromVersion: string | undefined; ingress: string }>();
  #problems: ConfigProblem[] = [];
  #started = false;
  /** Per Service, the timer that wakes its pass when its earliest renumbering window ends (and that end). */
  readonly #windowTimers = new Map<string, { until: number; timer: Timer }>();

  constructor(options: ServiceControllerOptions) {
    this.#ports = options.ports;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#loadBalancerClass = options.loadBalancerClass;
    this.#table = new AllocationTable({ quarantineMs: options.quarantineMs });
    this.#queue = new WorkQueue({
      concurrency: options.concurrency,
      clock: options.clock,
      process: (key) => this.#reconcile(key),
      onError: (key, error) => {
        options.log.error({ service: key, err: error }, 'reconcile failed');
      },
      ...(options.yieldToLoop ? { yieldToLoop: options.yieldToLoop } : {}),
    });
    this.#pools = new PoolStatusReporter({
      ports: options.ports,
      clock: options.clock,
      metrics: options.metrics,
      log: options.log,
      intervalMs: options.poolStatusIntervalMs,
      usage: (pool) => this.#table.usage(pool),
      holders: (pool, limit) => this.#table.holdersInPool(pool, limit),
      problems: () => this.#problems,
    });
  }

  get table(): AllocationTable {
    return this.#table;
  }

  /** Rebuilds the table from the caches, then reconciles every Service. Call once the caches have synced. */
  start(): void {
    const started = this.#clock.now();
    this.#applyPools();
    let restored = 0;
    const services = [...this.#ports.services.list()].sort((a, b) => creationTime(a).localeCompare(creationTime(b)));
    const holding: Array<{ request: ServiceRequest; current: bigint[]; retiring: RetiringAddress[] }> = [];
    const invalid: Array<{ key: string; address: bigint }> = [];
    for (const svc of services) {
      if (!isOurService(svc, this.#loadBalancerClass) || svc.metadata.deletionTimestamp) continue;
      const request = readServiceRequest(svc);
      const current = ingressAddresses(svc);
      if (current.length === 0) continue;
      // Renumbering windows as the status records them, for addresses the allocation record holds too (that record
      // only the controller may write; the speakers announce nothing else).
      const recorded = recordedAddresses(svc);
      const retiring = recordedRenumbering(svc).filter((r) => current.includes(r.address) && recorded.has(r.address));
      if (request.ok) holding.push({ request: request.value, current: [...current], retiring });
      // A request that became invalid while no leader reconciled it: its status (and kube-proxy) still serve the
      // addresses, so they are nobody else's until that status changes, as a running leader keeps them.
      else for (const address of current) invalid.push({ key: serviceKey(svc), address });
    }
    const dropped: Array<{ key: string; address: bigint }> = [];
    for (const { request, current, retiring } of rebuildOrder(holding)) {
      const kept = this.#table.assign(request, current, {
        namespaceLabels: this.#ports.namespaceLabels(request.namespace),
        now: this.#clock.now(),
        wallNow: this.#clock.wallTime().getTime(),
        allocate: false,
        retiring,
      });
      restored += kept.addresses.length + kept.retiring.length;
      const keptAll = [...kept.addresses, ...kept.retiring.map((r) => r.address)];
      for (const address of current) if (!keptAll.includes(address)) dropped.push({ key: request.key, address });
    }
    // What a status still shows but the rebuild did not keep (its Service's request changed before the last leader
    // reconciled it) is releasing, as if that Service had just given it up: nobody gets it before that status changes.
    for (const { key, address } of [...dropped, ...invalid]) this.#table.shownButNotHeld(key, address);
    this.#started = true;
    this.#queue.start();
    for (const svc of services) this.#queue.add(serviceKey(svc));
    this.#pools.start();
    this.#pools.markAll();
    this.#log.info(
      { services: services.length, addresses: restored, ms: Math.round(this.#clock.now() - started) },
      'allocation table rebuilt from Service status',
    );
  }

  /**
   * Stops taking work, lets status writes in flight finish for up to `graceMs`, then aborts them (0: at once, as on
   * losing leadership, where a write may not land after a successor may have taken over).
   */
  async stop(graceMs: number): Promise<void> {
    this.#started = false;
    this.#pools.stop();
    for (const { timer } of this.#windowTimers.values()) timer.cancel();
    this.#windowTimers.clear();
    if (graceMs <= 0) this.#abortWrites();
    await this.#queue.stop(graceMs);
    this.#abortWrites();
  }

  #abortWrites(): void {
    this.#writesAborted = true;
    for (const write of this.#writes) write.abort();
    this.#writes.clear();
  }

  serviceChanged(key: string): void {
    if (this.#started) this.#queue.add(key);
  }

  poolsChanged(): void {
    if (!this.#started) return;
    this.#applyPools();
    for (const svc of this.#ports.services.list()) this.#queue.add(serviceKey(svc));
    this.#pools.markAll();
  }

  namespaceChanged(namespace: string): void {
    if (!this.#started) return;
    for (const svc of this.#ports.services.list()) {
      if (svc.metadata.namespace === namespace) this.#queue.add(serviceKey(svc));
    }
  }

  get queueDepth(): number {
    return this.#queue.depth;
  }

  /** Services waiting for an address. */
  get waiting(): number {
    return this.#waiting.size;
  }

  #applyPools(): void {
    const compiled = compilePools(this.#ports.pools());
    this.#problems = compiled.problems;
    this.#table.setPools(compiled.pools);
  }

  /** Reports a pass's failures: each once while it lasts, also when a Service fails for several families at once. */
  #warn(
    svc: ServiceObject,
    key: string,
    failures: ReadonlyArray<{ reason: ServiceEventReason; message: string }>,
  ): void {
    const reported = new Set(this.#lastWarning.get(key)?.split('\n'));
    const texts = failures.map((f) => `${f.reason}: ${f.message}`);
    this.#lastWarning.set(key, texts.join('\n'));
    failures.forEach(({ reason, message }, i) => {
      this.#metrics.allocationFailure(reason);
      if (reported.has(texts[i] ?? '')) return;
      this.#log.warn({ service: key, reason }, message);
      this.#ports.recordEvent(svc, 'Warning', reason, message);
    });
  }

  /** Reconciles the Services that a change to `targets` may unblock (see WaitingServices). */
  #wake(targets: readonly WaitFor[], by: string): void {
    for (const target of targets) {
      // A pool's address is handed to one waiter, even the Service whose pass freed it: skipping it would strand it.
      for (const key of this.#waiting.wake(target, ++this.#seq))
        if (key !== by || target.kind === 'pool') this.#queue.add(key);
    }
  }

  /** Addresses whose holders changed or that no status shows any more: their pools' usage, and their waiters. */
  #changed(addresses: readonly bigint[], by: string): void {
    for (const address of addresses) {
      const pool = this.#table.poolOf(address) ?? this.#table.poolContaining(address);
      if (pool) this.#pools.mark(pool);
      this.#wake(this.#table.wakeTargets(address), by);
    }
  }

  /** Wakes the Service's pass when the earliest of its renumbering windows ends (none: no timer). */
  #scheduleWindowEnd(key: string, retiring: readonly RetiringAddress[]): void {
    const until = retiring.length > 0 ? Math.min(...retiring.map((r) => r.until)) : undefined;
    const current = this.#windowTimers.get(key);
    if (current?.until === until) return;
    current?.timer.cancel();
    this.#windowTimers.delete(key);
    if (until === undefined || !this.#started) return;
    // Wall-clock end, monotonic timer: a little late rather than early (the pass compares wall-clock times again).
    const delay = Math.max(0, until - this.#clock.wallTime().getTime()) + 20;
    const timer = this.#clock.after(delay, () => {
      this.#windowTimers.delete(key);
      this.#queue.add(key);
    });
    this.#windowTimers.set(key, { until, timer });
  }

  /** Another Service's request as the cache has it now (its own pass may not have run yet). */
  #currentRequest(key: string): ServiceRequest | undefined {
    const svc = this.#ports.services.get(key);
    if (!svc || !isOurService(svc, this.#loadBalancerClass) || svc.metadata.deletionTimestamp) return undefined;
    const request = readServiceRequest(svc);
    return request.ok ? request.value : undefined;
  }

  /** The server shows `addresses` in `key`'s status now: releases of anything else by it are complete. */
  #statusShows(key: string, addresses: readonly bigint[]): void {
    const done = this.#table.statusWritten(key, addresses, this.#clock.now());
    if (done.length > 0) this.#log.info({ service: key, ips: done.map(formatIp) }, 'released');
    this.#changed(done, key);
  }

  async #reconcile(key: string): Promise<Outcome> {
    const pass = ++this.#seq;
    try {
      return await this.#pass(key);
    } finally {
      // Pool addresses this Service was woken for and did not take go to the next waiter.
      for (const target of this.#waiting.passDone(key, pass)) {
        if (this.#table.hasAvailable(target.pool, target.family)) this.#wake([target], key);
      }
    }
  }

  // Long (~125 lines): one pass in its order (read the Service, assign, release, warn, write), kept whole so a pass reads top to bottom.
  async #pass(key: string): Promise<Outcome> {
    const started = this.#clock.now();
    const svc = this.#ports.services.get(key);
    if (!svc || !isOurService(svc, this.#loadBalancerClass) || svc.metadata.deletionTimestamp) {
      // A Service that stopped being ours (type or class changed) loses the addresses we gave it; they are releasing
      // until its status no longer shows them. A Service that is gone shows nothing any more.
      const stillShown = svc !== undefined && !svc.metadata.deletionTimestamp;
      const released = this.#table.release(key, this.#clock.now(), stillShown);
      this.#scheduleWindowEnd(key, []);
      this.#waiting.delete(key);
      this.#lastWarning.delete(key);
      this.#lastWrite.delete(key);
      for (const { pool } of released) this.#pools.mark(pool);
      if (!stillShown) {
        this.#changed(
          released.map((r) => r.address),
          key,
        );
        return 'done';
      }
      if (this.#table.releasingBy(key).length === 0) return 'done';
      const outcome = await this.#write(svc, key, [], []);
      if (outcome === 'done') this.#statusShows(key, []);
      return outcome;
    }

    const request = readServiceRequest(svc);
    if (!request.ok) {
      this.#warn(svc, key, [request.error]);
      return 'done';
    }
    const before = this.#table.requestOf(key);
    const wasRetiring = new Set(this.#table.retiringOf(key).map((r) => r.address));
    const wallNow = this.#clock.wallTime().getTime();
    const result: AssignResult = this.#table.assign(request.value, ingressAddresses(svc), {
      namespaceLabels: this.#ports.namespaceLabels(request.value.namespace),
      now: this.#clock.now(),
      wallNow,
      currentRequest: (other) => this.#currentRequest(other),
    });
    for (const address of result.allocated) this.#pools.mark(this.#table.poolOf(address));
    for (const { address, why, pool } of result.released) {
      this.#pools.mark(pool);
      const now = result.addresses.map(formatIp).join(', ') || 'none';
      if (wasRetiring.has(address)) {
        // The end of a renumbering window: planned, so Normal; cut short (the address left its pool): Warning.
        const message = `released ${formatIp(address)}: ${why}; the Service's address is ${now}`;
        if (why === 'its renumbering window ended')
          this.#ports.recordEvent(svc, 'Normal', 'RenumberCompleted', message);
        else this.#ports.recordEvent(svc, 'Warning', 'AddressChanged', message);
      } else this.#ports.recordEvent(svc, 'Warning', 'AddressChanged', `released ${formatIp(address)}: ${why}`);
      this.#log.info({ service: key, ip: formatIp(address), why }, 'releasing');
    }
    for (const { address, until, successor } of result.renumbered) {
      const text = `moving from ${formatIp(address)} to ${formatIp(successor)}: both are announced until ${rfc3339(until)} (window ${Math.round((until - wallNow) / 1000)}s), then ${formatIp(address)} is released`;
      this.#ports.recordEvent(svc, 'Normal', 'RenumberStarted', text);
      this.#log.info(
        { service: key, ip: formatIp(address), successor: formatIp(successor), until: rfc3339(until) },
        'renumbering',
      );
    }
    if (result.withheld.length > 0)
      this.#log.debug({ service: key, ips: result.withheld.map(formatIp) }, 'withheld until released elsewhere');
    const failed = result.failures.filter(
      (f) =>
        !(
          request.value.policy === 'PreferDualStack' &&
          result.addresses.length > 0 &&
          f.reason === 'NoMatchingPool' &&
          f.keeping === undefined
        ),
    );
    // Held but not to be shown yet (another status still shows it, given up): shown once that release is written.
    const withheld: WaitFor[] = result.withheld.map((address) => ({ kind: 'address', address }));
    // A move that must wait (renumbering) is always reported: the Service keeps an address it was meant to leave.
    const reported = (f: (typeof failed)[number]): boolean => f.reason !== 'NoMatchingPool' || f.keeping !== undefined;
    if (
      failed.length > 0 &&
      (result.addresses.length === 0 || request.value.policy === 'RequireDualStack' || failed.some(reported))
    ) {
      this.#waiting.set(key, [...failed.flatMap((f) => f.waitFor), ...withheld]);
      this.#warn(svc, key, failed);
    } else {
      if (withheld.length > 0) this.#waiting.set(key, withheld);
      else this.#waiting.delete(key);
      this.#lastWarning.delete(key);
    }
    if (result.allocated.length > 0) {
      const described = result.allocated.map((a) => `${formatIp(a)} (pool ${this.#table.poolOf(a) ?? '?'})`).join(', ');
      this.#ports.recordEvent(svc, 'Normal', 'IPAllocated', `assigned ${described}`);
      this.#log.info({ service: key, ips: result.allocated.map(formatIp) }, 'assigned');
    }

    // The Service's own addresses first (tools that read only the first entry get the new one), then the old ones
    // whose renumbering windows are open: kube-proxy programs every entry, and the speakers announce every recorded one.
    const shown = [
      ...result.addresses.filter((a) => !result.withheld.includes(a)),
      ...result.retiring.map((r) => r.address),
    ];
    const ingress: LoadBalancerIngress[] = shown.map((a) => ({ ip: formatIp(a), ipMode: 'VIP' }));
    const outcome = await this.#write(svc, key, ingress, result.retiring);
    this.#scheduleWindowEnd(key, result.retiring);
    if (outcome === 'done') {
      // Only now may another Service take what this one gave up: its status write then follows ours, so the API
      // server never shows the address on both. Until then the table keeps it releasing.
      this.#statusShows(key, shown);
      // Services with the same sharing key that wait may join what this one took.
      const sharingKey = request.value.sharingKey;
      if (sharingKey)
        this.#wake(
          result.allocated.map((a) => ({ kind: 'sharing', sharingKey, family: familyOf(a) })),
          key,
        );
      // Its terms of sharing changed: Services refused one of its addresses may now share it (or the other way).
      if (before && sharingTerms(before) !== sharingTerms(request.value)) {
        for (const address of result.addresses)
          this.#wake(
            this.#table.wakeTargets(address).filter((t) => t.kind !== 'pool'),
            key,
          );
      }
    }
    if (result.allocated.length > 0) this.#metrics.allocationSeconds((this.#clock.now() - started) / 1000);
    return outcome;
  }

  async #write(
    svc: ServiceObject,
    key: string,
    ingress: LoadBalancerIngress[],
    retiring: readonly RetiringAddress[],
  ): Promise<Outcome> {
    // The allocation record (the condition speakers check before announcing) and the renumbering record are part of
    // a right status.
    const ips = ingress.map((i) => i.ip ?? '');
    if (
      sameIngress(svc.status?.loadBalancer?.ingress, ingress) &&
      recordMatches(svc, ips) &&
      renumberingMatches(svc, retiring)
    )
      return 'done';
    const text = JSON.stringify([ingress, retiring.map((r) => [formatIp(r.address), r.until])]);
    const last = this.#lastWrite.get(key);
    // Already written against this version; the cache has not caught up with our write yet.
    if (last && last.fromVersion === svc.metadata.resourceVersion && last.ingress === text) return 'done';
    if (this.#writesAborted) return { retry: 'stopped' };
    const write = new AbortController();
    this.#writes.add(write);
    let outcome: Awaited<ReturnType<ControllerPorts['writeServiceStatus']>>;
    try {
      outcome = await this.#ports.writeServiceStatus(svc, ingress, retiring, write.signal);
    } finally {
      this.#writes.delete(write);
    }
    // Stopped while it was in flight: whatever the server did, this replica no longer acts on it.
    if (write.signal.aborted) return { retry: 'stopped' };
    if (outcome === 'written') {
      this.#metrics.statusWrite('written');
      this.#lastWrite.set(key, { fromVersion: svc.metadata.resourceVersion, ingress: text });
      return 'done';
    }
    if (outcome === 'gone') {
      this.#metrics.statusWrite('gone');
      return 'done';
    }
    this.#metrics.statusWrite(outcome === 'conflict' ? 'conflict' : 'error');
    return { retry: outcome === 'conflict' ? 'conflict' : outcome.error };
  }
}
