// What the layer-2 speakers must announce: every address in the status of a Service of ours that the controller
// allocated to it (announcement-authorization.ts), in a pool selected by an L2Advertisement that also selects the
// Service, with the nodes eligible to answer for it and the interfaces to answer on (names or patterns, resolved
// against each node's own interfaces by the speaker). Every speaker computes the same plan from the same caches; the
// owner of each address is then chosen by ownersOf (rendezvous hashing with bounded load over the live eligible nodes).
import type { IPPool, L2Advertisement } from './api-types.generated.ts';
import { matchesLabelSelector } from './label-selector.ts';
import { selectsPool } from './pool-selection.ts';
import { compilePools } from './pool-config.ts';
import { isOurService } from './service-request.ts';
import { serviceKey, type ServiceObject } from './service-object.ts';
import {
  nodeMayAnnounce,
  nodesWithReadyEndpoints,
  type EndpointSliceObject,
  type NodeObject,
} from './cluster-objects.ts';
import { authorizationContext, authorizedAddresses, type NamespaceObject } from './announcement-authorization.ts';
import { planEachService } from './config-problem.ts';
import { advertisementProblems } from './advertisement-checks.ts';
import { wellFormed, type OurKind } from './spec-shape.ts';

export interface Layer2Inputs {
  services: readonly ServiceObject[];
  pools: readonly IPPool[];
  advertisements: readonly L2Advertisement[];
  nodes: readonly NodeObject[];
  endpointSlices: readonly EndpointSliceObject[];
  /** For the pools' namespaceSelector, re-checked before announcing. */
  namespaces: readonly NamespaceObject[];
  loadBalancerClass: string;
}

export interface Layer2Address {
  address: bigint;
  /** Services announced through this address (several when shared), sorted. */
  services: string[];
  pool: string;
  /** Nodes allowed to answer for it (before liveness), sorted. */
  eligible: string[];
  /**
   * Interface names and patterns of the advertisements (interface-pattern.ts), matched by each owner against its own
   * interfaces; undefined: pick by subnet, else the default-route interface.
   */
  interfaces: string[] | undefined;
  /** The advertisements that select it, for Events and the status command. */
  advertisements: string[];
}

/** An object left out of the plan: malformed (stored without the current schema), or planning it threw (a bug). */
export interface PlanProblem {
  kind: OurKind | 'Service';
  /** The object name; namespace/name for a Service. */
  name: string;
  /** InvalidConfiguration: a selector or pattern the schema would refuse; the object is used, that part matches nothing. */
  reason: 'MalformedObject' | 'InvalidConfiguration' | 'ProcessingError';
  message: string;
}

function advertisementSelects(adv: L2Advertisement, pool: IPPool, svc: ServiceObject): boolean {
  const serviceMatches =
    adv.spec.serviceSelector === undefined || matchesLabelSelector(adv.spec.serviceSelector, svc.metadata.labels);
  return selectsPool(adv.spec, pool) && serviceMatches;
}

export function planLayer2(inputs: Layer2Inputs): Map<bigint, Layer2Address> {
  return planLayer2WithProblems(inputs).plan;
}

/** The plan, and the objects left out of it (each guarded alone: one bad object never stops the others). */
export function planLayer2WithProblems(inputs: Layer2Inputs): {
  plan: Map<bigint, Layer2Address>;
  problems: PlanProblem[];
} {
  const compiled = compilePools(inputs.pools);
  const authorization = authorizationContext(compiled.pools, inputs.namespaces);
  const { valid: advertisementObjects, malformed } = wellFormed('L2Advertisement', inputs.advertisements);
  const problems: PlanProblem[] = malformed.map((m) => ({ ...m, reason: 'MalformedObject' }));
  for (const adv of advertisementObjects) {
    for (const message of advertisementProblems(adv.spec))
      problems.push({ kind: 'L2Advertisement', name: adv.metadata.name, reason: 'InvalidConfiguration', message });
  }
  const poolObjects = new Map(inputs.pools.map((p) => [p.metadata.name, p]));
  const nodes = inputs.nodes.filter(nodeMayAnnounce);
  const plan = new Map<bigint, Layer2Address>();

  planEachService(inputs.services, 'announced', planService, (problem) => problems.push(problem));
  return { plan, problems };

  function planService(svc: ServiceObject): void {
    if (!isOurService(svc, inputs.loadBalancerClass) || svc.metadata.deletionTimestamp) return;
    const key = serviceKey(svc);
    const local = svc.spec?.externalTrafficPolicy === 'Local';
    const withEndpoints = local
      ? nodesWithReadyEndpoints(inputs.endpointSlices, svc.metadata.namespace ?? '', svc.metadata.name ?? '')
      : undefined;
    for (const { address, pool } of authorizedAddresses(svc, authorization)) {
      const poolObject = poolObjects.get(pool.name);
      if (!poolObject) continue;
      const advertisements = advertisementObjects.filter((adv) => advertisementSelects(adv, poolObject, svc));
      if (advertisements.length === 0) continue;
      const eligible = new Set<string>();
      let interfaces: Set<string> | undefined = new Set<string>();
      for (const adv of advertisements) {
        for (const node of nodes) {
          const name = node.metadata.name ?? '';
          if (adv.spec.nodeSelector && !matchesLabelSelector(adv.spec.nodeSelector, node.metadata.labels)) continue;
          if (withEndpoints && !withEndpoints.has(name)) continue;
          eligible.add(name);
        }
        if (adv.spec.interfaces === undefined) interfaces = undefined;
        else if (interfaces) for (const i of adv.spec.interfaces) interfaces.add(i);
      }
      const existing = plan.get(address);
      if (existing) {
        // A shared address: the union of what every sharing Service's advertisements allow.
        existing.services = [...new Set([...existing.services, key])].sort();
        existing.eligible = [...new Set([...existing.eligible, ...eligible])].sort();
        existing.advertisements = [
          ...new Set([...existing.advertisements, ...advertisements.map((a) => a.metadata.name)]),
        ].sort();
        existing.interfaces =
          existing.interfaces && interfaces ? [...new Set([...existing.interfaces, ...interfaces])].sort() : undefined;
        continue;
      }
      plan.set(address, {
        address,
        services: [key],
        pool: pool.name,
        eligible: [...eligible].sort(),
        interfaces: interfaces ? [...interfaces].sort() : undefined,
        advertisements: advertisements.map((a) => a.metadata.name).sort(),
      });
    }
  }
}
