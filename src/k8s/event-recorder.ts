// Records core/v1 Events on objects. Identical Events within a minute are recorded once, and writes go through a
// small bounded queue at low concurrency, started a moment after they are recorded: Events are best effort and
// must never compete with the status write they describe.
import type { Clock } from '../core/clock.ts';
import type { PlanProblem as Layer2PlanProblem } from '../core/config/layer2-plan.ts';
import type { PoolEventReason, ServiceEventReason } from '../controller/controller-ports.ts';
import type { AuditEventReason } from '../speaker/announcement-audit.ts';
import type { BgpEventReason } from '../speaker/bgp/bgp-problem-reports.ts';
import type { Layer2EventReason } from '../speaker/layer2/layer2-speaker-options.ts';
import { TokenBucket } from '../core/token-bucket.ts';
import type { Logger } from '../platform/logger.ts';
import type { ApiClient } from './api/api-client.ts';
import { describeError } from './api/api-error.ts';
import { paths } from './api/api-paths.ts';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string | undefined;
  uid: string | undefined;
}

/**
 * Every reason an Event is recorded with: the union of each component's own closed union, so the compiler refuses a
 * reason no component declares. docs/troubleshooting.md ("Every Event reason") has a row for each member, checked by
 * scripts/event-reasons.test.ts.
 */
export type EventReason =
  | ServiceEventReason
  | PoolEventReason
  | Layer2EventReason
  | Layer2PlanProblem['reason']
  | AuditEventReason
  | BgpEventReason;

const MAX_QUEUED = 2000;
export const CLUSTER_SCOPED_EVENT_NAMESPACE = 'default';
/** Normal Events per second (Warnings are not limited, only deduplicated): a burst of 5,000 allocations must not
 * add 5,000 writes to an API server that is busy creating the Services. */
const NORMAL_PER_SECOND = 5;
const NORMAL_BURST = 50;
const CONCURRENCY = 4;
const DELAY_MS = 50;

export class EventRecorder {
  readonly #client: ApiClient;
  readonly #component: string;
  readonly #host: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #recent = new Map<string, number>();
  readonly #queue: Array<{ namespace: string; body: unknown }> = [];
  #inFlight = 0;
  #normalBudget: TokenBucket | undefined;
  #dropped = 0;
  #scheduled = false;

  constructor(options: { client: ApiClient; component: string; host: string; clock: Clock; log: Logger }) {
    this.#client = options.client;
    this.#component = options.component;
    this.#host = options.host;
    this.#clock = options.clock;
    this.#log = options.log;
  }

  record(target: EventTarget, type: 'Normal' | 'Warning', reason: EventReason, message: string): void {
    const key = `${target.kind}/${target.namespace ?? ''}/${target.name}/${reason}/${message}`;
    const now = this.#clock.now();
    this.#normalBudget ??= new TokenBucket(NORMAL_PER_SECOND, NORMAL_BURST, now);
    if (type === 'Normal' && !this.#normalBudget.take(now)) return;
    const last = this.#recent.get(key);
    if (last !== undefined && now - last < 60_000) return;
    this.#recent.set(key, now);
    if (this.#recent.size > 10_000) for (const [k, t] of this.#recent) if (now - t > 60_000) this.#recent.delete(k);
    if (this.#queue.length >= MAX_QUEUED) {
      this.#dropped++;
      if (this.#dropped % 100 === 1) this.#log.warn({ dropped: this.#dropped }, 'event queue full; dropping events');
      return;
    }
    // The API server accepts Events about cluster-scoped objects (IPPool, BGPPeer, Node) only in `default`.
    const namespace = target.namespace ?? CLUSTER_SCOPED_EVENT_NAMESPACE;
    const time = this.#clock
      .wallTime()
      .toISOString()
      .replace(/\.\d+Z$/, 'Z');
    this.#queue.push({
      namespace,
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${target.name}.`, namespace },
        involvedObject: {
          apiVersion: target.apiVersion,
          kind: target.kind,
          name: target.name,
          ...(target.namespace ? { namespace: target.namespace } : {}),
          ...(target.uid ? { uid: target.uid } : {}),
        },
        type,
        reason,
        message: message.slice(0, 1024),
        source: { component: this.#component, host: this.#host },
        reportingComponent: this.#component,
        reportingInstance: this.#host,
        firstTimestamp: time,
        lastTimestamp: time,
        count: 1,
      },
    });
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#clock.after(DELAY_MS, () => {
        this.#scheduled = false;
        this.#pump();
      });
    }
  }

  /** Sends what is queued and waits for it (at most `timeoutMs`): called on shutdown, so the last Events are kept. */
  async flush(timeoutMs = 2000): Promise<void> {
    const deadline = this.#clock.now() + timeoutMs;
    this.#pump();
    while ((this.#queue.length > 0 || this.#inFlight > 0) && this.#clock.now() < deadline) {
      await new Promise<void>((resolve) => this.#clock.after(10, resolve));
      this.#pump();
    }
  }

  #pump(): void {
    while (this.#inFlight < CONCURRENCY && this.#queue.length > 0) {
      const next = this.#queue.shift();
      if (!next) return;
      this.#inFlight++;
      this.#client
        .request('POST', paths.events(next.namespace), next.body, { timeoutMs: 5000 })
        .catch((error: unknown) => {
          this.#log.debug({ err: describeError(error) }, 'could not record event');
        })
        .finally(() => {
          this.#inFlight--;
          this.#pump();
        });
    }
  }
}
