// The owners of the layer-2 addresses kept up to date incrementally: the same result as ownersOf (rendezvous with
// bounded load over the live nodes, ADR 0007) or ownersByPreference (the bounded-load placement over the members,
// then the first live member of each address's order, ADR 0019), computed from what changed since the last update
// instead of from every address (ADR 0037).
//
// Why this is exact. Call an address's top node its best-ranked eligible node of the set the bounded-load placement
// runs over (the live nodes, or the members). If no node is the top of more addresses than the capacity
// ceil(loadFactor x A / N), the bounded-load placement gives every address its top node: at an address's turn its
// top holds only earlier addresses whose top it also is, fewer than the capacity, so it is open and, being the best
// ranked, chosen. The placement then depends on each address alone, and a change recomputes only the addresses it
// touches: an address added, removed or with new eligible nodes; when a node leaves the set, the addresses it was
// top of; when a node joins, the addresses it is eligible for (it may outrank their top). With preference orders,
// a change of liveness alone moves only the addresses whose primary is the node that changed, or whose primary is
// not live (their owner is the best live member after it). When some node is the top of more addresses than the
// capacity (few addresses, or eligibility concentrated on few nodes), the load bound decides and every address is
// placed again by assignOwners, as before: O(all) while that lasts.
import { addressHashOf, assignOwners, bestRanked, DEFAULT_LOAD_FACTOR, nodeHashOf } from './rendezvous-owner.ts';

/** One layer-2 address with the nodes that may announce it (distinct addresses; the plan's entries). */
export interface TrackedAddressInput {
  readonly address: bigint;
  readonly eligible: readonly string[];
}

/** How owners are chosen: as ownersOf over the live nodes, or as ownersByPreference over the members. */
export type OwnerPlacement =
  | { readonly kind: 'rendezvous'; readonly live: ReadonlySet<string> }
  | { readonly kind: 'preference'; readonly members: ReadonlySet<string>; readonly live: ReadonlySet<string> };

interface Hash {
  readonly hi: number;
  readonly lo: number;
}

interface TrackedAddress {
  readonly hash: Hash;
  /** Eligible nodes without duplicates. */
  readonly eligible: readonly string[];
  /** Best-ranked eligible node of the placement's set (undefined: none). */
  top: string | undefined;
}

export class OwnerTracker {
  readonly #loadFactor: number;
  readonly #entries = new Map<bigint, TrackedAddress>();
  readonly #owners = new Map<bigint, string | undefined>();
  readonly #nodeHashes = new Map<string, Hash>();
  /** How many addresses each node is the top of, and which. */
  readonly #topCount = new Map<string, number>();
  readonly #byTop = new Map<string, Set<bigint>>();
  /** How many addresses each node is eligible for (any node). */
  readonly #eligibleCount = new Map<string, number>();
  /** Addresses with a top node (A of the capacity). */
  #served = 0;
  /** The set the bounded-load placement ran over at the last update (live nodes, or members). */
  #over = new Set<string>();
  #live = new Set<string>();
  #kind: OwnerPlacement['kind'] | undefined;
  /** The last owners came from a full bounded-load assignment (or nothing was computed yet). */
  #full = true;
  /** With preference orders: addresses whose primary is not live (owned by the next live member). */
  readonly #primaryNotLive = new Set<bigint>();
  /** Addresses whose top or owner was computed, since the tracker was built (the cost of updates, for tests). */
  evaluations = 0;

  constructor(loadFactor = DEFAULT_LOAD_FACTOR) {
    if (!Number.isFinite(loadFactor) || loadFactor < 1)
      throw new RangeError(`load factor ${loadFactor} is not a finite number >= 1`);
    this.#loadFactor = loadFactor;
  }

  /** The owner of every tracked address (undefined: no live eligible node). */
  get owners(): ReadonlyMap<bigint, string | undefined> {
    return this.#owners;
  }

