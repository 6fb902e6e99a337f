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
  // The suites test the Lease path (ADR 0007) unless they ask for probes, the default (ADR 0019): probes need the
  // controller's membership record and a --membership-interval of 3 renew intervals or more, and the suites that
  // test the default behaviour (speaker-layer2, speaker-layer2-probes) say so.
  const detection = args.some((a) => a.startsWith('--failure-detection')) ? [] : ['--failure-detection=lease'];
  return { ...(await startSpeakerProcess(cluster, host, [...detection, ...args])), node: host.role };
}
