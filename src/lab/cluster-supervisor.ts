// `beaconlb lab up --cluster`: keeps a cluster lab (cluster-lab.ts) running until SIGTERM, with Beacon LB installed
// from config/install.yaml, an IPPool and L2Advertisement off the node segment, and two demos: three replicas of the
// demo server behind a LoadBalancer Service, and Traefik behind one routing two host names to two backends
// (ingress-demo.ts). Writes the lab's state for `lab status|env|failover|down`.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../platform/logger.ts';
import { CLUSTER_POOL, installBeaconLb, startClusterLab, type ClusterLab } from './cluster-lab.ts';
import { controlPlaneBinaries } from './control-plane.ts';
import { installIngressDemo } from './ingress-demo.ts';
import { readLabState, writeLabState, type LabState } from './lab-state.ts';
import { registerRun, sweepStaleRuns } from './run-registry.ts';
import { waitUntil } from './wait-until.ts';

const DEMO_PORT = 8080;

function demoObjects(image: string): object[] {
  return [
    {
      apiVersion: 'beaconlb.io/v1alpha1',
      kind: 'IPPool',
      metadata: { name: 'lab' },
      spec: { addresses: [CLUSTER_POOL] },
    },
    {
      apiVersion: 'beaconlb.io/v1alpha1',
      kind: 'L2Advertisement',
      metadata: { name: 'lab' },
      spec: { ipPools: ['lab'] },
    },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'hello', namespace: 'demo' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'hello' } },
        template: {
          metadata: { labels: { app: 'hello' } },
          spec: {
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: 'kubernetes.io/hostname',
                whenUnsatisfiable: 'ScheduleAnyway',
                labelSelector: { matchLabels: { app: 'hello' } },
              },
            ],
            containers: [
              {
                name: 'hello',
                image,
                imagePullPolicy: 'Never',
                ports: [{ containerPort: DEMO_PORT }],
                readinessProbe: { httpGet: { path: '/', port: DEMO_PORT }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'hello', namespace: 'demo' },
      spec: {
        type: 'LoadBalancer',
        selector: { app: 'hello' },
        ports: [{ name: 'http', port: 80, targetPort: DEMO_PORT }],
      },
    },
  ];
}

export async function superviseClusterLab(stateDir: string, nodeCount: number, log: Logger): Promise<number> {
  mkdirSync(stateDir, { recursive: true });
  const logDir = join(stateDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const state: LabState = { phase: 'starting', mode: 'cluster', supervisorPid: process.pid, logDir };
  writeLabState(stateDir, state);
  sweepStaleRuns();
  const run = registerRun();
  state.runId = run.id;
  let lab: ClusterLab | undefined;
  const terminated = new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  const teardown = async (): Promise<void> => {
    await lab?.stop();
    run.close();
  };
  try {
    const started = performance.now();
    lab = await startClusterLab({
      run,
      dir: join(stateDir, 'cluster'),
      nodes: nodeCount,
      log: (line) => {
        log.info(line);
      },
    });
    const up = lab;
    log.info('installing Beacon LB from config/install.yaml');
    installBeaconLb(up);
    up.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: demoObjects(up.images.demo) }),
    );
    up.kubectl(['-n', 'demo', 'rollout', 'status', 'deployment/hello', '--timeout=120s'], undefined, 130_000);
    const ips = await waitUntil(
      'demo/hello to get its address',
      () => {
        const svc = JSON.parse(up.kubectl(['-n', 'demo', 'get', 'service', 'hello', '-o', 'json'])) as {
          status: { loadBalancer?: { ingress?: Array<{ ip?: string }> } };
        };
        const found = (svc.status.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter(Boolean);
        return found.length ? found : undefined;
      },
      60_000,
      250,
    );
    log.info('installing Traefik behind one Beacon LB address, with an Ingress and an HTTPRoute');
    const ingress = await installIngressDemo(up, up.images.ingress, up.images.demo);
    Object.assign(state, {
      phase: 'ready',
      kubeconfig: up.kubeconfig,
      kubectl: join(controlPlaneBinaries(), 'kubectl'),
      nodes: up.nodes.map((n) => ({ name: n.name, ns: n.ns, mac: n.mac, ipv4: n.ip, ipv6: '' })),
      client: { ns: up.client.ns, ipv4: up.client.ip, ipv6: '' },
      services: { 'demo/hello': ips, 'traefik/traefik': [ingress.ip] },
      ingress: { ip: ingress.ip, hosts: ingress.hosts.map((h) => ({ ...h })) },
      startMillis: Math.round(performance.now() - started),
      timings: up.timings,
    } satisfies Partial<LabState>);
    writeLabState(stateDir, state);
    log.info({ ips, startMillis: state.startMillis }, 'cluster lab ready');
    await terminated;
    writeLabState(stateDir, { ...state, phase: 'stopping' });
    log.info('stopping the cluster lab');
    await teardown();
    rmSync(stateDir, { recursive: true, force: true });
    return 0;
  } catch (error) {
    log.error({ err: String(error) }, 'cluster lab failed');
    const current = readLabState(stateDir) ?? state;
    writeLabState(stateDir, { ...current, phase: 'failed', error: (error as Error).message });
    await teardown();
    return 1;
  }
}
