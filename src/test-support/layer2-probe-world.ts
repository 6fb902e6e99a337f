// The world the layer-2 speaker's probe-detection tests plan from: four nodes, sixteen Services on one pool and one
// L2Advertisement, and the single interface of the node under test.
import { allocationCondition } from '../core/config/allocation-record.ts';
import type { Layer2Inputs } from '../core/config/layer2-plan.ts';
import { ipv4 } from '../core/ip/ip-address.ts';
import type { InterfaceTable } from '../platform/network-interfaces.ts';
import type { OwnedAddress } from '../speaker/layer2/layer2-announcer.ts';
import type { Layer2SpeakerOptions } from '../speaker/layer2/layer2-speaker-options.ts';

export const NODES = ['node1', 'node2', 'node3', 'node4'];
export const ADDRESSES = Array.from({ length: 16 }, (_, i) => `198.51.100.${20 + i}`);

export function world(): Layer2Inputs {
  return {
    services: ADDRESSES.map((ip, i) => ({
      metadata: { namespace: 'shop', name: `web-${i}` },
      spec: { type: 'LoadBalancer', ports: [{ port: 443, protocol: 'TCP' }] },
      status: { loadBalancer: { ingress: [{ ip }] }, conditions: [allocationCondition([ip], '2025-01-01T00:00:00Z')] },
    })),
    pools: [
      {
        apiVersion: 'beaconlb.io/v1alpha1',
        kind: 'IPPool',
        metadata: { name: 'a', creationTimestamp: '2025-01-01T00:00:00Z' },
        spec: { addresses: ['198.51.100.0/25'] },
      },
    ],
    advertisements: [
      { apiVersion: 'beaconlb.io/v1alpha1', kind: 'L2Advertisement', metadata: { name: 'a' }, spec: {} },
    ],
    nodes: NODES.map((name) => ({ metadata: { name, labels: { 'kubernetes.io/hostname': name } } })),
    endpointSlices: [],
    namespaces: [],
    loadBalancerClass: 'beaconlb.io/beaconlb',
  };
}

export const TABLE: InterfaceTable = {
  interfaces: [
    {
      name: 'eth0',
      index: 2,
      mac: '00:00:5e:00:53:01',
      up: true,
      addresses: [{ family: 4, address: ipv4(198, 51, 100, 11), prefixLength: 25 }],
    },
  ],
  defaultRoute: { 4: 'eth0' },
};

type Surroundings = Pick<
  Layer2SpeakerOptions,
  'staleViews' | 'brokenInterfaces' | 'interfaceTable' | 'announcer' | 'recordEvent' | 'onStaleView'
>;

/**
 * A speaker's surroundings in these tests: views fresh, interfaces up, TABLE, Events dropped; `owned` is what the
 * announcer was last told to answer for.
 */
export function quietSurroundings(): { options: Surroundings; owned: () => ReadonlyMap<bigint, OwnedAddress> } {
  let owned: ReadonlyMap<bigint, OwnedAddress> = new Map();
  return {
    options: {
      staleViews: () => [],
      brokenInterfaces: () => new Set(),
      interfaceTable: () => TABLE,
      announcer: {
        update: (o) => {
          owned = new Map(o);
        },
      },
      recordEvent: () => undefined,
      onStaleView: () => undefined,
    },
    owned: () => owned,
  };
}
