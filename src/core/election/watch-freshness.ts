// Whether a watch-backed cache is known to hold every change up to a recent moment. A watch that dies silently (a
// proxy or NAT dropping a long-lived connection) delivers nothing, which looks exactly like a quiet resource; so
// freshness is never inferred from silence, only from proofs:
//  - a list that completed holds everything up to the moment it was sent (a consistent read);
//  - a watch that the server ended on schedule (timeoutSeconds) delivered every change up to its end.
// The informer asks the server to end each watch after a short timeout, so a working watch proves itself every
// few seconds; a cache without a proof for `maxAgeMs` is stale. Pure: time is a parameter (ADR 0013).
//
// Once stale, only a watch proves the cache fresh again: a list alone would make a speaker whose watches are dead
// but whose lists work (a proxy that only breaks long requests) flap between fresh and stale every maxAgeMs, and
// answer from a view that stops following changes each time.

export class WatchFreshness {
  readonly maxAgeMs: number;
  /** The latest moment up to which the cache is proven complete (monotonic ms). */
  #provenAt = Number.NEGATIVE_INFINITY;
  /** Went stale after having been fresh: lists no longer count until a watch proves itself. */
  #lost = false;

  constructor(maxAgeMs: number) {
    this.maxAgeMs = maxAgeMs;
  }

  get provenAt(): number {
    return this.#provenAt;
  }

  /** A list completed; `sentAt` is when its (first page's) request was sent. */
  listed(sentAt: number): void {
    if (this.#lost) return;
    this.#prove(sentAt);
  }

  /** The server ended a watch on schedule; `provenAt` is a moment up to which it delivered everything. */
  watchEnded(provenAt: number): void {
    this.#prove(provenAt);
    this.#lost = false;
  }

  /** Stale at `now`: never proven, or the last proof is maxAgeMs old. A fresh cache going stale is remembered. */
  isStale(now: number): boolean {
    const stale = now >= this.#provenAt + this.maxAgeMs;
    if (stale && Number.isFinite(this.#provenAt)) this.#lost = true;
    return stale;
  }

  /** When the cache goes stale without a new proof (or -Infinity when it never was proven). */
  staleAt(): number {
    return this.#provenAt + this.maxAgeMs;
  }

  #prove(at: number): void {
    if (at > this.#provenAt) this.#provenAt = at;
  }
}

/**
 * The moment up to which a watch that ended cleanly delivered every change: one the server ended at its timeout
 * (`endedAt` at least `timeoutMs` after `sentAt`) covers up to sentAt + timeoutMs, since the server's timer started
 * after the request was sent; one that ended earlier (the server closed it for its own reasons) proves only
 * `sentAt`.
 */
export function watchProofTime(sentAt: number, endedAt: number, timeoutMs: number): number {
  return endedAt - sentAt >= timeoutMs ? sentAt + timeoutMs : sentAt;
}

/** The watch timeout (whole seconds, as the API takes it) for a freshness bound: three quarters of it, at least 1 s. */
export function watchTimeoutSeconds(maxAgeMs: number): number {
  return Math.max(1, Math.floor((0.75 * maxAgeMs) / 1000));
}

/**
 * The timeout of the next watch: three quarters of the time left before the cache goes stale, at most
 * watchTimeoutSeconds, at least 1 s. A watch started late in the cycle (after a reconnect, an error, a relist) ends
 * in time to prove the cache before the bound; a stale cache gets 1 s watches, so a healed path proves itself soon.
 */
export function nextWatchTimeoutSeconds(maxAgeMs: number, staleAt: number, now: number): number {
  return Math.max(1, Math.min(watchTimeoutSeconds(maxAgeMs), Math.floor((0.75 * (staleAt - now)) / 1000)));
}
