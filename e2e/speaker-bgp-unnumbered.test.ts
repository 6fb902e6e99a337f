// Unnumbered BGP (BGPPeer.interface without peerAddress, ADR 0035) against FRR's `neighbor IF interface`: each node
// namespace is joined to the router namespace by one more veth that has only IPv6 link-local addresses (DAD off,
// forwarding=1 on the node side, so the kernel itself ignores RAs). The speakers find FRR's link-local address by
// its Router Advertisements, FRR learns theirs by the speakers' RAs, and the sessions come up between link-local
// addresses. FRR's RIB and the kernel then hold the IPv6 Service address with the nodes' link-local next hops; the
// route is withdrawn with the Service; when the router's address changes the session moves to the new one; and a
// BGPPeer on an interface where no router advertises reports RouterNotFound per node.
// An IPv4 Service address goes over the same sessions with the nodes' link-local IPv6 next hops (RFC 8950 extended
// next hop, which FRR negotiates for `neighbor IF interface`; ADR 0034): the links carry no IPv4 at all.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBgpRouter, type BgpRouter } from '../src/lab/bgp-router.ts';
import { execIn, mustExecIn } from '../src/lab/netns.ts';
import type { Host, TestBed } from '../src/lab/test-bed.ts';
import { serveNodeNames, startNodeBed } from './support/node-bed.ts';
import { useCluster } from './support/cluster.ts';
import { startController } from './support/controller-process.ts';
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
import { startSpeaker } from './support/speaker-process.ts';

const V6_POOL = '2001:db8:e::/124';
const SERVICE_V6 = Array.from({ length: 16 }, (_, i) => `2001:db8:e::${i.toString(16)}`);
/** Off both test-bed segments' host ranges, so only the BGP routes lead there. */
const V4_POOL = '198.51.100.200/29';
const SERVICE_V4 = Array.from({ length: 8 }, (_, i) => `198.51.100.${200 + i}`);
const ROUTER_AS = 65000;
const NODE_AS = 65001;
/** The node side of every unnumbered link: one name on every node, as one BGPPeer names it. */
const NODE_DEV = 'un0';
const MOVED_ROUTER_ADDRESS = 'fe80::beef';

/** The link-local address of `dev` in the namespace. */
async function linkLocalOf(ns: string, dev: string): Promise<string> {
  const out = await execIn(ns, ['ip', '-j', '-6', 'addr', 'show', 'dev', dev, 'scope', 'link']);
  const entries = JSON.parse(out.stdout || '[]') as Array<{ addr_info?: Array<{ local?: string }> }>;
  const address = entries[0]?.addr_info?.find((a) => a.local?.startsWith('fe80:'))?.local;
  if (address === undefined) throw new Error(`no link-local address on ${ns} ${dev}`);
  return address;
}

/** A veth between the router and a node with nothing but link-local addresses (no DAD: usable at once). */
async function linkLocalOnlyLink(router: Host, node: Host, routerDev: string): Promise<void> {
  await mustExecIn(router.ns, [
    'ip',
    'link',
    'add',
    routerDev,
    'type',
    'veth',
    'peer',
    'name',
    NODE_DEV,
    'netns',
    node.ns,
  ]);
  for (const [ns, dev] of [
    [router.ns, routerDev],
    [node.ns, NODE_DEV],
  ] as const) {
    await mustExecIn(ns, ['sysctl', '-qw', `net.ipv6.conf.${dev}.accept_dad=0`]);
    await mustExecIn(ns, ['ip', 'link', 'set', dev, 'up']);
  }
  // A Kubernetes node forwards: the kernel then ignores Router Advertisements (the speaker reads them itself).
  await mustExecIn(node.ns, ['sysctl', '-qw', `net.ipv6.conf.${NODE_DEV}.forwarding=1`]);
}

interface LogLine {
  time: number;
  msg?: string;
  to?: string;
  router?: string;
  was?: string;
}

