// The network test bed: three nodes, a client and a router on segment A, a second client behind the router.
// The client resolves nodes by ARP and NDP (kernel neighbor table), packets are captured, the API server is
// reachable from inside a node namespace (and can be cut off), and nothing is left afterwards.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { startApiBridge, type ApiBridge } from '../src/lab/api-bridge.ts';
import { execIn, macAddress, mustExecIn, neighbors, startCapture } from '../src/lab/netns.ts';
import { listNamespaces, REGISTRY_DIR, sweepStaleRuns } from '../src/lab/run-registry.ts';
import { createTestBed, type TestBed } from '../src/lab/test-bed.ts';
import { INSTALL_NAMESPACE, useCluster } from './support/cluster.ts';

describe('network test bed', () => {
  const cluster = useCluster();
  let bed: TestBed;
  let bridge: ApiBridge;
  let made: { bed?: TestBed; bridge?: ApiBridge } = {};

  before(async () => {
    bed = await createTestBed({ run: cluster.run, nodes: 3 });
    made = { bed };
    bridge = await startApiBridge(cluster.cp.port, cluster.dir, cluster.run);
    made.bridge = bridge;
  });
  after(async () => {
    await made.bridge?.stop();
    made.bed?.destroy();
  });

  it('has three nodes, a client and a router on segment A and a client behind the router', () => {
    assert.equal(bed.nodes.length, 3);
    const names = listNamespaces();
    for (const ns of bed.namespaces) assert.ok(names.includes(ns), ns);
    for (const ns of bed.namespaces) assert.match(ns, new RegExp(`^blb${cluster.run.id}-`));
  });

  it('the client resolves a node by ARP (IPv4) and NDP (IPv6) into its neighbor table', async () => {
    const node = bed.nodes[1]!;
    const mac = await macAddress(node.ns, node.dev);
    await mustExecIn(bed.client.ns, ['ping', '-c', '1', '-W', '2', node.ipv4]);
    await mustExecIn(bed.client.ns, ['ping', '-6', '-c', '1', '-W', '2', node.ipv6]);
    const table = await neighbors(bed.client.ns);
    const v4 = table.find((n) => n.dst === node.ipv4);
    const v6 = table.find((n) => n.dst === node.ipv6);
    assert.equal(v4?.lladdr, mac, JSON.stringify(table));
    assert.equal(v6?.lladdr, mac, JSON.stringify(table));
    assert.equal(v4.dev, 'eth0');
  });

  it('arping and ndisc6 from the client get the node MAC', async () => {
    const node = bed.nodes[2]!;
    const mac = (await macAddress(node.ns, node.dev)).toUpperCase();
    const arping = await mustExecIn(bed.client.ns, ['arping', '-c', '1', '-w', '2', '-I', 'eth0', node.ipv4]);
    assert.ok(arping.includes(`[${mac}]`), arping);
    const ndisc = await mustExecIn(bed.client.ns, ['ndisc6', '-1', '-r', '2', '-w', '1000', node.ipv6, 'eth0']);
    assert.ok(ndisc.includes(`Target link-layer address: ${mac}`), ndisc);
  });

  it('captures the ARP exchange with tcpdump', async () => {
    const node = bed.nodes[0]!;
    const capture = await startCapture(bed.client.ns, 'eth0', 'arp', cluster.dir);
    await mustExecIn(bed.client.ns, ['arping', '-c', '1', '-w', '2', '-I', 'eth0', node.ipv4]);
    const packets = await capture.stop();
    const mac = await macAddress(node.ns, node.dev);
    assert.ok(
      packets.some((line) => line.includes(`Reply ${node.ipv4} is-at ${mac}`)),
      packets.join('\n'),
    );
  });

  it('routes from the client behind the router to the nodes, IPv4 and IPv6', async () => {
    const node = bed.nodes[0]!;
    await mustExecIn(bed.client2.ns, ['ping', '-c', '1', '-W', '2', node.ipv4]);
    await mustExecIn(bed.client2.ns, ['ping', '-6', '-c', '1', '-W', '2', node.ipv6]);
  });

  it('reaches the API server from inside a node namespace as the speaker, and can cut it off', async () => {
    const node = bed.nodes[0]!;
    await bridge.connect(node.ns);
    const kubeconfig = cluster.cp.serviceAccountKubeconfig(INSTALL_NAMESPACE, 'beaconlb-speaker');
    const kubectl = join(cluster.cp.binaries, 'kubectl');
    const get = ['--kubeconfig', kubeconfig, '--request-timeout=2s', 'get', 'leases', '-n', INSTALL_NAMESPACE];
    const ok = await execIn(node.ns, [kubectl, ...get]);
    assert.equal(ok.code, 0, ok.stderr);
    await bridge.cut(node.ns);
    const cut = await execIn(node.ns, [kubectl, ...get]);
    assert.notEqual(cut.code, 0, 'the API server answered through a cut bridge');
    await bridge.restore(node.ns);
    const back = await execIn(node.ns, [kubectl, ...get]);
    assert.equal(back.code, 0, back.stderr);
    // Another node without a bridge has no way to the API server.
    const isolated = await execIn(bed.nodes[1]!.ns, [kubectl, ...get]);
    assert.notEqual(isolated.code, 0);
  });

  it('sweeps namespaces left by a crashed run, and only those', () => {
    const stale = 'blbzzzzz-node1';
    execFileSync('ip', ['netns', 'add', stale]);
    const swept = sweepStaleRuns();
    assert.deepEqual(swept, [stale]);
    assert.ok(!listNamespaces().includes(stale));
    for (const ns of bed.namespaces) assert.ok(listNamespaces().includes(ns), `live run's ${ns} was swept`);
  });

  it('leaves no namespace and no process behind', async () => {
    const pids = execFileSync('ip', ['netns', 'pids', bed.nodes[0]!.ns], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    assert.ok(pids.length > 0, 'the bridge process should run inside node1');
    await bridge.stop();
    bed.destroy();
    const left = listNamespaces().filter((ns) => ns.startsWith(`blb${cluster.run.id}-`));
    assert.deepEqual(left, []);
    for (const pid of pids) assert.throws(() => process.kill(Number(pid), 0), `process ${pid} still runs`);
    assert.ok(REGISTRY_DIR.length > 0);
  });
});
