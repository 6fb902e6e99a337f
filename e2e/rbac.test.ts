// config/rbac on the real API server: each component's ServiceAccount, with a token from TokenRequest, may do
// exactly what its component needs and is refused what it must not do.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { INSTALL_NAMESPACE, REPO_ROOT, tryKubectl, useCluster } from './support/cluster.ts';

type Check = [what: string, args: string[], input?: object];

const lease = (name: string, namespace: string): object => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name, namespace },
  spec: { holderIdentity: name, leaseDurationSeconds: 3 },
});
const event = (namespace: string): object => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { generateName: 'web.', namespace },
  involvedObject: { kind: 'Service', name: 'web', namespace, apiVersion: 'v1' },
  reason: 'IPAllocated',
  message: 'test',
  type: 'Normal',
  source: { component: 'beaconlb' },
});
const tokenReview = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'not-a-token' } };
const metricsAccessReview = {
  apiVersion: 'authorization.k8s.io/v1',
  kind: 'SubjectAccessReview',
  spec: { user: 'system:serviceaccount:monitoring:prometheus', nonResourceAttributes: { path: '/metrics', verb: 'get' } },
};
const statusPatch = JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: '198.51.100.64', ipMode: 'VIP' }] } } });

const allowed: Record<'controller' | 'speaker', Check[]> = {
  controller: [
    ['list Services in all namespaces', ['get', 'services', '-A']],
    ['list namespaces (namespace selectors)', ['get', 'namespaces']],
    ['list IPPools', ['get', 'ippools']],
    ['write Service status', ['patch', 'service', 'web', '-n', 'default', '--subresource=status', '--type=merge', '-p', statusPatch]],
    ['write IPPool status', ['patch', 'ippool', 'l2-pool', '--subresource=status', '--type=merge', '-p', '{"status":{"allocated":1}}']],
    ['create its leader Lease', ['create', '-f', '-'], lease('beaconlb-controller', INSTALL_NAMESPACE)],
    ['record an Event on a Service', ['create', '-f', '-'], event('default')],
  ],
  speaker: [
    ['list Services', ['get', 'services', '-A']],
    ['list EndpointSlices', ['get', 'endpointslices.discovery.k8s.io', '-A']],
    ['list Nodes', ['get', 'nodes']],
    ['list L2Advertisements and BGPPeers', ['get', 'l2advertisements,bgppeers,bgpadvertisements,ippools']],
    ['create its heartbeat Lease', ['create', '-f', '-'], lease('beaconlb-speaker-node1', INSTALL_NAMESPACE)],
    ['list the peers heartbeat Leases', ['get', 'leases', '-n', INSTALL_NAMESPACE]],
    ['renew its heartbeat Lease', ['patch', 'lease', 'beaconlb-speaker-node1', '-n', INSTALL_NAMESPACE, '--type=merge', '-p', '{"spec":{"renewTime":"2026-01-01T00:00:00.000000Z"}}']],
    ['read the BGP password Secret in the install namespace', ['get', 'secret', 'bgp-router-password', '-n', INSTALL_NAMESPACE]],
    ['record an Event on a Service', ['create', '-f', '-'], event('default')],
    ['report sessions on BGPPeer status', ['patch', 'bgppeer', 'router', '--subresource=status', '--type=merge', '-p', '{"status":{"observedGeneration":1}}']],
    ['review a scraper token (TokenReview: the authenticated metrics listener)', ['create', '--validate=false', '-f', '-'], tokenReview],
    ['ask whether a user may get /metrics (SubjectAccessReview)', ['create', '--validate=false', '-f', '-'], metricsAccessReview],
  ],
};

const refused: Record<'controller' | 'speaker', Check[]> = {
  controller: [
    ['read Secrets in the install namespace', ['get', 'secret', 'bgp-router-password', '-n', INSTALL_NAMESPACE]],
    ['read Secrets elsewhere', ['get', 'secrets', '-n', 'default']],
    ['change a Service spec', ['patch', 'service', 'web', '-n', 'default', '--type=merge', '-p', '{"spec":{"loadBalancerIP":"198.51.100.70"}}']],
    ['delete a Service', ['delete', 'service', 'web', '-n', 'default']],
    ['change an IPPool spec', ['patch', 'ippool', 'l2-pool', '--type=merge', '-p', '{"spec":{"autoAssign":false}}']],
    ['create a Lease outside the install namespace', ['create', '-f', '-'], lease('x', 'default')],
    ['create Pods', ['run', 'x', '--image=x', '-n', 'default']],
    ['review tokens (only the speaker serves authenticated metrics)', ['create', '--validate=false', '-f', '-'], tokenReview],
  ],
  speaker: [
    ['write Service status', ['patch', 'service', 'web', '-n', 'default', '--subresource=status', '--type=merge', '-p', statusPatch]],
    ['read Secrets outside the install namespace', ['get', 'secret', 'other', '-n', 'default']],
    ['list Secrets cluster-wide', ['get', 'secrets', '-A']],
    ['write IPPool status', ['patch', 'ippool', 'l2-pool', '--subresource=status', '--type=merge', '-p', '{"status":{"allocated":2}}']],
    ['change a BGPPeer spec', ['patch', 'bgppeer', 'router', '--type=merge', '-p', '{"spec":{"peerPort":180}}']],
    ['create a Lease outside the install namespace', ['create', '-f', '-'], lease('x', 'default')],
    ['delete a peer heartbeat Lease', ['delete', 'lease', 'beaconlb-controller', '-n', INSTALL_NAMESPACE]],
    ['change a Node', ['label', 'node', 'node1', 'x=y']],
  ],
};

describe('RBAC of config/rbac, exercised with ServiceAccount tokens', () => {
  const cluster = useCluster();
  const kubeconfigs: Record<string, string> = {};

  before(() => {
    const { cp } = cluster;
    cp.kubectl(['apply', '-f', join(REPO_ROOT, 'config/samples')]);
    cp.kubectl(['create', 'secret', 'generic', 'other', '-n', 'default', '--from-literal=password=x']);
    cp.kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node1' } }));
    for (const component of ['controller', 'speaker']) {
      kubeconfigs[component] = cp.serviceAccountKubeconfig(INSTALL_NAMESPACE, `beaconlb-${component}`);
    }
  });

  for (const component of ['controller', 'speaker'] as const) {
    describe(component, () => {
      for (const [what, args, input] of allowed[component]) {
        it(`may ${what}`, () => {
          const res = tryKubectl(cluster.cp, [`--kubeconfig=${kubeconfigs[component]}`, ...args], input && JSON.stringify(input));
          assert.ok(res.ok, res.out);
        });
      }
      for (const [what, args, input] of refused[component]) {
        it(`is refused to ${what}`, () => {
          const res = tryKubectl(cluster.cp, [`--kubeconfig=${kubeconfigs[component]}`, ...args], input && JSON.stringify(input));
          assert.equal(res.ok, false, `allowed: ${args.join(' ')}`);
          assert.match(res.out, /forbidden/i);
        });
      }
    });
  }
});
