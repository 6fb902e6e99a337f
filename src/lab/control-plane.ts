// The test control plane: a real etcd and kube-apiserver (built from the Go module proxy by
// scripts/controlplane.sh) on free loopback ports, with generated certificates, RBAC authorization and an admin
// kubeconfig. Speakers inside network namespaces reach it through an ApiBridge (api-bridge.ts).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createControlPlaneCertificates, type ControlPlaneCertificates } from './certificates.ts';
import { freePort } from './free-port.ts';
import { writeKubeconfig } from './kubeconfig-file.ts';
import { startProcess, type ManagedProcess } from './managed-process.ts';
import type { Run } from './run-registry.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
/** Dual-stack, so Services may ask for both families. ClusterIPs are data only: nothing routes to them. */
export const SERVICE_CIDR = '10.96.0.0/16,fd00:10:96::/112';
/** Written into the `kubernetes` Service's endpoints only; nothing ever connects to it. */
const ADVERTISE_ADDRESS = '203.0.113.254';

/** Builds the binaries once (cached by version) and returns the directory holding etcd, kube-apiserver, kubectl. */
export function controlPlaneBinaries(): string {
  const fromEnv = process.env['BEACONLB_CONTROLPLANE_BIN'];
  if (fromEnv) return fromEnv;
  const out = execFileSync('bash', [join(REPO_ROOT, 'scripts', 'controlplane.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const dir = out.trim().split('\n').pop();
  if (!dir) throw new Error('scripts/controlplane.sh printed no directory');
  process.env['BEACONLB_CONTROLPLANE_BIN'] = dir;
  return dir;
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Admin kubeconfig (system:masters). */
  readonly kubeconfig: string;
  readonly certificates: ControlPlaneCertificates;
  readonly binaries: string;
  /** Milliseconds from the first process start to /readyz answering ok. */
  readonly startMillis: number;
  /** Runs kubectl as admin; returns stdout. Throws with stderr on failure. */
  kubectl(args: readonly string[], input?: string): string;
  /** Mints a token for a ServiceAccount (TokenRequest) and writes a kubeconfig using it; returns its path. */
  serviceAccountKubeconfig(namespace: string, name: string): string;
  /**
   * As a DaemonSet Pod's kubelet-mounted token would be: creates (or keeps) a Pod `<name>-<node>` of that
   * ServiceAccount with spec.nodeName `node` (no kubelet runs it) and mints a token bound to it, so the API server
   * authenticates it with the user extra authentication.kubernetes.io/node-name = node. Returns the kubeconfig path.
   */
  nodeBoundKubeconfig(namespace: string, name: string, node: string): string;
  /** Stops kube-apiserver, then etcd (bounded waits, then SIGKILL). */
  stop(): Promise<void>;
  /** Stops only kube-apiserver and etcd and starts them again on the same ports and data (outage tests). */
  restart(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** A directory of its own; data, certificates, logs and kubeconfigs go here. */
  dir: string;
  run?: Run;
  /** Extra kube-apiserver flags. */
  apiServerArgs?: readonly string[];
}

function get(url: string, certs: ControlPlaneCertificates): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        ca: readFileSync(certs.caCert),
        cert: readFileSync(certs.adminCert),
        key: readFileSync(certs.adminKey),
        timeout: 2000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function waitReady(
  url: string,
  certs: ControlPlaneCertificates,
  processes: ManagedProcess[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    for (const p of processes) {
      if (!p.running()) throw new Error(`${p.name} exited during start-up:\n${p.tail()}`);
    }
    try {
      const res = await get(`${url}/readyz`, certs);
      if (res.status === 200) return;
      last = `${res.status} ${res.body.slice(0, 500)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(
    `kube-apiserver not ready after ${timeoutMs} ms: ${last}\n${processes.map((p) => p.tail(10)).join('\n')}`,
  );
}

// Long (~125 lines): one start sequence (certificates, etcd, kube-apiserver, the waits), each step using the last, undone on failure.
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const binaries = controlPlaneBinaries();
  const { dir, run } = options;
  mkdirSync(dir, { recursive: true });
  const certificates = createControlPlaneCertificates(dir, ['127.0.0.1', '10.96.0.1']);
  const [etcdPort, etcdPeerPort, port] = [await freePort(), await freePort(), await freePort()];
  const url = `https://127.0.0.1:${port}`;
  const kubeconfig = writeKubeconfig(join(dir, 'admin.kubeconfig'), url, certificates.caCert, 'admin', {
    clientCertificate: certificates.adminCert,
    clientKey: certificates.adminKey,
  });

  let etcd: ManagedProcess | undefined;
  let apiServer: ManagedProcess | undefined;
  const launch = async (): Promise<number> => {
    const started = performance.now();
    etcd = startProcess({
      name: 'etcd',
      command: join(binaries, 'etcd'),
      args: [
        '--name=beaconlb-test',
        `--data-dir=${join(dir, 'etcd-data')}`,
        `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-cluster=beaconlb-test=http://127.0.0.1:${etcdPeerPort}`,
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      logFile: join(dir, 'etcd.log'),
    });
    run?.recordProcess(etcd.pid);
    apiServer = startProcess({
      name: 'kube-apiserver',
      command: join(binaries, 'kube-apiserver'),
      args: [
        `--etcd-servers=http://127.0.0.1:${etcdPort}`,
        `--cert-dir=${dir}`,
        `--tls-cert-file=${certificates.serverCert}`,
        `--tls-private-key-file=${certificates.serverKey}`,
        `--client-ca-file=${certificates.caCert}`,
        `--secure-port=${port}`,
        '--bind-address=127.0.0.1',
        `--advertise-address=${ADVERTISE_ADDRESS}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--allow-privileged',
        '--disable-admission-plugins=ServiceAccount',
        '--authorization-mode=RBAC',
        '--service-account-issuer=https://kubernetes.default.svc',
        `--service-account-key-file=${certificates.serviceAccountPublicKey}`,
        `--service-account-signing-key-file=${certificates.serviceAccountPrivateKey}`,
        '--shutdown-delay-duration=0s',
        '--v=1',
        ...(options.apiServerArgs ?? []),
      ],
      logFile: join(dir, 'kube-apiserver.log'),
    });
    run?.recordProcess(apiServer.pid);
    await waitReady(url, certificates, [etcd, apiServer], 60_000);
    return performance.now() - started;
  };
  const halt = async (): Promise<void> => {
    await apiServer?.stop(1000);
    await etcd?.stop(2000);
  };

  let startMillis: number;
  try {
    startMillis = await launch();
  } catch (err) {
    await halt();
    throw err;
  }
  const controlPlane: ControlPlane = {
    url,
    port,
    dir,
    kubeconfig,
    certificates,
    binaries,
    startMillis,
    kubectl(args, input) {
      return execFileSync(join(binaries, 'kubectl'), [`--kubeconfig=${kubeconfig}`, ...args], {
        encoding: 'utf8',
        input,
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: 60_000,
      });
    },
    serviceAccountKubeconfig(namespace, name) {
      const token = controlPlane.kubectl(['create', 'token', name, '-n', namespace, '--duration=24h']).trim();
      return writeKubeconfig(join(dir, `${namespace}-${name}.kubeconfig`), url, certificates.caCert, name, { token });
    },
    nodeBoundKubeconfig(namespace, name, node) {
      const pod = `${name}-${node}`;
      controlPlane.kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: pod, namespace, labels: { 'app.kubernetes.io/name': 'beaconlb' } },
          spec: { nodeName: node, serviceAccountName: name, containers: [{ name: 'main', image: 'beaconlb' }] },
        }),
      );
      const token = controlPlane
        .kubectl([
          'create',
          'token',
          name,
          '-n',
          namespace,
          '--duration=24h',
          '--bound-object-kind=Pod',
          `--bound-object-name=${pod}`,
        ])
        .trim();
      return writeKubeconfig(join(dir, `${namespace}-${pod}.kubeconfig`), url, certificates.caCert, pod, { token });
    },
    stop: halt,
    async restart() {
      await halt();
      await launch();
    },
  };
  return controlPlane;
}
