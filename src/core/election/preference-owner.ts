// Owners that stay consistent when views of liveness differ (ADR 0019, P2). The bounded-load placement of
// rendezvous-owner.ts is computed over the MEMBERSHIP (every member counted live), giving each address a primary
// node; the address's preference order is that primary followed by its other eligible members in plain rendezvous
// order; its owner is the first LIVE member of that order. With every member live this is exactly the bounded-load
// placement. When members fail, only their addresses move, each to its next-ranked live node (spread by the hash,
// not re-bounded). And because the order does not depend on the live set, two speakers whose live sets both
// contain every node that is answering can never both answer for one address: if U1 and U2 both answer for A, each
// is live in the other's view and so precedes the other in A's order, hence U1 = U2. ownersOf over the live set
// has no such property (the load bound shifts other addresses when the live set changes).
import { assignOwners, rankNodes, type OwnerInput } from './rendezvous-owner.ts';

export interface PreferenceInput {
  /** Layer-2 addresses with the nodes that may announce them. */
  readonly addresses: OwnerInput['addresses'];
  /** The membership record: every speaker counted by the Lease, live or not. */
  readonly members: ReadonlySet<string>;
  /** The live members in this speaker's view. */
  readonly live: ReadonlySet<string>;
  readonly loadFactor?: number;
}

/** Each address's preference order over its eligible members: the bounded-load primary, then rendezvous order. */
export function preferenceOrders(input: Omit<PreferenceInput, 'live'>): Map<bigint, string[]> {
  const eligibleMembers = new Map<bigint, Set<string>>();
  for (const { address, eligible } of input.addresses) {
    let set = eligibleMembers.get(address);
    if (!set) eligibleMembers.set(address, (set = new Set()));
    for (const node of eligible) if (input.members.has(node)) set.add(node);
  }
  const primary = assignOwners({
    addresses: input.addresses,
    live: input.members,
    ...(input.loadFactor === undefined ? {} : { loadFactor: input.loadFactor }),
  }).owners;
  const orders = new Map<bigint, string[]>();
  for (const [address, eligible] of eligibleMembers) {
    const first = primary.get(address);
    const rest = rankNodes(address, eligible).filter((node) => node !== first);
    orders.set(address, first === undefined ? rest : [first, ...rest]);
  }
  return orders;
}

/** The owner of each address: the first live member of its preference order (undefined when none is live). */
export function ownersByPreference(input: PreferenceInput): Map<bigint, string | undefined> {
  const owners = new Map<bigint, string | undefined>();
  for (const [address, order] of preferenceOrders(input))
    owners.set(
      address,
      order.find((node) => input.live.has(node)),
    );
  return owners;
}
