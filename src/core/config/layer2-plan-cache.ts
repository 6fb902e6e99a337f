// The layer-2 plan kept up to date incrementally (ADR 0037): the same plan and problems as planLayer2WithProblems,
// but each Service's share is computed once per version of the Service (the caches hand out a new object for every
// change) and kept; an update plans only the Services that are new or changed, drops the shares of those gone, and
// rebuilds only the plan entries of the addresses they touch. A change of the pools, advertisements, nodes,
// namespaces or class plans everything again (rare, and every address may change); a change of EndpointSlices
// plans again only the ETP Local Services whose slices changed. The update also says which addresses changed, so
// the owners (owner-tracker.ts) are recomputed only for them.
import type { EndpointSliceObject } from './cluster-objects.ts';
import { SERVICE_NAME_LABEL } from './cluster-objects.ts';
import { planEachService } from './config-problem.ts';
import {
  joinSharedAddress,
  layer2PlanContext,
  planServiceAddresses,
  plansWithEndpoints,
  type Layer2Address,
  type Layer2Inputs,
  type Layer2PlanContext,
  type PlanProblem,
} from './layer2-plan.ts';
import type { ServiceObject } from './service-object.ts';

/** One Service version's share of the plan. */
interface ServiceShare {
  /** Its place in the last update's Service list: a shared address takes its pool from the first. */
  position: number;
  /** The update that last saw this version. */
  seen: number;
  readonly entries: readonly Layer2Address[];
  readonly problem: PlanProblem | undefined;
  /** ETP Local: the key of its EndpointSlices and the slices it was planned with. */
  readonly endpoints: { readonly key: string; readonly slices: readonly EndpointSliceObject[] } | undefined;
}

type ContextInputs = Omit<Layer2Inputs, 'services' | 'endpointSlices'>;

const NO_SLICES: readonly EndpointSliceObject[] = [];

export interface Layer2PlanUpdate {
  /** The plan (the cache's own map, changed in place by later updates). */
  readonly plan: ReadonlyMap<bigint, Layer2Address>;
  readonly problems: PlanProblem[];
  /** Addresses whose entry was added, replaced or removed; undefined: everything was planned again. */
  readonly changed: ReadonlySet<bigint> | undefined;
}

export class Layer2PlanCache {
  readonly #plan = new Map<bigint, Layer2Address>();
  readonly #shares = new Map<ServiceObject, ServiceShare>();
  /** The shares holding each address (in no particular order). */
  readonly #byAddress = new Map<bigint, ServiceShare[]>();
  readonly #withEndpoints = new Set<ServiceObject>();
  #contextInputs: ContextInputs | undefined;
  #context: Layer2PlanContext | undefined;
  #slices: readonly EndpointSliceObject[] = [];
  #slicesByService = new Map<string, EndpointSliceObject[]>();
  #generation = 0;
  /** Service versions planned since the cache was built (the cost of updates, for tests). */
  servicesPlanned = 0;

