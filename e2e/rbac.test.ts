// config/rbac and config/admission on the real API server: each component's ServiceAccount, with a token from
// TokenRequest (the speaker's bound to a Pod on node1, as the kubelet mounts it), may do exactly what its component
// needs and is refused what it must not do (docs/security.md has the same table). Refusals by an admission policy
// must carry the policy's message; RBAC refusals say forbidden.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ALLOCATED_CONDITION } from '../src/core/config/allocation-record.ts';
import { RENUMBERING_CONDITION } from '../src/core/config/renumber-record.ts';
import { waitForAdmissionPolicies } from './support/admission-policies.ts';
import { INSTALL_NAMESPACE, PASSWORD_NAMESPACE, REPO_ROOT, tryKubectl, useCluster } from './support/cluster.ts';

type Check = [what: string, args: string[], input?: object | undefined, refusal?: RegExp];
type Who = 'controller' | 'speaker' | 'speaker token bound to no Pod' | 'cluster admin';

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
  spec: {
    user: 'system:serviceaccount:monitoring:prometheus',
    nonResourceAttributes: { path: '/metrics', verb: 'get' },
  },
};
/** A ServiceAnnouncement record (ADR 0024): named, labelled and claiming the nodes given (all node1 unless said). */
const announcement = (service: string, o: { name?: string; label?: string; node?: string } = {}): object => ({
  apiVersion: 'beaconlb.io/v1alpha1',
  kind: 'ServiceAnnouncement',
  metadata: {
    name: o.name ?? `${service}.${o.node ?? 'node1'}`,
    namespace: 'default',
    labels: { 'beaconlb.io/node': o.label ?? o.node ?? 'node1', 'beaconlb.io/service': service },
  },
  spec: { service, node: o.node ?? 'node1' },
  status: { layer2: { addresses: ['198.51.100.70'], interfaces: ['eth0'] } },
});
const statusPatch = JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: '198.51.100.64', ipMode: 'VIP' }] } } });
const record = (ip: string): object => ({
  type: ALLOCATED_CONDITION,
  status: 'True',
  reason: 'Allocated',
  message: ip,
  lastTransitionTime: '2026-01-01T00:00:00Z',
});
const recordedStatusPatch = (ip: string): string =>
  JSON.stringify({ status: { loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] }, conditions: [record(ip)] } });
const ANNOUNCEMENT_POLICY =
  /ValidatingAdmissionPolicy 'beaconlb-speaker-announcements' .*denied request: a speaker may write only the ServiceAnnouncement records of its own node/;
const LEASE_POLICY =
  /ValidatingAdmissionPolicy 'beaconlb-speaker-lease' .*denied request: a speaker may write only its own heartbeat Lease/;
const RECORD_POLICY =
  /ValidatingAdmissionPolicy 'beaconlb-allocation-record' .*denied request: only the Beacon LB controller/;
const WINDOW_POLICY =
  /ValidatingAdmissionPolicy 'beaconlb-allocation-record' .*denied request: only the Beacon LB controller .* renumbering record/;
