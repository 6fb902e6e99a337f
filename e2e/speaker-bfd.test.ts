// BFD end to end: the real API server, the controller, one node namespace running a speaker whose BGPPeers (over
// IPv4, carrying the Service route, and over IPv6) ask for BFD at 100 ms x 3, and a real router with BFD in the router namespace: BIRD 2 (protocol bfd, `bfd on`) and FRR
// (bfdd, `neighbor X bfd profile`) in turn. Measured, per router:
// - link cut (the node's port on the segment bridge set down): the router's BFD notices, its BGP drops the
//   session and the Service route leaves the router's kernel table; the time from the cut to that deletion, both
//   read from `ip -ts monitor` (link in the switch namespace, route in the router namespace);
// - BFD from the router dropped by nft inside the node: our BFD notices and tears the BGP session down (Cease / BFD
//   Down), the session stays down while BFD is down, and the router withdraws the route;
// - a BFD packet with TTL 254 that would end the session is dropped by the kernel (RFC 5881 GTSM), the same packet
//   with TTL 255 ends it.
// Timings are printed (t.diagnostic) and bounded loosely: the hold time (9 s) is the line between BFD working or not.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startBgpRouter, type BgpRouter, type RouterKind } from '../src/lab/bgp-router.ts';
import { metricValue } from '../src/lab/component-process.ts';
import { execIn, mustExecIn } from '../src/lab/netns.ts';
import type { Host, TestBed } from '../src/lab/test-bed.ts';
import { readFileSync } from 'node:fs';
import { startNodeBed } from './support/node-bed.ts';
import { timeToWithdrawal } from './support/route-withdrawal.ts';
import { REPO_ROOT, useCluster } from './support/cluster.ts';
import { startController, type ControllerProcess } from './support/controller-process.ts';
import {
  applyPool,
  createObject,
  createService,
  eventsFor,
  kubeClients,
  waitFor,
  waitForIngress,
  type Kube,
} from './support/kube.ts';
import { startSpeaker, type SpeakerProcess } from './support/speaker-process.ts';

const POOL = '198.51.100.144/28';
const ROUTER_AS = 65000;
const NODE_AS = 65001;
const KINDS: readonly RouterKind[] = ['bird', 'frr'];
const HOLD_MS = 9000;

const group = 'beaconlb.io';
const version = 'v1alpha1';

/** A BFD control packet (RFC 5880 section 4.1): Down, diag 0, Detect Mult 3, Your Discriminator 0, 1 s intervals. */
const BFD_DOWN_HEX = ['20400318', '01020304', '00000000', '000f4240', '000f4240', '00000000'].join('');

