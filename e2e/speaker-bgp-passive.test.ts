// Passive BGP sessions get the TTL of active ones: the router (gobgpd) connects to the speaker, and every packet the
// speaker sends on the accepted connection leaves with TTL / hop limit 1 for single-hop eBGP, as the active side's
// do, from the kernel's SYN-ACK on (the listener itself sends with 1 while every passive peer is single-hop); made
// ebgpMultiHop, the session comes back with hop limit 255.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startBgpRouter, type BgpRouter } from '../src/lab/bgp-router.ts';
import { execIn, startCapture } from '../src/lab/netns.ts';
import type { Host, TestBed } from '../src/lab/test-bed.ts';
import { startNodeBed } from './support/node-bed.ts';
import { useCluster } from './support/cluster.ts';
import { createObject, kubeClients, waitFor, type Kube } from './support/kube.ts';
import { startSpeaker } from './support/speaker-process.ts';

const ROUTER_AS = 65000;
const NODE_AS = 65001;

/** The speaker's IPv6 BGP segments other than SYN-ACKs (TCP flags at byte 40 + 13; no extension headers). */
const SESSION_V6 = (address: string): string => `ip6 and tcp port 179 and src host ${address} and ip6[53] & 2 == 0`;

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
  /** tcpdump -v of the SYN-ACKs the node sent while the router first connected, per family. */
  const synAcks: Record<4 | 6, string> = { 4: '', 6: '' };

  before(async () => {
    kube = kubeClients(cluster.cp);
    ({ bed } = await startNodeBed(cluster, kube, 1));
    node = bed.nodes[0]!;
    cluster.defer(async () => {
      await router?.stop();
    });
    // Hold time 9 s: a KEEPALIVE every 3 s on each session.
    await createObject(kube, 'BGPPeer', 'passive-v4', {
      myASN: NODE_AS,
      peerASN: ROUTER_AS,
      peerAddress: bed.router.ipv4,
      passive: true,
      holdTime: '9s',
    });
    await createObject(kube, 'BGPPeer', 'passive-v6', {
      myASN: NODE_AS,
      peerASN: ROUTER_AS,
      peerAddress: bed.router.ipv6,
      passive: true,
      holdTime: '9s',
    });
    const speaker = await startSpeaker(cluster, node, ['--log-level=debug']);
    cluster.defer(() => speaker.stop(3000));
    // TCP flags at byte 13 of the TCP header (IPv6: after the 40-byte header; BGP segments carry no extension headers).
    const capture4 = await startCapture(
      bed.router.ns,
      'eth0',
      `tcp port 179 and src host ${node.ipv4} and tcp[tcpflags] & tcp-syn != 0`,
      cluster.dir,
      'synack4',
    );
    const capture6 = await startCapture(
      bed.router.ns,
      'eth0',
      `ip6 and tcp port 179 and src host ${node.ipv6} and ip6[53] & 2 != 0`,
      cluster.dir,
      'synack6',
    );
    cluster.defer(async () => {
      await Promise.allSettled([capture4.stop(), capture6.stop()]);
    });
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
    await capture4.stop();
    await capture6.stop();
    for (const [family, capture] of [
      [4, capture4],
      [6, capture6],
    ] as const) {
      synAcks[family] = (await execIn(undefined, ['tcpdump', '-v', '-nn', '-r', capture.file])).stdout;
    }
  });

  it('single-hop eBGP over IPv4: the SYN-ACK and everything after it leave with TTL 1', async () => {
    assert.ok(ttls(synAcks[4]).length >= 1, synAcks[4]);
    assert.deepEqual([...new Set(ttls(synAcks[4]))], [1], synAcks[4]);
    const filter = `tcp port 179 and src host ${node.ipv4} and tcp[tcpflags] & tcp-syn == 0`;
    const capture = await execIn(
      bed.router.ns,
      ['timeout', '10', 'tcpdump', '-c', '2', '-v', '-n', '-i', 'eth0', filter],
      12_000,
    );
    const seen = ttls(capture.stdout);
    assert.ok(seen.length >= 1, capture.stdout + capture.stderr);
    assert.deepEqual([...new Set(seen)], [1], capture.stdout);
  });

  it('single-hop eBGP over IPv6: the SYN-ACK and everything after it leave with hop limit 1', async () => {
    assert.ok(ttls(synAcks[6]).length >= 1, synAcks[6]);
    assert.deepEqual([...new Set(ttls(synAcks[6]))], [1], synAcks[6]);
    const capture = await execIn(
      bed.router.ns,
      ['timeout', '10', 'tcpdump', '-c', '2', '-v', '-n', '-i', 'eth0', SESSION_V6(node.ipv6)],
      12_000,
    );
    const seen = ttls(capture.stdout);
    assert.ok(seen.length >= 1, capture.stdout + capture.stderr);
    assert.deepEqual([...new Set(seen)], [1], capture.stdout);
  });

  it('made ebgpMultiHop, the passive IPv6 session comes back with hop limit 255', async () => {
    cluster.cp.kubectl(['patch', 'bgppeer', 'passive-v6', '--type=merge', '-p', '{"spec":{"ebgpMultiHop":true}}']);
    await waitFor(
      'the multihop session Established again',
      async () => {
        const capture = await execIn(
          bed.router.ns,
          ['timeout', '4', 'tcpdump', '-c', '1', '-v', '-n', '-i', 'eth0', SESSION_V6(node.ipv6)],
          6_000,
        );
        return ttls(capture.stdout).includes(255) && (await router!.established()).includes(node.ipv6)
          ? true
          : undefined;
      },
      60_000,
    );
    const capture = await execIn(
      bed.router.ns,
      ['timeout', '10', 'tcpdump', '-c', '2', '-v', '-n', '-i', 'eth0', SESSION_V6(node.ipv6)],
      12_000,
    );
    assert.deepEqual([...new Set(ttls(capture.stdout))], [255], capture.stdout);
  });
});
