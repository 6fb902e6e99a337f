// Passive BGP sessions get the TTL of active ones: the router (gobgpd) connects to the speaker, and every packet the
// speaker sends on the accepted connection after the handshake leaves with TTL 1 for single-hop eBGP (IPv4) and
// hop limit 255 for ebgpMultiHop (IPv6), as the active side does. (The SYN-ACK is the kernel's, sent before the
// connection reaches the speaker, with the listener's default TTL: the capture leaves it out.)
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startBgpRouter, type BgpRouter } from '../src/lab/bgp-router.ts';
import { execIn } from '../src/lab/netns.ts';
import type { Host, TestBed } from '../src/lab/test-bed.ts';
import { startNodeBed } from './support/node-bed.ts';
import { useCluster } from './support/cluster.ts';
import { createObject, kubeClients, waitFor, type Kube } from './support/kube.ts';
import { startSpeaker } from './support/speaker-process.ts';

const ROUTER_AS = 65000;
const NODE_AS = 65001;

/** The TTL (IPv4) or hop limit (IPv6) of each packet tcpdump -v printed. */
function ttls(output: string): number[] {
  return [...output.matchAll(/\b(?:ttl|hlim) (\d+)\b/g)].map((m) => Number(m[1]));
}

describe('speaker: passive BGP sessions get the same TTL as active ones', () => {
  const cluster = useCluster();
  let kube: Kube;
  let bed: TestBed;
  let node: Host;
  let router: BgpRouter | undefined;

  before(async () => {
    kube = kubeClients(cluster.cp);
    ({ bed } = await startNodeBed(cluster, kube, 1));
    node = bed.nodes[0]!;
    cluster.defer(async () => {
      await router?.stop();
    });
    // Hold time 9 s: a KEEPALIVE every 3 s on each session.
    await createObject(kube, 'BGPPeer', 'passive-v4', { myASN: NODE_AS, peerASN: ROUTER_AS, peerAddress: bed.router.ipv4, passive: true, holdTime: '9s' });
    await createObject(kube, 'BGPPeer', 'passive-v6-multihop', {
      myASN: NODE_AS,
      peerASN: ROUTER_AS,
      peerAddress: bed.router.ipv6,
      passive: true,
      ebgpMultiHop: true,
      holdTime: '9s',
    });
    const speaker = await startSpeaker(cluster, node, ['--log-level=debug']);
    cluster.defer(() => speaker.stop(3000));
    router = await startBgpRouter({
      kind: 'gobgpd',
      ns: bed.router.ns,
      dir: join(cluster.dir, 'router'),
      run: cluster.run,
      asn: ROUTER_AS,
      routerId: bed.router.ipv4,
      neighbors: [
        { address: node.ipv4, asn: NODE_AS },
        { address: node.ipv6, asn: NODE_AS },
      ],
    });
    await waitFor(
      'both passive sessions Established',
      async () => {
        const up = await router!.established();
        return up.includes(node.ipv4) && up.includes(node.ipv6) ? true : undefined;
      },
      40_000,
    );
  });

  it('single-hop eBGP over IPv4: the speaker sends on the accepted connection with TTL 1', async () => {
    const filter = `tcp port 179 and src host ${node.ipv4} and tcp[tcpflags] & tcp-syn == 0`;
    const capture = await execIn(bed.router.ns, ['timeout', '10', 'tcpdump', '-c', '2', '-v', '-n', '-i', 'eth0', filter], 12_000);
    const seen = ttls(capture.stdout);
    assert.ok(seen.length >= 1, capture.stdout + capture.stderr);
    assert.deepEqual([...new Set(seen)], [1], capture.stdout);
  });

  it('ebgpMultiHop over IPv6: the speaker sends on the accepted connection with hop limit 255', async () => {
    // TCP flags at byte 13 of the TCP header, after the 40-byte IPv6 header (no extension headers on BGP segments).
    const filter = `ip6 and tcp port 179 and src host ${node.ipv6} and ip6[53] & 2 == 0`;
    const capture = await execIn(bed.router.ns, ['timeout', '10', 'tcpdump', '-c', '2', '-v', '-n', '-i', 'eth0', filter], 12_000);
    const seen = ttls(capture.stdout);
    assert.ok(seen.length >= 1, capture.stdout + capture.stderr);
    assert.deepEqual([...new Set(seen)], [255], capture.stdout);
  });
});