describe('speaker: BFD against BIRD and FRR', () => {
  const cluster = useCluster();
  let kube: Kube;
  let bed: TestBed;
  let node: Host;
  let controller: ControllerProcess;
  let speaker: SpeakerProcess;
  let router: BgpRouter | undefined;
  let address = '';
  const measurements: Record<string, number> = {};

  before(async () => {
    kube = kubeClients(cluster.cp);
    ({ bed } = await startNodeBed(cluster, kube, 1));
    node = bed.nodes[0]!;
    cluster.defer(async () => {
      await router?.stop();
    });
    await applyPool(kube, 'bfd', { addresses: [POOL] });
    await createObject(kube, 'BGPPeer', 'router', {
      myASN: NODE_AS,
      peerASN: ROUTER_AS,
      peerAddress: bed.router.ipv4,
      holdTime: '9s',
      connectTime: '1s',
      bfd: { transmitInterval: '100ms', receiveInterval: '100ms', detectMultiplier: 3 },
    });
    // BFD over IPv6 too (hop limit 255, the IPv6 receive socket); this session carries no routes, so the measured
    // withdrawal is the IPv4 session's.
    await createObject(kube, 'BGPPeer', 'router-v6', {
      myASN: NODE_AS,
      peerASN: ROUTER_AS,
      peerAddress: bed.router.ipv6,
      holdTime: '9s',
      connectTime: '1s',
      bfd: { transmitInterval: '100ms', receiveInterval: '100ms', detectMultiplier: 3 },
    });
    await createObject(kube, 'BGPAdvertisement', 'bfd', { ipPools: ['bfd'], peers: ['router'] });
    controller = await startController(cluster, ['--no-leader-elect']);
    cluster.defer(() => controller.stop(1000));
    speaker = await startSpeaker(cluster, node, ['--log-level=debug']);
    cluster.defer(() => speaker.stop(3000));
    await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
    await createService(kube, { name: 'web', namespace: 'web' });
    [address = ''] = await waitForIngress(kube, 'web', 'web', 1);
  });

  after(() => {
    console.log(`BFD measurements (ms): ${JSON.stringify(measurements)}`);
  });

  const hops = async (): Promise<string[]> => router!.kernelNextHops(`${address}/32`);
  const routeUp = async (): Promise<void> => {
    await waitFor(
      'the Service route at the router',
      async () => ((await hops()).includes(node.ipv4) ? true : undefined),
      40_000,
    );
  };
  const bfdUp = async (): Promise<void> => {
    await waitFor(
      'BFD Up at the router (IPv4 and IPv6) and on the BGPPeer status',
      async () => {
        const sessions = await router!.bfdSessions();
        const states: string[] = [];
        for (const name of ['router', 'router-v6']) {
          const peer = (await kube.custom.getClusterCustomObject({ group, version, plural: 'bgppeers', name })) as {
            status?: { sessions?: Array<{ node: string; state: string; bfdState?: string }> };
          };
          const ours = peer.status?.sessions?.find((s) => s.node === node.role);
          states.push(`${ours?.state}/${ours?.bfdState}`);
        }
        const up =
          sessions[node.ipv4] === 'Up' && sessions[node.ipv6] === 'Up' && states.every((s) => s === 'Established/Up');
        return up ? true : undefined;
      },
      40_000,
    );
  };

  const ceaseBfdDownCount = (): number =>
    readFileSync(speaker.logFile, 'utf8').split('Cease / BFD Down (6/10)').length - 1;

  const withdrawal = (name: string, cut: () => Promise<void>, link?: { ns: string; name: string }): Promise<number> =>
    timeToWithdrawal({
      run: cluster.run,
      dir: cluster.dir,
      name,
      routerNs: bed.router.ns,
      address,
      cut,
      ...(link ? { link } : {}),
      timeoutMs: HOLD_MS * 3,
    });

  for (const kind of KINDS) {
    describe(kind, () => {
      before(async () => {
        await router?.stop();
        router = await startBgpRouter({
          kind,
          ns: bed.router.ns,
          dir: join(cluster.dir, `router-${kind}`),
          run: cluster.run,
          asn: ROUTER_AS,
          routerId: bed.router.ipv4,
          neighbors: [
            { address: node.ipv4, asn: NODE_AS, bfd: true },
            { address: node.ipv6, asn: NODE_AS, bfd: true },
          ],
          bfd: { intervalMs: 100, multiplier: 3 },
        });
        await routeUp();
        await bfdUp();
      });

      it('beaconlb status shows the BFD state of each BGP session', async () => {
        const res = await execIn(undefined, [
          join(REPO_ROOT, 'bin/beaconlb'),
          'status',
          `--kubeconfig=${cluster.cp.kubeconfig}`,
          '--output=json',
        ]);
        assert.equal(res.code, 0, res.stderr);
        const report = JSON.parse(res.stdout) as { bgpSessions: Array<{ peer: string; node: string; bfd?: string }> };
        assert.deepEqual(report.bgpSessions.map((s) => `${s.peer}/${s.node}/${s.bfd}`).sort(), [
          'router-v6/node1/Up',
          'router/node1/Up',
        ]);
      });

      it('link cut: the router withdraws the route within the BFD detection time, far below the hold time', async (t) => {
        const expired = async (): Promise<number> =>
          metricValue(
            await speaker.metrics(),
            `beaconlb_bfd_session_down_total{peer="${bed.router.ipv4}",reason="detection-time-expired"}`,
          );
        const expiredBefore = await expired();
        const teardownsBefore = ceaseBfdDownCount();
        const port = `a-${node.role}`;
        const ms = await withdrawal(
          `${kind}-link`,
          async () => {
            await mustExecIn(bed.switchNs, ['ip', 'link', 'set', port, 'down']);
          },
          { ns: bed.switchNs, name: port },
        );
        measurements[`${kind} link cut -> withdrawal`] = ms;
        t.diagnostic(
          `${kind}: link cut -> route withdrawn at the router: ${ms} ms (BFD 100 ms x 3, hold time ${HOLD_MS} ms)`,
        );
        assert.ok(ms < HOLD_MS / 3, `${ms} ms: BFD did not bring the session down (hold time ${HOLD_MS} ms)`);
        await waitFor(
          'the IPv6 BFD session down too at the router',
          async () => ((await router!.bfdSessions())[node.ipv6] !== 'Up' ? true : undefined),
          5_000,
        );
        // Our side saw it too: its detection time expired and the BGP session was torn down for it.
        await waitFor(
          'our BFD down (detection time) and the BGP session torn down',
          async () => ((await expired()) > expiredBefore && ceaseBfdDownCount() > teardownsBefore ? true : undefined),
          10_000,
        );
        // The speaker sends Events from a queue: wait for them to reach the API server; the link comes back whatever.
        try {
          await waitFor(
            'BFDDown and SessionDown Events',
            async () => {
              const events = await eventsFor(kube, 'default', 'router');
              const seen =
                events.some((e) => e.reason === 'BFDDown' && e.message.includes('detection-time-expired')) &&
                events.some((e) => e.reason === 'SessionDown' && e.message.includes('bfd-down'));
              return seen ? true : undefined;
            },
            10_000,
          );
        } finally {
          await mustExecIn(bed.switchNs, ['ip', 'link', 'set', `a-${node.role}`, 'up']);
        }
        await bfdUp();
        await routeUp();
      });

      it('BFD from the router dropped at the node: our BFD tears the BGP session down (Cease / BFD Down) and holds it until BFD is up', async (t) => {
        const table = `blbbfd${kind}`;
        const drop = async (): Promise<void> => {
          await mustExecIn(node.ns, [
            'nft',
            `add table inet ${table}; add chain inet ${table} in { type filter hook input priority 0; }; add rule inet ${table} in udp dport 3784 drop`,
          ]);
        };
        const teardownsBefore = ceaseBfdDownCount();
        try {
          const ms = await withdrawal(`${kind}-nft`, drop);
          measurements[`${kind} BFD dropped at the node -> withdrawal`] = ms;
          t.diagnostic(`${kind}: BFD dropped at the node -> route withdrawn at the router: ${ms} ms`);
          assert.ok(ms < HOLD_MS / 3, `${ms} ms`);
          assert.ok(ceaseBfdDownCount() > teardownsBefore, 'the speaker sent Cease / BFD Down');
          // Held: TCP works, yet the session stays down while BFD is down.
          await new Promise((resolve) => setTimeout(resolve, 3000));
          assert.deepEqual(await router!.established(), [], 'BGP stays down while BFD is down');
        } finally {
          await execIn(node.ns, ['nft', 'delete', 'table', 'inet', table]);
        }
        await bfdUp();
        await routeUp();
      });

      it('RFC 5881 section 5: a BFD packet with TTL 254 is dropped by the kernel; with TTL 255 it takes the session down', async () => {
        const send = async (ttl: number): Promise<void> => {
          // From the router's address, as the session's peer: "Down" with Your Discriminator 0 ends an Up session.
          await mustExecIn(bed.router.ns, [
            'python3',
            '-c',
            `import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ${ttl}); s.bind(('${bed.router.ipv4}', 49999)); s.sendto(bytes.fromhex('${BFD_DOWN_HEX}'), ('${node.ipv4}', 3784))`,
          ]);
        };
        // Events with the same message are counted on one object: count the speaker's metric instead.
        const downs = async (): Promise<number> =>
          metricValue(
            await speaker.metrics(),
            `beaconlb_bfd_session_down_total{peer="${bed.router.ipv4}",reason="peer-signaled-down"}`,
          );
        const before = await downs();
        await send(254);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        assert.equal(await downs(), before, 'TTL 254 changed nothing');
        assert.match(await speaker.metrics(), /beaconlb_bfd_session_up\{peer="198\.51\.100\.1"\} 1/);
        await send(255);
        await waitFor(
          'BFD down (peer-signaled-down) after the TTL 255 packet',
          async () => ((await downs()) > before ? true : undefined),
          10_000,
        );
        await bfdUp();
        await routeUp();
      });
    });
  }
});
