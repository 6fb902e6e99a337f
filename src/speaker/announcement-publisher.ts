// Keeps this node's ServiceAnnouncement records (ADR 0024) equal to what it announces, without write storms and
// without ever standing in the way of the Lease renewal or the ARP/NDP path:
//  - level-triggered: a Service key is marked dirty when what is announced for it or what the API server holds for
//    it changes; when its turn comes the write carries the content of that moment, so a flap collapses into one
//    write (or none when it flapped back);
//  - coalesced: the first change waits `debounceMs`, so one failover pass becomes one batch;
//  - bounded: at most `writesPerSecond` (token bucket, burst `burst`) and `maxInFlight` requests at a time, on the
//    caller's store; a failed write is retried after `retryMs`, never in a hot loop;
//  - a starting speaker deletes records it finds but does not announce only after `startGraceMs` (it announces
//    nothing before its first renewal and sync; deleting then re-creating every record at each restart is churn).
// Nothing here is awaited by the election or the announcer: update() only marks keys.
import type { Clock, Timer } from '../core/clock.ts';
import { TokenBucket } from '../core/token-bucket.ts';
import type { Logger } from '../platform/logger.ts';
import { recordText, type AnnouncementRecord } from './announcement-records.ts';

export type StoreResult = 'done' | { error: string };

export interface AnnouncementStore {
  /** The record the API server holds for this node and Service, as last seen (a cache); undefined: none. */
  observed(service: string): AnnouncementRecord | undefined;
  /** Every Service with a record of this node in the cache. */
  observedServices(): string[];
  /** Creates or replaces the record; 'done' also when the Service is gone (nothing to record). */
  apply(service: string, record: AnnouncementRecord): Promise<StoreResult>;
  /** Deletes the record; 'done' also when it is already gone. */
  remove(service: string): Promise<StoreResult>;
}

export interface AnnouncementPublisherOptions {
  clock: Clock;
  log: Logger;
  store: AnnouncementStore;
  writesPerSecond: number;
  burst: number;
  maxInFlight: number;
  debounceMs: number;
  retryMs: number;
  startGraceMs: number;
  /** Called after each request, for metrics and measurements. */
  onWrite?: (verb: 'apply' | 'delete', ok: boolean) => void;
}

export class AnnouncementPublisher {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #store: AnnouncementStore;
  readonly #writesPerSecond: number;
  readonly #maxInFlight: number;
  readonly #debounceMs: number;
  readonly #retryMs: number;
  readonly #startGraceMs: number;
  readonly #onWrite: ((verb: 'apply' | 'delete', ok: boolean) => void) | undefined;
  readonly #bucket: TokenBucket;
  #desired = new Map<string, AnnouncementRecord>();
  readonly #dirty = new Set<string>();
  /** What this process last wrote per key ('' = deleted), so a cache that lags its own write causes no rewrite. */
  readonly #written = new Map<string, string>();
  readonly #inFlight = new Set<string>();
  readonly #retryAt = new Map<string, number>();
  #startedAt: number | undefined;
  #timer: { timer: Timer; at: number } | undefined;
  #stopped = false;
  #idle: Array<() => void> = [];

  constructor(o: AnnouncementPublisherOptions) {
    this.#clock = o.clock;
    this.#log = o.log;
    this.#store = o.store;
    this.#writesPerSecond = o.writesPerSecond;
    this.#maxInFlight = o.maxInFlight;
    this.#debounceMs = o.debounceMs;
    this.#retryMs = o.retryMs;
    this.#startGraceMs = o.startGraceMs;
    this.#onWrite = o.onWrite;
    this.#bucket = new TokenBucket(o.writesPerSecond, o.burst, o.clock.now());
  }

