// What the controller needs from the outside world; src/k8s implements these against the API server.
import type { LoadBalancerIngress, ServiceObject } from '../core/config/service-object.ts';
import type { IPPool, IPPoolStatus } from '../core/config/api-types.generated.ts';
import type { RetiringAddress } from '../core/config/renumber-record.ts';
import type { ConfigProblemReason } from '../core/config/config-problem.ts';
import type { RequestProblem } from '../core/config/service-request.ts';
import type { AllocationFailureReason } from '../core/ipam/allocation-table.ts';

/** Result of a write: `conflict` means the object changed meanwhile (retry with the newer one). */
export type WriteOutcome = 'written' | 'conflict' | 'gone' | { error: string };

export interface ServiceCache {
  get(key: string): ServiceObject | undefined;
  list(): readonly ServiceObject[];
}

/** Every reason the controller records an Event on a Service with (docs/troubleshooting.md, "Every Event reason"). */
export type ServiceEventReason =
  | 'IPAllocated'
  | 'AddressChanged'
  | 'RenumberStarted'
  | 'RenumberCompleted'
  | RequestProblem['reason']
  | AllocationFailureReason;

/** Every reason the controller records an Event on an IPPool with: its configuration problems, a drain's start and end. */
export type PoolEventReason = ConfigProblemReason | 'DrainStarted' | 'DrainCompleted';

export interface ControllerPorts {
  services: ServiceCache;
  pools: () => readonly IPPool[];
  namespaceLabels: (namespace: string) => Readonly<Record<string, string>> | undefined;
  /**
   * Writes status.loadBalancer.ingress against the Service's resourceVersion, with the allocation record of those
   * addresses and the renumbering record of `retiring` (the old addresses among them and their windows' ends);
   * `signal` aborts the request.
   */
  writeServiceStatus(
    svc: ServiceObject,
    ingress: LoadBalancerIngress[],
    retiring: readonly RetiringAddress[],
    signal?: AbortSignal,
  ): Promise<WriteOutcome>;
  writePoolStatus(pool: IPPool, status: IPPoolStatus): Promise<WriteOutcome>;
  recordEvent(svc: ServiceObject, type: 'Normal' | 'Warning', reason: ServiceEventReason, message: string): void;
  recordPoolEvent(pool: IPPool, type: 'Normal' | 'Warning', reason: PoolEventReason, message: string): void;
}
