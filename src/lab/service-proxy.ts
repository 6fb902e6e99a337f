// A stand-in for kube-proxy in the lab: in every node namespace, nftables DNAT from each LoadBalancer address and
// port to a small HTTP backend on the node itself, kept in step with the Services. Like kube-proxy, it makes the
// node deliver traffic for an address whichever node owns it; Beacon LB only makes the traffic arrive.
import { execFileSync } from 'node:child_process';
import type { ServiceObject } from '../core/config/service-object.ts';
import type { Host } from './test-bed.ts';

export const BACKEND_PORT = 8080;

/** The nft script that maps every (address, port) of `services` to the node's backend. */
export function proxyRuleset(node: Host, services: readonly ServiceObject[]): string {
  const rules: string[] = [];
  for (const svc of services) {
    if (svc.spec?.type !== 'LoadBalancer') continue;
    for (const ingress of svc.status?.loadBalancer?.ingress ?? []) {
      if (!ingress.ip) continue;
      for (const port of svc.spec.ports ?? []) {
        const proto = (port.protocol ?? 'TCP').toLowerCase();
        if (proto !== 'tcp' && proto !== 'udp') continue;
        rules.push(
          ingress.ip.includes(':')
            ? `    ip6 daddr ${ingress.ip} ${proto} dport ${port.port} dnat ip6 to [${node.ipv6}]:${BACKEND_PORT}`
            : `    ip daddr ${ingress.ip} ${proto} dport ${port.port} dnat ip to ${node.ipv4}:${BACKEND_PORT}`,
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
export function applyProxyRules(node: Host, services: readonly ServiceObject[]): void {
  execFileSync('ip', ['netns', 'exec', node.ns, 'nft', '-f', '-'], {
    input: proxyRuleset(node, services),
    stdio: ['pipe', 'ignore', 'pipe'],
    timeout: 5000,
  });
}
