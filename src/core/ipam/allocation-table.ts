// The allocation table: which Service holds which address, the free addresses of every pool and family (as
// interval sets: no per-address enumeration), and the quarantine of recently released addresses.
// Every operation is synchronous, so concurrent reconciles can never hand out one address twice.
import { familyOf, formatIp, type IpFamily } from '../ip/ip-address.ts';
import { comparePoolPriority, type PoolConfig } from '../config/pool-config.ts';
import { matchesLabelSelector } from '../config/label-selector.ts';
import type { ServiceRequest } from '../config/service-request.ts';
import type { IntervalSet } from './interval-set.ts';
import { sharingConflict } from './sharing.ts';

export type AllocationFailureReason =
  | 'NoMatchingPool'
  | 'UnknownPool'
  | 'PoolExhausted'
  | 'RequestedIPNotInPool'
  | 'IPInUse'
  | 'SharingConflict';

export interface AllocationFailure {
  reason: AllocationFailureReason;
  family: IpFamily;
  message: string;
}

export interface AssignResult {
  /** What the Service holds now, in its family order. */
  addresses: bigint[];
  allocated: bigint[];
  /** Addresses the Service gave up (no longer eligible or no longer requested). */
  released: Array<ReleasedAddress & { why: string }>;
  /** Families that could not be served. */
  failures: AllocationFailure[];
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
}

const FAMILIES: readonly IpFamily[] = [4, 6];

export class AllocationTable {
  readonly #quarantineMs: number;
  #pools = new Map<string, PoolState>();
  readonly #holders = new Map<bigint, Holder>();
  readonly #services = new Map<string, { request: ServiceRequest; addresses: bigint[] }>();
  /** Released addresses resting before reuse, in release order. */
  readonly #quarantine = new Map<bigint, number>();
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
        free: { 4: config.addresses[4].clone(), 6: config.addresses[6].clone() },
        allocated: { 4: 0, 6: 0 },
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
    for (const address of [...this.#quarantine.keys()]) {
      const state = this.#poolContaining(address);
      if (state) state.free[familyOf(address)].take(address);
      else this.#quarantine.delete(address);
    }
  }

  /** The addresses a Service holds, if any. */
  addressesOf(key: string): readonly bigint[] | undefined {
    return this.#services.get(key)?.addresses;
  }

