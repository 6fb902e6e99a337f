// Interface patterns and Service selectors end to end, on nodes whose NICs are named differently (node1's segment
// interface is enp1s0, node2's ens2: the test bed's nodeDevs option).
// Layer 2: one L2Advertisement with interfaces [enp*s0, ens[0-9]] makes both nodes answer ARP on their own NIC (the
// client's neighbor table holds the owner's MAC for every address, and both nodes own some); a pattern that matches
// no NIC answers nowhere (a Warning Event says so); serviceSelector announces only labelled Services and follows
// their labels. BGP, against BIRD and FRR: one BGPPeer to the router's link-local address with interface: en*
// resolves to each node's own NIC, and a BGPAdvertisement with a serviceSelector advertises only the labelled
// Service, adding and withdrawing routes in the router's RIB as labels change; a pattern matching two interfaces of
// a node opens no session there and says so on the BGPPeer. Against gobgpd: sourceInterface: bond[0-9] makes each
// node connect from the address of its own bond0 or bond1 (the router peers with those addresses only).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startBgpRouter, type BgpRouter, type RouterKind } from '../src/lab/bgp-router.ts';
import { execIn, macAddress, mustExecIn } from '../src/lab/netns.ts';
import { arpingMacs, tcpHello } from '../src/lab/layer2-probe.ts';
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

const NODE_DEVS = ['enp1s0', 'ens2'];
// Segment A (198.51.100.0/25) holds the layer-2 pools; the BGP pool lies off every segment.
const L2_POOL = '198.51.100.64/29';
const L2_SELECTED_POOL = '198.51.100.72/29';
const L2_NOWHERE_POOL = '198.51.100.80/29';
const L2_V4 = Array.from({ length: 24 }, (_, i) => `198.51.100.${64 + i}`);
const BGP_POOL = '198.51.100.144/28';
const ROUTER_AS = 65000;
const NODE_AS = 65001;
const KINDS: readonly RouterKind[] = ['bird', 'frr'];
const SPEAKER_ARGS = [
  '--renew-interval=250ms',
  '--lease-duration=1s',
  '--fence-margin=250ms',
  '--handover-overlap=500ms',
];

async function linkLocalOf(host: Pick<Host, 'ns' | 'dev'>): Promise<string> {
  const out = await execIn(host.ns, ['ip', '-j', '-6', 'addr', 'show', 'dev', host.dev, 'scope', 'link']);
  const entries = JSON.parse(out.stdout || '[]') as Array<{ addr_info?: Array<{ local?: string }> }>;
  const address = entries[0]?.addr_info?.find((a) => a.local?.startsWith('fe80:'))?.local;
  if (address === undefined) throw new Error(`no link-local address on ${host.ns} ${host.dev}`);
  return address;
}

