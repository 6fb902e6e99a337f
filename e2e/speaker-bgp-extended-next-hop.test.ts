// IPv4 Service addresses over an IPv6 link-local BGP session with IPv6 next hops (extended next hop, RFC 8950; ADR
// 0034): the node and the router share a link with ONLY IPv6 link-local addresses (no IPv4, no global IPv6 on it).
// FRR, then BIRD, peers with the node's fe80:: address on its interface with extended next hop (FRR `capability
// extended-nexthop`, BIRD `extended next hop on`); the speaker offers
// the capability on the IPv6 session, and once both have it announces the IPv4 Service address in MP_REACH_NLRI
// with the node's link-local next hop. The router's RIB holds the route with that next hop, zebra (BIRD) installs
// it in the router's kernel, a TCP connection from the router reaches the address on the node, and deleting the Service
// withdraws it (in MP_UNREACH_NLRI). Prints the convergence times (Service created -> route in FRR's RIB, Service
// deleted -> route gone) as JSON. Against FRR without the capability, the IPv4 route is not sent and the BGPPeer gets
// the Event NextHopUnavailable.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startBgpRouter, type BgpRouter, type RouterKind } from '../src/lab/bgp-router.ts';
import { execIn, ipBatch, mustExecIn } from '../src/lab/netns.ts';
import type { Host, TestBed } from '../src/lab/test-bed.ts';
import { serveNodeNames, startNodeBed } from './support/node-bed.ts';
import { useCluster } from './support/cluster.ts';
import { startController } from './support/controller-process.ts';
import {
  applyPool,
  createObject,
  createService,
  kubeClients,
  waitFor,
  waitForEvent,
  waitForIngress,
  type Kube,
} from './support/kube.ts';
import { startSpeaker } from './support/speaker-process.ts';

// Segment B behind the router is 203.0.113.0/24 in the test bed: the Service addresses come from segment A's
// range, which no longer has any address on the link once the bed is stripped to link-local.
const V4_POOL = '198.51.100.200/29';
const SERVICE_V4 = Array.from({ length: 8 }, (_, i) => `198.51.100.${200 + i}`);
const ROUTER_AS = 65000;
const NODE_AS = 65001;
const KINDS: readonly RouterKind[] = ['frr', 'bird'];

/** The link-local address of `dev` in the namespace. */
async function linkLocalOf(host: Pick<Host, 'ns' | 'dev'>): Promise<string> {
  const out = await execIn(host.ns, ['ip', '-j', '-6', 'addr', 'show', 'dev', host.dev, 'scope', 'link']);
  const entries = JSON.parse(out.stdout || '[]') as Array<{ addr_info?: Array<{ local?: string }> }>;
  const address = entries[0]?.addr_info?.find((a) => a.local?.startsWith('fe80:'))?.local;
  if (address === undefined) throw new Error(`no link-local address on ${host.ns} ${host.dev}`);
  return address;
}

/** Addresses of `dev` other than link-local ones (there must be none). */
async function nonLinkLocal(host: Pick<Host, 'ns' | 'dev'>): Promise<string[]> {
  const out = await execIn(host.ns, ['ip', '-j', 'addr', 'show', 'dev', host.dev]);
  const entries = JSON.parse(out.stdout || '[]') as Array<{ addr_info?: Array<{ local?: string; scope?: string }> }>;
  return (entries[0]?.addr_info ?? []).filter((a) => a.scope !== 'link').map((a) => a.local ?? '');
}

