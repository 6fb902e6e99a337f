// The layer-2 speaker end to end: the real API server, the controller, and three node namespaces each running a
// speaker (under the speaker ServiceAccount, through the API bridge). A client on the same segment resolves Service
// addresses by ARP and NDP and connects to them; a server in every node namespace says which node answered.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startApiBridge, type ApiBridge } from '../src/lab/api-bridge.ts';
import { ipBatch, macAddress, mustExecIn } from '../src/lab/netns.ts';
import { startProcess } from '../src/lab/managed-process.ts';
import { createTestBed, type TestBed } from '../src/lab/test-bed.ts';
import { useCluster } from './support/cluster.ts';
import { startController, type ControllerProcess } from './support/controller-process.ts';
import { applyPool, createService, kubeClients, waitFor, waitForIngress, type Kube } from './support/kube.ts';
import { startSpeaker, type SpeakerProcess } from './support/speaker-process.ts';
import { arpingMacs, ndiscMacs, tcpHello } from './support/layer2-probe.ts';
import { join } from 'node:path';

// 198.51.100.64/27: clear of the test bed's hosts (.1 router, .11-.13 nodes, .100 client).
const V4 = Array.from({ length: 32 }, (_, i) => `198.51.100.${64 + i}`);
const V6 = Array.from({ length: 8 }, (_, i) => `2001:db8:a::1${i.toString(16).padStart(2, '0')}`);

describe('speaker: layer 2', () => {
  const cluster = useCluster();
  let kube: Kube;
  let bed: TestBed;
  let bridge: ApiBridge;
  let controller: ControllerProcess;
  const speakers = new Map<string, SpeakerProcess>();
  const macs = new Map<string, string>();
  const made: { bed?: TestBed; bridge?: ApiBridge; controller?: ControllerProcess } = {};

  before(async () => {
    kube = kubeClients(cluster.cp);
    bed = await createTestBed({ run: cluster.run, nodes: 3 });
    made.bed = bed;
    bridge = await startApiBridge(cluster.cp.port, cluster.dir, cluster.run);
    made.bridge = bridge;
    for (const node of bed.nodes) {
      await bridge.connect(node.ns);
      macs.set((await macAddress(node.ns, node.dev)).toLowerCase(), node.role);
      await kube.core.createNode({ body: { metadata: { name: node.role, labels: { 'kubernetes.io/hostname': node.role } } } });
      // As kube-proxy would deliver it: every Service address is local on every node, and a server names the node.
      // One host address each: a prefix on lo would make the whole prefix local (the client's address included).
      ipBatch(node.ns, [...V4.map((ip) => `addr add ${ip}/32 dev lo`), ...V6.map((ip) => `addr add ${ip}/128 dev lo nodad`)]);
      const server = startProcess({
        name: `hello-${node.role}`,
        command: 'socat',
        args: ['TCP6-LISTEN:80,ipv6only=0,fork,reuseaddr', `SYSTEM:echo ${node.role}`],
        netns: node.ns,
        logFile: join(cluster.dir, `hello-${node.role}.log`),
      });
      cluster.run.recordProcess(server.pid);
    }
    await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
    await applyPool(kube, 'l2', { addresses: ['198.51.100.64/27', '2001:db8:a::100/120'] });
    await kube.custom.createClusterCustomObject({
      group: 'beaconlb.io',
      version: 'v1alpha1',
      plural: 'l2advertisements',
      body: { apiVersion: 'beaconlb.io/v1alpha1', kind: 'L2Advertisement', metadata: { name: 'l2' }, spec: { ipPools: ['l2'] } },
    });
    controller = await startController(cluster, ['--no-leader-elect']);
    made.controller = controller;
    for (const node of bed.nodes) speakers.set(node.role, await startSpeaker(cluster, node, ['--renew-interval=250ms', '--lease-duration=1s', '--fence-margin=250ms']));
  });

  after(async () => {
    await Promise.all([...speakers.values()].map((s) => s.stop(3000)));
    await made.controller?.stop(1000);
    await made.bridge?.stop();
    made.bed?.destroy();
  });

  const ownerOf = async (ip: string): Promise<string> => {
    const answered = ip.includes(':') ? await ndiscMacs(bed.client.ns, ip) : await arpingMacs(bed.client.ns, ip);
    assert.equal(answered.length, 1, `${ip} answered by ${answered.length} MACs: ${answered.join(', ')}`);
    const node = macs.get(answered[0]!);
    assert.ok(node, `${ip} answered by ${answered[0]}, which is no node`);
    return node;
  };

  it('answers ARP for an IPv4 Service from exactly one node, and the client reaches that node', async () => {
    await createService(kube, { name: 'v4', namespace: 'web', annotations: { 'beaconlb.io/load-balancer-ips': V4[0]! } });
    await waitForIngress(kube, 'web', 'v4');
    const owner = await waitFor('an owner', async () => (await arpingMacs(bed.client.ns, V4[0]!)).length === 1 ? ownerOf(V4[0]!) : undefined, 15_000);
    assert.equal(await tcpHello(bed.client.ns, V4[0]!), owner);
    await mustExecIn(bed.client.ns, ['ping', '-c', '1', '-W', '2', V4[0]!]);
    const neigh = await mustExecIn(bed.client.ns, ['ip', 'neigh', 'show', V4[0]!]);
    const mac = [...macs].find(([, n]) => n === owner)?.[0];
    assert.match(neigh, new RegExp(`lladdr ${mac ?? 'none'}`));
  });

  it('answers NDP for an IPv6 Service from exactly one node (NA with Override), and the client reaches it', async () => {
    await createService(kube, { name: 'v6', namespace: 'web', ipFamilies: ['IPv6'], annotations: { 'beaconlb.io/load-balancer-ips': V6[0]! } });
    await waitForIngress(kube, 'web', 'v6');
    const owner = await waitFor('an owner', async () => (await ndiscMacs(bed.client.ns, V6[0]!)).length === 1 ? ownerOf(V6[0]!) : undefined, 15_000);
    assert.equal(await tcpHello(bed.client.ns, V6[0]!), owner);
  });
});
