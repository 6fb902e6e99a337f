// The allocation table: which Service holds which address, the free addresses of every pool and family (as
// interval sets: no per-address enumeration), the addresses being released and the quarantine of released ones.
// Every operation is synchronous, so concurrent reconciles can never hand out one address twice.
//
// The life of an address: free -> held (by one Service, or several that may share it) -> releasing -> quarantined
// -> free. "Releasing": a Service gave the address up, but its status on the API server still shows it until the
// status write that drops it succeeds (`statusWritten`); meanwhile nobody else gets it, not as the lowest free
// address, not from the exhausted-pool fallback, not by request, and no new sharer joins it, or the API server would
// show two Services on it that may not share. Once no status shows it, it rests in quarantine (stale ARP/NDP caches)
// and is free after that; a Service that finds every eligible pool exhausted takes a quarantined address at once.
//
// Draining pools (spec.drain) hand out nothing: no Service starts to use one of their addresses (not as the lowest
// free address, not by request, not by joining a sharer), but every holder keeps what it has. Renumbering (a Service
// with a renumber window): an address the Service moves away from stays held by it, "retiring", beside its
// successor until the window's end (wall-clock time, stored in the Service's status), and is released after that.
// The old address is given up only once the successor is held: a move that cannot be made keeps the old address.
// See ADR 0028.
// The rules of keeping (keep-rules.ts) and the choice of a new address (address-choice.ts) live apart; this file
// (~560 lines) stays one class because every change of an address's state (held, releasing, quarantined, free) moves
// it between the holders, the releases, the quarantine and its pool's free set together, and one class keeps that
// invariant in one place.
import { familyOf, formatIp, type IpFamily } from '../ip/ip-address.ts';
import type { PoolConfig } from '../config/pool-config.ts';
import type { ServiceRequest } from '../config/service-request.ts';
import type { RetiringAddress } from '../config/renumber-record.ts';
import type {
  AllocationFailure,
  AssignContext,
  AssignResult,
  FamilyUsage,
  ReleasedAddress,
  WaitFor,
} from './allocation-result.ts';
import { eligiblePools, newPoolState, poolUsage, type PoolState } from './pool-state.ts';
import { mayStay, whyLeaveDraining, whyNotKeep } from './keep-rules.ts';
import { allocateFamily } from './address-choice.ts';
import type { Holder, TableView } from './table-view.ts';

/** The types the table answers in, where its callers expect them. */
export type * from './allocation-result.ts';

/** What becomes of an address a Service stops holding. */
type Unclaimed =
  /** It was never in the Service's status (taken and given back in one pass): free at once. */
  | 'never-shown'
  /** The Service's status still shows it: releasing until a write without it succeeds. */
  | 'shown'
  /** The Service is gone: no status shows it any more. */
  | 'gone';

const FAMILIES: readonly IpFamily[] = [4, 6];

export class AllocationTable {
  readonly #quarantineMs: number;
  #pools = new Map<string, PoolState>();
  readonly #holders = new Map<bigint, Holder>();
  readonly #services = new Map<string, { request: ServiceRequest; addresses: bigint[]; retiring: RetiringAddress[] }>();
  /** Released addresses resting before reuse, in release order: until when, and the pool they rest in. */
  readonly #quarantine = new Map<bigint, { until: number; pool: PoolState }>();
  /** Addresses given up whose holders' statuses still show them: address -> those Services. */
  readonly #releasing = new Map<bigint, Set<string>>();
  /** The same, by Service. */
  readonly #releasingBy = new Map<string, Set<bigint>>();
  /** Addresses held under each sharing key. */
  readonly #bySharingKey = new Map<string, Set<bigint>>();