  /** Writes begin: call once the caches the store reads have synced. Reconciles every record found. */
  start(): void {
    this.#startedAt = this.#clock.now();
    this.resync();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.timer.cancel();
    this.#timer = undefined;
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  /**
   * What this node announces now, per Service (namespace/name). Returns at once. `changed`: only these Services'
   * records may differ from the last update (announcement-records-cache.ts); absent: any.
   */
  update(records: ReadonlyMap<string, AnnouncementRecord>, changed?: ReadonlySet<string>): void {
    if (changed) {
      for (const key of changed) {
        const record = records.get(key);
        if (recordText(this.#desired.get(key)) !== recordText(record)) this.#dirty.add(key);
        if (record) this.#desired.set(key, record);
        else this.#desired.delete(key);
      }
      this.#schedule(this.#debounceMs);
      return;
    }
    const before = this.#desired;
    this.#desired = new Map(records);
    for (const [key, record] of records) if (recordText(before.get(key)) !== recordText(record)) this.#dirty.add(key);
    for (const key of before.keys()) if (!records.has(key)) this.#dirty.add(key);
    this.#schedule(this.#debounceMs);
  }

  /** The store's cache changed for one Service (a watch event): rewrite if it no longer says what is announced. */
  observedChanged(service: string): void {
    if (recordText(this.#store.observed(service)) === recordText(this.#desired.get(service))) return;
    this.#written.delete(service);
    this.#dirty.add(service);
    this.#schedule(this.#debounceMs);
  }

  /** Compares every cached and every announced record again (after a relist). */
  resync(): void {
    this.#written.clear();
    for (const key of this.#store.observedServices()) this.#dirty.add(key);
    for (const key of this.#desired.keys()) this.#dirty.add(key);
    this.#schedule(0);
  }

  /** Writes pending or in flight. */
  get pending(): number {
    return this.#dirty.size + this.#inFlight.size;
  }

  /** Announces nothing any more: deletes every record, within `budgetMs` (the rest is left to the controller). */
  async withdrawAll(budgetMs: number): Promise<void> {
    this.update(new Map());
    this.#startedAt = Number.NEGATIVE_INFINITY;
    for (const key of this.#store.observedServices()) this.#dirty.add(key);
    this.#schedule(0);
    await new Promise<void>((resolve) => {
      const timer = this.#clock.after(budgetMs, resolve);
      this.#idle.push(() => {
        timer.cancel();
        resolve();
      });
    });
  }

  #schedule(delayMs: number): void {
    if (this.#stopped || this.#startedAt === undefined) return;
    const at = this.#clock.now() + delayMs;
    if (this.#timer && this.#timer.at <= at) return;
    this.#timer?.timer.cancel();
    this.#timer = {
      at,
      timer: this.#clock.after(delayMs, () => {
        this.#timer = undefined;
        this.#pump();
      }),
    };
  }

  #pump(): void {
    if (this.#stopped || this.#startedAt === undefined) return;
    const now = this.#clock.now();
    let wakeIn = Number.POSITIVE_INFINITY;
    for (const key of [...this.#dirty]) {
      if (this.#inFlight.size >= this.#maxInFlight) return;
      if (this.#inFlight.has(key)) continue;
      const retryAt = this.#retryAt.get(key) ?? Number.NEGATIVE_INFINITY;
      if (retryAt > now) {
        wakeIn = Math.min(wakeIn, retryAt - now);
        continue;
      }
      const want = this.#desired.get(key);
      const wantText = recordText(want);
      const written = this.#written.get(key);
      if (written === wantText || (written === undefined && recordText(this.#store.observed(key)) === wantText)) {
        this.#dirty.delete(key);
        continue;
      }
      if (want === undefined && written === undefined && now < this.#startedAt + this.#startGraceMs) {
        // Found at start, not (yet) announced: wait for the first passes before deleting it.
        wakeIn = Math.min(wakeIn, this.#startedAt + this.#startGraceMs - now);
        continue;
      }
      if (!this.#bucket.take(now)) {
        wakeIn = Math.min(wakeIn, Math.ceil(1000 / this.#writesPerSecond));
        break;
      }
      this.#dirty.delete(key);
      void this.#write(key, want, wantText);
    }
    if (this.#dirty.size > 0 && Number.isFinite(wakeIn)) this.#schedule(wakeIn);
    if (this.#dirty.size === 0 && this.#inFlight.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  async #write(key: string, want: AnnouncementRecord | undefined, wantText: string): Promise<void> {
    this.#inFlight.add(key);
    const verb = want === undefined ? 'delete' : 'apply';
    let result: StoreResult;
    try {
      result = want === undefined ? await this.#store.remove(key) : await this.#store.apply(key, want);
    } catch (error) {
      result = { error: String(error) };
    }
    this.#inFlight.delete(key);
    const ok = result === 'done';
    this.#onWrite?.(verb, ok);
    if (ok) {
      this.#written.set(key, wantText);
      this.#retryAt.delete(key);
    } else {
      this.#log.debug(
        { service: key, err: typeof result === 'object' ? result.error : '' },
        `cannot ${verb} the ServiceAnnouncement; retrying`,
      );
      this.#retryAt.set(key, this.#clock.now() + this.#retryMs);
      this.#dirty.add(key);
    }
    // The announcement may have changed while the request was in flight: the key is dirty again then.
    this.#pump();
  }
}
