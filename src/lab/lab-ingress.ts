// The process lab's ingress: the cluster lab's demo (ingress-demo.ts, docs/ingress.md) without kubelets. Traefik (the
// binary of scripts/traefik.sh) runs as a process in every node namespace, as a DaemonSet with host network would,
// and reaches the lab's kube-apiserver from outside the cluster (endpoint, CA and the token of its own RBAC-limited
// ServiceAccount) with its Kubernetes Ingress and Gateway API providers. Everything else is applied as users apply
// it: config/samples/ingress/traefik.yaml without its Deployment (these processes stand in for it; the LoadBalancer
// Service pinned to 198.51.100.72 with externalTrafficPolicy Local, the IngressClass, GatewayClass and Gateway) and
// config/samples/ingress/routes.yaml. No controller makes EndpointSlices here, so the lab writes them, as the
// EndpointSlice controller would from ready Pods: Traefik's (one endpoint per node, ready while its process runs and
// answers /ping; Beacon LB announces the address only from such nodes) and the two backends' (socat on every node).
// The stand-in kube-proxy (service-proxy.ts) sends the address's port 80 to the Traefik on the node that receives it.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments } from 'yaml';
import type { Logger } from '../platform/logger.ts';
import { SERVICE_NAME_LABEL } from '../core/config/cluster-objects.ts';
import type { ControlPlane } from './control-plane.ts';
import { startHttpBackend } from './http-backend.ts';
import {
  INGRESS_CONTROLLER,
  INGRESS_HOSTS,
  INGRESS_ROUTES_NAMESPACE,
  INGRESS_SAMPLE_DIR,
  ingressCurlArgs,
  type IngressDemo,
} from './ingress-demo.ts';
import { startProcess, type ManagedProcess } from './managed-process.ts';
import { execIn } from './netns.ts';
import type { Run } from './run-registry.ts';
import type { Host } from './test-bed.ts';
import { gatewayApiCrds, traefikBinary } from './traefik-build.ts';
import { waitUntil } from './wait-until.ts';

/** The backends' ports on every node (the sample backends' Pods would listen on 8080, which the lab's own backend uses). */
const BACKEND_PORTS: Readonly<Record<string, number>> = { blue: 8081, green: 8082 };
/** Traefik's `traefik` entry point (/ping): the sample's 8080 is the lab's backend port on the nodes. */
const PING_PORT = 9000;
const RESTART_DELAY_MS = 5000;
const MANAGED_BY = 'lab.beaconlb.io';

interface KubeManifest {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: { template?: { spec?: { containers?: Array<{ args?: string[] }> } } };
}

function manifests(file: string): KubeManifest[] {
  return parseAllDocuments(readFileSync(join(INGRESS_SAMPLE_DIR, file), 'utf8'))
    .map((d) => d.toJS() as KubeManifest | null)
    .filter((d): d is KubeManifest => d !== null);
}

/** The sample's objects without its Deployment, and the Deployment's Traefik arguments. */
export function traefikSample(): { objects: KubeManifest[]; args: string[]; webPort: number } {
  const all = manifests('traefik.yaml');
  const deployment = all.find((o) => o.kind === 'Deployment');
  const args = deployment?.spec?.template?.spec?.containers?.[0]?.args;
  if (!args) throw new Error('config/samples/ingress/traefik.yaml has no Deployment with Traefik arguments');
  const web = args.map((a) => /^--entryPoints\.web\.address=:(\d+)/.exec(a)?.[1]).find(Boolean);
  if (!web) throw new Error('config/samples/ingress/traefik.yaml: no --entryPoints.web.address=:<port> argument');
  return { objects: all.filter((o) => o !== deployment), args, webPort: Number(web) };
}

/** Traefik's arguments on a lab node: the sample's, its ping entry point moved, and the out-of-cluster API access. */
export function traefikArgs(
  sampleArgs: readonly string[],
  api: { url: string; caFile: string; tokenFile: string },
): string[] {
  const args = sampleArgs.map((a) =>
    a.startsWith('--entryPoints.traefik.address=') ? `--entryPoints.traefik.address=:${PING_PORT}/tcp` : a,
  );
  for (const provider of ['kubernetesIngress', 'kubernetesGateway']) {
    args.push(
      `--providers.${provider}.endpoint=${api.url}`,
      `--providers.${provider}.certAuthFilePath=${api.caFile}`,
      `--providers.${provider}.token=${api.tokenFile}`,
    );
  }
  return args;
}

interface EndpointSliceEndpoint {
  addresses: string[];
  nodeName: string;
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
}

