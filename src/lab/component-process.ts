// Starts Beacon LB's own components as processes, as a cluster would run them: the controller (on loopback, like
// a Pod with network access to the API server) and a speaker inside a node's network namespace (host network),
// each under its ServiceAccount of config/rbac; the speaker's token is bound to a Pod on its node, as the kubelet
// mounts it, so the admission policy on heartbeat Leases (config/admission) sees its node.
import { join } from 'node:path';
import type { ControlPlane } from './control-plane.ts';
import { freePort } from './free-port.ts';
import { startProcess, type ManagedProcess } from './managed-process.ts';
import type { Run } from './run-registry.ts';
import type { Host } from './test-bed.ts';
import { unixGet } from './unix-http.ts';
import { waitUntil } from './wait-until.ts';

export const INSTALL_NAMESPACE = 'beaconlb-system';
/** Where BGP password Secrets live (config/namespace/bgp-passwords-namespace.yaml; ADR 0014). */
export const PASSWORD_NAMESPACE = 'beaconlb-bgp-passwords';
const REPO_ROOT = join(import.meta.dirname, '..', '..');

export interface ComponentProcess extends ManagedProcess {
  metrics(): Promise<string>;
  /** Whether /readyz answers 200 now (caches synced). */
  ready(): Promise<boolean>;
}

export interface ComponentContext {
  cp: ControlPlane;
  run: Run;
  /** Logs, sockets and kubeconfigs go here. */
  dir: string;
}

/** The CLI entry point: TypeScript, or with BEACONLB_COMPILED=1 the build (`npm run build`) as the image runs it. */
export function mainEntry(): string {
  return process.env['BEACONLB_COMPILED'] ? join(REPO_ROOT, 'dist/cmd/main.js') : join(REPO_ROOT, 'src/cmd/main.ts');
}

const nodeBinary = (): string => join(REPO_ROOT, 'node_modules/.bin/node');
/** The V8 flags the image's ENTRYPOINT uses (see the Dockerfile), so tests and benchmarks run what production runs. */
const IMAGE_NODE_FLAGS = ['--max-semi-space-size=2'];
/** BEACONLB_NODE_FLAGS (space-separated) replaces them, for measuring other flags (bench/speaker-memory.ts). */
const NODE_FLAGS = process.env['BEACONLB_NODE_FLAGS']?.split(' ').filter(Boolean) ?? IMAGE_NODE_FLAGS;

let controllers = 0;

/**
 * Starts a controller and waits until it is ready (its caches synced), or with `until: 'serving'` only until its
 * metrics endpoint answers (for tests that hold its caches back).
 */
export async function startControllerProcess(
  ctx: ComponentContext,
  args: readonly string[] = [],
  options: { until?: 'ready' | 'serving' } = {},
): Promise<ComponentProcess> {
  const kubeconfig = ctx.cp.serviceAccountKubeconfig(INSTALL_NAMESPACE, 'beaconlb-controller');
  const port = await freePort();
  const name = `controller-${++controllers}`;
  const p = startProcess({
    name,
    command: nodeBinary(),
    args: [
      ...NODE_FLAGS,
      mainEntry(),
      'controller',
      `--kubeconfig=${kubeconfig}`,
      `--metrics-address=127.0.0.1:${port}`,
      `--identity=${name}`,
      '--log-level=debug',
      ...args,
    ],
    logFile: join(ctx.dir, `${name}.log`),
  });
  ctx.run.recordProcess(p.pid);
  const base = `http://127.0.0.1:${port}`;
  const probe = options.until === 'serving' ? '/healthz' : '/readyz';
  await waitUntil(
    `${name} to be ${options.until ?? 'ready'}`,
    async () => {
      if (!p.running()) throw new Error(`${name} exited: ${p.tail()}`);
      const res = await fetch(`${base}${probe}`).catch(() => undefined);
      return res?.ok ? true : undefined;
    },
    20_000,
  );
  return {
    ...p,
    metrics: async () => (await fetch(`${base}/metrics`)).text(),
    ready: async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.ok ?? false,
  };
}

export async function startSpeakerProcess(
  ctx: ComponentContext,
  host: Host,
  args: readonly string[] = [],
): Promise<ComponentProcess> {
  const kubeconfig = ctx.cp.nodeBoundKubeconfig(INSTALL_NAMESPACE, 'beaconlb-speaker', host.role);
  const socket = join(ctx.dir, `speaker-${host.role}.sock`);
  const p = startProcess({
    name: `speaker-${host.role}`,
    command: nodeBinary(),
    args: [
      ...NODE_FLAGS,
      mainEntry(),
      'speaker',
      `--kubeconfig=${kubeconfig}`,
      `--node-name=${host.role}`,
      `--metrics-address=unix:${socket}`,
      '--log-level=debug',
      ...args,
    ],
    netns: host.ns,
    logFile: join(ctx.dir, `speaker-${host.role}.log`),
  });
  ctx.run.recordProcess(p.pid);
  await waitUntil(
    `speaker on ${host.role} to be ready`,
    async () => {
      if (!p.running()) throw new Error(`speaker on ${host.role} exited: ${p.tail()}`);
      const res = await unixGet(socket, '/readyz').catch(() => undefined);
      return res?.status === 200 ? true : undefined;
    },
    20_000,
  );
  return {
    ...p,
    metrics: async () => (await unixGet(socket, '/metrics')).body,
    ready: async () => (await unixGet(socket, '/readyz').catch(() => undefined))?.status === 200,
  };
}

/** The value of one sample in Prometheus text, such as `beaconlb_controller_status_writes_total{result="written"}`. */
export function metricValue(text: string, sample: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

/**
 * Whether a speaker's metrics say it runs failure detection by probes (it has sent datagrams, so the controller's
 * first membership record came: ADR 0019) and answers (not fenced).
 */
export function probingAndAnswering(text: string): boolean {
  return (
    metricValue(text, 'beaconlb_memberlist_datagrams_sent_total') > 0 && metricValue(text, 'beaconlb_l2_fenced') === 0
  );
}
