// What one node advertises to which router: the BGPPeers whose nodeSelector matches the node, and for each of them
// every address in the status of a Service of ours that the controller allocated to it (announcement-authorization.ts)
// whose pool a BGPAdvertisement selects (the advertisement's nodeSelector matching the node, its serviceSelector the
// Service, and its peers naming the peer, or absent), as a /32 or /128 or the aggregation length, with the
// advertisement's attributes. externalTrafficPolicy: Local Services are advertised only by nodes
// with a ready endpoint. When several advertisements give one prefix to one peer, their attributes merge: the
// union of the communities, the highest LOCAL_PREF, the lowest MED, the longest prepend. A route whose merged
// attributes cannot fit a BGP UPDATE is left out (UpdateTooLarge on its advertisements); malformed BGPPeers and
// BGPAdvertisements (stored without the current schema) are left out whole, selectors and patterns that only the
// CEL rules refuse are InvalidConfiguration (they match nothing), and each Service is planned alone.
import type { BGPAdvertisement, BGPPeer, IPPool } from '../../core/config/api-types.generated.ts';
import {
  nodeMayAnnounce,
  nodesWithReadyEndpoints,
  type EndpointSliceObject,
  type NodeObject,
} from '../../core/config/cluster-objects.ts';
import { matchesLabelSelector } from '../../core/config/label-selector.ts';
import {
  authorizationContext,
  authorizedAddresses,
  type NamespaceObject,
} from '../../core/config/announcement-authorization.ts';
import { compilePools } from '../../core/config/pool-config.ts';
import { selectsPool } from '../../core/config/pool-selection.ts';
import { isOurService } from '../../core/config/service-request.ts';
import { serviceKey, type ServiceObject } from '../../core/config/service-object.ts';
import { familyOf, formatIp } from '../../core/ip/ip-address.ts';
import { prefixOf } from '../../core/ip/ip-range.ts';
import type { Result } from '../../core/result.ts';
import { parseCommunity, parseLargeCommunity, type LargeCommunity } from '../../protocol/bgp/community.ts';
import type { BgpPrefix } from '../../protocol/bgp/nlri-prefix.ts';
import type { BgpRoute } from './bgp-session.ts';
import { attributesFit, attributesKey, type RouteAttributes } from './route-attributes.ts';
import { planEachService } from '../../core/config/config-problem.ts';
import { wellFormed } from '../../core/config/spec-shape.ts';
import { advertisementProblems } from '../../core/config/advertisement-checks.ts';

export interface BgpInputs {
  services: readonly ServiceObject[];
  pools: readonly IPPool[];
  peers: readonly BGPPeer[];
  advertisements: readonly BGPAdvertisement[];
  nodes: readonly NodeObject[];
  endpointSlices: readonly EndpointSliceObject[];
  /** For the pools' namespaceSelector, re-checked before advertising. */
  namespaces: readonly NamespaceObject[];
  loadBalancerClass: string;
}

export interface PlannedRoute extends BgpRoute {
  /** The Services whose addresses this prefix carries, sorted. */
  readonly services: readonly string[];
}

export interface PeerPlan {
  readonly peer: BGPPeer;
  readonly routes: readonly PlannedRoute[];
}

export interface BgpPlanProblem {
  readonly kind: 'BGPAdvertisement' | 'BGPPeer' | 'Service';
  /** The object name; namespace/name for a Service. */
  readonly name: string;
  /**
   * InvalidConfiguration: a value is ignored, the rest is used. MalformedObject: stored without the current schema,
   * left out whole. UpdateTooLarge: routes whose merged attributes cannot fit an UPDATE are not advertised.
   * ProcessingError: planning the object threw (a bug); it is left out.
   */
  readonly reason: 'InvalidConfiguration' | 'MalformedObject' | 'UpdateTooLarge' | 'ProcessingError';
  /** The same on every node for the same configuration (it may become a condition). */
  readonly message: string;
  /** Where this node met it (a route and a peer), for the Event and the log line. */
  readonly example?: string;
}

export interface BgpPlan {
  readonly peers: readonly PeerPlan[];
  readonly problems: readonly BgpPlanProblem[];
}

interface MutableRoute {
  prefix: BgpPrefix;
  services: string[];
  /** The advertisements giving this route, in name order (their attributes merge). */
  sources: ParsedAdvertisement[];
}

interface ParsedAdvertisement {
  readonly object: BGPAdvertisement;
  readonly communities: readonly number[];
  readonly largeCommunities: readonly LargeCommunity[];
}

