// What the rules of keeping and the choice of a new address read of the allocation table (and the one thing they do
// to it: claim an address for a Service). The table gives them this view of its private state.
import type { ServiceRequest } from '../config/service-request.ts';
import type { RetiringAddress } from '../config/renumber-record.ts';
import type { PoolState } from './pool-state.ts';

/** The Services holding one address, and the pool it is held from ('' when no pool holds it any more). */
export interface Holder {
  pool: string;
  claims: Map<string, ServiceRequest>;
}

export interface TableView {
  holder(address: bigint): Holder | undefined;
  /** The pool whose addresses include `address` now, if any. */
  poolContaining(address: bigint): PoolState | undefined;
  /** Old addresses the Service keeps beside their successors until their renumbering windows end. */
  retiringOf(key: string): readonly RetiringAddress[];
  /** Addresses held under a sharing key. */
  sharedUnder(sharingKey: string): Iterable<bigint> | undefined;
  /** Released addresses resting before reuse, oldest first, with the pool they rest in. */
  quarantined(): Iterable<[bigint, { pool: PoolState }]>;
  /** Another Service than `key` whose status still shows `address` although it gave it up. */
  releasedByOther(address: bigint, key: string): string | undefined;
  /** `request`'s Service holds `address` from now on (`state`: its pool, when known). */
  claim(address: bigint, request: ServiceRequest, state?: PoolState): void;
}
