// What the controller needs from the outside world; src/k8s implements these against the API server.
import type { LoadBalancerIngress, ServiceObject } from '../core/config/service-object.ts';
import type { IPPool, IPPoolStatus } from '../core/config/api-types.generated.ts';
import type { RetiringAddress } from '../core/config/renumber-record.ts';

/** Result of a write: `conflict` means the object changed meanwhile (retry with the newer one). */
export type WriteOutcome = 'written' | 'conflict' | 'gone' | { error: string };

export interface ServiceCache {
  get(key: string): ServiceObject | undefined;
  list(): readonly ServiceObject[];
}

export interface ControllerPorts {
  services: ServiceCache;
  pools: () => readonly IPPool[];
  namespaceLabels: (namespace: string) => Readonly<Record<string, string>> | undefined;
  /**
   * Writes status.loadBalancer.ingress against the Service's resourceVersion, with the allocation record of those
   * addresses and the renumbering record of `retiring` (the old addresses among them and their windows' ends);
   * `signal` aborts the request.
   */
  writeServiceStatus(svc: ServiceObject, ingress: LoadBalancerIngress[], retiring: readonly RetiringAddress[], signal?: AbortSignal): Promise<WriteOutcome>;
  writePoolStatus(pool: IPPool, status: IPPoolStatus): Promise<WriteOutcome>;
  recordEvent(svc: ServiceObject, type: 'Normal' | 'Warning', reason: string, message: string): void;
  recordPoolEvent(pool: IPPool, type: 'Normal' | 'Warning', reason: string, message: string): void;
}
