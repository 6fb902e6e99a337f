// The world the layer-2 speaker's tests plan from: Services, pools, advertisements and nodes of segment A, and the
// network interfaces and MACs of node1..node3.
import assert from 'node:assert/strict';
import type { IPPool, L2Advertisement, L2AdvertisementSpec } from '../core/config/api-types.generated.ts';
import type { NodeObject } from '../core/config/cluster-objects.ts';
import type { Layer2Inputs } from '../core/config/layer2-plan.ts';
import { allocationCondition } from '../core/config/allocation-record.ts';
import type { ServiceObject } from '../core/config/service-object.ts';
import { parseIp } from '../core/ip/ip-address.ts';
import type { InterfaceTable } from '../platform/network-interfaces.ts';

/** The address of a text form, failing the test on an error. */
export function ip(text: string): bigint {
  const parsed = parseIp(text);
  if (!parsed.ok) assert.fail(parsed.error);
  return parsed.value;
}

export function service(
  key: string,
  ips: string[],
  options: { local?: boolean; labels?: Record<string, string> } = {},
): ServiceObject {
  const [namespace = '', name = ''] = key.split('/');
  return {
    metadata: { namespace, name, ...(options.labels ? { labels: options.labels } : {}) },
    spec: {
      type: 'LoadBalancer',
      ports: [{ port: 443, protocol: 'TCP' }],
      ...(options.local ? { externalTrafficPolicy: 'Local' } : {}),
    },
    status: {
      loadBalancer: { ingress: ips.map((text) => ({ ip: text })) },
      conditions: [allocationCondition(ips, '2025-01-01T00:00:00Z')],
    },
  };
}

export function pool(name: string, addresses: string[]): IPPool {
  return {
    apiVersion: 'beaconlb.io/v1alpha1',
    kind: 'IPPool',
    metadata: { name, creationTimestamp: '2025-01-01T00:00:00Z' },
    spec: { addresses },
  };
}

export function advertisement(name: string, spec: L2AdvertisementSpec = {}): L2Advertisement {
  return { apiVersion: 'beaconlb.io/v1alpha1', kind: 'L2Advertisement', metadata: { name }, spec };
}

export function node(name: string): NodeObject {
  return { metadata: { name, labels: { 'kubernetes.io/hostname': name } } };
}

export const NODE_NAMES = ['node1', 'node2', 'node3'];

/** Thirteen addresses of segment A, both families, in one pool announced by one advertisement on every node. */
export function segmentA(): Layer2Inputs {
  return {
    services: [
      ...Array.from({ length: 9 }, (_, i) => service(`shop/web-${i}`, [`198.51.100.${20 + i}`])),
      service('shop/dual', ['198.51.100.40', '2001:db8:a::140']),
      ...Array.from({ length: 2 }, (_, i) => service(`shop/v6-${i}`, [`2001:db8:a::${150 + i}`])),
    ],
    pools: [pool('segment-a', ['198.51.100.0/25', '2001:db8:a::100/120'])],
    advertisements: [advertisement('segment-a')],
    nodes: NODE_NAMES.map(node),
    endpointSlices: [],
    namespaces: [],
    loadBalancerClass: 'beaconlb.io/beaconlb',
  };
}

export function nodeMac(name: string): string {
  const n = Number(name.replace(/\D/g, '')) || 0;
  return `00:00:5e:00:53:${n.toString(16).padStart(2, '0')}`;
}

/** Every node has eth0 on segment A (the default route) and lo. */
export function tableOf(name: string): InterfaceTable {
  const n = Number(name.replace(/\D/g, '')) || 0;
  return {
    interfaces: [
      {
        name: 'lo',
        index: 1,
        mac: '00:00:00:00:00:00',
        up: true,
        addresses: [{ family: 4, address: ip('127.0.0.1'), prefixLength: 8 }],
      },
      {
        name: 'eth0',
        index: 2,
        mac: nodeMac(name),
        up: true,
        addresses: [
          { family: 4, address: ip(`198.51.100.${n}`), prefixLength: 25 },
          { family: 6, address: ip(`2001:db8:a::${n}`), prefixLength: 64 },
        ],
      },
    ],
    defaultRoute: { 4: 'eth0', 6: 'eth0' },
  };
}
