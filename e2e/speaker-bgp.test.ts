// The BGP speaker end to end: the real API server, the controller, three node namespaces each running a speaker,
// and a real router in the router namespace: gobgpd, BIRD 2 and FRR in turn, the same checks against each.
// The router has eBGP sessions (AS 65001 -> 65000, TCP MD5) with the three nodes over IPv4 and an iBGP session
// over IPv6 with node1 (a dynamic peer: dynamicASN internal) and a passive eBGP session over IPv6 with node2 (dynamicASN
// external: the router's ASN is taken from its OPEN). A client behind the router (segment B) reaches Service addresses through the router's
// ECMP routes; the nodes stand in for kube-proxy with the Service addresses on lo and a server naming the node.
import { afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { startBgpRouter, type BgpRouter, type RouterKind, type RouterRoute } from '../src/lab/bgp-router.ts';
import { execIn, ipBatch } from '../src/lab/netns.ts';
import { DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import { startProcess, type ManagedProcess } from '../src/lab/managed-process.ts';
import type { Host, TestBed } from '../src/lab/test-bed.ts';
import { serveNodeNames, startNodeBed } from './support/node-bed.ts';
import { INSTALL_NAMESPACE, PASSWORD_NAMESPACE, REPO_ROOT, useCluster } from './support/cluster.ts';
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

const PASSWORD = 'bgp-e2e-s3cret-7f3a';
// Off every segment (segment A is 198.51.100.0/25): only the router's BGP routes lead there.
const V4_POOL = '198.51.100.128/28';
const V4_AGG_POOL = '198.51.100.160/28';
const V4_IBGP_POOL = '198.51.100.176/28';
const V6_POOL = '2001:db8:c::/124';
const SERVICE_V4 = Array.from({ length: 16 }, (_, i) => `198.51.100.${128 + i}`);
const SERVICE_V6 = Array.from({ length: 16 }, (_, i) => `2001:db8:c::${i.toString(16)}`);
const ROUTER_AS = 65000;
const NODE_AS = 65001;
const KINDS: readonly RouterKind[] = ['gobgpd', 'bird', 'frr'];

const group = 'beaconlb.io';
const version = 'v1alpha1';

describe('speaker: BGP against gobgpd, BIRD and FRR', () => {
  const cluster = useCluster();
  let kube: Kube;
  let bed: TestBed;
  let controller: ControllerProcess;
  const speakers = new Map<string, SpeakerProcess>();
  let router: BgpRouter | undefined;
  let hostile: ManagedProcess | undefined;

  const kubeDiscovery = (): DiscoveryV1Api => {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.cp.kubeconfig);
    return kc.makeApiClient(DiscoveryV1Api);
  };
  const nodeOf = (role: string): Host => bed.nodes.find((n) => n.role === role)!;
  const startNodeSpeaker = async (role: string): Promise<void> => {
    speakers.set(role, await startSpeaker(cluster, nodeOf(role), ['--log-level=debug']));
  };
  /** After each test every node runs a speaker again, also when the test failed before restarting one. */
  const restartMissingSpeakers = async (): Promise<void> => {
    for (const node of bed.nodes) if (!speakers.has(node.role)) await startNodeSpeaker(node.role);
  };

  before(async () => {
    kube = kubeClients(cluster.cp);
    ({ bed } = await startNodeBed(cluster, kube, 3));
    cluster.defer(async () => {
      await router?.stop();
      await hostile?.stop(1000);
    });
    cluster.defer(() => Promise.all([...speakers.values()].map((sp) => sp.stop(3000))).then(() => undefined));
    serveNodeNames(cluster, bed.nodes, SERVICE_V4, SERVICE_V6);
    await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
    await kube.core.createNamespacedSecret({
      namespace: PASSWORD_NAMESPACE,
      body: { metadata: { name: 'router-password' }, stringData: { password: PASSWORD } },
    });
    await applyPool(kube, 'bgp', { addresses: [V4_POOL, V6_POOL] });
    await applyPool(kube, 'agg', { addresses: [V4_AGG_POOL], autoAssign: false });
    await applyPool(kube, 'ibgp', { addresses: [V4_IBGP_POOL], autoAssign: false });
    await createObject(kube, 'BGPPeer', 'router', {
      myASN: NODE_AS,
      peerASN: ROUTER_AS,
      peerAddress: bed.router.ipv4,
      holdTime: '9s',
      connectTime: '1s',
      passwordSecretRef: { name: 'router-password' },
      gracefulRestart: { enabled: true, restartTime: '60s' },
    });
    await createObject(kube, 'BGPPeer', 'router-ibgp-v6', {
      myASN: ROUTER_AS,
      dynamicASN: 'internal',
      peerAddress: bed.router.ipv6,
      connectTime: '1s',
      nodeSelector: { matchLabels: { 'kubernetes.io/hostname': 'node1' } },
    });
    // Passive: node2 waits for the router to connect to it (over IPv6, eBGP).
    await createObject(kube, 'BGPPeer', 'router-passive-v6', {
      myASN: NODE_AS,
      dynamicASN: 'external',
      peerAddress: bed.router.ipv6,
      passive: true,
      nodeSelector: { matchLabels: { 'kubernetes.io/hostname': 'node2' } },
    });
    await createObject(kube, 'BGPAdvertisement', 'bgp', {
      ipPools: ['bgp'],
      peers: ['router'],
      communities: ['65000:100', 'no-export'],
      largeCommunities: ['65000:1:2'],
    });
    await createObject(kube, 'BGPAdvertisement', 'agg', {
      ipPools: ['agg'],
      peers: ['router', 'router-passive-v6'],
      aggregationLength: 28,
    });
    await createObject(kube, 'BGPAdvertisement', 'ibgp', {
      ipPools: ['ibgp'],
      peers: ['router-ibgp-v6'],
      localPref: 250,
    });
    controller = await startController(cluster, ['--no-leader-elect']);
    cluster.defer(() => controller.stop(1000));
    for (const node of bed.nodes) await startNodeSpeaker(node.role);

    await createService(kube, {
      name: 'web',
      namespace: 'web',
      ipFamilyPolicy: 'RequireDualStack',
      ipFamilies: ['IPv4', 'IPv6'],
    });
    await createService(kube, { name: 'agg', namespace: 'web', annotations: { 'beaconlb.io/ip-pool': 'agg' } });
    await createService(kube, { name: 'ibgp', namespace: 'web', annotations: { 'beaconlb.io/ip-pool': 'ibgp' } });
  });

  const routesFor = async (family: 4 | 6, prefix: string): Promise<RouterRoute[]> =>
    (await router!.routes(family)).filter((r) => r.prefix === prefix);
  const nodeV4 = (): string[] => bed.nodes.map((n) => n.ipv4).sort();
  const nodeV6 = (): string[] => bed.nodes.map((n) => n.ipv6).sort();
  const eBgpPaths = (routes: RouterRoute[]): RouterRoute[] => routes.filter((r) => nodeV4().includes(r.neighbor));

  const waitEstablished = async (expected: string[], timeoutMs = 40_000): Promise<void> => {
    await waitFor(
      `sessions with ${expected.join(', ')} Established at ${router!.kind}`,
      async () => {
        const up = await router!.established();
        return expected.every((a) => up.includes(a)) ? true : undefined;
      },
      timeoutMs,
    );
  };
  const allSessions = (): string[] => [...nodeV4(), nodeOf('node1').ipv6, nodeOf('node2').ipv6];

  for (const kind of KINDS) {
    describe(kind, () => {
      let web4 = '';
      let web6 = '';
      afterEach(restartMissingSpeakers);
      before(async () => {
        await router?.stop();
        router = undefined;
        router = await startBgpRouter({
          kind,
          ns: bed.router.ns,
          dir: join(cluster.dir, `router-${kind}`),
          run: cluster.run,
          asn: ROUTER_AS,
          routerId: bed.router.ipv4,
          neighbors: [
            ...bed.nodes.map((n) => ({ address: n.ipv4, asn: NODE_AS, password: PASSWORD })),
            { address: nodeOf('node1').ipv6, asn: ROUTER_AS },
            { address: nodeOf('node2').ipv6, asn: NODE_AS },
          ],
          gracefulRestart: true,
        });
        [web4 = '', web6 = ''] = await waitForIngress(kube, 'web', 'web', 2);
        await waitEstablished(allSessions());
      });

      it('sessions from all nodes are Established (IPv4 eBGP with MD5, IPv6 iBGP, IPv6 passive) and reported on BGPPeer status', async () => {
        await waitFor(
          'BGPPeer status with three Established sessions',
          async () => {
            const peer = (await kube.custom.getClusterCustomObject({
              group,
              version,
              plural: 'bgppeers',
              name: 'router',
            })) as {
              status?: { sessions?: Array<{ node: string; state: string }> };
            };
            const established = (peer.status?.sessions ?? [])
              .filter((s) => s.state === 'Established')
              .map((s) => s.node);
            return established.length === 3 ? established : undefined;
          },
          10_000,
        );
      });

      it("dynamic peers (dynamicASN internal and external) take the router's ASN from its OPEN and report it on status", async () => {
        for (const [name, node] of [
          ['router-ibgp-v6', 'node1'],
          ['router-passive-v6', 'node2'],
        ] as const) {
          const session = await waitFor(
            `${name}: Established session of ${node} with the router's ASN on status`,
            async () => {
              const peer = (await kube.custom.getClusterCustomObject({ group, version, plural: 'bgppeers', name })) as {
                status?: { sessions?: Array<{ node: string; state: string; peerASN?: number }> };
              };
              return (peer.status?.sessions ?? []).find(
                (s) => s.node === node && s.state === 'Established' && s.peerASN !== undefined,
              );
            },
            10_000,
          );
          assert.equal(session.peerASN, ROUTER_AS);
        }
      });

      it('IPv4 and IPv6 routes from each node with itself as next hop, communities and large communities', async () => {
        const v4 = await waitFor(
          'IPv4 route from the three nodes',
          async () => {
            const routes = eBgpPaths(await routesFor(4, `${web4}/32`));
            return routes.length === 3 ? routes : undefined;
          },
          15_000,
        );
        assert.deepEqual(v4.map((r) => r.nextHop).sort(), nodeV4());
        for (const route of v4) {
          assert.equal(route.nextHop, route.neighbor);
          assert.deepEqual(route.asPath, [NODE_AS]);
          assert.ok(route.communities.includes('65000:100'), `${kind}: communities ${route.communities.join(' ')}`);
          assert.ok(
            route.communities.some((c) => c === '65535:65281' || c === 'no-export'),
            `${kind}: no-export in ${route.communities.join(' ')}`,
          );
          assert.deepEqual(route.largeCommunities, ['65000:1:2']);
        }
        const v6 = await waitFor(
          'IPv6 route from the three nodes',
          async () => {
            const routes = eBgpPaths(await routesFor(6, `${web6}/128`));
            return routes.length === 3 ? routes : undefined;
          },
          15_000,
        );
        assert.deepEqual(
          v6.map((r) => r.nextHop).sort(),
          nodeV6(),
          'IPv6 next hops are the nodes global addresses (RFC 2545)',
        );
      });

      it('each advertising node has a ServiceAnnouncement record with the prefixes and the peer; beaconlb status joins the session state', async () => {
        const expected = [`${web4}/32`, `${web6}/128`].sort();
        await waitFor(
          'a record of web from each node with both prefixes to router',
          async () => {
            const items = (
              (await kube.custom.listNamespacedCustomObject({
                group,
                version,
                namespace: 'web',
                plural: 'serviceannouncements',
                labelSelector: 'beaconlb.io/service=web',
              })) as {
                items: Array<{
                  spec: { node: string };
                  status?: { layer2?: unknown; bgp?: { prefixes: string[]; peers: string[] } };
                }>;
              }
            ).items;
            const right = items.filter(
              (r) =>
                r.status?.layer2 === undefined &&
                r.status?.bgp?.prefixes.join() === expected.join() &&
                r.status.bgp.peers.join() === 'router',
            );
            return right
              .map((r) => r.spec.node)
              .sort()
              .join() === 'node1,node2,node3'
              ? true
              : undefined;
          },
          15_000,
        );
        const res = await execIn(undefined, [
          join(REPO_ROOT, 'bin/beaconlb'),
          'status',
          `--kubeconfig=${cluster.cp.kubeconfig}`,
          '--output=json',
        ]);
        assert.equal(res.code, 0, res.stderr);
        const report = JSON.parse(res.stdout) as {
          announcements: Array<{ service: string; node: string; bgp: string[]; peers: string[] }>;
        };
        const web = report.announcements.filter((a) => a.service === 'web/web');
        assert.deepEqual(
          web.map((a) => `${a.node} ${a.bgp.join(',')} ${a.peers.join(',')}`),
          bed.nodes.map((n) => `${n.role} ${expected.join(',')} router(Established)`).sort(),
        );
      });

      it('iBGP over IPv6 carries LOCAL_PREF; an aggregation length gives one covering prefix', async () => {
        const [ibgp = ''] = await waitForIngress(kube, 'web', 'ibgp', 1);
        const route = await waitFor(
          'iBGP route from node1',
          async () => (await routesFor(4, `${ibgp}/32`)).find((r) => r.neighbor === nodeOf('node1').ipv6),
          15_000,
        );
        assert.equal(route.localPref, 250);
        assert.deepEqual(route.asPath, []);
        assert.equal(
          route.nextHop,
          nodeOf('node1').ipv4,
          'IPv4 next hop over an IPv6 session: the node IPv4 address on that interface',
        );
        const [agg = ''] = await waitForIngress(kube, 'web', 'agg', 1);
        assert.ok(agg.startsWith('198.51.100.16'));
        const aggregate = await waitFor(
          'the /28 aggregate',
          async () => {
            const routes = eBgpPaths(await routesFor(4, V4_AGG_POOL));
            return routes.length === 3 ? routes : undefined;
          },
          15_000,
        );
        assert.equal(aggregate.length, 3);
        assert.deepEqual(
          (await routesFor(4, `${agg}/32`)).map((r) => r.neighbor),
          [],
        );
        // The passive session (the router connected to node2) carries it too.
        const passive = await waitFor(
          'the aggregate over the passive session',
          async () => (await routesFor(4, V4_AGG_POOL)).find((r) => r.neighbor === nodeOf('node2').ipv6),
          15_000,
        );
        assert.equal(passive.nextHop, nodeOf('node2').ipv4);
      });

      it('ECMP over the three nodes in the router kernel; a client behind the router reaches a backend', async (t) => {
        if (router!.installsKernelRoutes) {
          const hops = await waitFor(
            'three kernel next hops',
            async () => {
              const h = await router!.kernelNextHops(`${web4}/32`);
              return h.length === 3 ? h : undefined;
            },
            15_000,
          );
          assert.deepEqual(hops, nodeV4());
          const hops6 = await waitFor(
            'three IPv6 kernel next hops',
            async () => {
              const h = await router!.kernelNextHops(`${web6}/128`);
              return h.length === 3 ? h : undefined;
            },
            15_000,
          );
          assert.deepEqual(hops6, nodeV6());
        } else {
          t.diagnostic(
            `${kind} installs no kernel routes (no zebra): forwarding uses a static route to the first path`,
          );
          ipBatch(bed.router.ns, [
            `route replace ${web4}/32 via ${bed.nodes[0]!.ipv4}`,
            `route replace ${web6}/128 via ${bed.nodes[0]!.ipv6}`,
          ]);
        }
        for (const address of [web4, web6]) {
          const target = address.includes(':') ? `TCP6:[${address}]:80` : `TCP4:${address}:80`;
          const answer = await execIn(bed.client2.ns, ['socat', '-T2', '-', target], 5000);
          assert.match(answer.stdout.trim(), /^node[123]$/, `client2 -> ${address}: ${answer.stdout} ${answer.stderr}`);
        }
        if (!router!.installsKernelRoutes) ipBatch(bed.router.ns, [`route del ${web4}/32`, `route del ${web6}/128`]);
      });

      it('externalTrafficPolicy Local: only nodes with a ready endpoint advertise; the last endpoint gone, the route goes', async () => {
        await createService(kube, { name: 'local', namespace: 'web', externalTrafficPolicy: 'Local' });
        const [local = ''] = await waitForIngress(kube, 'web', 'local', 1);
        const slice = (ready: boolean) => ({
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: { name: 'local-1', namespace: 'web', labels: { 'kubernetes.io/service-name': 'local' } },
          addressType: 'IPv4',
          endpoints: [{ addresses: ['198.51.100.11'], nodeName: 'node1', conditions: { ready } }],
          ports: [{ port: 80, protocol: 'TCP' }],
        });
        const discovery = kubeDiscovery();
        await discovery.createNamespacedEndpointSlice({ namespace: 'web', body: slice(true) });
        try {
          const paths = await waitFor(
            'only node1 advertises',
            async () => {
              const p = eBgpPaths(await routesFor(4, `${local}/32`));
              return p.length === 1 ? p : undefined;
            },
            15_000,
          );
          assert.equal(paths[0]?.neighbor, nodeOf('node1').ipv4);
          await discovery.replaceNamespacedEndpointSlice({ namespace: 'web', name: 'local-1', body: slice(false) });
          await waitFor(
            'withdrawn with its last endpoint',
            async () => ((await routesFor(4, `${local}/32`)).length === 0 ? true : undefined),
            5_000,
          );
        } finally {
          await discovery.deleteNamespacedEndpointSlice({ namespace: 'web', name: 'local-1' }).catch(() => undefined);
          await kube.core.deleteNamespacedService({ namespace: 'web', name: 'local' });
        }
      });

      it('a deleted Service is withdrawn from the router within a second', async () => {
        await createService(kube, { name: 'brief', namespace: 'web' });
        const [brief = ''] = await waitForIngress(kube, 'web', 'brief', 1);
        await waitFor(
          'brief advertised',
          async () => ((await routesFor(4, `${brief}/32`)).length === 3 ? true : undefined),
          15_000,
        );
        const deleted = Date.now();
        await kube.core.deleteNamespacedService({ namespace: 'web', name: 'brief' });
        await waitFor(
          'brief withdrawn',
          async () => ((await routesFor(4, `${brief}/32`)).length === 0 ? true : undefined),
          5_000,
        );
        const ms = Date.now() - deleted;
        assert.ok(ms < 1000, `${kind}: route gone ${ms} ms after the delete`);
      });

      it('speaker SIGTERM: Cease and its routes withdrawn; back when it returns', async () => {
        const node3 = nodeOf('node3');
        const stopped = speakers.get('node3')!;
        await stopped.stop(5000);
        speakers.delete('node3');
        try {
          await waitFor(
            'node3 session down and its paths gone',
            async () => {
              const up = await router!.established();
              const paths = await routesFor(4, `${web4}/32`);
              return !up.includes(node3.ipv4) && !paths.some((p) => p.neighbor === node3.ipv4) && paths.length === 2
                ? true
                : undefined;
            },
            10_000,
          );
          assert.match(
            readFileSync(stopped.logFile, 'utf8'),
            /Cease \/ Administrative Shutdown \(6\/2\): \\"beaconlb speaker stopping/,
          );
          const events = await eventsFor(kube, 'default', 'router');
          assert.ok(
            events.some((e) => e.reason === 'SessionDown' && e.message.includes('node node3')),
            JSON.stringify(events),
          );
        } finally {
          await restartMissingSpeakers();
        }
        await waitFor(
          'node3 back',
          async () => (eBgpPaths(await routesFor(4, `${web4}/32`)).length === 3 ? true : undefined),
          30_000,
        );
      });

      it('graceful restart: the router keeps forwarding over a killed speaker until it returns', async () => {
        const node2 = nodeOf('node2');
        await speakers.get('node2')!.kill();
        speakers.delete('node2');
        await waitFor(
          'node2 session down',
          async () => (!(await router!.established()).includes(node2.ipv4) ? true : undefined),
          20_000,
        );
        // Helper mode: the path stays (stale) instead of being withdrawn.
        const kept = (await routesFor(4, `${web4}/32`)).filter((p) => p.neighbor === node2.ipv4);
        assert.equal(kept.length, 1, `${kind} kept node2's path while it restarts`);
        if (router!.installsKernelRoutes)
          assert.ok((await router!.kernelNextHops(`${web4}/32`)).includes(node2.ipv4), 'still forwarding to node2');
        await startNodeSpeaker('node2');
        await waitEstablished([node2.ipv4]);
        await waitFor(
          'node2 path fresh again',
          async () => {
            const path = (await routesFor(4, `${web4}/32`)).find((p) => p.neighbor === node2.ipv4);
            return path && !path.stale ? true : undefined;
          },
          15_000,
        );
      });

      it('MD5: a wrong password never establishes; the right one does again', async () => {
        const setPassword = (password: string) =>
          kube.core.replaceNamespacedSecret({
            namespace: PASSWORD_NAMESPACE,
            name: 'router-password',
            body: { metadata: { name: 'router-password' }, stringData: { password } },
          });
        await setPassword('wrong-password');
        await waitFor(
          'sessions down',
          async () => ((await router!.established()).some((a) => nodeV4().includes(a)) ? undefined : true),
          15_000,
        );
        await new Promise((resolve) => setTimeout(resolve, 4000));
        assert.deepEqual(
          (await router!.established()).filter((a) => nodeV4().includes(a)),
          [],
          'no session with a wrong password',
        );
        const failures = await execIn(bed.router.ns, ['nstat', '-az', 'TcpExtTCPMD5Failure']);
        assert.match(
          failures.stdout,
          /TcpExtTCPMD5Failure\s+[1-9]/,
          'the kernel dropped segments with a bad signature',
        );
        await setPassword(PASSWORD);
        await waitEstablished(nodeV4());
      });

      it('router restart: sessions and routes come back', async () => {
        await router!.restart();
        await waitEstablished(allSessions());
        await waitFor(
          'routes back',
          async () => (eBgpPaths(await routesFor(4, `${web4}/32`)).length === 3 ? true : undefined),
          20_000,
        );
      });
    });
  }

  it('a hostile peer gets RFC 7606 / 4271 answers; the speaker survives and its other sessions stay up', async () => {
    await createObject(kube, 'BGPPeer', 'hostile', {
      myASN: NODE_AS,
      peerASN: ROUTER_AS,
      peerAddress: bed.router.ipv4,
      peerPort: 1179,
      connectTime: '1s',
      nodeSelector: { matchLabels: { 'kubernetes.io/hostname': 'node1' } },
    });
    const output = join(cluster.dir, 'hostile.log');
    hostile = startProcess({
      name: 'hostile-peer',
      command: join(REPO_ROOT, 'node_modules/.bin/node'),
      args: [join(REPO_ROOT, 'e2e/support/hostile-bgp-peer.ts'), bed.router.ipv4, '1179', String(ROUTER_AS)],
      netns: bed.router.ns,
      logFile: output,
    });
    cluster.run.recordProcess(hostile.pid);
    const events = (): Array<{ event: string; round?: number; code?: number; subcode?: number; name?: string }> =>
      readFileSync(output, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { event: string });
    await waitFor(
      'four rounds',
      () => (events().some((e) => e.event === 'established' && e.round === 3) ? true : undefined),
      30_000,
    );
    const notifications = events().filter((e) => e.event === 'notification');
    assert.deepEqual(
      notifications.map((n) => [n.round, n.code, n.subcode]),
      [
        [0, 3, 2], // UPDATE Message Error / Unrecognized Well-known Attribute
        [1, 1, 3], // Message Header Error / Bad Message Type
        [2, 1, 1], // Message Header Error / Connection Not Synchronized
      ],
    );
    // Round 0 sent three bad UPDATEs before the reset: treat-as-withdraw twice (ORIGIN, flags) and one accepted.
    const metrics = await speakers.get('node1')!.metrics();
    assert.match(metrics, /beaconlb_bgp_inbound_errors_total\{peer="hostile",handling="treat-as-withdraw"\} 2/);
    assert.ok(speakers.get('node1')!.running(), 'the speaker is still running');
    const up = await router!.established();
    assert.ok(up.includes(nodeOf('node1').ipv4), 'the session with the real router stayed up');
    await kube.custom.deleteClusterCustomObject({ group, version, plural: 'bgppeers', name: 'hostile' });
  });

  it('single-hop eBGP packets leave the node with TTL 1 (GTSM-style: only the link can reach the session)', async () => {
    // With the 9 s hold time a KEEPALIVE leaves every 3 s on each session.
    const v4 = await execIn(
      bed.router.ns,
      [
        'timeout',
        '8',
        'tcpdump',
        '-c',
        '1',
        '-v',
        '-n',
        '-i',
        'eth0',
        `tcp port 179 and src host ${nodeOf('node3').ipv4}`,
      ],
      10_000,
    );
    assert.match(v4.stdout, /\bttl 1\b/, v4.stdout + v4.stderr);
  });

  // Last, after every session change, MD5 test and restart of the run.
  it('never writes the BGP password to a log or an Event', async () => {
    const files = readdirSync(cluster.dir).filter((f) => f.endsWith('.log'));
    assert.ok(
      files.some((f) => f.startsWith('speaker-')),
      files.join(' '),
    );
    for (const file of files)
      assert.ok(
        !readFileSync(join(cluster.dir, file), 'utf8').includes(PASSWORD),
        `the BGP password appears in ${file}`,
      );
    for (const namespace of ['default', INSTALL_NAMESPACE]) {
      const events = await kube.core.listNamespacedEvent({ namespace });
      assert.ok(
        !JSON.stringify(events.items).includes(PASSWORD),
        `the BGP password appears in an Event in ${namespace}`,
      );
    }
  });
});