  update(inputs: Layer2Inputs): Layer2PlanUpdate {
    const generation = ++this.#generation;
    let context = this.#context;
    let all = false;
    if (!context || !this.#contextInputs || !sameContext(this.#contextInputs, inputs)) {
      context = layer2PlanContext(inputs);
      this.#context = context;
      this.#contextInputs = {
        pools: inputs.pools,
        advertisements: inputs.advertisements,
        nodes: inputs.nodes,
        namespaces: inputs.namespaces,
        loadBalancerClass: inputs.loadBalancerClass,
      };
      this.#shares.clear();
      this.#byAddress.clear();
      this.#withEndpoints.clear();
      this.#plan.clear();
      all = true;
    }
    const touched = new Set<bigint>();
    if (!sameObjects(this.#slices, inputs.endpointSlices)) {
      this.#slices = inputs.endpointSlices;
      this.#slicesByService = slicesByService(inputs.endpointSlices);
      for (const svc of [...this.#withEndpoints]) {
        const share = this.#shares.get(svc);
        if (share?.endpoints && !sameObjects(share.endpoints.slices, this.#slicesOf(share.endpoints.key)))
          this.#drop(svc, share, touched);
      }
    }

    const problems: PlanProblem[] = [...context.problems];
    let current = 0;
    let position = 0;
    const planned = context;
    planEachService(
      inputs.services,
      'announced',
      (svc) => {
        const at = position++;
        const known = this.#shares.get(svc);
        if (known) {
          known.seen = generation;
          known.position = at;
          current++;
          if (known.problem) problems.push(known.problem);
          return;
        }
        const share = this.#planShare(svc, planned, at, generation);
        current++;
        if (share.problem) problems.push(share.problem);
        for (const entry of share.entries) touched.add(entry.address);
      },
      // Never reached: a Service's planning is guarded inside #planShare, so its problem is kept with its share.
      (problem) => problems.push(problem),
    );
    if (this.#shares.size > current)
      for (const [svc, share] of this.#shares) if (share.seen !== generation) this.#drop(svc, share, touched);

    for (const address of touched) this.#replan(address);
    return { plan: this.#plan, problems, changed: all ? undefined : touched };
  }

  #slicesOf(key: string): readonly EndpointSliceObject[] {
    return this.#slicesByService.get(key) ?? NO_SLICES;
  }

  #planShare(svc: ServiceObject, context: Layer2PlanContext, position: number, generation: number): ServiceShare {
    this.servicesPlanned++;
    const entries: Layer2Address[] = [];
    const endpoints = plansWithEndpoints(svc, context.loadBalancerClass)
      ? { key: `${svc.metadata.namespace ?? ''}/${svc.metadata.name ?? ''}`, slices: NO_SLICES }
      : undefined;
    const withSlices = endpoints ? { ...endpoints, slices: this.#slicesOf(endpoints.key) } : undefined;
    let problem: PlanProblem | undefined;
    planEachService(
      [svc],
      'announced',
      (s) => {
        planServiceAddresses(s, context, withSlices?.slices ?? NO_SLICES, entries);
      },
      (p) => (problem = p),
    );
    const share: ServiceShare = { position, seen: generation, entries, problem, endpoints: withSlices };
    this.#shares.set(svc, share);
    if (withSlices) this.#withEndpoints.add(svc);
    for (const entry of entries) {
      const holders = this.#byAddress.get(entry.address);
      if (holders) holders.push(share);
      else this.#byAddress.set(entry.address, [share]);
    }
    return share;
  }

  #drop(svc: ServiceObject, share: ServiceShare, touched: Set<bigint>): void {
    this.#shares.delete(svc);
    this.#withEndpoints.delete(svc);
    for (const entry of share.entries) {
      touched.add(entry.address);
      const holders = this.#byAddress.get(entry.address)?.filter((s) => s !== share) ?? [];
      if (holders.length > 0) this.#byAddress.set(entry.address, holders);
      else this.#byAddress.delete(entry.address);
    }
  }

  /** The entry of one address from the shares holding it, joined in the order of the Service list. */
  #replan(address: bigint): void {
    const holders = this.#byAddress.get(address);
    if (!holders) {
      this.#plan.delete(address);
      return;
    }
    let joined: Layer2Address | undefined;
    for (const share of holders.length > 1 ? holders.toSorted((a, b) => a.position - b.position) : holders)
      for (const entry of share.entries) {
        if (entry.address !== address) continue;
        joined = joined ? joinSharedAddress(joined, entry) : entry;
      }
    if (joined) this.#plan.set(address, joined);
    else this.#plan.delete(address);
  }
}

function sameObjects<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameContext(a: ContextInputs, b: ContextInputs): boolean {
  return (
    a.loadBalancerClass === b.loadBalancerClass &&
    sameObjects(a.pools, b.pools) &&
    sameObjects(a.advertisements, b.advertisements) &&
    sameObjects(a.nodes, b.nodes) &&
    sameObjects(a.namespaces, b.namespaces)
  );
}

/** EndpointSlices by the Service they belong to (namespace/name, from the service-name label), in list order. */
function slicesByService(slices: readonly EndpointSliceObject[]): Map<string, EndpointSliceObject[]> {
  const index = new Map<string, EndpointSliceObject[]>();
  for (const slice of slices) {
    const name = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (name === undefined) continue;
    const key = `${slice.metadata.namespace ?? ''}/${name}`;
    const list = index.get(key);
    if (list) list.push(slice);
    else index.set(key, [slice]);
  }
  return index;
}