function endpointSlice(
  namespace: string,
  service: string,
  port: { name: string; port: number },
  endpoints: EndpointSliceEndpoint[],
): object {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-lab`,
      namespace,
      labels: { [SERVICE_NAME_LABEL]: service, 'endpointslice.kubernetes.io/managed-by': MANAGED_BY },
    },
    addressType: 'IPv4',
    endpoints,
    ports: [{ name: port.name, port: port.port, protocol: 'TCP' }],
  };
}

const endpointOn = (node: Host, ready: boolean): EndpointSliceEndpoint => ({
  addresses: [node.ipv4],
  nodeName: node.role,
  conditions: { ready, serving: ready, terminating: false },
});

/** Per backend: a ClusterIP Service (its selector matches no Pod here) and an EndpointSlice with every node's socat. */
function backendObjects(nodes: readonly Host[]): object[] {
  return INGRESS_HOSTS.flatMap(({ backend }) => {
    const port = BACKEND_PORTS[backend];
    if (port === undefined) throw new Error(`no port for backend ${backend}`);
    return [
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: backend, namespace: INGRESS_ROUTES_NAMESPACE },
        spec: { selector: { app: backend }, ports: [{ name: 'http', port: 80, targetPort: port }] },
      },
      endpointSlice(
        INGRESS_ROUTES_NAMESPACE,
        backend,
        { name: 'http', port },
        nodes.map((n) => endpointOn(n, true)),
      ),
    ];
  });
}

export interface LabIngressOptions {
  readonly cp: ControlPlane;
  readonly run: Run;
  /** Their namespaces must reach the API server at cp.url already (api-bridge.ts). */
  readonly nodes: readonly Host[];
  /** Logs, scripts and Traefik's token go here. */
  readonly dir: string;
  readonly log: Logger;
}

export interface LabIngress {
  /**
   * Applies Traefik's Service (call it once the lab's pools exist) and waits until the installation is done, the
   * Service has its address and every host name reaches its own backend through that address from `client`.
   */
  ready(client: Host, timeoutMs?: number): Promise<IngressDemo>;
  /** Stops Traefik and the backends. */
  stop(): Promise<void>;
}

/** kubectl as the lab's admin, without blocking the supervisor while the API server works (CRDs take seconds). */
function kubectl(cp: ControlPlane, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      join(cp.binaries, 'kubectl'),
      [`--kubeconfig=${cp.kubeconfig}`, ...args],
      { encoding: 'utf8', timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`kubectl ${args.join(' ')}: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      },
    );
    child.stdin?.end(input);
  });
}

/**
 * Starts the backends at once and, in the background, installs the CRDs and objects, starts a Traefik per node and
 * marks each ready in its EndpointSlice once it answers /ping, so that all of it overlaps the rest of the lab's start;
 * from then on a Traefik that exits is marked not ready and started again 5 s later, as a DaemonSet would. The Traefik
 * Service is applied in ready(), once the lab's pools exist, so that Beacon LB never sees it asking for an address
 * outside every pool.
 */