describe('speaker: IPv4 routes with IPv6 next hops over a link-local-only link (extended next hop, RFC 8950) against FRR and BIRD', () => {
  const cluster = useCluster();
  let kube: Kube;
  let bed: TestBed;
  let node: Host;
  let router: BgpRouter | undefined;
  let routerLinkLocal = '';
  let nodeLinkLocal = '';

  before(async () => {
    kube = kubeClients(cluster.cp);
    ({ bed } = await startNodeBed(cluster, kube, 1));
    cluster.defer(async () => {
      await router?.stop();
    });
    node = bed.nodes[0]!;
    // Strip the link to IPv6 link-local: no IPv4 and no global IPv6 on either end. The node's way back for IPv4
    // replies is an IPv4 default route via the router's link-local IPv6 address (RFC 5549 route in the kernel), as
    // an unnumbered node would have it.
    ipBatch(node.ns, [`address flush dev ${node.dev} scope global`]);
    await mustExecIn(node.ns, ['ip', '-4', 'route', 'flush', 'table', 'main']);
    ipBatch(bed.router.ns, [`address flush dev ${bed.router.dev} scope global`]);
    routerLinkLocal = await linkLocalOf(bed.router);
    nodeLinkLocal = await linkLocalOf(node);
    await mustExecIn(node.ns, [
      'ip',
      '-4',
      'route',
      'add',
      'default',
      'via',
      'inet6',
      routerLinkLocal,
      'dev',
      node.dev,
    ]);
    assert.deepEqual(await nonLinkLocal(node), [], 'only link-local addresses on the node end');
    assert.deepEqual(await nonLinkLocal(bed.router), [], 'only link-local addresses on the router end');
    serveNodeNames(cluster, bed.nodes, SERVICE_V4, []);

    await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
    await applyPool(kube, 'bgp', { addresses: [V4_POOL] });
    await createObject(kube, 'BGPPeer', 'router-ll', {
      myASN: NODE_AS,
      peerASN: ROUTER_AS,
      peerAddress: routerLinkLocal,
      interface: node.dev,
      // No IPv4 address on the node to take the BGP identifier from.
      routerID: '198.51.100.11',
      connectTime: '1s',
    });
    await createObject(kube, 'BGPAdvertisement', 'bgp', { ipPools: ['bgp'], peers: ['router-ll'] });
    const controller = await startController(cluster, ['--no-leader-elect']);
    cluster.defer(() => controller.stop(1000));
    const speaker = await startSpeaker(cluster, node, ['--log-level=debug']);
    cluster.defer(() => speaker.stop(3000));
  });

  for (const kind of KINDS) {
    describe(kind, () => {
      const name = `web-${kind}`;
      let service = '';
      let announceMs = 0;
      let kernelHops: string[] = [];

      before(async () => {
        await router?.stop();
        router = undefined;
        router = await startBgpRouter({
          kind,
          ns: bed.router.ns,
          dir: join(cluster.dir, `router-enhe-${kind}`),
          run: cluster.run,
          asn: ROUTER_AS,
          routerId: bed.router.ipv4B,
          neighbors: [{ address: nodeLinkLocal, asn: NODE_AS, interface: bed.router.dev, extendedNextHop: true }],
        });
        await waitFor(
          `the link-local session Established at ${kind}`,
          async () => ((await router!.established()).includes(nodeLinkLocal) ? true : undefined),
          40_000,
        );
      });

      it("the router's RIB has the IPv4 Service address with the node's link-local IPv6 next hop", async () => {
        const created = performance.now();
        await createService(kube, { name, namespace: 'web', ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'] });
        [service = ''] = await waitForIngress(kube, 'web', name, 1);
        const route = await waitFor(
          `${service}/32 in the RIB of ${kind}`,
          async () => (await router!.routes(4)).find((r) => r.prefix === `${service}/32`),
          15_000,
          50,
        );
        announceMs = Math.round(performance.now() - created);
        const hops = [route.nextHop, route.linkLocalNextHop].filter((h) => h !== undefined);
        assert.ok(hops.includes(nodeLinkLocal), `next hops ${hops.join(', ')}: the node's ${nodeLinkLocal} expected`);
        assert.ok(
          hops.every((h) => h.includes(':')),
          `IPv6 next hops only, got ${hops.join(', ')}`,
        );
        assert.deepEqual(route.asPath, [NODE_AS]);
      });

      it('the router installs the route in its kernel and a TCP connection from the router reaches the address on the node', async () => {
        kernelHops = await waitFor(
          `a kernel route for ${service}/32`,
          async () => {
            const h = await router!.kernelNextHops(`${service}/32`);
            return h.length > 0 ? h : undefined;
          },
          15_000,
        );
        const answer = await waitFor(
          `TCP from the router to ${service}:80`,
          async () => {
            const out = await execIn(bed.router.ns, ['socat', '-T2', '-', `TCP4:${service}:80`], 5000);
            return out.stdout.trim() === node.role ? out.stdout.trim() : undefined;
          },
          10_000,
          250,
        );
        assert.equal(answer, node.role, `via ${kernelHops.join(', ')}`);
      });

      it('deleting the Service withdraws the route from the router (and from its kernel)', async () => {
        const deleted = performance.now();
        await kube.core.deleteNamespacedService({ name, namespace: 'web' });
        await waitFor(
          `${service}/32 gone from the RIB of ${kind}`,
          async () => ((await router!.routes(4)).some((r) => r.prefix === `${service}/32`) ? undefined : true),
          15_000,
          50,
        );
        const withdrawMs = Math.round(performance.now() - deleted);
        await waitFor(
          `${service}/32 gone from the router's kernel`,
          async () => ((await router!.kernelNextHops(`${service}/32`)).length === 0 ? true : undefined),
          10_000,
        );
        console.log(JSON.stringify({ extendedNextHop: kind, service, kernelHops, announceMs, withdrawMs }));
      });
    });
  }

  describe('frr without extended next hop', () => {
    it('the router that does not offer it gets no IPv4 route, and the BGPPeer a NextHopUnavailable Event saying why', async () => {
      await router?.stop();
      router = undefined;
      router = await startBgpRouter({
        kind: 'frr',
        ns: bed.router.ns,
        dir: join(cluster.dir, 'router-plain-frr'),
        run: cluster.run,
        asn: ROUTER_AS,
        routerId: bed.router.ipv4B,
        // FRR 8.4 does not turn the capability on by itself for `neighbor fe80::… interface eth0`.
        neighbors: [{ address: nodeLinkLocal, asn: NODE_AS, interface: bed.router.dev }],
      });
      await waitFor(
        'the link-local session Established at FRR',
        async () => ((await router!.established()).includes(nodeLinkLocal) ? true : undefined),
        40_000,
      );
      await createService(kube, {
        name: 'web-plain',
        namespace: 'web',
        ipFamilyPolicy: 'SingleStack',
        ipFamilies: ['IPv4'],
      });
      const [address = ''] = await waitForIngress(kube, 'web', 'web-plain', 1);
      const event = await waitForEvent(kube, 'default', 'router-ll', 'NextHopUnavailable', 15_000);
      assert.match(
        event.message,
        /node1: 1 ipv4-unicast route\(s\) not advertised to fe80:.*no IPv4 address .* did not negotiate extended next hop/,
      );
      assert.ok(
        !(await router.routes(4)).some((r) => r.prefix === `${address}/32`),
        `${address}/32 must not reach a router that did not negotiate extended next hop`,
      );
      assert.deepEqual(await router.established(), [nodeLinkLocal], 'the session stays up');
    });
  });
});
