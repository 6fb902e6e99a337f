// Which addresses of a Service the speakers may announce, checked by every speaker for layer 2 and BGP alike:
// an address in status.loadBalancer.ingress is announced only when the controller recorded it as allocated to this
// Service (allocation-record.ts) and it lies in a pool the Service may draw from (the pool's namespaces,
// namespaceSelector and serviceSelector, re-checked here so a record can never stretch a pool's rules). Anything
// else in a status (written by hand, by another implementation, or left over) is refused; refusals are reported as
// Warning Events (reason AnnouncementRefused) by the speaker.
import { formatIp, familyOf } from '../ip/ip-address.ts';
import { recordedAddresses } from './allocation-record.ts';
import { matchesLabelSelector } from './label-selector.ts';
import { poolHolding, type PoolConfig } from './pool-config.ts';
import { isOurService } from './service-request.ts';
import { ingressAddresses, serviceKey, type ServiceObject } from './service-object.ts';

export interface NamespaceObject {
  metadata?: { name?: string; labels?: Record<string, string> };
}

export interface AuthorizationContext {
  /** The compiled pools (compilePools(...).pools). */
  pools: ReadonlyMap<string, PoolConfig>;
  /** Labels of a namespace; undefined when it is not known. */
  namespaceLabels: (namespace: string) => Readonly<Record<string, string>> | undefined;
}

export interface AuthorizedAddress {
  address: bigint;
  pool: PoolConfig;
}

export interface RefusedAddress {
  /** namespace/name */
  service: string;
  address: bigint;
  /** For the Warning Event and the log line. */
  message: string;
}

/** An AuthorizationContext over namespace objects. */
export function authorizationContext(
  pools: ReadonlyMap<string, PoolConfig>,
  namespaces: readonly NamespaceObject[],
): AuthorizationContext {
  const labels = new Map(namespaces.map((ns) => [ns.metadata?.name ?? '', ns.metadata?.labels ?? {}]));
  return { pools, namespaceLabels: (namespace) => labels.get(namespace) };
}

/** Whether a pool's allocation rules let this Service hold its addresses (as the allocator decides it). */
export function poolAllowsService(
  pool: PoolConfig,
  svc: ServiceObject,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
): boolean {
  const namespace = svc.metadata.namespace ?? '';
  return (
    (pool.namespaces === undefined || pool.namespaces.includes(namespace)) &&
    (pool.namespaceSelector === undefined || matchesLabelSelector(pool.namespaceSelector, namespaceLabels)) &&
    (pool.serviceSelector === undefined || matchesLabelSelector(pool.serviceSelector, svc.metadata.labels))
  );
}

function review(
  svc: ServiceObject,
  ctx: AuthorizationContext,
  refused: RefusedAddress[] | undefined,
): AuthorizedAddress[] {
  const addresses = ingressAddresses(svc);
  if (addresses.length === 0) return [];
  const out: AuthorizedAddress[] = [];
  const recorded = recordedAddresses(svc);
  for (const address of addresses) {
    if (!recorded.has(address)) {
      refused?.push({
        service: serviceKey(svc),
        address,
        message: `${formatIp(address)} in the Service's status was not allocated by the Beacon LB controller (no beaconlb.io/Allocated record holds it): not announced`,
      });
      continue;
    }
    const pool = poolHolding(ctx.pools, address, familyOf(address));
    // Outside every pool: the controller is about to move the Service (its pool shrank or went away).
    if (!pool) continue;
    const restricted =
      pool.namespaces !== undefined || pool.namespaceSelector !== undefined || pool.serviceSelector !== undefined;
    if (restricted && !poolAllowsService(pool, svc, ctx.namespaceLabels(svc.metadata.namespace ?? ''))) {
      refused?.push({
        service: serviceKey(svc),
        address,
        message: `${formatIp(address)} is in pool ${pool.name}, whose namespaces or selectors do not admit this Service: not announced`,
      });
      continue;
    }
    out.push({ address, pool });
  }
  return out;
}

/** The addresses of a Service of ours that may be announced, with their pools. */
export function authorizedAddresses(svc: ServiceObject, ctx: AuthorizationContext): AuthorizedAddress[] {
  return review(svc, ctx, undefined);
}

/**
 * What the speakers refuse to announce: addresses in the status of Services of ours that fail the checks above,
 * and addresses of our pools in the status of a LoadBalancer Service of another class (another implementation
 * hands out addresses Beacon LB owns).
 */
export function refusedAddresses(
  services: readonly ServiceObject[],
  ctx: AuthorizationContext,
  loadBalancerClass: string,
): RefusedAddress[] {
  const refused: RefusedAddress[] = [];
  for (const svc of services) {
    if (svc.metadata.deletionTimestamp || svc.spec?.type !== 'LoadBalancer') continue;
    if (isOurService(svc, loadBalancerClass)) {
      review(svc, ctx, refused);
      continue;
    }
    for (const address of ingressAddresses(svc)) {
      const pool = poolHolding(ctx.pools, address, familyOf(address));
      if (pool) {
        refused.push({
          service: serviceKey(svc),
          address,
          message: `${formatIp(address)} is in pool ${pool.name} but the Service has loadBalancerClass ${svc.spec.loadBalancerClass ?? ''}, which Beacon LB does not serve: not announced`,
        });
      }
    }
  }
  return refused;
}
