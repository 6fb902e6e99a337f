// The parts of core/v1 Node and discovery/v1 EndpointSlice that the speaker reads, as plain data.

export interface NodeObject {
  metadata: { name?: string; labels?: Record<string, string> };
  status?: {
    conditions?: Array<{ type: string; status: string }>;
    addresses?: Array<{ type: string; address: string }>;
  };
}

export interface EndpointSliceObject {
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
  addressType?: string;
  endpoints?: Array<{ nodeName?: string; conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean } }>;
}

/** Nodes with this label never announce load-balancer addresses (the Kubernetes convention). */
export const EXCLUDE_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Whether a node may announce at all: not excluded by label, network not reported unavailable. */
export function nodeMayAnnounce(node: NodeObject): boolean {
  if (node.metadata.labels?.[EXCLUDE_LABEL] !== undefined) return false;
  return !node.status?.conditions?.some((c) => c.type === 'NetworkUnavailable' && c.status === 'True');
}

/** Nodes with a ready endpoint of the Service `namespace/name` (for externalTrafficPolicy: Local). */
export function nodesWithReadyEndpoints(
  slices: readonly EndpointSliceObject[],
  namespace: string,
  name: string,
): Set<string> {
  const nodes = new Set<string>();
  for (const slice of slices) {
    if (slice.metadata.namespace !== namespace || slice.metadata.labels?.[SERVICE_NAME_LABEL] !== name) continue;
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.nodeName && endpoint.conditions?.ready !== false) nodes.add(endpoint.nodeName);
    }
  }
  return nodes;
}
