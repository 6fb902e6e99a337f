// BGP over IPv6 link-local addresses (BGPPeer.interface): two speakers peer with the router at its fe80:: address on
// the shared segment, BIRD and FRR in turn, each router peering with the nodes' own link-local addresses over its
// interface. IPv4 and IPv6 routes arrive with the nodes' next hops (IPv6: global plus link-local, RFC 2545), the
// router installs them, and a client behind the router reaches a Service address over both families.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startBgpRouter, type BgpRouter, type RouterKind } from '../src/lab/bgp-router.ts';
import { execIn } from '../src/lab/netns.ts';
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
  waitForIngress,
  type Kube,
} from './support/kube.ts';
import { startSpeaker } from './support/speaker-process.ts';

const V4_POOL = '198.51.100.144/28';
const V6_POOL = '2001:db8:d::/124';
const SERVICE_V4 = Array.from({ length: 16 }, (_, i) => `198.51.100.${144 + i}`);
const SERVICE_V6 = Array.from({ length: 16 }, (_, i) => `2001:db8:d::${i.toString(16)}`);
const ROUTER_AS = 65000;
const NODE_AS = 65001;
const KINDS: readonly RouterKind[] = ['bird', 'frr'];

/** The link-local address of `dev` in the namespace. */
async function linkLocalOf(host: Pick<Host, 'ns' | 'dev'>): Promise<string> {
  const out = await execIn(host.ns, ['ip', '-j', '-6', 'addr', 'show', 'dev', host.dev, 'scope', 'link']);
  const entries = JSON.parse(out.stdout || '[]') as Array<{ addr_info?: Array<{ local?: string }> }>;
  const address = entries[0]?.addr_info?.find((a) => a.local?.startsWith('fe80:'))?.local;
  if (address === undefined) throw new Error(`no link-local address on ${host.ns} ${host.dev}`);
  return address;
}

describe('speaker: BGP over IPv6 link-local addresses (BGPPeer.interface) against BIRD and FRR', () => {
  const cluster = useCluster();
  let kube: Kube;
  let bed: TestBed;
  let router: BgpRouter | undefined;
  let routerLinkLocal = '';
  const nodeLinkLocal = new Map<string, string>();
  let web4 = '';
  let web6 = '';

  before(async () => {
    kube = kubeClients(cluster.cp);
    ({ bed } = await startNodeBed(cluster, kube, 2));
    cluster.defer(async () => {
      await router?.stop();
    });
    serveNodeNames(cluster, bed.nodes, SERVICE_V4, SERVICE_V6);
    routerLinkLocal = await linkLocalOf(bed.router);
    for (const node of bed.nodes) nodeLinkLocal.set(node.role, await linkLocalOf(node));
    const devs = new Set(bed.nodes.map((n) => n.dev));
    assert.equal(devs.size, 1, 'the nodes name their segment interface alike');

    await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
    await applyPool(kube, 'bgp', { addresses: [V4_POOL, V6_POOL] });
    await createObject(kube, 'BGPPeer', 'router-ll', {
      myASN: NODE_AS,
      peerASN: ROUTER_AS,
      peerAddress: routerLinkLocal,
      interface: bed.nodes[0]!.dev,
      connectTime: '1s',
    });
    await createObject(kube, 'BGPAdvertisement', 'bgp', { ipPools: ['bgp'], peers: ['router-ll'] });
    const controller = await startController(cluster, ['--no-leader-elect']);
    cluster.defer(() => controller.stop(1000));
    for (const node of bed.nodes) {
      const speaker = await startSpeaker(cluster, node, ['--log-level=debug']);
      cluster.defer(() => speaker.stop(3000));
    }
    await createService(kube, {
      name: 'web',
      namespace: 'web',
      ipFamilyPolicy: 'RequireDualStack',
      ipFamilies: ['IPv4', 'IPv6'],
    });
    [web4 = '', web6 = ''] = await waitForIngress(kube, 'web', 'web', 2);
  });

  for (const kind of KINDS) {
    describe(kind, () => {
      before(async () => {
        await router?.stop();
        router = undefined;
        router = await startBgpRouter({
          kind,
          ns: bed.router.ns,
          dir: join(cluster.dir, `router-ll-${kind}`),
          run: cluster.run,
          asn: ROUTER_AS,
          routerId: bed.router.ipv4,
          neighbors: bed.nodes.map((n) => ({
            address: nodeLinkLocal.get(n.role)!,
            asn: NODE_AS,
            interface: bed.router.dev,
          })),
        });
      });

      it("sessions to the router's link-local address are Established from both nodes", async () => {
        const expected = [...nodeLinkLocal.values()].sort();
        await waitFor(
          `link-local sessions Established at ${kind}`,
          async () => {
            const up = await router!.established();
            return expected.every((a) => up.includes(a)) ? true : undefined;
          },
          40_000,
        );
      });

      it("IPv4 routes with the nodes' IPv4 next hops; IPv6 routes with their global and link-local next hops", async () => {
        const v4 = await waitFor(
          'IPv4 route from both nodes',
          async () => {
            const routes = (await router!.routes(4)).filter((r) => r.prefix === `${web4}/32`);
            return routes.length === 2 ? routes : undefined;
          },
          15_000,
        );
        assert.deepEqual(v4.map((r) => r.nextHop).sort(), bed.nodes.map((n) => n.ipv4).sort());
        const v6 = await waitFor(
          'IPv6 route from both nodes',
          async () => {
            const routes = (await router!.routes(6)).filter((r) => r.prefix === `${web6}/128`);
            return routes.length === 2 ? routes : undefined;
          },
          15_000,
        );
        assert.deepEqual(v6.map((r) => r.nextHop).sort(), bed.nodes.map((n) => n.ipv6).sort());
        assert.deepEqual(
          v6.map((r) => r.linkLocalNextHop).sort(),
          [...nodeLinkLocal.values()].sort(),
          'link-local next hops (RFC 2545)',
        );
        for (const route of [...v4, ...v6]) assert.deepEqual(route.asPath, [NODE_AS]);
      });

      it('the router installs the routes and a client behind it reaches the Service over IPv4 and IPv6', async () => {
        const known = new Set([...bed.nodes.flatMap((n) => [n.ipv4, n.ipv6]), ...nodeLinkLocal.values()]);
        for (const prefix of [`${web4}/32`, `${web6}/128`]) {
          const hops = await waitFor(
            `two kernel next hops for ${prefix}`,
            async () => {
              const h = await router!.kernelNextHops(prefix);
              return h.length === 2 ? h : undefined;
            },
            15_000,
          );
          for (const hop of hops) assert.ok(known.has(hop), `${prefix} via ${hop}: not a node address`);
        }
        for (const address of [web4, web6]) {
          const target = address.includes(':') ? `TCP6:[${address}]:80` : `TCP4:${address}:80`;
          const answer = await execIn(bed.client2.ns, ['socat', '-T2', '-', target], 5000);
          assert.match(answer.stdout.trim(), /^node[12]$/, `client2 -> ${address}: ${answer.stdout} ${answer.stderr}`);
        }
      });
    });
  }
});
