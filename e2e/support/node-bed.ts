// The usual start of a speaker test: the network test bed with N node namespaces (removed at the end), the API
// bridge into each of them, and a Node object per node namespace (labelled with its hostname).
import { startApiBridge, type ApiBridge } from '../../src/lab/api-bridge.ts';
import { createTestBed, type TestBed } from '../../src/lab/test-bed.ts';
import type { ClusterFixture } from './cluster.ts';
import type { Kube } from './kube.ts';

export async function startNodeBed(cluster: ClusterFixture, kube: Kube, nodes: number): Promise<{ bed: TestBed; bridge: ApiBridge }> {
  const bed = await createTestBed({ run: cluster.run, nodes });
  cluster.defer(() => {
    bed.destroy();
  });
  const bridge = await startApiBridge(cluster.cp.port, cluster.dir, cluster.run);
  cluster.defer(() => bridge.stop());
  for (const node of bed.nodes) {
    await bridge.connect(node.ns);
    await kube.core.createNode({ body: { metadata: { name: node.role, labels: { 'kubernetes.io/hostname': node.role } } } });
  }
  return { bed, bridge };
}