  /** What the rules of keeping and the choice of a new address read of the table (keep-rules.ts, address-choice.ts). */
  readonly #view: TableView = {
    holder: (address) => this.#holders.get(address),
    poolContaining: (address) => this.#poolContaining(address),
    retiringOf: (key) => this.retiringOf(key),
    sharedUnder: (sharingKey) => this.#bySharingKey.get(sharingKey),
    quarantined: () => this.#quarantine,
    releasedByOther: (address, key) => this.#releasedByOther(address, key),
    claim: (address, request, state) => {
      this.#claim(address, request, state);
    },
  };

  constructor(options: { quarantineMs: number }) {
    this.#quarantineMs = options.quarantineMs;
  }

  /** Replaces the pool configuration; held and quarantined addresses stay out of the free sets. */
  setPools(pools: ReadonlyMap<string, PoolConfig>): void {
    const next = new Map<string, PoolState>();
    for (const config of pools.values()) {
      next.set(config.name, newPoolState(config));
    }
    this.#pools = next;
    for (const [address, holder] of this.#holders) {
      const state = this.#poolContaining(address);
      holder.pool = state?.config.name ?? '';
      if (state) {
        state.free[familyOf(address)].take(address);
        state.allocated[familyOf(address)]++;
      }
    }
    for (const [address, entry] of [...this.#quarantine]) {
      const state = this.#poolContaining(address);
      if (state) {
        state.free[familyOf(address)].take(address);
        state.quarantined[familyOf(address)]++;
        entry.pool = state;
      } else this.#quarantine.delete(address);
    }
    for (const address of this.#releasing.keys()) this.#poolContaining(address)?.free[familyOf(address)].take(address);
  }

  /** The addresses a Service holds, if any. */
  addressesOf(key: string): readonly bigint[] | undefined {
    return this.#services.get(key)?.addresses;
  }

  /** Services holding `address`. */
  holdersOf(address: bigint): string[] {
    return [...(this.#holders.get(address)?.claims.keys() ?? [])];
  }

  /** The request the table last assigned for `key`, if it holds anything. */
  requestOf(key: string): ServiceRequest | undefined {
    return this.#services.get(key)?.request;
  }

  /** Old addresses `key` keeps beside their successors until their renumbering windows end. */
  retiringOf(key: string): readonly RetiringAddress[] {
    return this.#services.get(key)?.retiring ?? [];
  }

  /**
   * How many Services hold addresses of `pool`, and the first `limit` of them by name (for a draining pool's status).
   * One pass over the held addresses, no sort of them all: 50,000 holders cost a few milliseconds.
   */
  holdersInPool(pool: string, limit: number): { count: number; first: string[] } {
    const keys = new Set<string>();
    const first: string[] = [];
    for (const holder of this.#holders.values()) {
      if (holder.pool !== pool) continue;
      for (const key of holder.claims.keys()) {
        if (keys.has(key)) continue;
        keys.add(key);
        if (first.length === limit && key >= (first[limit - 1] ?? '')) continue;
        // Insert in order, dropping the last beyond the limit (limit is small).
        let i = first.length;
        while (i > 0 && (first[i - 1] ?? '') > key) i--;
        first.splice(i, 0, key);
        if (first.length > limit) first.pop();
      }
    }
    return { count: keys.size, first };
  }

  /** Addresses `key`'s status still shows although the Service gave them up. */
  releasingBy(key: string): bigint[] {
    return [...(this.#releasingBy.get(key) ?? [])];
  }

  /** The pool whose addresses include `address` now, if any. */
  poolContaining(address: bigint): string | undefined {
    return this.#poolContaining(address)?.config.name;
  }

  /** Services whose statuses still show `address` although they gave it up. */
  releasersOf(address: bigint): string[] {
    return [...(this.#releasing.get(address) ?? [])];
  }

  /** Whether a Service could be given an address of this pool and family now (free or quarantined). */
  hasAvailable(pool: string, family: IpFamily): boolean {
    const state = this.#pools.get(pool);
    return (
      state !== undefined && !state.config.drain && (state.free[family].size > 0n || state.quarantined[family] > 0)
    );
  }

  /**
   * What a change to `address` (a holder or a releasing status gone) may unblock: Services waiting for that address,
   * for its sharing keys, and, when nobody holds or shows it any more, for its pool.
   */
  wakeTargets(address: bigint): WaitFor[] {
    const family = familyOf(address);
    const targets: WaitFor[] = [{ kind: 'address', address }];
    const holder = this.#holders.get(address);
    const keys = new Set([...(holder?.claims.values() ?? [])].flatMap((c) => (c.sharingKey ? [c.sharingKey] : [])));
    for (const sharingKey of keys) targets.push({ kind: 'sharing', sharingKey, family });
    if (!holder && !this.#releasing.has(address)) {
      const pool = this.#quarantine.get(address)?.pool ?? this.#poolContaining(address);
      if (pool?.free[family].has(address) || this.#quarantine.has(address))
        targets.push({ kind: 'pool', pool: pool?.config.name ?? '', family });
    }
    return targets;
  }

  /** The pool an address held by a Service belongs to ('' when no pool holds it any more). */
  poolOf(address: bigint): string | undefined {
    return this.#holders.get(address)?.pool;
  }

  usage(pool: string): Record<IpFamily, FamilyUsage> | undefined {
    const state = this.#pools.get(pool);
    return state && poolUsage(state);
  }

  /**
   * Gives the Service what it asks for, keeping every current address that is still right for it.
   * `current` is what the Service held before (its status at start-up); the table's own record wins when it has one.
   */
  assign(request: ServiceRequest, current: readonly bigint[], ctx: AssignContext): AssignResult {
    this.#expireQuarantine(ctx.now);
    const eligible = eligiblePools(this.#pools, request, ctx.namespaceLabels);
    const entry = this.#services.get(request.key);
    const retiringBefore = entry ? entry.retiring : (ctx.retiring ?? []).filter((r) => current.includes(r.address));
    const had = entry?.addresses ?? current.filter((a) => !retiringBefore.some((r) => r.address === a));
    const result: AssignResult = {
      addresses: [],
      allocated: [],
      released: [],
      failures: [],
      withheld: [],
      retiring: [],
      renumbered: [],
    };
    const kept = new Map<IpFamily, bigint>();
    /** Per family, the address the Service moves away from with overlap: it waits for its successor. */
    const moving = new Map<IpFamily, { address: bigint; why: string }>();
    this.#keepOrMove(request, had, eligible.pools, ctx, kept, moving, result);
    /** Moves that could not be made: the Service keeps the old address, and the failure says why. */
    const blocked = ctx.allocate === false ? [] : this.#allocateMissing(request, eligible, ctx, kept, moving, result);
    const keptAddresses = this.#settleMoves(request, ctx, kept, moving, result);
    this.#keepRetiring(request, ctx, retiringBefore, keptAddresses, result);
    result.failures.push(...blocked);

    for (const { address } of result.released) this.#unclaim(address, request.key, 'shown', ctx.now);
    result.addresses = request.families.flatMap((f) => {
      const address = kept.get(f);
      return address === undefined ? [] : [address];
    });
    if (result.addresses.length > 0 || result.retiring.length > 0) {
      this.#services.set(request.key, { request, addresses: result.addresses, retiring: result.retiring });
    } else this.#services.delete(request.key);
    result.withheld = result.addresses.filter(
      (a) => !current.includes(a) && this.#releasedByOther(a, request.key) !== undefined,
    );
    return result;
  }

  /** The addresses the Service had: each kept, kept while it moves (renumbering), or released. */
  #keepOrMove(
    request: ServiceRequest,
    had: readonly bigint[],
    eligible: readonly PoolState[],
    ctx: AssignContext,
    kept: Map<IpFamily, bigint>,
    moving: Map<IpFamily, { address: bigint; why: string }>,
    result: AssignResult,
  ): void {
    for (const address of had) {
      const why =
        whyNotKeep(this.#view, request, address, eligible, kept) ?? whyLeaveDraining(this.#view, request, address);
      const family = familyOf(address);
      if (why === undefined) {
        kept.set(family, address);
        this.#claim(address, request);
      } else if (
        request.renumberWindowMs !== undefined &&
        !kept.has(family) &&
        !moving.has(family) &&
        mayStay(this.#view, request, address, ctx.namespaceLabels) === undefined
      ) {
        moving.set(family, { address, why });
        this.#claim(address, request);
      } else if (this.#holders.get(address)?.claims.has(request.key)) {
        result.released.push({ address, why, pool: this.#holders.get(address)?.pool ?? '' });
      }
    }
  }

  /**
   * A new address for each family the Service still lacks; RequireDualStack: both families or none. Returns the moves
   * that could not be made (the Service keeps the old address).
   */
  #allocateMissing(
    request: ServiceRequest,
    eligible: { pools: PoolState[]; unknown: string[] },
    ctx: AssignContext,
    kept: Map<IpFamily, bigint>,
    moving: Map<IpFamily, { address: bigint; why: string }>,
    result: AssignResult,
  ): AllocationFailure[] {
    const blocked: AllocationFailure[] = [];
    for (const family of request.families) {
      if (kept.has(family)) continue;
      const outcome = allocateFamily(this.#view, request, family, eligible, ctx);
      const move = moving.get(family);
      if (typeof outcome === 'bigint') {
        kept.set(family, outcome);
        if (outcome !== move?.address) result.allocated.push(outcome);
      } else if (move) {
        kept.set(family, move.address);
        moving.delete(family);
        blocked.push({
          ...outcome,
          message: `keeps ${formatIp(move.address)} (${move.why}) until it can move: ${outcome.message}`,
          keeping: move.address,
        });
      } else result.failures.push(outcome);
    }
    if (request.policy === 'RequireDualStack' && result.failures.length > 0) {
      for (const address of result.allocated) {
        this.#unclaim(address, request.key, 'never-shown', ctx.now);
        kept.delete(familyOf(address));
      }
      result.allocated = [];
      // Both families or none: an address kept from before goes too, or the Service would hold one family. Only
      // what the table held for it counts as released; an address taken from `current` alone (a status the cache
      // still shows after an earlier pass gave it up) is given back quietly, so that no pass releases it again.
      const missing = result.failures.map((f) => `IPv${f.family}`).join(' and ');
      const recorded = this.#services.get(request.key)?.addresses ?? [];
      for (const address of kept.values()) {
        if (recorded.includes(address)) {
          result.released.push({
            address,
            why: `RequireDualStack and ${missing} cannot be served`,
            pool: this.#holders.get(address)?.pool ?? '',
          });
        } else this.#unclaim(address, request.key, 'shown', ctx.now);
      }
      kept.clear();
    }
    return blocked;
  }

  /** Ends the moves of this pass; returns the addresses the Service keeps. */
  #settleMoves(
    request: ServiceRequest,
    ctx: AssignContext,
    kept: Map<IpFamily, bigint>,
    moving: ReadonlyMap<IpFamily, { address: bigint; why: string }>,
    result: AssignResult,
  ): Set<bigint> {
    const wallNow = ctx.wallNow ?? 0;
    // A move whose successor is held starts its window; anything else keeps the old address (the rebuild allocates
    // nothing, so it keeps it until the first real pass), or gives it up with the rest (RequireDualStack above).
    const keptAddresses = new Set(kept.values());
    for (const [family, { address, why }] of moving) {
      const successor = kept.get(family);
      if (successor !== undefined && successor !== address) {
        const until = Math.ceil((wallNow + (request.renumberWindowMs ?? 0)) / 1000) * 1000;
        if (until > wallNow) {
          result.renumbered.push({ address, until, successor });
          result.retiring.push({ address, until });
        } else
          result.released.push({
            address,
            why: `${why}; moved to ${formatIp(successor)} (renumber window 0s)`,
            pool: this.#holders.get(address)?.pool ?? '',
          });
      } else if (ctx.allocate === false && !(request.policy === 'RequireDualStack' && result.failures.length > 0)) {
        kept.set(family, address);
        keptAddresses.add(address);
      } else if (!keptAddresses.has(address)) {
        result.released.push({ address, why, pool: this.#holders.get(address)?.pool ?? '' });
      }
    }
    return keptAddresses;
  }

  #keepRetiring(
    request: ServiceRequest,
    ctx: AssignContext,
    retiringBefore: readonly RetiringAddress[],
    keptAddresses: ReadonlySet<bigint>,
    result: AssignResult,
  ): void {
    const wallNow = ctx.wallNow ?? 0;
    // Windows that began earlier: kept until their end, unless the address is the Service's own again.
    for (const old of retiringBefore) {
      if (keptAddresses.has(old.address) || result.retiring.some((r) => r.address === old.address)) continue;
      const why =
        old.until <= wallNow
          ? 'its renumbering window ended'
          : mayStay(this.#view, request, old.address, ctx.namespaceLabels);
      if (why === undefined) {
        this.#claim(old.address, request);
        result.retiring.push(old);
      } else if (this.#holders.get(old.address)?.claims.has(request.key)) {
        result.released.push({ address: old.address, why, pool: this.#holders.get(old.address)?.pool ?? '' });
      }
    }
  }

  /**
   * An address `key`'s status still shows although the Service does not hold it (the rebuild at start-up did not
   * keep it): it is releasing, like one the Service gave up, until `statusWritten` reports a status without it.
   */
  shownButNotHeld(key: string, address: bigint): void {
    if (this.#holders.get(address)?.claims.has(key)) return;
    this.#markReleasing(address, key);
  }

  /**
   * The API server now shows `shown` in `key`'s status (a write succeeded, or the cache shows the status the pass
   * wanted): the releases of every other address by that Service are complete. Returns the addresses whose releases
   * completed: they rest in quarantine once no status shows them (or are free when there is no quarantine).
   */
  statusWritten(key: string, shown: readonly bigint[], now: number): bigint[] {
    const releasing = this.#releasingBy.get(key);
    if (!releasing) return [];
    const done = [...releasing].filter((address) => !shown.includes(address));
    for (const address of done) this.#releaseDone(address, key, now);
    return done;
  }

  /**
   * The Service is gone or no longer ours. Gone (`stillShown` false): its addresses and releases are done at once.
   * No longer ours (`stillShown` true): its addresses are releasing until its status is written.
   * Returns every address whose holders or releases changed.
   */
  release(key: string, now: number, stillShown = false): ReleasedAddress[] {
    const entry = this.#services.get(key);
    const held = [...(entry?.addresses ?? []), ...(entry?.retiring ?? []).map((r) => r.address)];
    const released = held.map((address) => ({ address, pool: this.#holders.get(address)?.pool ?? '' }));
    for (const { address } of released) this.#unclaim(address, key, stillShown ? 'shown' : 'gone', now);
    this.#services.delete(key);
    if (!stillShown) {
      for (const address of [...(this.#releasingBy.get(key) ?? [])]) {
        if (!released.some((r) => r.address === address))
          released.push({ address, pool: this.#poolContaining(address)?.config.name ?? '' });
        this.#releaseDone(address, key, now);
      }
    }
    return released;
  }

  /** Whether `address` is being released by a Service other than `key` (so `key` may not start to hold it). */
  #releasedByOther(address: bigint, key: string): string | undefined {
    for (const other of this.#releasing.get(address) ?? []) if (other !== key) return other;
    return undefined;
  }

  #markReleasing(address: bigint, key: string): void {
    const keys = this.#releasing.get(address) ?? new Set<string>();
    keys.add(key);
    this.#releasing.set(address, keys);
    const addresses = this.#releasingBy.get(key) ?? new Set<bigint>();
    addresses.add(address);
    this.#releasingBy.set(key, addresses);
    // A status shows it: it is not free, and its quarantine starts only when no status shows it any more.
    this.#unquarantine(address);
    this.#poolContaining(address)?.free[familyOf(address)].take(address);
  }

  /** `key`'s status no longer shows `address` (or `key` holds it again). */
  #unmarkReleasing(address: bigint, key: string): boolean {
    const keys = this.#releasing.get(address);
    if (!keys?.delete(key)) return false;
    if (keys.size === 0) this.#releasing.delete(address);
    const addresses = this.#releasingBy.get(key);
    addresses?.delete(address);
    if (addresses?.size === 0) this.#releasingBy.delete(key);
    return true;
  }

  #releaseDone(address: bigint, key: string, now: number): void {
    if (!this.#unmarkReleasing(address, key)) return;
    if (this.#holders.has(address) || this.#releasing.has(address)) return;
    this.#rest(address, now);
  }

  /** An address nobody holds or shows: to quarantine, or free when there is none. */
  #rest(address: bigint, now: number): void {
    const state = this.#poolContaining(address);
    if (!state) return;
    if (this.#quarantineMs > 0) {
      this.#quarantine.set(address, { until: now + this.#quarantineMs, pool: state });
      state.quarantined[familyOf(address)]++;
    } else state.free[familyOf(address)].add(address, address);
  }

  #unquarantine(address: bigint): void {
    const entry = this.#quarantine.get(address);
    if (!entry) return;
    this.#quarantine.delete(address);
    entry.pool.quarantined[familyOf(address)]--;
  }

  #poolContaining(address: bigint): PoolState | undefined {
    const family = familyOf(address);
    for (const state of this.#pools.values()) if (state.config.addresses[family].has(address)) return state;
    return undefined;
  }

  #claim(address: bigint, request: ServiceRequest, state?: PoolState): void {
    // Held again: it no longer rests, and the Service's own release of it (if any) is void.
    this.#unquarantine(address);
    this.#unmarkReleasing(address, request.key);
    if (request.sharingKey) {
      const shared = this.#bySharingKey.get(request.sharingKey) ?? new Set<bigint>();
      shared.add(address);
      this.#bySharingKey.set(request.sharingKey, shared);
    }
    const holder = this.#holders.get(address);
    if (holder) {
      holder.claims.set(request.key, request);
      return;
    }
    const pool = state ?? this.#poolContaining(address);
    if (pool) {
      pool.free[familyOf(address)].take(address);
      pool.allocated[familyOf(address)]++;
    }
    this.#holders.set(address, { pool: pool?.config.name ?? '', claims: new Map([[request.key, request]]) });
  }

  #unclaim(address: bigint, key: string, after: Unclaimed, now: number): void {
    const holder = this.#holders.get(address);
    const sharingKey = holder?.claims.get(key)?.sharingKey;
    if (!holder?.claims.delete(key)) return;
    if (sharingKey && ![...holder.claims.values()].some((c) => c.sharingKey === sharingKey)) {
      const shared = this.#bySharingKey.get(sharingKey);
      shared?.delete(address);
      if (shared?.size === 0) this.#bySharingKey.delete(sharingKey);
    }
    // Also while others still hold it: no new sharer may join an address a status shows under another request.
    if (after === 'shown') this.#markReleasing(address, key);
    if (holder.claims.size > 0) return;
    this.#holders.delete(address);
    const state = this.#pools.get(holder.pool);
    if (state) state.allocated[familyOf(address)]--;
    if (after === 'shown' || this.#releasing.has(address)) return;
    if (after === 'gone') this.#rest(address, now);
    else state?.free[familyOf(address)].add(address, address);
  }

  #expireQuarantine(now: number): void {
    for (const [address, { until, pool }] of this.#quarantine) {
      if (until > now) break;
      this.#quarantine.delete(address);
      pool.quarantined[familyOf(address)]--;
      pool.free[familyOf(address)].add(address, address);
    }
  }

  /** Every (address, services) pair: for invariant checks in tests and the status command. */
  *entries(): Generator<[bigint, string[]]> {
    for (const [address, holder] of this.#holders) yield [address, [...holder.claims.keys()]];
  }

  get quarantined(): number {
    return this.#quarantine.size;
  }

  /** Addresses given up that some status still shows. */
  get releasing(): number {
    return this.#releasing.size;
  }

  static readonly families = FAMILIES;
}
