// A watch-backed cache of one resource (a reflector): list (paginated), then watch from the list's
// resourceVersion with bookmarks; relist on 410 Gone; on any other failure back off and try again, forever,
// until stopped. A relist emits only real differences (add, update, delete) against the cache.
// With `staleAfterMs`, the cache also knows whether it is fresh: the server is asked to end every watch before the
// cache would go stale (nextWatchTimeoutSeconds), each clean end proves the cache complete up to then, and a cache with no proof
// for staleAfterMs (a silently dead watch) is stale: onFreshness(true), the watch is reconnected (ADR 0013).
import type { Clock, Timer } from '../core/clock.ts';
import { nextWatchTimeoutSeconds, WatchFreshness, watchProofTime } from '../core/election/watch-freshness.ts';
import type { Logger } from '../platform/logger.ts';
import type { ApiClient, Query } from './api/api-client.ts';
import { ApiError, describeError, errorCode } from './api/api-error.ts';

/**
 * While stale, a watch is retried this often (if the current one is this old), with a 1 s timeout, so a healed path
 * proves itself within seconds, not within a whole bound plus a watch timeout.
 */
const STALE_RETRY_MS = 3000;

export type ChangeKind = 'add' | 'update' | 'delete';

export interface KubeObject {
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
  };
}

interface ObjectList<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
}

export interface InformerOptions<T extends KubeObject> {
  client: ApiClient;
  /** The collection path, such as /api/v1/services. */
  path: string;
  clock: Clock;
  log: Logger;
  onChange?: (obj: T, kind: ChangeKind) => void;
  /** Called after every successful (re)list. */
  onResync?: () => void;
  labelSelector?: string;
  fieldSelector?: string;
  /** Freshness bound: a cache with no proof of completeness for this long is stale. Undefined: not tracked. */
  staleAfterMs?: number;
  /** Called when the cache goes stale (true) or is proven fresh again (false). */
  onFreshness?: (stale: boolean) => void;
}

/**
 * Drops what Beacon LB never reads before an object is cached: managedFields and kubectl's last-applied
 * annotation are a large part of every object (the cache of 5,000 Services is mostly them).
 */
function slim<T extends KubeObject>(obj: T): T {
  const metadata = obj.metadata as
    (KubeObject['metadata'] & { managedFields?: unknown; annotations?: Record<string, string> }) | undefined;
  if (metadata) {
    delete metadata.managedFields;
    if (metadata.annotations) delete metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'];
  }
  return obj;
}

