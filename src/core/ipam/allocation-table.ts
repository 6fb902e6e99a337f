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
import { familyOf, formatIp, type IpFamily } from '../ip/ip-address.ts';
import { comparePoolPriority, type PoolConfig } from '../config/pool-config.ts';
import { matchesLabelSelector } from '../config/label-selector.ts';
import type { ServiceRequest } from '../config/service-request.ts';
import type { RetiringAddress } from '../config/renumber-record.ts';
import type { IntervalSet } from './interval-set.ts';
import { sharingConflict } from './sharing.ts';

export type AllocationFailureReason =
  | 'NoMatchingPool'
  | 'UnknownPool'
  | 'PoolExhausted'
  | 'RequestedIPNotInPool'
  | 'IPInUse'
  | 'SharingConflict'
  | 'IPBeingReleased'
  | 'PoolDraining';

/**
 * What a failed family waits for: a later pass can succeed once such a thing changes. `pool`: an address of that
 * pool and family becomes available; `address`: the holders of that address change (or its release completes);
 * `sharing`: an address held under that sharing key appears or loses a holder. Failures that only a change of
 * configuration can cure (no pool, unknown pool, requested address outside the pools) wait for nothing.
 */
export type WaitFor =
  | { kind: 'pool'; pool: string; family: IpFamily }
  | { kind: 'address'; address: bigint }
  | { kind: 'sharing'; sharingKey: string; family: IpFamily };

export interface AllocationFailure {
  reason: AllocationFailureReason;
  family: IpFamily;
  message: string;
  waitFor: WaitFor[];
  /** A move (renumbering) that could not be made: the address the Service keeps meanwhile. */
  keeping?: bigint;
}

export interface AssignResult {
  /** What the Service holds now, in its family order. */
  addresses: bigint[];
  allocated: bigint[];
  /**
   * Addresses the Service gave up (no longer eligible or no longer requested). They stay releasing until
   * `statusWritten` reports a status of this Service without them.
   */
  released: Array<ReleasedAddress & { why: string }>;
  /** Families that could not be served. */
  failures: AllocationFailure[];
  /**
   * Held addresses the Service may not show yet: not in its status (`current`) while another Service, which gave them
   * up, still shows them. Its status gets them once those releases are written.
   */
  withheld: bigint[];
  /**
   * Old addresses the Service still holds, shows and announces beside their successors until their windows end
   * (renumbering), including those whose window began in this pass.
   */
  retiring: RetiringAddress[];
  /** The windows that began in this pass, with the address that replaces each. */
  renumbered: Array<RetiringAddress & { successor: bigint }>;
}

/** An address given up, with the pool it was held from ('' when no pool holds it any more). */
export interface ReleasedAddress {
  address: bigint;
  pool: string;
}

export interface AssignContext {
  /** Labels of the Service's namespace, for namespaceSelector. */
  namespaceLabels: Readonly<Record<string, string>> | undefined;
  /** Monotonic milliseconds, for the quarantine. */
  now: number;
  /** false: only keep valid current addresses (the rebuild pass at start-up); allocate nothing new. */
  allocate?: boolean;
  /**
   * Another Service's request as it is now (from the cache), where it may be newer than the one the table holds
   * (that Service's own pass has not run yet): a Service joins an address only if it may share it with both.
   */
  currentRequest?: (key: string) => ServiceRequest | undefined;
  /** Wall-clock epoch milliseconds, for renumbering windows (their ends are stored as wall-clock times). */
  wallNow?: number;
  /**
   * The renumbering windows the Service's status records (the rebuild at start-up): taken only when the table holds
   * no record of the Service, like `current`, and only for addresses in `current`.
   */
  retiring?: readonly RetiringAddress[];
}

export interface FamilyUsage {
  total: bigint;
  allocated: number;
  available: bigint;
}

interface Holder {
  pool: string;
  claims: Map<string, ServiceRequest>;
}