/** A renumbering window's record (ADR 0028): only the controller may write one. */
const windowStatusPatch = (until: string): string =>
  JSON.stringify({
    status: {
      conditions: [
        {
          type: RENUMBERING_CONDITION,
          status: 'True',
          reason: 'Renumbering',
          message: `198.51.100.66 until ${until}`,
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    },
  });
const leaseApply = ['apply', '--server-side', '--force-conflicts', '--field-manager=test', '-f', '-'];

const allowed: Record<Who, Check[]> = {
  controller: [
    ['list Services in all namespaces', ['get', 'services', '-A']],
    ['list namespaces (namespace selectors)', ['get', 'namespaces']],
    ['list IPPools', ['get', 'ippools']],
    [
      'write Service status',
      ['patch', 'service', 'web', '-n', 'default', '--subresource=status', '--type=merge', '-p', statusPatch],
    ],
    [
      'write Service status with its allocation record',
      [
        'patch',
        'service',
        'web',
        '-n',
        'default',
        '--subresource=status',
        '--type=merge',
        '-p',
        recordedStatusPatch('198.51.100.65'),
      ],
    ],
    [
      'write Service status with a renumbering record',
      [
        'patch',
        'service',
        'web',
        '-n',
        'default',
        '--subresource=status',
        '--type=merge',
        '-p',
        windowStatusPatch('2027-01-01T00:00:00Z'),
      ],
    ],
    [
      'write IPPool status',
      ['patch', 'ippool', 'l2-pool', '--subresource=status', '--type=merge', '-p', '{"status":{"allocated":1}}'],
    ],
    ['list ServiceAnnouncement records (to remove those of gone speakers)', ['get', 'serviceannouncements', '-A']],
    ['create its leader Lease', ['create', '-f', '-'], lease('beaconlb-controller', INSTALL_NAMESPACE)],
    ['record an Event on a Service', ['create', '-f', '-'], event('default')],
  ],
  speaker: [
    ['list Services', ['get', 'services', '-A']],
    ['list EndpointSlices', ['get', 'endpointslices.discovery.k8s.io', '-A']],
    ['list Nodes', ['get', 'nodes']],
    ['list namespaces (pool namespace selectors)', ['get', 'namespaces']],
    ['list L2Advertisements and BGPPeers', ['get', 'l2advertisements,bgppeers,bgpadvertisements,ippools']],
    ['create its heartbeat Lease', ['create', '-f', '-'], lease('beaconlb-speaker-node1', INSTALL_NAMESPACE)],
    ['list the peers heartbeat Leases', ['get', 'leases', '-n', INSTALL_NAMESPACE]],
    [
      'renew its heartbeat Lease',
      [
        'patch',
        'lease',
        'beaconlb-speaker-node1',
        '-n',
        INSTALL_NAMESPACE,
        '--type=merge',
        '-p',
        '{"spec":{"renewTime":"2026-01-01T00:00:00.000000Z"}}',
      ],
    ],
    [
      'read the BGP password Secret in the BGP password namespace',
      ['get', 'secret', 'bgp-router-password', '-n', PASSWORD_NAMESPACE],
    ],
    ['list the BGP password Secrets', ['get', 'secrets', '-n', PASSWORD_NAMESPACE]],
    ['record an Event on a Service', ['create', '-f', '-'], event('default')],
    [
      'report sessions on BGPPeer status',
      [
        'patch',
        'bgppeer',
        'router',
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"observedGeneration":1}}',
      ],
    ],
    [
      'review a scraper token (TokenReview: the authenticated metrics listener)',
      ['create', '--validate=false', '-f', '-'],
      tokenReview,
    ],
    [
      'ask whether a user may get /metrics (SubjectAccessReview)',
      ['create', '--validate=false', '-f', '-'],
      metricsAccessReview,
    ],
    ['create the ServiceAnnouncement record of its node', ['create', '-f', '-'], announcement('web')],
    [
      'apply its record (server-side apply, as the speaker writes)',
      ['apply', '--server-side', '--force-conflicts', '--field-manager=beaconlb-speaker', '-f', '-'],
      announcement('web'),
    ],
    ['delete its record', ['delete', 'serviceannouncement', 'web.node1', '-n', 'default']],
  ],
  'speaker token bound to no Pod': [['list the peers heartbeat Leases', ['get', 'leases', '-n', INSTALL_NAMESPACE]]],
  'cluster admin': [
    [
      'write Service status without touching the allocation record',
      ['patch', 'service', 'web', '-n', 'default', '--subresource=status', '--type=merge', '-p', statusPatch],
    ],
    [
      'drop the allocation record (which only stops the announcement)',
      [
        'patch',
        'service',
        'web',
        '-n',
        'default',
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"conditions":null}}',
      ],
    ],
  ],
};