function speakerLog(dir: string, node: string): LogLine[] {
  return readFileSync(join(dir, `speaker-${node}.log`), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

describe('speaker: unnumbered BGP (BGPPeer.interface alone) against FRR neighbor IF interface', () => {
  const cluster = useCluster();
  let kube: Kube;
  let bed: TestBed;
  let router: BgpRouter | undefined;
  const routerDevs = new Map<string, string>();
  const nodeLinkLocal = new Map<string, string>();
  let web6 = '';
  let web4 = '';

  const startFrr = (): Promise<BgpRouter> =>
    startBgpRouter({
      kind: 'frr',
      ns: bed.router.ns,
      dir: join(cluster.dir, 'router-unnumbered'),
      run: cluster.run,
      asn: ROUTER_AS,
      routerId: bed.router.ipv4,
      neighbors: bed.nodes.map((n) => ({ address: routerDevs.get(n.role)!, asn: NODE_AS, unnumbered: true })),
    });

  before(async () => {
    kube = kubeClients(cluster.cp);
    ({ bed } = await startNodeBed(cluster, kube, 2));
    cluster.defer(async () => {
      await router?.stop();
    });
    serveNodeNames(cluster, bed.nodes, SERVICE_V4, SERVICE_V6);
    for (const [i, node] of bed.nodes.entries()) {
      const dev = `un${i + 1}`;
      routerDevs.set(node.role, dev);
      await linkLocalOnlyLink(bed.router, node, dev);
      nodeLinkLocal.set(node.role, await linkLocalOf(node.ns, NODE_DEV));
    }

    await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
    await applyPool(kube, 'bgp', { addresses: [V6_POOL, V4_POOL] });
    await createObject(kube, 'BGPPeer', 'fabric', {
      myASN: NODE_AS,
      peerASN: ROUTER_AS,
      interface: 'un*',
      connectTime: '1s',
    });
    // No router advertises on the bridge: this peer waits, and says so after the discovery timeout.
    await createObject(kube, 'BGPPeer', 'silent', {
      myASN: NODE_AS,
      peerASN: ROUTER_AS,
      interface: bed.nodes[0]!.dev,
      connectTime: '1s',
    });
    await createObject(kube, 'BGPAdvertisement', 'bgp', { ipPools: ['bgp'], peers: ['fabric'] });
    const controller = await startController(cluster, ['--no-leader-elect']);
    cluster.defer(() => controller.stop(1000));

    router = await startFrr();
    for (const node of bed.nodes) {
      const speaker = await startSpeaker(cluster, node, ['--log-level=debug']);
      cluster.defer(() => speaker.stop(3000));
    }
    await createService(kube, { name: 'web', namespace: 'web', ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'] });
    [web6 = ''] = await waitForIngress(kube, 'web', 'web', 1);
    await createService(kube, { name: 'web4', namespace: 'web', ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv4'] });
    [web4 = ''] = await waitForIngress(kube, 'web', 'web4', 1);
  });

  it('both nodes find FRR by its Router Advertisements and the sessions are Established', async () => {
    const expected = [...routerDevs.values()].sort();
    await waitFor(
      'unnumbered sessions Established at FRR',
      async () => {
        const up = await router!.established();
        return expected.every((d) => up.includes(d)) ? true : undefined;
      },
      40_000,
    );
    // The measurement for the report: from the RA that named the router to the session Established, per node.
    for (const node of bed.nodes) {
      const log = speakerLog(cluster.dir, node.role);
      const found = log.find((l) => l.msg === 'router discovery: router found by its Router Advertisement');
      const established = log.find((l) => l.msg === 'BGP session state' && l.to === 'Established');
      const start = log[0]?.time;
      assert.ok(found && established && start !== undefined, `${node.role}: router found and Established in the log`);
      console.log(
        JSON.stringify({
          measurement: 'unnumbered-discovery',
          node: node.role,
          speakerStartToRouterFoundMs: found.time - start,
          routerFoundToEstablishedMs: established.time - found.time,
        }),
      );
    }
    const routerLinkLocal = await linkLocalOf(bed.router.ns, routerDevs.get('node1') ?? 'un1');
    const events = await eventsFor(kube, 'default', 'fabric');
    assert.ok(
      events.some(
        (e) => e.reason === 'RouterFound' && e.message.includes(`router ${routerLinkLocal} found on ${NODE_DEV}`),
      ),
      JSON.stringify(events),
    );
  });

  /** FRR's paths for `prefix`, once it has one from each of the two nodes. */
  const routesFromBothNodes = (family: 4 | 6, prefix: string, what: string) =>
    waitFor(
      what,
      async () => {
        const r = (await router!.routes(family)).filter((x) => x.prefix === prefix);
        return r.length === 2 ? r : undefined;
      },
      20_000,
    );
  /** The next hops of FRR's kernel route for `prefix`, once it has two. */
  const twoKernelNextHops = (prefix: string) =>
    waitFor(
      `two kernel next hops for ${prefix}`,
      async () => {
        const h = await router!.kernelNextHops(prefix);
        return h.length === 2 ? h : undefined;
      },
      15_000,
    );

  it("FRR's RIB holds the IPv6 Service address from both nodes with their link-local next hops; the kernel too", async () => {
    const prefix = `${web6}/128`;
    const routes = await routesFromBothNodes(6, prefix, 'IPv6 route from both nodes');
    const lls = [...nodeLinkLocal.values()].sort();
    assert.deepEqual(routes.map((r) => r.neighbor).sort(), lls, 'the sessions are the nodes’ link-local addresses');
    assert.deepEqual(
      routes.map((r) => r.linkLocalNextHop ?? r.nextHop).sort(),
      lls,
      'link-local next hops on the unnumbered links',
    );
    for (const route of routes) assert.deepEqual(route.asPath, [NODE_AS]);
    const hops = await twoKernelNextHops(prefix);
    const known = new Set([...lls, ...bed.nodes.map((n) => n.ipv6)]);
    for (const hop of hops) assert.ok(known.has(hop), `${prefix} via ${hop}: not a node address`);
  });

  it("FRR's RIB holds the IPv4 Service address from both nodes with their link-local IPv6 next hops (RFC 8950)", async () => {
    const prefix = `${web4}/32`;
    const routes = await routesFromBothNodes(4, prefix, 'IPv4 route from both nodes');
    const lls = [...nodeLinkLocal.values()].sort();
    assert.deepEqual(routes.map((r) => r.neighbor).sort(), lls, 'over the unnumbered sessions');
    for (const route of routes) {
      const hops = [route.nextHop, route.linkLocalNextHop].filter((h) => h !== undefined);
      assert.ok(hops.length > 0 && hops.every((h) => h.includes(':')), `IPv6 next hops only, got ${hops.join(', ')}`);
      assert.ok(
        hops.some((h) => lls.includes(h)),
        `next hops ${hops.join(', ')}: a node's link-local address expected`,
      );
    }
    const hops = await twoKernelNextHops(prefix);
    for (const hop of hops) assert.ok(lls.includes(hop), `${prefix} via ${hop}: not a node's link-local address`);
  });

  it('a node where no router advertises reports RouterNotFound on the BGPPeer, per node', async () => {
    const events = await waitFor(
      'RouterNotFound from both nodes',
      async () => {
        const e = (await eventsFor(kube, 'default', 'silent')).filter((x) => x.reason === 'RouterNotFound');
        return bed.nodes.every((n) => e.some((x) => x.message.startsWith(`node ${n.role}: `))) ? e : undefined;
      },
      60_000,
    );
    assert.match(events[0]!.message, new RegExp(`no IPv6 Router Advertisement on ${bed.nodes[0]!.dev} in 30s`));
  });

  // A replaced router (FRR restarted with another link-local address on node1's link). Renumbering a running FRR
  // is not the case: FRR keeps its session on the deleted address until its hold timer expires, and refuses the
  // node's new connection meanwhile (Connection Collision Resolution), holding the old path.
  it('when the router comes back with another link-local address, the session moves to it', async () => {
    const dev = routerDevs.get('node1')!;
    const old = await linkLocalOf(bed.router.ns, dev);
    await router?.stop();
    router = undefined;
    await mustExecIn(bed.router.ns, ['ip', 'addr', 'add', `${MOVED_ROUTER_ADDRESS}/64`, 'dev', dev, 'nodad']);
    await mustExecIn(bed.router.ns, ['ip', 'addr', 'del', `${old}/64`, 'dev', dev]);
    router = await startFrr();
    await waitFor(
      'node1 follows the router to its new address',
      () => {
        const moved = speakerLog(cluster.dir, 'node1').some(
          (l) =>
            l.msg === 'router discovery: router found by its Router Advertisement' && l.router === MOVED_ROUTER_ADDRESS,
        );
        return Promise.resolve(moved ? true : undefined);
      },
      60_000,
    );
    await waitFor(
      'both sessions Established again at FRR',
      async () => {
        const up = await router!.established();
        return [...routerDevs.values()].every((d) => up.includes(d)) ? true : undefined;
      },
      60_000,
    );
    const prefix = `${web6}/128`;
    const routes = await routesFromBothNodes(
      6,
      prefix,
      'the route from both nodes again, node1 over the moved session',
    );
    assert.deepEqual(routes.map((r) => r.neighbor).sort(), [...nodeLinkLocal.values()].sort());
    const events = await eventsFor(kube, 'default', 'fabric');
    assert.ok(
      events.some((e) => e.reason === 'RouterFound' && e.message.includes(`(was ${old}): the session moves there`)),
      JSON.stringify(events),
    );
  });
  it('deleting the Services withdraws the routes from FRR and the kernel', async () => {
    const prefix = `${web6}/128`;
    await kube.core.deleteNamespacedService({ name: 'web', namespace: 'web' });
    await kube.core.deleteNamespacedService({ name: 'web4', namespace: 'web' });
    await waitFor(
      'route withdrawn',
      async () => ((await router!.routes(6)).some((r) => r.prefix === prefix) ? undefined : true),
      20_000,
    );
    await waitFor(
      'IPv4 route withdrawn (MP_UNREACH_NLRI)',
      async () => ((await router!.routes(4)).some((r) => r.prefix === `${web4}/32`) ? undefined : true),
      20_000,
    );
    await waitFor(
      'kernel route gone',
      async () => ((await router!.kernelNextHops(prefix)).length === 0 ? true : undefined),
      15_000,
    );
  });
});