describe('speaker: interface patterns and Service selectors on nodes whose NICs are named differently', () => {
  const cluster = useCluster();
  let kube: Kube;
  let bed: TestBed;
  const macs = new Map<string, string>();
  const nodeLinkLocal = new Map<string, string>();

  const label = (name: string, change: string): void => {
    cluster.cp.kubectl(['label', '--overwrite', 'service', '-n', 'web', name, change]);
  };
  /** The node whose MAC the client's neighbor table holds for `ip` after a ping, once exactly one node answers ARP. */
  const ownerInNeighborTable = (ip: string): Promise<string> =>
    waitFor(
      `one node answering ARP for ${ip}, in the client's neighbor table`,
      async () => {
        const answered = await arpingMacs(bed.client.ns, ip, 1);
        if (answered.length !== 1) return undefined;
        await execIn(bed.client.ns, ['ping', '-c', '1', '-W', '1', ip], 3000);
        const neigh = await mustExecIn(bed.client.ns, ['ip', 'neigh', 'show', ip]);
        const mac = /lladdr (\S+)/.exec(neigh)?.[1]?.toLowerCase();
        return mac !== undefined && mac === answered[0] ? macs.get(mac) : undefined;
      },
      15_000,
    );
  const unanswered = async (ip: string): Promise<void> => {
    assert.deepEqual(await arpingMacs(bed.client.ns, ip, 2), [], `${ip} is answered`);
  };

  before(async () => {
    kube = kubeClients(cluster.cp);
    ({ bed } = await startNodeBed(cluster, kube, 2, NODE_DEVS));
    assert.deepEqual(
      bed.nodes.map((n) => n.dev),
      NODE_DEVS,
    );
    for (const node of bed.nodes) {
      macs.set((await macAddress(node.ns, node.dev)).toLowerCase(), node.role);
      nodeLinkLocal.set(node.role, await linkLocalOf(node));
    }
    serveNodeNames(cluster, bed.nodes, L2_V4, []);
    await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
    await applyPool(kube, 'l2', { addresses: [L2_POOL], autoAssign: false });
    await applyPool(kube, 'l2-selected', { addresses: [L2_SELECTED_POOL], autoAssign: false });
    await applyPool(kube, 'l2-nowhere', { addresses: [L2_NOWHERE_POOL], autoAssign: false });
    await applyPool(kube, 'bgp', { addresses: [BGP_POOL], autoAssign: false });
    await createObject(kube, 'L2Advertisement', 'by-pattern', { ipPools: ['l2'], interfaces: ['enp*s0', 'ens[0-9]'] });
    await createObject(kube, 'L2Advertisement', 'selected', {
      ipPools: ['l2-selected'],
      interfaces: ['en*'],
      serviceSelector: { matchLabels: { exposure: 'l2' } },
    });
    await createObject(kube, 'L2Advertisement', 'nowhere', { ipPools: ['l2-nowhere'], interfaces: ['eth*'] });
    await createObject(kube, 'BGPPeer', 'router-ll', {
      myASN: NODE_AS,
      peerASN: ROUTER_AS,
      peerAddress: await linkLocalOf(bed.router),
      interface: 'en*',
      connectTime: '1s',
    });
    await createObject(kube, 'BGPAdvertisement', 'public', {
      ipPools: ['bgp'],
      peers: ['router-ll'],
      serviceSelector: { matchLabels: { exposure: 'public' } },
    });
    const controller = await startController(cluster, ['--no-leader-elect']);
    cluster.defer(() => controller.stop(1000));
    for (const node of bed.nodes) {
      const speaker = await startSpeaker(cluster, node, SPEAKER_ARGS);
      cluster.defer(() => speaker.stop(3000));
    }
  });

  describe('layer 2', () => {
    it('one advertisement with patterns: each node answers on its own NIC, and both own addresses', async () => {
      const names = ['p0', 'p1', 'p2', 'p3'];
      for (const name of names)
        await createService(kube, { name, namespace: 'web', annotations: { 'beaconlb.io/ip-pool': 'l2' } });
      const ips: string[] = [];
      for (const name of names) ips.push((await waitForIngress(kube, 'web', name))[0] ?? '');
      // Until every speaker has seen the other's Lease, one node may own them all, and addresses move once it has:
      // wait for the spread (bounded load gives each of two live nodes at least one of four addresses) to hold for
      // two samples in a row.
      let previous = '';
      const owners = await waitFor(
        'both nodes owning some of the addresses, twice alike',
        async () => {
          const seen = new Map<string, string>();
          for (const ip of ips) seen.set(ip, await ownerInNeighborTable(ip));
          const text = JSON.stringify([...seen]);
          const settled = text === previous && new Set(seen.values()).size === 2;
          previous = text;
          return settled ? seen : undefined;
        },
        40_000,
      );
      for (const [ip, owner] of owners)
        assert.equal(await tcpHello(bed.client.ns, ip), owner, `${ip} reaches its owner`);
      assert.deepEqual(
        [...new Set(owners.values())].sort(),
        ['node1', 'node2'],
        'both nodes, each with a differently named NIC, answer',
      );
    });

    it('a pattern that matches no NIC answers nowhere, and says so', async () => {
      await createService(kube, {
        name: 'nowhere',
        namespace: 'web',
        annotations: { 'beaconlb.io/ip-pool': 'l2-nowhere' },
      });
      const [ip = ''] = await waitForIngress(kube, 'web', 'nowhere');
      const event = await waitFor(
        'a Warning that no interface matches',
        async () =>
          (await eventsFor(kube, 'web', 'nowhere')).find(
            (e) => e.reason === 'AddressAnnounced' && e.type === 'Warning',
          ),
        15_000,
      );
      assert.match(event.message, /no interface \(none matches\)/);
      await unanswered(ip);
    });

    it('serviceSelector: only labelled Services are announced, and the speaker follows label changes', async () => {
      await createService(kube, {
        name: 'sel',
        namespace: 'web',
        annotations: { 'beaconlb.io/ip-pool': 'l2-selected' },
      });
      const [ip = ''] = await waitForIngress(kube, 'web', 'sel');
      await unanswered(ip);
      label('sel', 'exposure=l2');
      await ownerInNeighborTable(ip);
      label('sel', 'exposure-');
      await waitFor(
        `${ip} no longer answered`,
        async () => ((await arpingMacs(bed.client.ns, ip, 1)).length === 0 ? true : undefined),
        15_000,
      );
    });
  });

  for (const kind of KINDS) {
    describe(`BGP against ${kind}`, () => {
      let router: BgpRouter | undefined;
      let pub = '';
      let priv = '';
      const paths = async (ip: string): Promise<string[]> =>
        (await router!.routes(4))
          .filter((r) => r.prefix === `${ip}/32`)
          .map((r) => r.nextHop)
          .sort();
      const waitPaths = (ip: string, count: number): Promise<string[]> =>
        waitFor(
          `${count} paths for ${ip}/32 at ${kind}`,
          async () => {
            const hops = await paths(ip);
            return hops.length === count ? hops : undefined;
          },
          20_000,
        );

      before(async () => {
        if (kind === KINDS[0]) {
          await createService(kube, {
            name: 'pub',
            namespace: 'web',
            labels: { exposure: 'public' },
            annotations: { 'beaconlb.io/ip-pool': 'bgp' },
          });
          await createService(kube, { name: 'priv', namespace: 'web', annotations: { 'beaconlb.io/ip-pool': 'bgp' } });
        } else {
          label('pub', 'exposure=public');
          label('priv', 'exposure-');
        }
        [pub = ''] = await waitForIngress(kube, 'web', 'pub');
        [priv = ''] = await waitForIngress(kube, 'web', 'priv');
        router = await startBgpRouter({
          kind,
          ns: bed.router.ns,
          dir: join(cluster.dir, `router-${kind}`),
          run: cluster.run,
          asn: ROUTER_AS,
          routerId: bed.router.ipv4,
          neighbors: bed.nodes.map((n) => ({
            address: nodeLinkLocal.get(n.role)!,
            asn: NODE_AS,
            interface: bed.router.dev,
          })),
        });
        cluster.defer(async () => {
          await router?.stop();
        });
      });

      it("interface: en* resolves to each node's own NIC: both link-local sessions are Established", async () => {
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

      it('serviceSelector: only the labelled Service is advertised; relabelling adds and withdraws routes', async () => {
        assert.deepEqual(await waitPaths(pub, 2), bed.nodes.map((n) => n.ipv4).sort());
        assert.deepEqual(await paths(priv), [], 'the unlabelled Service is not advertised');
        label('priv', 'exposure=public');
        await waitPaths(priv, 2);
        label('pub', 'exposure=internal');
        await waitPaths(pub, 0);
        assert.equal((await paths(priv)).length, 2, 'the other Service stays advertised');
      });

      it('stops cleanly', async () => {
        await router?.stop();
        router = undefined;
      });
    });
  }

  it('BGP: an interface pattern that matches two interfaces of a node opens no session there and says which', async () => {
    const node1 = bed.nodes[0]!;
    // A second and third link on node1 only (a veth pair inside its namespace), named unlike its segment NIC.
    await mustExecIn(node1.ns, ['ip', 'link', 'add', 'uplink0', 'type', 'veth', 'peer', 'name', 'uplink1']);
    try {
      await createObject(kube, 'BGPPeer', 'ambiguous', {
        myASN: NODE_AS,
        peerASN: ROUTER_AS,
        peerAddress: 'fe80::99',
        interface: 'uplink*',
        connectTime: '1s',
      });
      // The speaker may meet the BGPPeer before it has read the new links ("matches no interface"); it reports again
      // once its interface table has them.
      const event = await waitFor(
        'an InvalidConfiguration Event on BGPPeer ambiguous from node1 naming both links',
        async () =>
          (await eventsFor(kube, 'default', 'ambiguous')).find(
            (e) =>
              e.reason === 'InvalidConfiguration' &&
              e.message.startsWith('node node1: interface pattern uplink* matches uplink0, uplink1 on this node'),
          ),
        20_000,
      );
      assert.equal(event.type, 'Warning');
      const node2 = await waitFor(
        'node2 reporting no match',
        async () =>
          (await eventsFor(kube, 'default', 'ambiguous')).find(
            (e) => e.reason === 'InvalidConfiguration' && e.message.startsWith('node node2:'),
          ),
        20_000,
      );
      assert.match(node2.message, /interface pattern uplink\* matches no interface on this node/);
    } finally {
      await execIn(node1.ns, ['ip', 'link', 'del', 'uplink0']);
    }
  });

  describe('BGP sourceInterface against gobgpd', () => {
    let router: BgpRouter | undefined;
    // One more link per node, named per node (bond0, bond1), holding the address the node must connect from.
    const sourceOf = (i: number): string => `198.51.100.${241 + i}`;

    before(async () => {
      for (const [i, node] of bed.nodes.entries()) {
        await mustExecIn(node.ns, ['ip', 'link', 'add', `bond${i}`, 'type', 'veth', 'peer', 'name', `bp${i}`]);
        await mustExecIn(node.ns, ['ip', 'addr', 'add', `${sourceOf(i)}/32`, 'dev', `bond${i}`]);
        await mustExecIn(node.ns, ['ip', 'link', 'set', `bond${i}`, 'up']);
        await mustExecIn(node.ns, ['ip', 'link', 'set', `bp${i}`, 'up']);
        // The router reaches each source address through its node.
        await mustExecIn(bed.router.ns, ['ip', 'route', 'add', `${sourceOf(i)}/32`, 'via', node.ipv4]);
      }
      await createObject(kube, 'BGPPeer', 'router-src', {
        myASN: NODE_AS,
        peerASN: ROUTER_AS,
        peerAddress: bed.router.ipv4,
        sourceInterface: 'bond[0-9]',
        connectTime: '1s',
      });
      await createObject(kube, 'BGPAdvertisement', 'via-src', { ipPools: ['bgp'], peers: ['router-src'] });
      router = await startBgpRouter({
        kind: 'gobgpd',
        ns: bed.router.ns,
        dir: join(cluster.dir, 'router-src'),
        run: cluster.run,
        asn: ROUTER_AS,
        routerId: bed.router.ipv4,
        neighbors: bed.nodes.map((_, i) => ({ address: sourceOf(i), asn: NODE_AS })),
      });
      cluster.defer(async () => {
        await router?.stop();
      });
    });

    it('each node connects from the address of the one interface the pattern selects on it, and advertises with it as next hop', async () => {
      const expected = bed.nodes.map((_, i) => sourceOf(i));
      try {
        await waitFor(
          'sessions from both source addresses Established at gobgpd',
          async () => {
            const up = await router!.established();
            return expected.every((a) => up.includes(a)) ? true : undefined;
          },
          40_000,
        );
      } catch (error) {
        const events = (await eventsFor(kube, 'default', 'router-src')).map((e) => `${e.reason}: ${e.message}`);
        throw new Error(`${String(error)}\nEvents: ${events.join('\n')}\nRouter: ${router!.logs(30)}`, {
          cause: error,
        });
      }
      const [pub = ''] = await waitForIngress(kube, 'web', 'pub');
      const routes = await waitFor(
        `${pub}/32 from both nodes`,
        async () => {
          const found = (await router!.routes(4)).filter((r) => r.prefix === `${pub}/32`);
          return found.length === 2 ? found : undefined;
        },
        20_000,
      );
      assert.deepEqual(
        routes.map((r) => [r.neighbor, r.nextHop]).sort(),
        expected.map((a) => [a, a]),
      );
      await router?.stop();
      router = undefined;
    });
  });
});
