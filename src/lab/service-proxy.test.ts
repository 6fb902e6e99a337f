import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceObject } from '../core/config/service-object.ts';
import { proxyRuleset, type ProxyEndpointSlice } from './service-proxy.ts';
import type { Host } from './test-bed.ts';

const node = (n: number): Host => ({
  ns: `blbtest0-node${n}`,
  role: `node${n}`,
  dev: 'eth0',
  ipv4: `198.51.100.${10 + n}`,
  ipv6: `2001:db8:a::${(10 + n).toString(16)}`,
});

const service = (namespace: string, name: string, ips: string[], portName = 'web'): ServiceObject => ({
  metadata: { name, namespace },
  spec: {
    type: 'LoadBalancer',
    externalTrafficPolicy: 'Local',
    ports: [{ name: portName, port: 80, protocol: 'TCP' }],
  },
  status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
});

const slice = (ready: Record<string, boolean>): ProxyEndpointSlice => ({
  metadata: { name: 'traefik-lab', namespace: 'traefik', labels: { 'kubernetes.io/service-name': 'traefik' } },
  addressType: 'IPv4',
  endpoints: Object.entries(ready).map(([role, isReady]) => ({
    addresses: [node(Number(role.slice(4))).ipv4],
    nodeName: role,
    conditions: { ready: isReady },
  })),
  ports: [{ name: 'web', port: 8000, protocol: 'TCP' }],
});

describe('the lab service proxy', () => {
  it('sends a Service without EndpointSlices to the node’s own backend, both families', () => {
    const rules = proxyRuleset(node(1), [service('demo', 'hello', ['198.51.100.64', '2001:db8:a::100'], 'http')]);
    assert.match(rules, /ip daddr 198\.51\.100\.64 tcp dport 80 dnat ip to 198\.51\.100\.11:8080/);
    assert.match(rules, /ip6 daddr 2001:db8:a::100 tcp dport 80 dnat ip6 to \[2001:db8:a::b\]:8080/);
  });

  it('sends a Service with EndpointSlices to its ready endpoint on this node, on the endpoint’s port', () => {
    const rules = proxyRuleset(
      node(2),
      [service('traefik', 'traefik', ['198.51.100.72'])],
      [slice({ node1: true, node2: true })],
    );
    assert.match(rules, /ip daddr 198\.51\.100\.72 tcp dport 80 dnat ip to 198\.51\.100\.12:8000/);
  });

  it('forwards nothing where the node has no ready endpoint of a Service with EndpointSlices', () => {
    const svc = [service('traefik', 'traefik', ['198.51.100.72'])];
    for (const slices of [[slice({ node1: true, node2: false })], [slice({ node1: true })]]) {
      const rules = proxyRuleset(node(2), svc, slices);
      assert.doesNotMatch(rules, /198\.51\.100\.72/);
    }
    // An address of the other family than the slices': no endpoint for it either.
    const dual = proxyRuleset(node(1), [service('traefik', 'traefik', ['2001:db8:a::148'])], [slice({ node1: true })]);
    assert.doesNotMatch(dual, /2001:db8:a::148/);
  });

  it('matches the EndpointSlice to its Service by namespace and service-name label', () => {
    const other = { ...slice({ node1: true }), metadata: { ...slice({}).metadata, namespace: 'elsewhere' } };
    const rules = proxyRuleset(node(1), [service('traefik', 'traefik', ['198.51.100.72'])], [other]);
    assert.match(rules, /dnat ip to 198\.51\.100\.11:8080/);
  });
});