const keyOf = (obj: KubeObject): string => `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;

export class Informer<T extends KubeObject> {
  readonly #client: ApiClient;
  readonly #path: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #onChange: ((obj: T, kind: ChangeKind) => void) | undefined;
  readonly #onResync: (() => void) | undefined;
  readonly #labelSelector: string | undefined;
  readonly #fieldSelector: string | undefined;
  readonly #onFreshness: ((stale: boolean) => void) | undefined;
  #store = new Map<string, T>();
  #resourceVersion = '';
  #lastListSentAt: number | undefined;
  #abort: AbortController | undefined;
  #sleep: { timer: Timer; resolve: () => void } | undefined;
  #stopped = true;
  #synced = false;
  #resolveSynced: () => void = () => undefined;
  /** relist() asked for a list; resolved after the next successful one. */
  #relistWanted = false;
  #relisted: Array<() => void> = [];
  readonly synced: Promise<void>;
  readonly #freshness: WatchFreshness | undefined;
  #stale = false;
  #watchdog: Timer | undefined;
  /** When the current watch was sent. */
  #watchSentAt = Number.NEGATIVE_INFINITY;

  constructor(options: InformerOptions<T>) {
    this.#client = options.client;
    this.#path = options.path;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#onChange = options.onChange;
    this.#onResync = options.onResync;
    this.#labelSelector = options.labelSelector;
    this.#fieldSelector = options.fieldSelector;
    this.#onFreshness = options.onFreshness;
    this.synced = new Promise((resolve) => (this.#resolveSynced = resolve));
    this.#freshness = options.staleAfterMs === undefined ? undefined : new WatchFreshness(options.staleAfterMs);
  }

  /** The collection path, such as /api/v1/services. */
  get path(): string {
    return this.#path;
  }

  /** Whether the cache went without a proof of completeness for staleAfterMs (always false when not tracked). */
  get stale(): boolean {
    return this.#stale;
  }

  /** Read through a method: the flag changes while a loop iteration awaits. */
  #isStopped(): boolean {
    return this.#stopped;
  }

  /** Read through a method: relist() sets the flag while a list awaits. */
  #relistPending(): boolean {
    return this.#relistWanted;
  }

  get hasSynced(): boolean {
    return this.#synced;
  }

  /**
   * Whether the cache holds a list sent at or after `since` (monotonic), and every event since: a consistent (quorum)
   * list, so it holds every write committed before `since`.
   */
  listedSince(since: number): boolean {
    return this.#lastListSentAt !== undefined && this.#lastListSentAt >= since;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#checkFreshness();
    void this.#run();
  }

  stop(): void {
    this.#stopped = true;
    this.#watchdog?.cancel();
    for (const resolve of this.#relisted.splice(0)) resolve();
    this.#abort?.abort();
    if (this.#sleep) {
      this.#sleep.timer.cancel();
      this.#sleep.resolve();
    }
  }

  /** Drops the current watch and starts a new one (from the last version; a 410 relists). For stale views. */
  restart(): void {
    this.#abort?.abort();
  }

  /**
   * Lists again (a consistent read: the cache then holds everything written before this call) and resumes watching
   * from there; resolves after that list has been applied. A controller that just became leader calls this, so that
   * writes of its predecessor its watch has not delivered yet (a slow or broken watch) are not missing from its view.
   */
  relist(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#relisted.push(resolve));
    this.#relistWanted = true;
    this.#abort?.abort();
    if (this.#sleep) {
      this.#sleep.timer.cancel();
      this.#sleep.resolve();
    }
    return done;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#store.get(`${namespace ?? ''}/${name}`);
  }

  list(namespace?: string): T[] {
    const all = [...this.#store.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  get size(): number {
    return this.#store.size;
  }

  #query(): Query {
    return {
      ...(this.#labelSelector ? { labelSelector: this.#labelSelector } : {}),
      ...(this.#fieldSelector ? { fieldSelector: this.#fieldSelector } : {}),
    };
  }

  async #run(): Promise<void> {
    let needList = true;
    let failures = 0;
    while (!this.#stopped) {
      try {
        if (needList || this.#relistWanted) {
          const waiting = this.#relisted.splice(0);
          this.#relistWanted = false;
          try {
            await this.#list();
          } catch (error) {
            this.#relisted.push(...waiting);
            this.#relistWanted ||= waiting.length > 0;
            throw error;
          }
          needList = false;
          for (const resolve of waiting) resolve();
        }
        // relist() called while that list was under way: its list must start after the call.
        if (this.#relistPending()) continue;
        this.#abort = new AbortController();
        const sentAt = this.#clock.now();
        const timeoutSeconds = this.#freshness
          ? nextWatchTimeoutSeconds(this.#freshness.maxAgeMs, this.#freshness.staleAt(), sentAt)
          : 240 + Math.floor(Math.random() * 60);
        this.#watchSentAt = sentAt;
        await this.#client.watch<T>(
          this.#path,
          { ...this.#query(), resourceVersion: this.#resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
          (event) => {
            failures = 0;
            this.#apply(event.type, event.object);
          },
          this.#abort.signal,
        );
        // The server ended the watch: it delivered everything up to then.
        failures = 0;
        this.#freshness?.watchEnded(watchProofTime(sentAt, this.#clock.now(), timeoutSeconds * 1000));
        this.#checkFreshness();
      } catch (error) {
        if (this.#isStopped()) break;
        // restart(): watch again at once, from the last version.
        if (error instanceof ApiError && error.reason === 'Aborted') continue;
        if (errorCode(error) === 410) {
          needList = true;
          this.#log.debug({ path: this.#path }, 'watch expired (410); relisting');
          continue;
        }
        failures++;
        const delay = Math.min(30_000, 200 * 2 ** Math.min(failures - 1, 8));
        this.#log.warn({ path: this.#path, err: describeError(error), retryMs: delay }, 'watch failed; retrying');
        await this.#pause(delay);
        // After repeated failures the server may have lost our version: start over with a list.
        if (failures >= 3) needList = true;
      }
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#sleep = {
        resolve,
        timer: this.#clock.after(ms, () => {
          this.#sleep = undefined;
          resolve();
        }),
      };
    });
  }

  /**
   * Compares freshness with what was last reported, reports a change, and arms the watchdog: at the moment the cache
   * goes stale without a new proof, or, while stale, every STALE_RETRY_MS to reconnect a watch that may hang.
   */
  #checkFreshness(): void {
    if (!this.#freshness || this.#isStopped()) return;
    const now = this.#clock.now();
    const stale = this.#freshness.isStale(now);
    if (stale !== this.#stale && this.#synced) {
      this.#stale = stale;
      if (stale)
        this.#log.warn(
          { path: this.#path, staleAfterMs: this.#freshness.maxAgeMs },
          'watch silent: cache stale; reconnecting',
        );
      else this.#log.info({ path: this.#path }, 'watch proven live again: cache fresh');
      this.#onFreshness?.(stale);
    }
    this.#watchdog?.cancel();
    const wakeAt = stale ? now + STALE_RETRY_MS : this.#freshness.staleAt();
    this.#watchdog = this.#clock.after(Math.max(0, wakeAt - now), () => {
      this.#watchdog = undefined;
      const wasStale = this.#stale;
      this.#checkFreshness();
      // A watch with no proof for this long may hang without ever failing: drop it and watch again (a retry only once
      // it had its time, so a slow but working one can still end on schedule).
      const retryDue = this.#clock.now() - this.#watchSentAt >= STALE_RETRY_MS;
      if (this.#stale && (!wasStale || retryDue)) this.#abort?.abort();
    });
  }

  async #list(): Promise<void> {
    const sentAt = this.#clock.now();
    const fresh = new Map<string, T>();
    let token: string | undefined;
    let version = '';
    do {
      const page: ObjectList<T> = await this.#client.get<ObjectList<T>>(this.#path, {
        ...this.#query(),
        limit: 500,
        ...(token ? { continue: token } : {}),
      });
      for (const item of page.items) fresh.set(keyOf(item), slim(item));
      token = page.metadata?.continue || undefined;
      version = page.metadata?.resourceVersion ?? version;
    } while (token);
    const old = this.#store;
    this.#store = fresh;
    this.#resourceVersion = version;
    for (const [key, obj] of fresh) {
      const before = old.get(key);
      if (!before) this.#notify(obj, 'add');
      else if (before.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.#notify(obj, 'update');
    }
    for (const [key, obj] of old) if (!fresh.has(key)) this.#notify(obj, 'delete');
    this.#lastListSentAt = sentAt;
    if (!this.#synced) {
      this.#synced = true;
      this.#resolveSynced();
    }
    this.#freshness?.listed(sentAt);
    this.#checkFreshness();
    this.#onResync?.();
  }

  #apply(type: string, raw: T): void {
    const obj = slim(raw);
    const version = obj.metadata?.resourceVersion;
    if (version) this.#resourceVersion = version;
    if (type === 'BOOKMARK') return;
    const key = keyOf(obj);
    if (type === 'DELETED') {
      this.#store.delete(key);
      this.#notify(obj, 'delete');
      return;
    }
    const existed = this.#store.has(key);
    this.#store.set(key, obj);
    this.#notify(obj, existed ? 'update' : 'add');
  }

  /**
   * Calls onChange for one object. A throw there (a bug, or an object the callback cannot handle) is logged and
   * contained: it must not end the watch, fail the list (the cache would never sync) or skip the other objects.
   */
  #notify(obj: T, kind: ChangeKind): void {
    try {
      this.#onChange?.(obj, kind);
    } catch (error) {
      this.#log.error(
        { path: this.#path, object: keyOf(obj), change: kind, err: describeError(error) },
        'change handler failed for one object',
      );
    }
  }
}
