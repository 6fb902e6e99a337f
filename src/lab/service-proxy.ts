// A stand-in for kube-proxy in the lab: in every node namespace, nftables DNAT from each LoadBalancer address and
// port, kept in step with the Services and EndpointSlices. Like kube-proxy, it makes the node deliver traffic for an
// address whichever node owns it; Beacon LB only makes the traffic arrive. A Service with EndpointSlices goes to its
// ready endpoint on the receiving node, as kube-proxy does for externalTrafficPolicy Local (the process lab's ingress
// controller: lab-ingress.ts); the stand-in forwards nothing to other nodes, so a node without a local endpoint drops
// it. A Service without EndpointSlices (the sample Services: no kubelet runs their Pods) goes to the small HTTP
// backend on the node itself, on BACKEND_PORT.
import { execFileSync } from 'node:child_process';
import { SERVICE_NAME_LABEL } from '../core/config/cluster-objects.ts';
import type { ServiceObject } from '../core/config/service-object.ts';
import type { Host } from './test-bed.ts';

export const BACKEND_PORT = 8080;

/** The parts of a discovery/v1 EndpointSlice the stand-in reads. */
export interface ProxyEndpointSlice {
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
  addressType?: string;
  endpoints?: Array<{ addresses?: string[]; nodeName?: string; conditions?: { ready?: boolean } }>;
  ports?: Array<{ name?: string; port?: number; protocol?: string }>;
}

interface Target {
  readonly address: string;
  readonly port: number;
}

/**
 * Where the node sends (Service, port) to: undefined for the node's own backend (no EndpointSlices), null for
 * nowhere (EndpointSlices, but no ready endpoint on this node for that port and family).
 */
function localTarget(
  node: Host,
  svc: ServiceObject,
  portName: string,
  protocol: string,
  family: 'IPv4' | 'IPv6',
  slices: readonly ProxyEndpointSlice[],
): Target | null | undefined {
  const mine = slices.filter(
    (s) =>
      s.metadata.namespace === svc.metadata.namespace && s.metadata.labels?.[SERVICE_NAME_LABEL] === svc.metadata.name,
  );
  if (mine.length === 0) return undefined;
  for (const slice of mine) {
    if (slice.addressType !== family) continue;
    const port = slice.ports?.find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol)?.port;
    if (port === undefined) continue;
    for (const endpoint of slice.endpoints ?? []) {
      const address = endpoint.addresses?.[0];
      if (endpoint.nodeName === node.role && endpoint.conditions?.ready !== false && address) return { address, port };
    }
  }
  return null;
}

/** The nft script that maps every (address, port) of `services` on this node. */
export function proxyRuleset(
  node: Host,
  services: readonly ServiceObject[],
  slices: readonly ProxyEndpointSlice[] = [],
): string {
  const rules: string[] = [];
  for (const svc of services) {
    if (svc.spec?.type !== 'LoadBalancer') continue;
    for (const ingress of svc.status?.loadBalancer?.ingress ?? []) {
      if (!ingress.ip) continue;
      const v6 = ingress.ip.includes(':');
      for (const port of svc.spec.ports ?? []) {
        const protocol = port.protocol ?? 'TCP';
        const proto = protocol.toLowerCase();
        if (proto !== 'tcp' && proto !== 'udp') continue;
        const target = localTarget(node, svc, port.name ?? '', protocol, v6 ? 'IPv6' : 'IPv4', slices);
        if (target === null) continue;
        const to = target ?? { address: v6 ? node.ipv6 : node.ipv4, port: BACKEND_PORT };
        rules.push(
          v6
            ? `    ip6 daddr ${ingress.ip} ${proto} dport ${port.port} dnat ip6 to [${to.address}]:${to.port}`
            : `    ip daddr ${ingress.ip} ${proto} dport ${port.port} dnat ip to ${to.address}:${to.port}`,
        );
      }
    }
  }
  return [
    'table inet beaconlb_lab_proxy',
    'delete table inet beaconlb_lab_proxy',
    'table inet beaconlb_lab_proxy {',
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    ...rules,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Applies the ruleset in the node's namespace (atomically: nft -f). */
export function applyProxyRules(
  node: Host,
  services: readonly ServiceObject[],
  slices: readonly ProxyEndpointSlice[] = [],
): void {
  execFileSync('ip', ['netns', 'exec', node.ns, 'nft', '-f', '-'], {
    input: proxyRuleset(node, services, slices),
    stdio: ['pipe', 'ignore', 'pipe'],
    timeout: 5000,
  });
}
