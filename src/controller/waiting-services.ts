// The Services that could not get every address they need, indexed by what would let them: a released address
// wakes the Services that can use it, not all of them. Waiters for one address or one sharing key are few and all
// woken; waiters for a pool are many (a full pool), and one available address of the pool can serve one of them, so
// each available address wakes the first waiter in line. A woken waiter that does not take the address (its request
// changed, or it is gone) hands it on: after its pass the next waiter is woken while the pool still has one.
import type { IpFamily } from '../core/ip/ip-address.ts';
import type { WaitFor } from '../core/ipam/allocation-table.ts';

type PoolWait = Extract<WaitFor, { kind: 'pool' }>;

const keyOf = (w: WaitFor): string =>
  w.kind === 'pool'
    ? `pool/${w.pool}/${w.family}`
    : w.kind === 'address'
      ? `address/${w.address}`
      : `sharing/${w.family}/${w.sharingKey}`;

export class WaitingServices {
  /** Wait key -> the Services waiting on it, in the order they started to wait. */
  readonly #waiters = new Map<string, Set<string>>();
  /** Service -> what it waits for (possibly nothing: only a configuration change can help it). */
  readonly #waits = new Map<string, Map<string, WaitFor>>();
  /** Service -> the pools it was woken for, with the sequence number of the wake. */
  readonly #woken = new Map<string, Map<string, { target: PoolWait; seq: number }>>();

  get size(): number {
    return this.#waits.size;
  }

  has(service: string): boolean {
    return this.#waits.has(service);
  }

  /** `service` waits for these (replacing what it waited for; a wait it keeps keeps its place in line). */
  set(service: string, waitFor: readonly WaitFor[]): void {
    const next = new Map(waitFor.map((w) => [keyOf(w), w] as const));
    for (const key of this.#waits.get(service)?.keys() ?? []) {
      if (!next.has(key)) this.#leave(key, service);
    }
    for (const key of next.keys()) {
      const line = this.#waiters.get(key) ?? new Set<string>();
      line.add(service);
      this.#waiters.set(key, line);
    }
    this.#waits.set(service, next);
  }

  /** `service` waits for nothing any more (served, gone, or no longer ours). */
  delete(service: string): void {
    for (const key of this.#waits.get(service)?.keys() ?? []) this.#leave(key, service);
    this.#waits.delete(service);
  }

  /**
   * The Services to reconcile because `target` changed: every waiter of an address or a sharing key; for a pool,
   * the first waiter in line not already woken for it (`seq` orders wakes against passes, see `passDone`).
   */
  wake(target: WaitFor, seq: number): string[] {
    const key = keyOf(target);
    const line = this.#waiters.get(key);
    if (!line) return [];
    if (target.kind !== 'pool') return [...line];
    for (const service of line) {
      const woken = this.#woken.get(service) ?? new Map<string, { target: PoolWait; seq: number }>();
      if (woken.has(key)) continue;
      woken.set(key, { target, seq });
      this.#woken.set(service, woken);
      return [service];
    }
    return [];
  }

  /**
   * A pass of `service` that started at `passSeq` ended. Returns the pools it had been woken for before that pass and
   * no longer waits for: what it did not take is handed on to the next waiter by the caller. A waiter that still
   * waits for the pool after being woken could not use its address (so it is not handed on, which could go round
   * the line for ever); it goes to the end of the line.
   */
  passDone(service: string, passSeq: number): PoolWait[] {
    const woken = this.#woken.get(service);
    if (!woken) return [];
    const handOn: PoolWait[] = [];
    for (const [key, { target, seq }] of woken) {
      if (seq > passSeq) continue;
      woken.delete(key);
      if (this.#waits.get(service)?.has(key)) {
        this.#leave(key, service);
        this.#waiters.set(key, (this.#waiters.get(key) ?? new Set<string>()).add(service));
      } else handOn.push(target);
    }
    if (woken.size === 0) this.#woken.delete(service);
    return handOn;
  }

  /** How many Services wait for an address of this pool and family (for tests and metrics). */
  waitingForPool(pool: string, family: IpFamily): number {
    return this.#waiters.get(keyOf({ kind: 'pool', pool, family }))?.size ?? 0;
  }

  #leave(key: string, service: string): void {
    const line = this.#waiters.get(key);
    line?.delete(service);
    if (line?.size === 0) this.#waiters.delete(key);
  }
}
