import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterSnapshot } from '../k8s/cluster-snapshot.ts';
import { allocationCondition } from '../core/config/allocation-record.ts';
import { statusReport } from './status-command.ts';

const NOW = new Date('2026-12-07T12:00:10Z');

function snapshot(): ClusterSnapshot {
  return {
    pools: [],
    services: [],
    advertisements: [],
    bgpPeers: [
      {
        apiVersion: 'beaconlb.io/v1alpha1',
        kind: 'BGPPeer',
        metadata: { name: 'router' },
        spec: { myASN: 65001, peerASN: 65000, peerAddress: '198.51.100.1' },
        status: {
          sessions: [
            { node: 'node1', state: 'Established', lastTransitionTime: '2026-12-07T12:00:00Z', prefixesAdvertised: 1 },
            { node: 'node2', state: 'Active', lastTransitionTime: '2026-12-07T12:00:00Z', prefixesAdvertised: 0 },
          ],
        },
      },
    ],
    bgpAdvertisements: [],
    nodes: [],
    namespaces: [],
    endpointSlices: [],
    speakers: [
      { node: 'node1', renewTime: '2026-12-07T12:00:09Z', leaseDurationSeconds: 3, leaving: false, layer2NotReady: '' },
      { node: 'node2', renewTime: '2026-12-07T11:59:00Z', leaseDurationSeconds: 3, leaving: false, layer2NotReady: '' },
    ],
    announcements: [
      {
        metadata: { name: 'web.node2', namespace: 'shop' },
        spec: { service: 'web', node: 'node2' },
        status: { bgp: { prefixes: ['203.0.113.5/32'], peers: ['router'] } },
      },
      {
        metadata: { name: 'web.node1', namespace: 'shop' },
        spec: { service: 'web', node: 'node1' },
        status: {
          layer2: { addresses: ['198.51.100.70'], interfaces: ['eth0'] },
          bgp: { prefixes: ['203.0.113.5/32'], peers: ['router', 'gone'] },
        },
      },
    ],
  };
}

describe('statusReport: announcements', () => {
  it("lists each record with the state of the node's session with each peer, and marks a stale speaker", () => {
    const report = statusReport(snapshot(), NOW);
    assert.deepEqual(report.announcements, [
      {
        service: 'shop/web',
        node: 'node1',
        layer2: ['198.51.100.70'],
        interfaces: ['eth0'],
        bgp: ['203.0.113.5/32'],
        peers: ['router(Established)', 'gone(no such peer)'],
        speaker: 'live',
      },
      {
        service: 'shop/web',
        node: 'node2',
        layer2: [],
        interfaces: [],
        bgp: ['203.0.113.5/32'],
        peers: ['router(Active)'],
        speaker: 'stale',
      },
    ]);
  });
});

describe('statusReport: layer-2 owners', () => {
  /** One pool, one advertisement on every node, `count` Services, every speaker renewed a second ago. */
  function layer2(rejoining: boolean, count = 6, names = ['node1', 'node2']): ClusterSnapshot {
    const ips = Array.from({ length: count }, (_, i) => `198.51.100.${70 + i}`);
    return {
      ...snapshot(),
      bgpPeers: [],
      announcements: [],
      pools: [
        {
          apiVersion: 'beaconlb.io/v1alpha1',
          kind: 'IPPool',
          metadata: { name: 'l2', creationTimestamp: '2025-01-01T00:00:00Z' },
          spec: { addresses: ['198.51.100.64/26'] },
        },
      ],
      advertisements: [
        { apiVersion: 'beaconlb.io/v1alpha1', kind: 'L2Advertisement', metadata: { name: 'l2' }, spec: {} },
      ],
      nodes: names.map((name) => ({ metadata: { name, labels: { 'kubernetes.io/hostname': name } } })),
      services: ips.map((ip, i) => ({
        metadata: { namespace: 'shop', name: `web-${i}` },
        spec: { type: 'LoadBalancer', ports: [{ port: 443, protocol: 'TCP' }] },
        status: {
          loadBalancer: { ingress: [{ ip }] },
          conditions: [allocationCondition([ip], '2025-01-01T00:00:00Z')],
        },
      })),
      speakers: names.map((node) => ({
        node,
        renewTime: '2026-12-07T12:00:09Z',
        leaseDurationSeconds: 3,
        leaving: false,
        layer2NotReady: '',
        rejoining: rejoining && node === 'node1',
      })),
    };
  }

  it('names the owners the speakers compute: a rejoining speaker (ADR 0036) owns nothing a settled one can serve', () => {
    const spread = statusReport(layer2(false), NOW).services.map((s) => s.owner);
    assert.ok(spread.includes('node1') && spread.includes('node2'), spread.join());
    const sticky = statusReport(layer2(true), NOW);
    assert.deepEqual(
      sticky.services.map((s) => s.owner),
      spread.map(() => 'node2'),
    );
    assert.deepEqual(
      sticky.speakers.map((s) => [s.node, s.live, s.rejoining]),
      [
        ['node1', true, true],
        ['node2', true, false],
      ],
    );
  });

  it('with a membership record (probes, ADR 0019) owners are members only: a speaker not listed yet owns nothing', () => {
    const names = ['node1', 'node2', 'node3'];
    const leases = layer2(false, 12, names);
    assert.ok(statusReport(leases, NOW).services.some((s) => s.owner === 'node3'));
    const probes = statusReport({ ...leases, membership: ['node1', 'node2'] }, NOW).services.map((s) => s.owner);
    assert.ok(probes.includes('node1') && probes.includes('node2') && !probes.includes('node3'), probes.join());
  });
});
