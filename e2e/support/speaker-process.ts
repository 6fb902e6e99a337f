// Runs `beaconlb speaker` inside a node's network namespace, under the speaker ServiceAccount of config/rbac,
// reaching the API server through the API bridge; its /metrics listens on a Unix socket in the run directory.
import { startSpeakerProcess, type ComponentProcess } from '../../src/lab/component-process.ts';
import type { Host } from '../../src/lab/test-bed.ts';
import type { ClusterFixture } from './cluster.ts';

export type SpeakerProcess = ComponentProcess & { node: string };

export async function startSpeaker(
  cluster: ClusterFixture,
  host: Host,
  args: readonly string[] = [],
): Promise<SpeakerProcess> {
  return { ...(await startSpeakerProcess(cluster, host, args)), node: host.role };
}