  /** Services holding `address`. */
  holdersOf(address: bigint): string[] {
    return [...(this.#holders.get(address)?.claims.keys() ?? [])];
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
      return { total, allocated: state.allocated[f], available: total - BigInt(state.allocated[f]) };
    };
    return { 4: family(4), 6: family(6) };
  }

  /**
   * Gives the Service what it asks for, keeping every current address that is still right for it.
   * `current` is what the Service held before (its status at start-up); the table's own record wins when it has one.
   */
  assign(request: ServiceRequest, current: readonly bigint[], ctx: AssignContext): AssignResult {
    this.#expireQuarantine(ctx.now);
    const eligible = this.#eligiblePools(request, ctx.namespaceLabels);
    const had = this.#services.get(request.key)?.addresses ?? current;
    const result: AssignResult = { addresses: [], allocated: [], released: [], failures: [] };
    const kept = new Map<IpFamily, bigint>();

    for (const address of had) {
      const why = this.#whyNotKeep(request, address, eligible.pools, kept);
      if (why === undefined) {
        kept.set(familyOf(address), address);
        this.#claim(address, request);
      } else if (this.#holders.get(address)?.claims.has(request.key)) {
        result.released.push({ address, why, pool: this.#holders.get(address)?.pool ?? '' });
      }
    }

    if (ctx.allocate !== false) {
      for (const family of request.families) {
        if (kept.has(family)) continue;
        const outcome = this.#allocateFamily(request, family, eligible);
        if (typeof outcome === 'bigint') {
          kept.set(family, outcome);
          result.allocated.push(outcome);
        } else result.failures.push(outcome);
      }
      if (request.policy === 'RequireDualStack' && result.failures.length > 0) {
        for (const address of result.allocated) {
          this.#unclaim(address, request.key, false, ctx.now);
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
            result.released.push({ address, why: `RequireDualStack and ${missing} cannot be served`, pool: this.#holders.get(address)?.pool ?? '' });
          } else this.#unclaim(address, request.key, true, ctx.now);
        }
        kept.clear();
      }
    }

    for (const { address } of result.released) this.#unclaim(address, request.key, true, ctx.now);
    result.addresses = request.families.flatMap((f) => {
      const address = kept.get(f);
      return address === undefined ? [] : [address];
    });
    if (result.addresses.length > 0) this.#services.set(request.key, { request, addresses: result.addresses });
    else this.#services.delete(request.key);
    return result;
  }

  /**
   * An address a Service still shows in its status but no longer holds (the rebuild at start-up did not keep it):
   * it rests in quarantine like a released one, since it may still be announced. Held or pool-less: nothing to do.
   */
  quarantineUnheld(address: bigint, now: number): void {
    if (this.#quarantineMs <= 0 || this.#holders.has(address) || this.#quarantine.has(address)) return;
    const state = this.#poolContaining(address);
    if (!state) return;
    state.free[familyOf(address)].take(address);
    this.#quarantine.set(address, now + this.#quarantineMs);
  }

  /** The Service is gone or no longer ours: its addresses go to quarantine (unless still shared). */
  release(key: string, now: number): ReleasedAddress[] {
    const entry = this.#services.get(key);
    if (!entry) return [];
    const released = entry.addresses.map((address) => ({ address, pool: this.#holders.get(address)?.pool ?? '' }));
    for (const address of entry.addresses) this.#unclaim(address, key, true, now);
    this.#services.delete(key);
    return released;
  }


  #poolContaining(address: bigint): PoolState | undefined {
    const family = familyOf(address);
    for (const state of this.#pools.values()) if (state.config.addresses[family].has(address)) return state;
    return undefined;
  }

  #eligiblePools(request: ServiceRequest, namespaceLabels: AssignContext['namespaceLabels']): { pools: PoolState[]; unknown: string[] } {
    const allowed = (p: PoolConfig): boolean =>
      (p.namespaces === undefined || p.namespaces.includes(request.namespace)) &&
      (p.namespaceSelector === undefined || matchesLabelSelector(p.namespaceSelector, namespaceLabels)) &&
      (p.serviceSelector === undefined || matchesLabelSelector(p.serviceSelector, request.labels));
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

  #whyNotKeep(request: ServiceRequest, address: bigint, eligible: readonly PoolState[], kept: ReadonlyMap<IpFamily, bigint>): string | undefined {
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

  #allocateFamily(request: ServiceRequest, family: IpFamily, eligible: { pools: PoolState[]; unknown: string[] }): bigint | AllocationFailure {
    const fail = (reason: AllocationFailureReason, message: string): AllocationFailure => ({ reason, family, message });
    if (eligible.unknown.length > 0 && eligible.pools.length === 0) {
      return fail('UnknownPool', `no IPPool named ${eligible.unknown.join(', ')}`);
    }
    const withFamily = eligible.pools.filter((s) => s.config.addresses[family].size > 0n);
    const requested = request.requested.find((r) => familyOf(r) === family);
    if (requested !== undefined) return this.#takeRequested(request, requested, withFamily, fail);

    for (const address of request.sharingKey ? (this.#bySharingKey.get(request.sharingKey) ?? []) : []) {
      const holder = this.#holders.get(address);
      if (!holder || familyOf(address) !== family || !withFamily.some((s) => s.config.name === holder.pool)) continue;
      if ([...holder.claims.values()].every((c) => c.key === request.key || !sharingConflict(request, c))) {
        this.#claim(address, request);
        return address;
      }
    }
    for (const state of withFamily) {
      const address = state.free[family].takeLowest();
      if (address !== undefined) {
        this.#claim(address, request, state);
        return address;
      }
    }
    for (const address of this.#quarantine.keys()) {
      const state = withFamily.find((s) => s.config.addresses[family].has(address));
      if (state && familyOf(address) === family) {
        this.#quarantine.delete(address);
        this.#claim(address, request, state);
        return address;
      }
    }
    if (withFamily.length === 0) {
      const named = request.poolNames ? ` among ${request.poolNames.join(', ')}` : '';
      return fail('NoMatchingPool', `no IPPool${named} with IPv${family} addresses serves ${request.key}`);
    }
    return fail('PoolExhausted', `no free IPv${family} address in ${withFamily.map((s) => s.config.name).join(', ')}`);
  }

  #takeRequested(
    request: ServiceRequest,
    address: bigint,
    pools: readonly PoolState[],
    fail: (reason: AllocationFailureReason, message: string) => AllocationFailure,
  ): bigint | AllocationFailure {
    const text = formatIp(address);
    const state = pools.find((s) => s.config.addresses[familyOf(address)].has(address));
    if (!state) {
      const elsewhere = this.#poolContaining(address);
      const hint = elsewhere ? `: pool ${elsewhere.config.name} holds it but does not serve this Service` : '';
      return fail('RequestedIPNotInPool', `requested ${text} is in no eligible IPPool${hint}`);
    }
    const holder = this.#holders.get(address);
    for (const other of holder?.claims.values() ?? []) {
      if (other.key === request.key) continue;
      const conflict = sharingConflict(request, other);
      if (conflict) return fail(request.sharingKey ? 'SharingConflict' : 'IPInUse', `requested ${text}: ${conflict}`);
    }
    if (!holder) {
      this.#quarantine.delete(address);
      state.free[familyOf(address)].take(address);
    }
    this.#claim(address, request, state);
    return address;
  }

  #claim(address: bigint, request: ServiceRequest, state?: PoolState): void {
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

  #unclaim(address: bigint, key: string, quarantine: boolean, now: number): void {
    const holder = this.#holders.get(address);
    const sharingKey = holder?.claims.get(key)?.sharingKey;
    if (!holder?.claims.delete(key)) return;
    if (sharingKey && ![...holder.claims.values()].some((c) => c.sharingKey === sharingKey)) {
      const shared = this.#bySharingKey.get(sharingKey);
      shared?.delete(address);
      if (shared?.size === 0) this.#bySharingKey.delete(sharingKey);
    }
    if (holder.claims.size > 0) return;
    this.#holders.delete(address);
    const state = this.#pools.get(holder.pool);
    if (!state) return;
    state.allocated[familyOf(address)]--;
    if (quarantine && this.#quarantineMs > 0) this.#quarantine.set(address, now + this.#quarantineMs);
    else state.free[familyOf(address)].add(address, address);
  }

  #expireQuarantine(now: number): void {
    for (const [address, until] of this.#quarantine) {
      if (until > now) break;
      this.#quarantine.delete(address);
      const state = this.#poolContaining(address);
      if (state && !this.#holders.has(address)) state.free[familyOf(address)].add(address, address);
    }
  }

  /** Every (address, services) pair: for invariant checks in tests and the status command. */
  *entries(): Generator<[bigint, string[]]> {
    for (const [address, holder] of this.#holders) yield [address, [...holder.claims.keys()]];
  }

  get quarantined(): number {
    return this.#quarantine.size;
  }

  static readonly families = FAMILIES;
}
