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

/**
 * What every Service's share of the plan reads besides the Service and its EndpointSlices: compiled once from the
 * pools, advertisements, nodes and namespaces (and again only when one of them changes: layer2-plan-cache.ts).
 */
export interface Layer2PlanContext {
  readonly loadBalancerClass: string;
  readonly authorization: ReturnType<typeof authorizationContext>;
  readonly advertisements: readonly L2Advertisement[];
  readonly pools: ReadonlyMap<string, IPPool>;
  /** The nodes that may announce at all. */
  readonly nodes: readonly NodeObject[];
  /** The advertisements' problems (malformed, invalid configuration). */
  readonly problems: readonly PlanProblem[];
}

export function layer2PlanContext(inputs: Omit<Layer2Inputs, 'services' | 'endpointSlices'>): Layer2PlanContext {
  const compiled = compilePools(inputs.pools);
  const { valid: advertisements, malformed } = wellFormed('L2Advertisement', inputs.advertisements);
  const problems: PlanProblem[] = malformed.map((m) => ({ ...m, reason: 'MalformedObject' }));
  for (const adv of advertisements) {
    for (const message of advertisementProblems(adv.spec))
      problems.push({ kind: 'L2Advertisement', name: adv.metadata.name, reason: 'InvalidConfiguration', message });
  }
  return {
    loadBalancerClass: inputs.loadBalancerClass,
    authorization: authorizationContext(compiled.pools, inputs.namespaces),
    advertisements,
    pools: new Map(inputs.pools.map((p) => [p.metadata.name, p])),
    nodes: inputs.nodes.filter(nodeMayAnnounce),
    problems,
  };
}

/** Whether a Service's share of the plan reads its EndpointSlices (ETP Local); false for anything not planned. */
export function plansWithEndpoints(svc: ServiceObject, loadBalancerClass: string): boolean {
  return (
    isOurService(svc, loadBalancerClass) &&
    !svc.metadata.deletionTimestamp &&
    svc.spec?.externalTrafficPolicy === 'Local'
  );
}

/**
 * One Service's share of the plan, pushed onto `into`: an entry per address it announces, as if it were the only
 * Service (`slices`: its EndpointSlices, or more). Throws on a bug; what was pushed before stays (as it stayed in
 * the plan before planning was split per Service).
 */
export function planServiceAddresses(
  svc: ServiceObject,
  context: Layer2PlanContext,
  slices: readonly EndpointSliceObject[],
  into: Layer2Address[],
): void {
  if (!isOurService(svc, context.loadBalancerClass) || svc.metadata.deletionTimestamp) return;
  const key = serviceKey(svc);
  const local = svc.spec?.externalTrafficPolicy === 'Local';
  const withEndpoints = local
    ? nodesWithReadyEndpoints(slices, svc.metadata.namespace ?? '', svc.metadata.name ?? '')
    : undefined;
  for (const { address, pool } of authorizedAddresses(svc, context.authorization)) {
    const poolObject = context.pools.get(pool.name);
    if (!poolObject) continue;
    const advertisements = context.advertisements.filter((adv) => advertisementSelects(adv, poolObject, svc));
    if (advertisements.length === 0) continue;
    const eligible = new Set<string>();
    let interfaces: Set<string> | undefined = new Set<string>();
    for (const adv of advertisements) {
      for (const node of context.nodes) {
        const name = node.metadata.name ?? '';
        if (adv.spec.nodeSelector && !matchesLabelSelector(adv.spec.nodeSelector, node.metadata.labels)) continue;
        if (withEndpoints && !withEndpoints.has(name)) continue;
        eligible.add(name);
      }
      if (adv.spec.interfaces === undefined) interfaces = undefined;
      else if (interfaces) for (const i of adv.spec.interfaces) interfaces.add(i);
    }
    into.push({
      address,
      services: [key],
      pool: pool.name,
      eligible: [...eligible].sort(),
      interfaces: interfaces ? [...interfaces].sort() : undefined,
      advertisements: advertisements.map((a) => a.metadata.name).sort(),
    });
  }
}

/**
 * A shared address: the entry planned first (its pool stays) joined with another Service's, the union of what
 * every sharing Service's advertisements allow. A new object: neither input is changed.
 */
export function joinSharedAddress(existing: Layer2Address, entry: Layer2Address): Layer2Address {
  return {
    address: existing.address,
    services: [...new Set([...existing.services, ...entry.services])].sort(),
    pool: existing.pool,
    eligible: [...new Set([...existing.eligible, ...entry.eligible])].sort(),
    interfaces:
      existing.interfaces && entry.interfaces
        ? [...new Set([...existing.interfaces, ...entry.interfaces])].sort()
        : undefined,
    advertisements: [...new Set([...existing.advertisements, ...entry.advertisements])].sort(),
  };
}

/** The plan, and the objects left out of it (each guarded alone: one bad object never stops the others). */
export function planLayer2WithProblems(inputs: Layer2Inputs): {
  plan: Map<bigint, Layer2Address>;
  problems: PlanProblem[];
} {
  const context = layer2PlanContext(inputs);
  const problems: PlanProblem[] = [...context.problems];
  const plan = new Map<bigint, Layer2Address>();
  planEachService(
    inputs.services,
    'announced',
    (svc) => {
      const entries: Layer2Address[] = [];
      try {
        planServiceAddresses(svc, context, inputs.endpointSlices, entries);
      } finally {
        for (const entry of entries) {
          const existing = plan.get(entry.address);
          plan.set(entry.address, existing ? joinSharedAddress(existing, entry) : entry);
        }
      }
    },
    (problem) => problems.push(problem),
  );
  return { plan, problems };
}
