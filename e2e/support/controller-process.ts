// Runs `beaconlb controller` as a separate process under the controller ServiceAccount of config/rbac.
import { join } from 'node:path';
import { startProcess, type ManagedProcess } from '../../src/lab/managed-process.ts';
import { freePort } from '../../src/lab/free-port.ts';
import type { ClusterFixture } from './cluster.ts';
import { INSTALL_NAMESPACE, REPO_ROOT, mainEntry } from './cluster.ts';
import { waitFor } from './kube.ts';

export interface ControllerProcess extends ManagedProcess {
  metricsUrl: string;
  metrics(): Promise<string>;
}

let counter = 0;

export async function startController(cluster: ClusterFixture, args: readonly string[] = []): Promise<ControllerProcess> {
  const kubeconfig = cluster.cp.serviceAccountKubeconfig(INSTALL_NAMESPACE, 'beaconlb-controller');
  const port = await freePort();
  const name = `controller-${++counter}`;
  const p = startProcess({
    name,
    command: join(REPO_ROOT, 'node_modules/.bin/node'),
    args: [
      mainEntry(),
      'controller',
      `--kubeconfig=${kubeconfig}`,
      `--metrics-address=127.0.0.1:${port}`,
      `--identity=${name}`,
      '--log-level=debug',
      ...args,
    ],
    logFile: join(cluster.dir, `${name}.log`),
  });
  cluster.run.recordProcess(p.pid);
  const metricsUrl = `http://127.0.0.1:${port}/metrics`;
  const readyz = `http://127.0.0.1:${port}/readyz`;
  await waitFor(`${name} to be ready`, async () => {
    if (!p.running()) throw new Error(`${name} exited: ${p.tail()}`);
    const res = await fetch(readyz).catch(() => undefined);
    return res?.ok ? true : undefined;
  }, 20_000);
  return {
    ...p,
    metricsUrl,
    metrics: async () => (await fetch(metricsUrl)).text(),
  };
}

/** The value of one sample in Prometheus text, such as `beaconlb_controller_status_writes_total{result="written"}`. */
export function metricValue(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}
