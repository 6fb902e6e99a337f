import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterSnapshot } from '../k8s/cluster-snapshot.ts';
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
