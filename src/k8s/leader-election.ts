// Lease-based leader election (coordination.k8s.io/v1), judged by the observer's monotonic clock: a follower
// takes over when the holder's Lease has not changed for leaseDuration as measured locally, never by comparing
// wall clocks across machines. The leader steps down when it cannot renew within renewDeadline, and releases
// the Lease on stop so a successor takes over at once.
// The renew deadline runs from the start of the last successful attempt (the server's copy changed after that, so
// a follower's leaseDuration runs from later still) and is kept by a timer of its own: a renewal that hangs (an API
// server going down accepts connections and never answers) cannot keep the leader past it.
import type { Clock, Timer } from '../core/clock.ts';
import type { Logger } from '../platform/logger.ts';
import type { ApiClient } from './api/api-client.ts';
import { describeError, errorCode } from './api/api-error.ts';
import { paths } from './api/api-paths.ts';
import { microTime } from './api/micro-time.ts';

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaderElectorOptions {
  client: ApiClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  /** The leader gives up when a renewal has not succeeded for this long (< leaseDuration). */
  renewDeadlineMs: number;
  retryPeriodMs: number;
  clock: Clock;
  log: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

export class LeaderElector {
  readonly #client: ApiClient;
  readonly #namespace: string;
  readonly #name: string;
  readonly #identity: string;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #onStartedLeading: () => void;
  readonly #onStoppedLeading: () => void;
  #leading = false;
  #stopped = true;
  #timer: Timer | undefined;
  /** Steps down at #lastRenew + renewDeadline unless a renewal moves it. */
  #deadline: Timer | undefined;
  #lastRenew = 0;
  #observed: { record: string; at: number } | undefined;

  constructor(options: LeaderElectorOptions) {
    this.#client = options.client;
    this.#namespace = options.namespace;
    this.#name = options.name;
    this.#identity = options.identity;
    this.#leaseDurationMs = options.leaseDurationMs;
    this.#renewDeadlineMs = options.renewDeadlineMs;
    this.#retryPeriodMs = options.retryPeriodMs;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#onStartedLeading = options.onStartedLeading;
    this.#onStoppedLeading = options.onStoppedLeading;
  }

  /** Read through a method: the flag changes while an attempt awaits. */
  #isStopped(): boolean {
    return this.#stopped;
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /** Starts campaigning; resolves once the first attempt is over (leading or not). */
  start(): Promise<void> {
    this.#stopped = false;
    return this.#tick();
  }

  /** Stops campaigning; a leader releases the Lease so a successor need not wait for it to expire. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#deadline?.cancel();
    if (!this.#leading) return;
    this.#setLeading(false);
    try {
      const lease = await this.#client.get<Lease>(paths.lease(this.#namespace, this.#name));
      if (lease.spec?.holderIdentity === this.#identity) {
        lease.spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 };
        await this.#client.request('PUT', paths.lease(this.#namespace, this.#name), lease, { timeoutMs: 1000 });
      }
    } catch (error) {
      this.#log.warn({ err: describeError(error) }, 'could not release the leader lease');
    }
  }

  /** A successful acquire or renew that started at `attemptStart`: leads until attemptStart + renewDeadline. */
  #renewed(attemptStart: number): void {
    const left = attemptStart + this.#renewDeadlineMs - this.#clock.now();
    // So late that the deadline passed while it was in flight: a follower may be about to take over.
    if (left <= 0) return;
    this.#lastRenew = attemptStart;
    this.#deadline?.cancel();
    this.#deadline = this.#clock.after(left, () => {
      this.#deadline = undefined;
      if (this.#leading && this.#clock.now() - this.#lastRenew >= this.#renewDeadlineMs) {
        this.#log.warn(
          { identity: this.#identity, renewDeadlineMs: this.#renewDeadlineMs },
          'could not renew the leader lease in time',
        );
        this.#setLeading(false);
      }
    });
    this.#setLeading(true);
  }

  #setLeading(leading: boolean): void {
    if (leading === this.#leading) return;
    this.#leading = leading;
    this.#log.info({ identity: this.#identity, lease: this.#name }, leading ? 'became leader' : 'stopped leading');
    if (leading) this.#onStartedLeading();
    else this.#onStoppedLeading();
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#tryAcquireOrRenew();
    } catch (error) {
      this.#log.debug({ err: describeError(error) }, 'leader election attempt failed');
    }
    if (this.#leading && this.#clock.now() - this.#lastRenew > this.#renewDeadlineMs) this.#setLeading(false);
    if (this.#isStopped()) return;
    this.#timer = this.#clock.after(this.#retryPeriodMs, () => void this.#tick());
  }

  #acquiredSpec(transitions: number): NonNullable<Lease['spec']> {
    const now = microTime(this.#clock.wallTime());
    return {
      holderIdentity: this.#identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.#leaseDurationMs / 1000)),
      acquireTime: now,
      renewTime: now,
      leaseTransitions: transitions,
    };
  }

  async #tryAcquireOrRenew(): Promise<void> {
    const timeout = { timeoutMs: Math.max(500, this.#renewDeadlineMs / 2) };
    const attemptStart = this.#clock.now();
    let lease: Lease;
    try {
      lease = await this.#client.request<Lease>('GET', paths.lease(this.#namespace, this.#name), undefined, timeout);
    } catch (error) {
      if (errorCode(error) !== 404) throw error;
      await this.#client.request(
        'POST',
        paths.leases(this.#namespace),
        {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.#name, namespace: this.#namespace },
          spec: this.#acquiredSpec(0),
        },
        timeout,
      );
      this.#renewed(attemptStart);
      return;
    }
    const spec = lease.spec ?? {};
    const now = this.#clock.now();
    if (spec.holderIdentity === this.#identity) {
      lease.spec = { ...spec, renewTime: microTime(this.#clock.wallTime()) };
      await this.#client.request('PUT', paths.lease(this.#namespace, this.#name), lease, timeout);
      this.#renewed(attemptStart);
      return;
    }
    this.#setLeading(false);
    const record = `${spec.holderIdentity ?? ''}|${lease.metadata.resourceVersion ?? ''}`;
    if (this.#observed?.record !== record) this.#observed = { record, at: now };
    const leaseMs = (spec.leaseDurationSeconds ?? 15) * 1000;
    if (spec.holderIdentity && now - this.#observed.at < leaseMs) return;
    lease.spec = this.#acquiredSpec((spec.leaseTransitions ?? 0) + 1);
    await this.#client.request('PUT', paths.lease(this.#namespace, this.#name), lease, timeout);
    this.#renewed(attemptStart);
  }
}
