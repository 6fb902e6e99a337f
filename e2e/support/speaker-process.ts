// Runs `beaconlb speaker` inside a node's network namespace, under the speaker ServiceAccount of config/rbac,
// reaching the API server through the API bridge; its /metrics listens on a Unix socket in the run directory.
import { join } from 'node:path';
import { startProcess, type ManagedProcess } from '../../src/lab/managed-process.ts';
import type { Host } from '../../src/lab/test-bed.ts';
import type { ClusterFixture } from './cluster.ts';
import { INSTALL_NAMESPACE, REPO_ROOT, mainEntry } from './cluster.ts';
import { waitFor } from './kube.ts';
import { unixGet } from './unix-http.ts';

export interface SpeakerProcess extends ManagedProcess {
  node: string;
  metrics(): Promise<string>;
}

export async function startSpeaker(cluster: ClusterFixture, host: Host, args: readonly string[] = []): Promise<SpeakerProcess> {
  const kubeconfig = cluster.cp.serviceAccountKubeconfig(INSTALL_NAMESPACE, 'beaconlb-speaker');
  const socket = join(cluster.dir, `speaker-${host.role}.sock`);
  const p = startProcess({
    name: `speaker-${host.role}`,
    command: join(REPO_ROOT, 'node_modules/.bin/node'),
    args: [
      mainEntry(),
      'speaker',
      `--kubeconfig=${kubeconfig}`,
      `--node-name=${host.role}`,
      `--metrics-address=unix:${socket}`,
      '--log-level=debug',
      ...args,
    ],
    netns: host.ns,
    logFile: join(cluster.dir, `speaker-${host.role}.log`),
  });
  cluster.run.recordProcess(p.pid);
  await waitFor(`speaker on ${host.role} to be ready`, async () => {
    if (!p.running()) throw new Error(`speaker on ${host.role} exited: ${p.tail()}`);
    const res = await unixGet(socket, '/readyz').catch(() => undefined);
    return res?.status === 200 ? true : undefined;
  }, 20_000);
  return { ...p, node: host.role, metrics: async () => (await unixGet(socket, '/metrics')).body };
}