function parseAdvertisement(adv: BGPAdvertisement, problems: BgpPlanProblem[]): ParsedAdvertisement {
  /** The values of `texts` that parse; each one that does not is an InvalidConfiguration problem of `adv`. */
  const parsedValues = <T>(texts: readonly string[], parse: (text: string) => Result<T>, what: string): T[] => {
    const values: T[] = [];
    for (const text of texts) {
      const parsed = parse(text);
      if (parsed.ok) values.push(parsed.value);
      else
        problems.push({
          kind: 'BGPAdvertisement',
          name: adv.metadata.name,
          reason: 'InvalidConfiguration',
          message: `${what} ignored: ${parsed.error}`,
        });
    }
    return values;
  };
  const communities = parsedValues(adv.spec.communities ?? [], parseCommunity, 'community');
  const largeCommunities = parsedValues(adv.spec.largeCommunities ?? [], parseLargeCommunity, 'large community');
  return { object: adv, communities, largeCommunities };
}

/**
 * The plan of one node (undefined node object: the node is not known yet, nothing is advertised).
 * Long (~85 lines): one pass over peers, advertisements and Services that share the problems it collects.
 */
export function planBgp(inputs: BgpInputs, nodeName: string): BgpPlan {
  const problems: BgpPlanProblem[] = [];
  const wellFormedPeers = wellFormed('BGPPeer', inputs.peers);
  const wellFormedAdvertisements = wellFormed('BGPAdvertisement', inputs.advertisements);
  for (const bad of [...wellFormedPeers.malformed, ...wellFormedAdvertisements.malformed]) {
    problems.push({
      kind: bad.kind === 'BGPPeer' ? 'BGPPeer' : 'BGPAdvertisement',
      name: bad.name,
      reason: 'MalformedObject',
      message: bad.message,
    });
  }
  for (const adv of wellFormedAdvertisements.valid) {
    for (const message of advertisementProblems(adv.spec))
      problems.push({ kind: 'BGPAdvertisement', name: adv.metadata.name, reason: 'InvalidConfiguration', message });
  }
  const node = inputs.nodes.find((n) => n.metadata.name === nodeName);
  if (node === undefined || !nodeMayAnnounce(node)) return { peers: [], problems };
  const labels = node.metadata.labels;
  const peers = wellFormedPeers.valid.filter(
    (peer) => peer.spec.nodeSelector === undefined || matchesLabelSelector(peer.spec.nodeSelector, labels),
  );
  const advertisements = wellFormedAdvertisements.valid
    .filter((adv) => adv.spec.nodeSelector === undefined || matchesLabelSelector(adv.spec.nodeSelector, labels))
    .toSorted((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((adv) => parseAdvertisement(adv, problems));
  const compiled = compilePools(inputs.pools);
  const authorization = authorizationContext(compiled.pools, inputs.namespaces);
  const poolObjects = new Map(inputs.pools.map((p) => [p.metadata.name, p]));
  const routesByPeer = new Map<string, Map<string, MutableRoute>>(peers.map((p) => [p.metadata.name, new Map()]));
  const merged = new Map<string, RouteAttributes>();

  // No peer or no advertisement for this node: no Service can give a route, so none is read (a layer-2-only
  // cluster's speakers would otherwise go over every Service on every change: ADR 0037).
  if (peers.length > 0 && advertisements.length > 0)
    planEachService(inputs.services, 'advertised', planService, (problem) => problems.push(problem));
  const tooLarge = new Map<string, BgpPlanProblem>();
  const plannedPeers = peers.map((peer) => ({
    peer,
    routes: fitting(peer, routesByPeer.get(peer.metadata.name), merged, tooLarge),
  }));
  problems.push(...tooLarge.values());
  return { peers: plannedPeers, problems };

  function planService(svc: ServiceObject): void {
    if (!isOurService(svc, inputs.loadBalancerClass) || svc.metadata.deletionTimestamp) return;
    if (svc.spec?.externalTrafficPolicy === 'Local') {
      const withEndpoints = nodesWithReadyEndpoints(
        inputs.endpointSlices,
        svc.metadata.namespace ?? '',
        svc.metadata.name ?? '',
      );
      if (!withEndpoints.has(nodeName)) return;
    }
    const key = serviceKey(svc);
    for (const { address, pool } of authorizedAddresses(svc, authorization)) {
      const family = familyOf(address);
      const poolObject = poolObjects.get(pool.name);
      if (!poolObject) continue;
      for (const adv of advertisements) {
        if (!selectsPool(adv.object.spec, poolObject)) continue;
        const selector = adv.object.spec.serviceSelector;
        if (selector !== undefined && !matchesLabelSelector(selector, svc.metadata.labels)) continue;
        const length =
          family === 4 ? (adv.object.spec.aggregationLength ?? 32) : (adv.object.spec.aggregationLengthV6 ?? 128);
        const range = prefixOf(address, length, family);
        const prefix: BgpPrefix = { family, address: range.first, length };
        for (const peer of peers) {
          if (adv.object.spec.peers !== undefined && !adv.object.spec.peers.includes(peer.metadata.name)) continue;
          addRoute(routesByPeer.get(peer.metadata.name), prefix, key, adv);
        }
      }
    }
  }
}

/**
 * The routes of one peer with their merged attributes, less those whose attributes cannot fit an UPDATE: those are
 * not advertised (sending them is impossible; the session and every other route stay up), and each advertisement
 * that gave them gets an UpdateTooLarge problem naming the sizes.
 */
function fitting(
  peer: BGPPeer,
  routes: Map<string, MutableRoute> | undefined,
  merged: Map<string, RouteAttributes>,
  tooLarge: Map<string, BgpPlanProblem>,
): PlannedRoute[] {
  const result: PlannedRoute[] = [];
  const checked = new Map<string, ReturnType<typeof attributesFit>>();
  for (const route of routes?.values() ?? []) {
    const planned = frozen(route, merged);
    const family = route.prefix.family === 4 ? 'ipv4-unicast' : 'ipv6-unicast';
    const key = `${family};${attributesKey(planned.attributes)}`;
    let fit = checked.get(key);
    if (fit === undefined) checked.set(key, (fit = attributesFit(planned.attributes, family, peer.spec.myASN)));
    if (fit.fits) {
      result.push(planned);
      continue;
    }
    const names = route.sources.map((adv) => adv.object.metadata.name);
    const together =
      names.length > 1 ? `merged from BGPAdvertisements ${names.join(', ')}` : `of BGPAdvertisement ${names.join('')}`;
    const message =
      `routes not advertised: the path attributes ${together} take ${fit.length} bytes, more than the ${fit.budget} bytes ` +
      `a BGP UPDATE (4096 bytes) leaves for them (${planned.attributes.communities.length} communities, ${planned.attributes.largeCommunities.length} large communities)`;
    // One message per advertisement (it becomes its condition): the least in text order, the same on every node
    // that meets the same routes whatever order its caches list them in.
    for (const name of names) {
      const before = tooLarge.get(name);
      if (before !== undefined && before.message <= message) continue;
      const example = `${formatIp(route.prefix.address)}/${route.prefix.length} to BGPPeer ${peer.metadata.name}`;
      tooLarge.set(name, { kind: 'BGPAdvertisement', name, reason: 'UpdateTooLarge', message, example });
    }
  }
  return result;
}

function addRoute(
  routes: Map<string, MutableRoute> | undefined,
  prefix: BgpPrefix,
  service: string,
  adv: ParsedAdvertisement,
): void {
  if (routes === undefined) return;
  const key = `${prefix.address}/${prefix.length}`;
  let route = routes.get(key);
  if (route === undefined) {
    route = { prefix, services: [], sources: [] };
    routes.set(key, route);
  }
  if (!route.services.includes(service)) route.services.push(service);
  if (!route.sources.includes(adv)) route.sources.push(adv);
}

/** The merged attributes of a set of advertisements (computed once per distinct set and shared by its routes). */
function mergedAttributes(sources: readonly ParsedAdvertisement[]): RouteAttributes {
  let localPref: number | undefined;
  let med: number | undefined;
  let prepend: { asn?: number; count: number } | undefined;
  const communities = new Set<number>();
  const largeCommunities = new Map<string, LargeCommunity>();
  for (const adv of sources) {
    const spec = adv.object.spec;
    if (spec.localPref !== undefined) localPref = Math.max(localPref ?? 0, spec.localPref);
    if (spec.med !== undefined) med = Math.min(med ?? Number.MAX_SAFE_INTEGER, spec.med);
    for (const c of adv.communities) communities.add(c);
    for (const c of adv.largeCommunities) largeCommunities.set(`${c.globalAdmin}:${c.localData1}:${c.localData2}`, c);
    if (spec.asPathPrepend && spec.asPathPrepend.count > (prepend?.count ?? 0)) {
      prepend = {
        count: spec.asPathPrepend.count,
        ...(spec.asPathPrepend.asn === undefined ? {} : { asn: spec.asPathPrepend.asn }),
      };
    }
  }
  return {
    communities: [...communities].sort((a, b) => a - b),
    largeCommunities: [...largeCommunities.values()].sort(
      (a, b) => a.globalAdmin - b.globalAdmin || a.localData1 - b.localData1 || a.localData2 - b.localData2,
    ),
    ...(localPref === undefined ? {} : { localPref }),
    ...(med === undefined ? {} : { med }),
    ...(prepend === undefined ? {} : { prepend }),
  };
}

function frozen(route: MutableRoute, merged: Map<string, RouteAttributes>): PlannedRoute {
  const key = route.sources.map((adv) => adv.object.metadata.name).join('\n');
  let attributes = merged.get(key);
  if (attributes === undefined) merged.set(key, (attributes = mergedAttributes(route.sources)));
  return {
    prefix: route.prefix,
    attributes,
    services: route.services.length > 1 ? route.services.toSorted() : route.services,
  };
}