const refused: Record<Who, Check[]> = {
  controller: [
    ['read Secrets in the install namespace', ['get', 'secret', 'bgp-router-password', '-n', INSTALL_NAMESPACE]],
    ['read Secrets elsewhere', ['get', 'secrets', '-n', 'default']],
    [
      'change a Service spec',
      ['patch', 'service', 'web', '-n', 'default', '--type=merge', '-p', '{"spec":{"loadBalancerIP":"198.51.100.70"}}'],
    ],
    ['delete a Service', ['delete', 'service', 'web', '-n', 'default']],
    ['change an IPPool spec', ['patch', 'ippool', 'l2-pool', '--type=merge', '-p', '{"spec":{"autoAssign":false}}']],
    ['create a Lease outside the install namespace', ['create', '-f', '-'], lease('x', 'default')],
    ['create Pods', ['run', 'x', '--image=x', '-n', 'default']],
    [
      'review tokens (only the speaker serves authenticated metrics)',
      ['create', '--validate=false', '-f', '-'],
      tokenReview,
    ],
    ['create a ServiceAnnouncement record (only speakers announce)', ['create', '-f', '-'], announcement('ctl')],
  ],
  speaker: [
    [
      'write Service status',
      ['patch', 'service', 'web', '-n', 'default', '--subresource=status', '--type=merge', '-p', statusPatch],
    ],
    ['read Secrets outside the install namespace', ['get', 'secret', 'other', '-n', 'default']],
    ['list Secrets cluster-wide', ['get', 'secrets', '-A']],
    [
      'read a Helm release Secret of the install namespace',
      ['get', 'secret', 'sh.helm.release.v1.beaconlb.v1', '-n', INSTALL_NAMESPACE],
    ],
    ['read an image pull Secret of the install namespace', ['get', 'secret', 'registry-pull', '-n', INSTALL_NAMESPACE]],
    ['list the Secrets of the install namespace', ['get', 'secrets', '-n', INSTALL_NAMESPACE]],
    [
      'watch the Secrets of the install namespace',
      ['get', 'secrets', '-n', INSTALL_NAMESPACE, '--watch', '--request-timeout=5s'],
    ],
    [
      'create a Lease for another node',
      ['create', '-f', '-'],
      lease('beaconlb-speaker-node3', INSTALL_NAMESPACE),
      LEASE_POLICY,
    ],
    [
      'renew another node heartbeat Lease',
      [
        'patch',
        'lease',
        'beaconlb-speaker-node2',
        '-n',
        INSTALL_NAMESPACE,
        '--type=merge',
        '-p',
        '{"spec":{"renewTime":"2026-01-01T00:00:00.000000Z"}}',
      ],
      undefined,
      LEASE_POLICY,
    ],
    [
      'take over another node heartbeat Lease by holderIdentity',
      [
        'patch',
        'lease',
        'beaconlb-speaker-node2',
        '-n',
        INSTALL_NAMESPACE,
        '--type=merge',
        '-p',
        '{"spec":{"holderIdentity":"node1"}}',
      ],
      undefined,
      LEASE_POLICY,
    ],
    ['write the controller leader Lease', leaseApply, lease('beaconlb-controller', INSTALL_NAMESPACE), LEASE_POLICY],
    [
      'write IPPool status',
      ['patch', 'ippool', 'l2-pool', '--subresource=status', '--type=merge', '-p', '{"status":{"allocated":2}}'],
    ],
    ['change a BGPPeer spec', ['patch', 'bgppeer', 'router', '--type=merge', '-p', '{"spec":{"peerPort":180}}']],
    ['create a Lease outside the install namespace', ['create', '-f', '-'], lease('x', 'default')],
    ['delete a peer heartbeat Lease', ['delete', 'lease', 'beaconlb-controller', '-n', INSTALL_NAMESPACE]],
    ['change a Node', ['label', 'node', 'node1', 'x=y']],
    [
      'create the record of another node',
      ['create', '-f', '-'],
      announcement('api', { node: 'node3' }),
      ANNOUNCEMENT_POLICY,
    ],
    [
      'create a record of its node named for another node',
      ['create', '-f', '-'],
      announcement('api', { name: 'api.node2' }),
      ANNOUNCEMENT_POLICY,
    ],
    [
      'create a record of its node labelled for another node',
      ['create', '-f', '-'],
      announcement('api', { label: 'node2' }),
      ANNOUNCEMENT_POLICY,
    ],
    [
      'change another node record',
      [
        'patch',
        'serviceannouncement',
        'web.node2',
        '-n',
        'default',
        '--type=merge',
        '-p',
        '{"status":{"layer2":{"addresses":["198.51.100.71"],"interfaces":["eth0"]}}}',
      ],
      undefined,
      ANNOUNCEMENT_POLICY,
    ],
    [
      'delete another node record',
      ['delete', 'serviceannouncement', 'web.node2', '-n', 'default'],
      undefined,
      ANNOUNCEMENT_POLICY,
    ],
  ],
  'speaker token bound to no Pod': [
    [
      'create a heartbeat Lease (its token names no node)',
      ['create', '-f', '-'],
      lease('beaconlb-speaker-node1', INSTALL_NAMESPACE),
      /this token names no node/,
    ],
    [
      'create a ServiceAnnouncement record (its token names no node)',
      ['create', '-f', '-'],
      announcement('db'),
      /this token names no node/,
    ],
  ],
  'cluster admin': [
    [
      'add an allocation record to a Service status',
      [
        'patch',
        'service',
        'web',
        '-n',
        'default',
        '--subresource=status',
        '--type=merge',
        '-p',
        recordedStatusPatch('198.51.100.66'),
      ],
      undefined,
      RECORD_POLICY,
    ],
    [
      'add a renumbering record to a Service status',
      [
        'patch',
        'service',
        'web',
        '-n',
        'default',
        '--subresource=status',
        '--type=merge',
        '-p',
        windowStatusPatch('2099-01-01T00:00:00Z'),
      ],
      undefined,
      WINDOW_POLICY,
    ],
  ],
};

