// Ownership stickiness (ADR 0036): a speaker that (re)joins the live set while others serve without it is
// *rejoining* for a quiet period: it is live, but counts for ownership only where no settled member can serve.
// Whether a member is rejoining is that member's own statement (its heartbeat Lease's `beaconlb.io/layer2-rejoining`
// annotation with Lease liveness, its REJOINING claims with probes, probe-detector.ts), never a local guess of when
// it was noticed: two speakers holding the same records compute the same owners.
//
// The rule, for the bounded-load placement of the Lease detector (ADR 0007): with S = live minus rejoining, the
// owners are ownersOf(S) for every address that has an eligible member in S, and ownersOf(live) over the remaining
// addresses (only rejoining members can serve them: they serve at once). With nobody rejoining it is exactly
// ownersOf(live); while one member rejoins after a failure it is exactly the placement the cluster had while that
// member was down (nothing moves when it comes back, one move when the quiet period ends).
//
// For the preference order of the probe detector (ADR 0019): the owner is the first settled live member of the
// address's order, else its first live member. Safe under P1 (every answering node is live for every other
// answering node) if (I) a member counts itself settled only once every answering member counts it settled: if U1
// and U2 both answer for A, either both are settled in both views (each precedes the other: U1 = U2), or one
// answers by the fallback although the other, settled in its own view, is settled there too (a contradiction), or
// both answer by the fallback (first live in both views: U1 = U2). The Lease detector keeps (I) the way readiness
// does (ADR 0013): a member clears its mark, and counts itself settled one renew interval after it saw that write
// come back through its own watch; the probe detector by settling voteValidity + maxDelay after its last REJOINING,
// when no receiver can still hold one (ADR 0036, "Probe detector").
import { ownersOf, type OwnerInput } from './rendezvous-owner.ts';
import { preferenceOrders, type PreferenceInput } from './preference-owner.ts';

export interface StickyOwnerInput extends OwnerInput {
  /** Live members in their quiet period (a member not in `live` is ignored). */
  readonly rejoining: ReadonlySet<string>;
}

/** Live members that count for ownership: live and not rejoining. */
export function settledMembers(live: ReadonlySet<string>, rejoining: ReadonlySet<string>): Set<string> {
  return new Set([...live].filter((node) => !rejoining.has(node)));
}

/** Owners by bounded-load rendezvous (ADR 0007) with rejoining members serving only what nobody settled can. */
export function stickyOwnersOf(input: StickyOwnerInput): Map<bigint, string | undefined> {
  const loadFactor = input.loadFactor === undefined ? {} : { loadFactor: input.loadFactor };
  if (![...input.rejoining].some((node) => input.live.has(node)))
    return ownersOf({ addresses: input.addresses, live: input.live, ...loadFactor });
  const settled = settledMembers(input.live, input.rejoining);
  const owners = ownersOf({ addresses: input.addresses, live: settled, ...loadFactor });
  const orphans = input.addresses.filter(({ address }) => owners.get(address) === undefined);
  if (orphans.length > 0)
    for (const [address, owner] of ownersOf({ addresses: orphans, live: input.live, ...loadFactor }))
      owners.set(address, owner);
  return owners;
}

/** Owners by preference order (ADR 0019): the first settled live member, else the first live member. */
export function stickyOwnersByPreference(
  input: PreferenceInput & { readonly rejoining: ReadonlySet<string> },
): Map<bigint, string | undefined> {
  const owners = new Map<bigint, string | undefined>();
  for (const [address, order] of preferenceOrders(input)) {
    const settled = order.find((node) => input.live.has(node) && !input.rejoining.has(node));
    owners.set(address, settled ?? order.find((node) => input.live.has(node)));
  }
  return owners;
}