export function startLabIngress(options: LabIngressOptions): LabIngress {
  const { cp, run, nodes, log } = options;
  const dir = join(options.dir, 'ingress');
  mkdirSync(dir, { recursive: true });
  const sample = traefikSample();
  const service = sample.objects.filter((o) => o.kind === 'Service');
  const processes: ManagedProcess[] = [];
  for (const node of nodes) {
    for (const { backend } of INGRESS_HOSTS) {
      processes.push(
        startHttpBackend({
          name: `${backend}-${node.role}`,
          ns: node.ns,
          port: BACKEND_PORTS[backend] ?? 0,
          text: `${backend} from ${node.role}`,
          dir,
          run,
        }),
      );
    }
  }
  const traefik = new Map<string, ManagedProcess>();
  const ready = new Map<string, boolean>(nodes.map((n) => [n.role, false]));
  let stopped = false;
  /** Read through a function: the flag changes while the watchdog and the installation await. */
  const isStopped = (): boolean => stopped;
  let watchdog: Promise<void> | undefined;
  let startTraefik: (node: Host) => ManagedProcess = () => {
    throw new Error('Traefik is not installed yet');
  };

  const began = performance.now();
  let installMs = 0;
  const install = async (): Promise<void> => {
    const binary = await traefikBinary();
    const crds = gatewayApiCrds();
    // Server-side: the CRDs are larger than the client-side last-applied annotation allows.
    await kubectl(cp, ['apply', '--server-side', ...crds.files.flatMap((f) => ['-f', f])]);
    await kubectl(cp, ['wait', '--for=condition=Established', '--timeout=60s', '-f', crds.files.join(',')]);
    const objects = [
      ...sample.objects.filter((o) => o.kind !== 'Service'),
      ...backendObjects(nodes),
      ...manifests('routes.yaml'),
    ];
    await kubectl(cp, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
    const tokenFile = join(dir, 'traefik.token');
    const token = await kubectl(cp, [
      'create',
      'token',
      'traefik',
      '-n',
      INGRESS_CONTROLLER.namespace,
      '--duration=24h',
    ]);
    writeFileSync(tokenFile, token.trim(), { mode: 0o600 });
    const args = traefikArgs(sample.args, { url: cp.url, caFile: cp.certificates.caCert, tokenFile });
    startTraefik = (node) => {
      const p = startProcess({
        name: `traefik-${node.role}`,
        command: binary,
        args,
        netns: node.ns,
        logFile: join(dir, `traefik-${node.role}.log`),
      });
      run.recordProcess(p.pid);
      return p;
    };
    if (isStopped()) return;
    for (const node of nodes) traefik.set(node.role, startTraefik(node));
    await Promise.all(nodes.map((n) => waitPing(n, 90_000)));
    for (const n of nodes) ready.set(n.role, true);
    await publishReadiness();
    watchdog = watch();
    installMs = performance.now() - began;
  };

  const pings = async (node: Host): Promise<boolean> => {
    const res = await execIn(node.ns, ['curl', '-sf', '--max-time', '1', `http://127.0.0.1:${PING_PORT}/ping`], 3000);
    return res.code === 0;
  };
  const publishReadiness = (): Promise<string> =>
    kubectl(
      cp,
      ['apply', '-f', '-'],
      JSON.stringify(
        endpointSlice(
          INGRESS_CONTROLLER.namespace,
          INGRESS_CONTROLLER.service,
          { name: 'web', port: sample.webPort },
          nodes.map((n) => endpointOn(n, ready.get(n.role) === true)),
        ),
      ),
    );
  /** Whether Traefik on `node` answers /ping within `timeoutMs`: false once the lab stops; throws if it exits. */
  const waitPing = async (node: Host, timeoutMs: number): Promise<boolean> => {
    const outcome = await waitUntil(
      `Traefik on ${node.role} to answer /ping`,
      async () => {
        if (isStopped() || !traefik.get(node.role)?.running()) return 'exited' as const;
        return (await pings(node)) ? ('ready' as const) : undefined;
      },
      timeoutMs,
      250,
    );
    if (outcome === 'exited' && !isStopped())
      throw new Error(`Traefik on ${node.role} exited: ${traefik.get(node.role)?.tail(5) ?? ''}`);
    return outcome === 'ready';
  };
  // As a DaemonSet: a Traefik that exits leaves the EndpointSlice's ready endpoints and starts again after a delay.
  const watch = async (): Promise<void> => {
    while (!isStopped()) {
      await sleep(500);
      for (const node of nodes) {
        const p = traefik.get(node.role);
        if (isStopped() || !p || p.running()) continue;
        log.warn({ node: node.role }, `Traefik exited; not ready, restarting in ${RESTART_DELAY_MS / 1000} s`);
        try {
          ready.set(node.role, false);
          await publishReadiness();
          await sleep(RESTART_DELAY_MS);
          if (isStopped()) break;
          traefik.set(node.role, startTraefik(node));
          if (!(await waitPing(node, 60_000))) continue;
          ready.set(node.role, true);
          await publishReadiness();
        } catch (error) {
          log.error({ node: node.role, err: String(error) }, 'Traefik restart failed');
        }
      }
    }
  };

  const installed = install();
  // ready() reports a failure; until then it must not count as unhandled.
  installed.catch(() => undefined);

  return {
    async ready(client, timeoutMs = 90_000) {
      const waited = performance.now();
      await installed;
      await kubectl(cp, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: service }));
      const { namespace, service: name } = INGRESS_CONTROLLER;
      const ip = await waitUntil(
        `an address for Service ${namespace}/${name}`,
        async () =>
          (
            await kubectl(cp, [
              '-n',
              namespace,
              'get',
              'service',
              name,
              '-o',
              'jsonpath={.status.loadBalancer.ingress[0].ip}',
            ])
          ).trim() || undefined,
        30_000,
        250,
      );
      // Traefik serves a route once it has seen the route and its backend's ready endpoints: wait until every host
      // name reaches its own backend through the address.
      await waitUntil(
        `every host name served through ${ip}`,
        async () => {
          const res = await execIn(client.ns, ingressCurlArgs(ip), 8000);
          const lines = res.stdout.trim().split('\n');
          return res.code === 0 && INGRESS_HOSTS.every(({ backend }, i) => lines[i]?.startsWith(`${backend} from `))
            ? true
            : undefined;
        },
        timeoutMs,
        250,
      );
      const now = performance.now();
      log.info(
        { ip, installMs: Math.round(installMs), readyMs: Math.round(now - began), waitedMs: Math.round(now - waited) },
        'ingress ready',
      );
      return { ip, hosts: INGRESS_HOSTS };
    },
    async stop() {
      stopped = true;
      await installed.catch(() => undefined);
      await Promise.all([...traefik.values(), ...processes].map((p) => p.stop(2000)));
      await watchdog;
    },
  };
}