  /**
   * Brings the owners up to date with `addresses` (every address, as it is now) after the addresses in `changed`
   * were added, removed or given other eligible nodes (undefined: anything may have changed, recompute all).
   * Returns the addresses whose owner changed (removed ones included).
   */
  update(
    addresses: ReadonlyMap<bigint, TrackedAddressInput>,
    changed: Iterable<bigint> | undefined,
    placement: OwnerPlacement,
  ): Set<bigint> {
    const over = placement.kind === 'rendezvous' ? placement.live : placement.members;
    const all = changed === undefined || placement.kind !== this.#kind;
    const retop = new Set<bigint>();
    if (all) {
      for (const address of this.#entries.keys()) this.#forget(address);
      for (const [address, input] of addresses) {
        this.#track(address, input);
        retop.add(address);
      }
    } else {
      for (const address of changed) {
        this.#forget(address);
        const input = addresses.get(address);
        if (input) {
          this.#track(address, input);
          retop.add(address);
        }
      }
      for (const node of this.#over) {
        if (over.has(node)) continue;
        for (const address of this.#byTop.get(node) ?? []) retop.add(address);
      }
      const joined = [...over].filter((node) => !this.#over.has(node));
      if (joined.length > 0)
        for (const [address, entry] of this.#entries)
          if (entry.eligible.some((node) => joined.includes(node))) retop.add(address);
    }
    const overChanged = !sameSet(this.#over, over);
    this.#kind = placement.kind;
    this.#over = new Set(over);
    for (const address of retop) {
      const entry = this.#entries.get(address);
      if (entry)
        this.#setTop(
          address,
          entry,
          this.#bestOf(entry, (node) => over.has(node)),
        );
    }

    const liveChanged = !sameSet(this.#live, placement.live);
    const livenessChanged = liveChanged ? symmetricDifference(this.#live, placement.live, over) : [];
    this.#live = new Set(placement.live);
    const reown = new Set<bigint>();
    const removed = new Set<bigint>();
    for (const address of this.#owners.keys()) if (!this.#entries.has(address)) removed.add(address);
    let primaries: ReadonlyMap<bigint, string | undefined> | undefined;
    if (this.#topsArePlacement()) {
      if (this.#full || all) for (const address of this.#entries.keys()) reown.add(address);
      else {
        for (const address of retop) reown.add(address);
        // The owner of an address whose primary is not live is the best live member after it.
        if ((liveChanged || overChanged) && placement.kind === 'preference')
          for (const address of this.#primaryNotLive) reown.add(address);
        if (liveChanged && placement.kind === 'preference') {
          for (const node of livenessChanged) for (const address of this.#byTop.get(node) ?? []) reown.add(address);
        }
      }
      this.#full = false;
    } else if (all || overChanged || retop.size > 0 || removed.size > 0 || !this.#full) {
      // The load bound decides: place every address again.
      primaries = assignOwners({
        addresses: [...this.#entries].map(([address, entry]) => ({ address, eligible: entry.eligible })),
        live: over,
        loadFactor: this.#loadFactor,
      }).owners;
      for (const address of this.#entries.keys()) reown.add(address);
      this.#full = true;
    } else if (liveChanged && placement.kind === 'preference') {
      // Same primaries as the last full assignment (nothing placed changed): only liveness moves owners.
      for (const address of this.#entries.keys()) reown.add(address);
      primaries = this.#lastPrimaries;
    }
    if (primaries) this.#lastPrimaries = primaries;

    const moved = new Set<bigint>(removed);
    for (const address of removed) {
      this.#owners.delete(address);
      this.#primaryNotLive.delete(address);
    }
    for (const address of reown) {
      const entry = this.#entries.get(address);
      if (!entry) continue;
      this.evaluations++;
      const primary = this.#full ? this.#lastPrimaries.get(address) : entry.top;
      const owner = this.#ownerOf(entry, primary, placement);
      if (placement.kind === 'preference' && primary !== undefined && !placement.live.has(primary))
        this.#primaryNotLive.add(address);
      else this.#primaryNotLive.delete(address);
      if (!this.#owners.has(address) || this.#owners.get(address) !== owner) moved.add(address);
      this.#owners.set(address, owner);
    }
    return moved;
  }

  /** Primaries of the last full assignment (used while #full). */
  #lastPrimaries: ReadonlyMap<bigint, string | undefined> = new Map();

  #ownerOf(entry: TrackedAddress, primary: string | undefined, placement: OwnerPlacement): string | undefined {
    if (placement.kind === 'rendezvous') return primary;
    if (primary !== undefined && placement.live.has(primary)) return primary;
    const { members, live } = placement;
    return this.#bestOf(entry, (node) => node !== primary && members.has(node) && live.has(node));
  }

  /** Whether every address's top is its bounded-load placement: no node is the top of more than the capacity. */
  #topsArePlacement(): boolean {
    if (this.#served === 0) return true;
    let nodes = 0;
    for (const node of this.#over) if ((this.#eligibleCount.get(node) ?? 0) > 0) nodes++;
    const capacity = Math.ceil((this.#loadFactor * this.#served) / nodes);
    for (const count of this.#topCount.values()) if (count > capacity) return false;
    return true;
  }

  #bestOf(entry: TrackedAddress, accept: (node: string) => boolean): string | undefined {
    return bestRanked(entry.hash, entry.eligible, (node) => this.#hashOf(node), accept);
  }

  #hashOf(node: string): Hash {
    let hash = this.#nodeHashes.get(node);
    if (!hash) this.#nodeHashes.set(node, (hash = nodeHashOf(node)));
    return hash;
  }

  #track(address: bigint, input: TrackedAddressInput): void {
    const eligible =
      new Set(input.eligible).size === input.eligible.length ? input.eligible : [...new Set(input.eligible)];
    this.#entries.set(address, { hash: addressHashOf(address), eligible, top: undefined });
    for (const node of eligible) this.#eligibleCount.set(node, (this.#eligibleCount.get(node) ?? 0) + 1);
  }

  #forget(address: bigint): void {
    const entry = this.#entries.get(address);
    if (!entry) return;
    this.#setTop(address, entry, undefined);
    for (const node of entry.eligible) {
      const count = (this.#eligibleCount.get(node) ?? 0) - 1;
      if (count > 0) this.#eligibleCount.set(node, count);
      else this.#eligibleCount.delete(node);
    }
    this.#entries.delete(address);
  }

  #setTop(address: bigint, entry: TrackedAddress, top: string | undefined): void {
    this.evaluations++;
    if (entry.top === top) return;
    if (entry.top !== undefined) {
      const count = (this.#topCount.get(entry.top) ?? 0) - 1;
      if (count > 0) this.#topCount.set(entry.top, count);
      else this.#topCount.delete(entry.top);
      this.#byTop.get(entry.top)?.delete(address);
      this.#served--;
    }
    entry.top = top;
    if (top !== undefined) {
      this.#topCount.set(top, (this.#topCount.get(top) ?? 0) + 1);
      let set = this.#byTop.get(top);
      if (!set) this.#byTop.set(top, (set = new Set()));
      set.add(address);
      this.#served++;
    }
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** Nodes of `within` live in exactly one of `a` and `b`. */
function symmetricDifference(a: ReadonlySet<string>, b: ReadonlySet<string>, within: ReadonlySet<string>): string[] {
  return [...within].filter((node) => a.has(node) !== b.has(node));
}
