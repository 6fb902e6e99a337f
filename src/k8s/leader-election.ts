// Lease-based leader election (coordination.k8s.io/v1), judged by the observer's monotonic clock: a follower
// takes over when the holder's Lease has not changed for leaseDuration as measured locally, never by comparing
// wall clocks across machines. The leader steps down when it cannot renew within renewDeadline, and releases
// the Lease on stop so a successor takes over at once.
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import type { Clock, Timer } from '../core/clock.ts';
import type { Logger } from '../platform/logger.ts';
import { apiErrorCode, describeApiError } from './kube-client.ts';

export interface LeaderElectorOptions {
  coordination: CoordinationV1Api;
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


/** Lease times are MicroTime: the API server refuses millisecond precision, so every time is re-wrapped. */
function withMicroTimes(spec: NonNullable<V1Lease['spec']>): NonNullable<V1Lease['spec']> {
  return {
    ...spec,
    ...(spec.acquireTime ? { acquireTime: new V1MicroTime(spec.acquireTime) } : {}),
    ...(spec.renewTime ? { renewTime: new V1MicroTime(spec.renewTime) } : {}),
  };
}

export class LeaderElector {
  readonly #o: LeaderElectorOptions;
  #leading = false;
  #stopped = true;
  #timer: Timer | undefined;
  #lastRenew = 0;
  #observed: { record: string; at: number } | undefined;

  constructor(options: LeaderElectorOptions) {
    this.#o = options;
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  start(): void {
    this.#stopped = false;
    void this.#tick();
  }

  /** Stops campaigning; a leader releases the Lease (bounded by the request timeout of the client). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    if (!this.#leading) return;
    this.#setLeading(false);
    try {
      const lease = await this.#o.coordination.readNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace });
      if (lease.spec?.holderIdentity === this.#o.identity) {
        lease.spec = withMicroTimes({ ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 });
        await this.#o.coordination.replaceNamespacedLease({ name: this.#o.name, namespace: this.#o.namespace, body: lease });
      }
    } catch (error) {
      this.#o.log.warn({ err: describeApiError(error) }, 'could not release the leader lease');
    }
  }

  #setLeading(leading: boolean): void {
    if (leading === this.#leading) return;
    this.#leading = leading;
    this.#o.log.info({ identity: this.#o.identity, lease: this.#o.name }, leading ? 'became leader' : 'stopped leading');
    if (leading) this.#o.onStartedLeading();
    else this.#o.onStoppedLeading();
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#tryAcquireOrRenew();
    } catch (error) {
      this.#o.log.debug({ err: describeApiError(error) }, 'leader election attempt failed');
    }
    if (this.#leading && this.#o.clock.now() - this.#lastRenew > this.#o.renewDeadlineMs) this.#setLeading(false);
    if (this.#stopped) return;
    this.#timer = this.#o.clock.after(this.#o.retryPeriodMs, () => void this.#tick());
  }

  #spec(transitions: number): NonNullable<V1Lease['spec']> {
    const now = new V1MicroTime(this.#o.clock.wallTime());
    return {
      holderIdentity: this.#o.identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.#o.leaseDurationMs / 1000)),
      acquireTime: now,
      renewTime: now,
      leaseTransitions: transitions,
    };
  }

  async #tryAcquireOrRenew(): Promise<void> {
    const { coordination, name, namespace, identity } = this.#o;
    let lease: V1Lease;
    try {
      lease = await coordination.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (apiErrorCode(error) !== 404) throw error;
      await coordination.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: this.#spec(0) } });
      this.#lastRenew = this.#o.clock.now();
      this.#setLeading(true);
      return;
    }
    const spec = lease.spec ?? {};
    const now = this.#o.clock.now();
    if (spec.holderIdentity === identity) {
      lease.spec = withMicroTimes({ ...spec, renewTime: this.#o.clock.wallTime() });
      await coordination.replaceNamespacedLease({ name, namespace, body: lease });
      this.#lastRenew = this.#o.clock.now();
      this.#setLeading(true);
      return;
    }
    this.#setLeading(false);
    const record = `${spec.holderIdentity ?? ''}|${lease.metadata?.resourceVersion ?? ''}`;
    if (this.#observed?.record !== record) this.#observed = { record, at: now };
    const heldByOther = Boolean(spec.holderIdentity);
    const leaseMs = (spec.leaseDurationSeconds ?? 15) * 1000;
    if (heldByOther && now - this.#observed.at < leaseMs) return;
    const acquired = this.#spec((spec.leaseTransitions ?? 0) + 1);
    lease.spec = acquired;
    await coordination.replaceNamespacedLease({ name, namespace, body: lease });
    this.#lastRenew = this.#o.clock.now();
    this.#setLeading(true);
  }
}
