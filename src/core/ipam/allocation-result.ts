// What the allocation table answers in: the result of an assignment (what a Service holds, gave up, could not get and
// why), what a failed family waits for, the context of a pass, and a pool's usage per family.
import type { IpFamily } from '../ip/ip-address.ts';
import type { ServiceRequest } from '../config/service-request.ts';
import type { RetiringAddress } from '../config/renumber-record.ts';

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