describe('RBAC of config/rbac, exercised with ServiceAccount tokens', () => {
  const cluster = useCluster();
  const kubeconfigs: Partial<Record<Who, string>> = {};

  before(async () => {
    const { cp } = cluster;
    cp.kubectl(['apply', '-f', join(REPO_ROOT, 'config/samples')]);
    cp.kubectl(['create', 'secret', 'generic', 'other', '-n', 'default', '--from-literal=password=x']);
    // What a Helm install and a private registry leave in the install namespace.
    cp.kubectl([
      'create',
      'secret',
      'generic',
      'sh.helm.release.v1.beaconlb.v1',
      '-n',
      INSTALL_NAMESPACE,
      '--type=helm.sh/release.v1',
      '--from-literal=release=x',
    ]);
    cp.kubectl([
      'create',
      'secret',
      'docker-registry',
      'registry-pull',
      '-n',
      INSTALL_NAMESPACE,
      '--docker-server=registry.example',
      '--docker-username=u',
      '--docker-password=p',
    ]);
    for (const node of ['node1', 'node2'])
      cp.kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: node } }));
    cp.kubectl(['create', '-f', '-'], JSON.stringify(lease('beaconlb-speaker-node2', INSTALL_NAMESPACE)));
    cp.kubectl(['create', '-f', '-'], JSON.stringify(announcement('web', { node: 'node2' })));
    kubeconfigs.controller = cp.serviceAccountKubeconfig(INSTALL_NAMESPACE, 'beaconlb-controller');
    kubeconfigs.speaker = cp.nodeBoundKubeconfig(INSTALL_NAMESPACE, 'beaconlb-speaker', 'node1');
    kubeconfigs['speaker token bound to no Pod'] = cp.serviceAccountKubeconfig(INSTALL_NAMESPACE, 'beaconlb-speaker');
    kubeconfigs['cluster admin'] = cp.kubeconfig;
    await waitForAdmissionPolicies(cp);
  });

  for (const who of Object.keys(allowed) as Who[]) {
    describe(who, () => {
      for (const [what, args, input] of allowed[who]) {
        it(`may ${what}`, () => {
          const res = tryKubectl(
            cluster.cp,
            [`--kubeconfig=${kubeconfigs[who] ?? ''}`, ...args],
            input && JSON.stringify(input),
          );
          assert.ok(res.ok, res.out);
        });
      }
      for (const [what, args, input, refusal] of refused[who]) {
        it(`is refused to ${what}`, () => {
          const res = tryKubectl(
            cluster.cp,
            [`--kubeconfig=${kubeconfigs[who] ?? ''}`, ...args],
            input && JSON.stringify(input),
          );
          assert.equal(res.ok, false, `allowed: ${args.join(' ')}`);
          assert.match(res.out, refusal ?? /forbidden/i);
        });
      }
    });
  }
});
