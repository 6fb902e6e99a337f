// The usual start of a speaker test: the network test bed with N node namespaces (removed at the end), the API
// bridge into each of them, and a Node object per node namespace (labelled with its hostname); and, as kube-proxy
// would deliver Service traffic, the Service addresses local on every node with a server naming the node.
import { join } from 'node:path';
import { startApiBridge, type ApiBridge } from '../../src/lab/api-bridge.ts';
import { startProcess } from '../../src/lab/managed-process.ts';
import { ipBatch } from '../../src/lab/netns.ts';
import { createTestBed, type Host, type TestBed } from '../../src/lab/test-bed.ts';
import type { ClusterFixture } from './cluster.ts';
import type { Kube } from './kube.ts';

export async function startNodeBed(
  cluster: ClusterFixture,
  kube: Kube,
  nodes: number,
  nodeDevs?: readonly string[],
): Promise<{ bed: TestBed; bridge: ApiBridge }> {
  const bed = await createTestBed({ run: cluster.run, nodes, ...(nodeDevs ? { nodeDevs } : {}) });
  cluster.defer(() => {
    bed.destroy();
  });
  const bridge = await startApiBridge(cluster.cp.port, cluster.dir, cluster.run);
  cluster.defer(() => bridge.stop());
  for (const node of bed.nodes) {
    await bridge.connect(node.ns);
    await kube.core.createNode({
      body: { metadata: { name: node.role, labels: { 'kubernetes.io/hostname': node.role } } },
    });
  }
  return { bed, bridge };
}

/**
 * Every address local on every node (one host address each: a prefix on lo would make the whole prefix local, the
 * client's address included), and a TCP server on port 80 that answers with the node's name.
 */
export function serveNodeNames(
  cluster: ClusterFixture,
  nodes: readonly Host[],
  v4: readonly string[],
  v6: readonly string[],
): void {
  for (const node of nodes) {
    ipBatch(node.ns, [
      ...v4.map((ip) => `addr add ${ip}/32 dev lo`),
      ...v6.map((ip) => `addr add ${ip}/128 dev lo nodad`),
    ]);
    const server = startProcess({
      name: `hello-${node.role}`,
      command: 'socat',
      args: ['TCP6-LISTEN:80,ipv6only=0,fork,reuseaddr', `SYSTEM:echo ${node.role}`],
      netns: node.ns,
      logFile: join(cluster.dir, `hello-${node.role}.log`),
    });
    cluster.run.recordProcess(server.pid);
  }
}