interface PoolState {
  config: PoolConfig;
  free: Record<IpFamily, IntervalSet>;
  allocated: Record<IpFamily, number>;
  quarantined: Record<IpFamily, number>;
}

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

  constructor(options: { quarantineMs: number }) {
    this.#quarantineMs = options.quarantineMs;
  }

  /** Replaces the pool configuration; held and quarantined addresses stay out of the free sets. */
  setPools(pools: ReadonlyMap<string, PoolConfig>): void {
    const next = new Map<string, PoolState>();
    for (const config of pools.values()) {
      next.set(config.name, {
        config,
        free: { 4: config.addresses[4].freeSet(), 6: config.addresses[6].freeSet() },
        allocated: { 4: 0, 6: 0 },
        quarantined: { 4: 0, 6: 0 },
      });
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
    if (!state) return undefined;
    const family = (f: IpFamily): FamilyUsage => {
      const total = state.config.addresses[f].size;
      // A draining pool has nothing to hand out.
      return {
        total,
        allocated: state.allocated[f],
        available: state.config.drain ? 0n : total - BigInt(state.allocated[f]),
      };
    };
    return { 4: family(4), 6: family(6) };
  }

  /**
   * Gives the Service what it asks for, keeping every current address that is still right for it.
   * `current` is what the Service held before (its status at start-up); the table's own record wins when it has one.
   */
  assign(request: ServiceRequest, current: readonly bigint[], ctx: AssignContext): AssignResult {
    this.#expireQuarantine(ctx.now);
    const wallNow = ctx.wallNow ?? 0;
    const eligible = this.#eligiblePools(request, ctx.namespaceLabels);
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

    for (const address of had) {
      const why = this.#whyNotKeep(request, address, eligible.pools, kept) ?? this.#whyLeaveDraining(request, address);
      const family = familyOf(address);
      if (why === undefined) {
        kept.set(family, address);
        this.#claim(address, request);
      } else if (
        request.renumberWindowMs !== undefined &&
        !kept.has(family) &&
        !moving.has(family) &&
        this.#mayStay(request, address, ctx.namespaceLabels) === undefined
      ) {
        moving.set(family, { address, why });
        this.#claim(address, request);
      } else if (this.#holders.get(address)?.claims.has(request.key)) {
        result.released.push({ address, why, pool: this.#holders.get(address)?.pool ?? '' });
      }
    }

    /** Moves that could not be made: the Service keeps the old address, and the failure says why. */
    const blocked: AllocationFailure[] = [];
    if (ctx.allocate !== false) {
      for (const family of request.families) {
        if (kept.has(family)) continue;
        const outcome = this.#allocateFamily(request, family, eligible, ctx);
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
    }

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
    // Windows that began earlier: kept until their end, unless the address is the Service's own again.
    for (const old of retiringBefore) {
      if (keptAddresses.has(old.address) || result.retiring.some((r) => r.address === old.address)) continue;
      const why =
        old.until <= wallNow
          ? 'its renumbering window ended'
          : this.#mayStay(request, old.address, ctx.namespaceLabels);
      if (why === undefined) {
        this.#claim(old.address, request);
        result.retiring.push(old);
      } else if (this.#holders.get(old.address)?.claims.has(request.key)) {
        result.released.push({ address: old.address, why, pool: this.#holders.get(old.address)?.pool ?? '' });
      }
    }
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

  #eligiblePools(
    request: ServiceRequest,
    namespaceLabels: AssignContext['namespaceLabels'],
  ): { pools: PoolState[]; unknown: string[] } {
    const allowed = (p: PoolConfig): boolean => this.#admits(p, request, namespaceLabels);
    let candidates: PoolState[];
    let unknown: string[] = [];
    if (request.poolNames) {
      unknown = request.poolNames.filter((n) => !this.#pools.has(n));
      candidates = request.poolNames.flatMap((n) => {
        const state = this.#pools.get(n);
        return state ? [state] : [];
      });
    } else if (request.requested.length > 0) candidates = [...this.#pools.values()];
    else candidates = [...this.#pools.values()].filter((s) => s.config.autoAssign);
    const pools = candidates.filter((s) => allowed(s.config)).sort((a, b) => comparePoolPriority(a.config, b.config));
    return { pools, unknown };
  }

  #whyNotKeep(
    request: ServiceRequest,
    address: bigint,
    eligible: readonly PoolState[],
    kept: ReadonlyMap<IpFamily, bigint>,
  ): string | undefined {
    const family = familyOf(address);
    if (!request.families.includes(family)) return `the Service no longer has IPv${family} in ipFamilies`;
    if (kept.has(family)) return `the Service already holds another IPv${family} address`;
    const requested = request.requested.find((r) => familyOf(r) === family);
    if (requested !== undefined && requested !== address) return `the Service now requests ${formatIp(requested)}`;
    if (!eligible.some((s) => s.config.addresses[family].has(address))) {
      return 'no pool that serves this Service holds it any more';
    }
    for (const other of this.#holders.get(address)?.claims.values() ?? []) {
      if (other.key === request.key) continue;
      const conflict = sharingConflict(request, other);
      if (conflict) return conflict;
    }
    return undefined;
  }

  /**
   * Why a Service with a renumber window leaves an address it could keep: its pool drains. An address the Service
   * requests stays (a pinned Service keeps its address in a draining pool; to move it, change the request).
   */
  #whyLeaveDraining(request: ServiceRequest, address: bigint): string | undefined {
    if (request.renumberWindowMs === undefined || request.requested.includes(address)) return undefined;
    const state = this.#poolContaining(address);
    return state?.config.drain ? `pool ${state.config.name} is draining` : undefined;
  }

  /**
   * Why an old address may not stay beside its successor (undefined: it may): it must be of a family the Service
   * still has, in a pool whose namespaces and selectors admit the Service (the speakers check the same before they
   * announce it), and shared with no Service it may not share with.
   */
  #mayStay(
    request: ServiceRequest,
    address: bigint,
    namespaceLabels: AssignContext['namespaceLabels'],
  ): string | undefined {
    const family = familyOf(address);
    if (!request.families.includes(family)) return `the Service no longer has IPv${family} in ipFamilies`;
    const state = this.#poolContaining(address);
    if (!state) return 'no pool holds it any more';
    if (!this.#admits(state.config, request, namespaceLabels))
      return `pool ${state.config.name} no longer admits this Service`;
    for (const other of this.#holders.get(address)?.claims.values() ?? []) {
      if (other.key === request.key) continue;
      const conflict = sharingConflict(request, other);
      if (conflict) return conflict;
    }
    return undefined;
  }

  #admits(p: PoolConfig, request: ServiceRequest, namespaceLabels: AssignContext['namespaceLabels']): boolean {
    return (
      (p.namespaces === undefined || p.namespaces.includes(request.namespace)) &&
      (p.namespaceSelector === undefined || matchesLabelSelector(p.namespaceSelector, namespaceLabels)) &&
      (p.serviceSelector === undefined || matchesLabelSelector(p.serviceSelector, request.labels))
    );
  }

  /** Whether every holder of `address` keeps it only until a renumbering window ends (no sharer should join it). */
  #onlyRetiring(address: bigint, holder: Holder): boolean {
    return [...holder.claims.keys()].every((key) =>
      this.#services.get(key)?.retiring.some((r) => r.address === address),
    );
  }

  /** Why `request` may not join the holders of an address (undefined: it may), by their requests as held and as now. */
  #joinConflict(request: ServiceRequest, holder: Holder, ctx: AssignContext): string | undefined {
    for (const other of holder.claims.values()) {
      if (other.key === request.key) continue;
      const now = ctx.currentRequest?.(other.key);
      const conflict =
        sharingConflict(request, other) ?? (now && now !== other ? sharingConflict(request, now) : undefined);
      if (conflict) return conflict;
    }
    return undefined;
  }

  #allocateFamily(
    request: ServiceRequest,
    family: IpFamily,
    eligible: { pools: PoolState[]; unknown: string[] },
    ctx: AssignContext,
  ): bigint | AllocationFailure {
    const fail = (reason: AllocationFailureReason, message: string, waitFor: WaitFor[] = []): AllocationFailure => ({
      reason,
      family,
      message,
      waitFor,
    });
    if (eligible.unknown.length > 0 && eligible.pools.length === 0) {
      return fail('UnknownPool', `no IPPool named ${eligible.unknown.join(', ')}`);
    }
    const withFamily = eligible.pools.filter((s) => s.config.addresses[family].size > 0n);
    const requested = request.requested.find((r) => familyOf(r) === family);
    if (requested !== undefined) return this.#takeRequested(request, requested, withFamily, fail, ctx);
    // Draining pools hand out nothing: no lowest free address, no quarantined one, no sharer joins their addresses.
    const open = withFamily.filter((s) => !s.config.drain);

    for (const address of request.sharingKey ? (this.#bySharingKey.get(request.sharingKey) ?? []) : []) {
      const holder = this.#holders.get(address);
      if (!holder || familyOf(address) !== family || !open.some((s) => s.config.name === holder.pool)) continue;
      // Kept only until a renumbering window ends: the group has moved on, and a sharer follows it there.
      if (this.#onlyRetiring(address, holder)) continue;
      // A Service whose status still shows it gave it up, most likely for a request that may not share with this one.
      if (this.#releasedByOther(address, request.key) !== undefined) continue;
      if (this.#joinConflict(request, holder, ctx) === undefined) {
        this.#claim(address, request);
        return address;
      }
    }
    for (const state of open) {
      const address = state.config.addresses[family].takeLowestFrom(state.free[family]);
      if (address !== undefined) {
        this.#claim(address, request, state);
        return address;
      }
    }
    for (const [address, { pool }] of this.#quarantine) {
      if (familyOf(address) === family && open.includes(pool)) {
        this.#claim(address, request, pool);
        return address;
      }
    }
    if (withFamily.length === 0) {
      const named = request.poolNames ? ` among ${request.poolNames.join(', ')}` : '';
      return fail('NoMatchingPool', `no IPPool${named} with IPv${family} addresses serves ${request.key}`);
    }
    if (open.length === 0) {
      // Only a change of pools can help (one stops draining, or another admits the Service): that retries everyone.
      const names = withFamily.map((s) => s.config.name).join(', ');
      return fail(
        'PoolDraining',
        `every IPPool with IPv${family} addresses that serves ${request.key} is draining (${names}): a draining pool hands out no new addresses`,
      );
    }
    const waitFor: WaitFor[] = open.map((s) => ({ kind: 'pool', pool: s.config.name, family }));
    if (request.sharingKey) waitFor.push({ kind: 'sharing', sharingKey: request.sharingKey, family });
    return fail(
      'PoolExhausted',
      `no free IPv${family} address in ${open.map((s) => s.config.name).join(', ')}`,
      waitFor,
    );
  }

  #takeRequested(
    request: ServiceRequest,
    address: bigint,
    pools: readonly PoolState[],
    fail: (reason: AllocationFailureReason, message: string, waitFor?: WaitFor[]) => AllocationFailure,
    ctx: AssignContext,
  ): bigint | AllocationFailure {
    const text = formatIp(address);
    const state = pools.find((s) => s.config.addresses[familyOf(address)].has(address));
    if (!state) {
      const elsewhere = this.#poolContaining(address);
      const hint = elsewhere ? `: pool ${elsewhere.config.name} holds it but does not serve this Service` : '';
      return fail('RequestedIPNotInPool', `requested ${text} is in no eligible IPPool${hint}`);
    }
    const holder = this.#holders.get(address);
    if (state.config.drain && !holder?.claims.has(request.key)) {
      return fail(
        'PoolDraining',
        `requested ${text} is in pool ${state.config.name}, which is draining: no Service starts to use its addresses`,
      );
    }
    const conflict = holder ? this.#joinConflict(request, holder, ctx) : undefined;
    if (conflict)
      return fail(request.sharingKey ? 'SharingConflict' : 'IPInUse', `requested ${text}: ${conflict}`, [
        { kind: 'address', address },
      ]);
    const releaser = this.#releasedByOther(address, request.key);
    if (releaser !== undefined) {
      return fail(
        'IPBeingReleased',
        `requested ${text} is still in the status of ${releaser}, which gave it up; it is assigned once that status is updated`,
        [{ kind: 'address', address }],
      );
    }
    this.#claim(address, request, state);
    return address;
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
