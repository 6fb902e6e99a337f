// What the layer-2 plan's tests feed planLayer2: Services, pools, advertisements, nodes and EndpointSlices with the
// defaults a test does not care about, and readers of the plan it returns.
import assert from 'node:assert/strict';
import { parseIp } from '../core/ip/ip-address.ts';
import type { IPPool, L2Advertisement, L2AdvertisementSpec } from '../core/config/api-types.generated.ts';
import { SERVICE_NAME_LABEL, type EndpointSliceObject, type NodeObject } from '../core/config/cluster-objects.ts';
import type { Layer2Address, Layer2Inputs } from '../core/config/layer2-plan.ts';
import { allocationCondition } from '../core/config/allocation-record.ts';
import { DEFAULT_LOAD_BALANCER_CLASS } from '../core/config/service-request.ts';
import type { ServiceObject } from '../core/config/service-object.ts';

/** The address of a text form, failing the test on an error. */
export function ip(text: string): bigint {
  const parsed = parseIp(text);
  if (!parsed.ok) assert.fail(parsed.error);
  return parsed.value;
}

export interface ServiceOptions {
  type?: string;
  loadBalancerClass?: string;
  labels?: Record<string, string>;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  deleting?: boolean;
  ingress?: Array<{ ip?: string; hostname?: string }>;
  /** The addresses the controller recorded; default: `ips`. */
  recorded?: string[];
}

export function service(key: string, ips: string[], options: ServiceOptions = {}): ServiceObject {
  const [namespace = '', name = ''] = key.split('/');
  return {
    metadata: {
      namespace,
      name,
      uid: `uid-${key}`,
      ...(options.labels ? { labels: options.labels } : {}),
      ...(options.deleting ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}),
    },
    spec: {
      type: options.type ?? 'LoadBalancer',
      ports: [{ port: 80, protocol: 'TCP' }],
      ...(options.loadBalancerClass === undefined ? {} : { loadBalancerClass: options.loadBalancerClass }),
      ...(options.externalTrafficPolicy === undefined ? {} : { externalTrafficPolicy: options.externalTrafficPolicy }),
    },
    status: {
      loadBalancer: { ingress: options.ingress ?? ips.map((text) => ({ ip: text })) },
      conditions: [allocationCondition(options.recorded ?? ips, '2025-01-01T00:00:00Z')],
    },
  };
}

export function pool(
  name: string,
  addresses: string[],
  options: { labels?: Record<string, string>; created?: string; avoidBuggyIPs?: boolean } = {},
): IPPool {
  return {
    apiVersion: 'beaconlb.io/v1alpha1',
    kind: 'IPPool',
    metadata: {
      name,
      creationTimestamp: options.created ?? '2025-01-01T00:00:00Z',
      ...(options.labels ? { labels: options.labels } : {}),
    },
    spec: { addresses, ...(options.avoidBuggyIPs === undefined ? {} : { avoidBuggyIPs: options.avoidBuggyIPs }) },
  };
}

export function advertisement(name: string, spec: L2AdvertisementSpec = {}): L2Advertisement {
  return { apiVersion: 'beaconlb.io/v1alpha1', kind: 'L2Advertisement', metadata: { name }, spec };
}

export function node(
  name: string,
  labels?: Record<string, string>,
  conditions?: Array<{ type: string; status: string }>,
): NodeObject {
  return { metadata: { name, ...(labels ? { labels } : {}) }, ...(conditions ? { status: { conditions } } : {}) };
}

export function endpointSlice(key: string, readyNodes: string[], unready: string[] = []): EndpointSliceObject {
  const [namespace = '', name = ''] = key.split('/');
  return {
    metadata: { namespace, name: `${name}-x1`, labels: { [SERVICE_NAME_LABEL]: name } },
    addressType: 'IPv4',
    endpoints: [
      ...readyNodes.map((nodeName) => ({ nodeName, conditions: { ready: true } })),
      ...unready.map((nodeName) => ({ nodeName, conditions: { ready: false } })),
    ],
  };
}

export const NODES = [node('node1', { zone: 'a' }), node('node2', { zone: 'a' }), node('node3', { zone: 'b' })];
export const POOLS = [
  pool('segment-a', ['198.51.100.0/25', '2001:db8:a::100/120'], { labels: { segment: 'a' } }),
  pool('segment-b', ['203.0.113.0/24', '2001:db8:b::/64'], { labels: { segment: 'b' } }),
];

export function inputs(partial: Partial<Layer2Inputs>): Layer2Inputs {
  return {
    services: [],
    pools: POOLS,
    advertisements: [advertisement('everything')],
    nodes: NODES,
    endpointSlices: [],
    namespaces: [],
    loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS,
    ...partial,
  };
}

export function entry(plan: ReadonlyMap<bigint, Layer2Address>, text: string): Layer2Address {
  const found = plan.get(ip(text));
  if (!found) assert.fail(`${text} is not in the plan`);
  return found;
}
