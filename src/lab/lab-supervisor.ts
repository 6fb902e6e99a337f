// The lab's long-lived process (`beaconlb lab supervise`, started by `lab up`): it owns the run, starts the control
// plane, the network, a BGP router (BIRD or FRR), Beacon LB's controller and speakers and a stand-in kube-proxy,
// creates sample objects (a layer-2 Service and a BGP Service) and an ingress (Traefik behind one address:
// lab-ingress.ts), restarts components that die (as a Deployment and a DaemonSet would), and removes everything on
// SIGTERM.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../platform/logger.ts';
import { Lifecycle } from '../platform/lifecycle.ts';
import { systemClock } from '../platform/clock.ts';
import { ApiClient } from '../k8s/api/api-client.ts';
import { connectionFromKubeconfig } from '../k8s/api/kube-config.ts';
import { Informer } from '../k8s/informer.ts';
import type { ServiceObject } from '../core/config/service-object.ts';
import { startApiBridge, type ApiBridge } from './api-bridge.ts';
import { startBgpRouter, type BgpRouter, type RouterKind } from './bgp-router.ts';
import {
  metricValue,
  startControllerProcess,
  startSpeakerProcess,
  type ComponentContext,
  type ComponentProcess,
} from './component-process.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { startHttpBackend } from './http-backend.ts';
import { installBase } from './install-base.ts';
import { startLabIngress } from './lab-ingress.ts';
import { readLabState, writeLabState, type LabState } from './lab-state.ts';
import type { ManagedProcess } from './managed-process.ts';
import { arpingMacs } from './layer2-probe.ts';
import { macAddress } from './netns.ts';
import { registerRun, sweepStaleRuns, type Run } from './run-registry.ts';
import { applyProxyRules, BACKEND_PORT, type ProxyEndpointSlice } from './service-proxy.ts';
import { createTestBed, type Host, type TestBed } from './test-bed.ts';
import { waitUntil } from './wait-until.ts';

export const LAB_POOL_V4 = '198.51.100.64/27';
const RESTART_DELAY_MS = 5000;
export const LAB_POOL_V6 = '2001:db8:a::100/120';
/** Off both segments: reachable only through the router's BGP routes. */
export const LAB_BGP_POOL_V4 = '198.51.100.128/27';
export const LAB_BGP_POOL_V6 = '2001:db8:c::/120';
export const LAB_ROUTER_AS = 65000;
export const LAB_NODE_AS = 65001;

/** A dual-stack LoadBalancer Service in namespace demo in front of the lab's hello backends (port 80). */
const helloService = (name: string, annotations: Record<string, string>): unknown => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'demo', ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
  spec: {
    type: 'LoadBalancer',
    ipFamilyPolicy: 'PreferDualStack',
    ipFamilies: ['IPv4', 'IPv6'],
    selector: { app: 'hello' },
    ports: [{ name: 'http', port: 80, targetPort: BACKEND_PORT }],
  },
});

const sampleObjects = (routerAddress: string): unknown[] => [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } },
  {
    apiVersion: 'beaconlb.io/v1alpha1',
    kind: 'IPPool',
    metadata: { name: 'lab-l2' },
    spec: { addresses: [LAB_POOL_V4, LAB_POOL_V6] },
  },
  {
    apiVersion: 'beaconlb.io/v1alpha1',
    kind: 'L2Advertisement',
    metadata: { name: 'lab-l2' },
    spec: { ipPools: ['lab-l2'] },
  },
  helloService('hello', {}),
  {
    apiVersion: 'beaconlb.io/v1alpha1',
    kind: 'IPPool',
    metadata: { name: 'lab-bgp' },
    spec: { addresses: [LAB_BGP_POOL_V4, LAB_BGP_POOL_V6], autoAssign: false },
  },
  {
    apiVersion: 'beaconlb.io/v1alpha1',
    kind: 'BGPPeer',
    metadata: { name: 'lab-router' },
    spec: {
      myASN: LAB_NODE_AS,
      peerASN: LAB_ROUTER_AS,
      peerAddress: routerAddress,
      connectTime: '1s',
      gracefulRestart: { enabled: true },
    },
  },
  {
    apiVersion: 'beaconlb.io/v1alpha1',
    kind: 'BGPAdvertisement',
    metadata: { name: 'lab-bgp' },
    spec: { ipPools: ['lab-bgp'], communities: ['65000:100'] },
  },
  helloService('hello-bgp', { 'beaconlb.io/ip-pool': 'lab-bgp' }),
];

// Long (~235 lines): the lab's parts and their start and stop order declared once (Lifecycle), each using the ones above it.
export async function superviseLab(
  stateDir: string,
  nodeCount: number,
  routerKind: RouterKind,
  log: Logger,
): Promise<number> {
  mkdirSync(stateDir, { recursive: true });
  const state: LabState = { phase: 'starting', supervisorPid: process.pid, logDir: join(stateDir, 'logs') };
  writeLabState(stateDir, state);
  const logDir = join(stateDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  sweepStaleRuns();
  const run: Run = registerRun();
  state.runId = run.id;
  let stopping = false;
  /** Read through a function: the flag changes while the supervision loop awaits. */
  const isStopping = (): boolean => stopping;
  const components = new Map<string, ComponentProcess>();
  const backends: ManagedProcess[] = [];
  // Each part is added as it starts; teardown stops them in the reverse order (the components first, the run last).
  const lifecycle = new Lifecycle(log);
  lifecycle.started({
    name: 'run',
    stop: () => {
      run.close();
    },
  });
  const teardown = (): Promise<void> => lifecycle.stop();
  const terminated = new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });

  try {
    log.info('starting the control plane (the first run builds it from the Go module proxy)');
    const cp: ControlPlane = await startControlPlane({ dir: join(stateDir, 'control-plane'), run });
    lifecycle.started({ name: 'control plane', stop: () => cp.stop() });
    installBase(cp);
    const ctx: ComponentContext = { cp, run, dir: logDir };
    log.info({ nodes: nodeCount }, 'building the network');
    const bed: TestBed = await createTestBed({ run, nodes: nodeCount });
    lifecycle.started({
      name: 'network',
      stop: () => {
        bed.destroy();
      },
    });
    const bridge: ApiBridge = await startApiBridge(cp.port, logDir, run);
    lifecycle.started({ name: 'api bridge', stop: () => bridge.stop() });
    lifecycle.started({
      name: 'backends',
      stop: async () => {
        await Promise.all(backends.map((b) => b.stop(500)));
      },
    });
    const nodes = bed.nodes;
    state.nodes = [];
    for (const node of nodes) {
      await bridge.connect(node.ns);
      cp.kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name: node.role, labels: { 'kubernetes.io/hostname': node.role } },
        }),
      );
      // The backend a Pod would run: one HTTP answer per connection, naming the node that served it.
      backends.push(
        startHttpBackend({
          name: `backend-${node.role}`,
          ns: node.ns,
          port: BACKEND_PORT,
          text: `hello from ${node.role}`,
          dir: logDir,
          run,
        }),
      );
      state.nodes.push({
        name: node.role,
        ns: node.ns,
        mac: (await macAddress(node.ns, node.dev)).toLowerCase(),
        ipv4: node.ipv4,
        ipv6: node.ipv6,
      });
    }
    log.info('starting the ingress: Traefik on every node (lab-ingress.ts)');
    const ingress = startLabIngress({ cp, run, nodes, dir: logDir, log });
    lifecycle.started({ name: 'ingress', stop: () => ingress.stop() });
    state.client = { ns: bed.client.ns, ipv4: bed.client.ipv4, ipv6: bed.client.ipv6 };
    state.client2 = { ns: bed.client2.ns, ipv4: bed.client2.ipv4, ipv6: bed.client2.ipv6 };
    log.info({ router: routerKind }, 'starting the BGP router');
    const router: BgpRouter = await startBgpRouter({
      kind: routerKind,
      ns: bed.router.ns,
      dir: join(logDir, `router-${routerKind}`),
      run,
      asn: LAB_ROUTER_AS,
      routerId: bed.router.ipv4,
      neighbors: nodes.map((n) => ({ address: n.ipv4, asn: LAB_NODE_AS })),
      gracefulRestart: true,
    });
    lifecycle.started({ name: 'bgp router', stop: () => router.stop() });
    state.router = { ns: bed.router.ns, kind: routerKind, asn: LAB_ROUTER_AS };
    state.kubeconfig = cp.kubeconfig;
    state.kubectl = join(cp.binaries, 'kubectl');

    // The stand-in kube-proxy follows Services.
    const client = new ApiClient(connectionFromKubeconfig(cp.kubeconfig), 'beaconlb-lab');
    lifecycle.started({
      name: 'api client',
      stop: () => {
        client.close();
      },
    });
    const hosts: Host[] = [...nodes];
    let pending: ReturnType<typeof setTimeout> | undefined;
    const onChange = (): void => {
      pending ??= setTimeout(() => {
        pending = undefined;
        for (const host of hosts) {
          try {
            applyProxyRules(host, informer.list(), slices.list());
          } catch (error) {
            log.warn({ node: host.role, err: String(error) }, 'proxy rules failed');
          }
        }
      }, 50);
    };
    const informer = new Informer<ServiceObject>({
      client,
      path: '/api/v1/services',
      clock: systemClock,
      log,
      onChange,
    });
    const slices = new Informer<ProxyEndpointSlice>({
      client,
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      clock: systemClock,
      log,
      onChange,
    });
    informer.start();
    slices.start();
    lifecycle.started({
      name: 'service proxy',
      stop: () => {
        informer.stop();
        slices.stop();
      },
    });
    lifecycle.started({
      name: 'controller and speakers',
      stop: async () => {
        stopping = true;
        await Promise.all([...components.values()].map((c) => c.stop(3000)));
      },
    });

    log.info('starting the controller and the speakers');
    components.set('controller', await startControllerProcess(ctx, ['--no-leader-elect', '--log-level=info']));
    for (const node of nodes) components.set(node.role, await startSpeakerProcess(ctx, node, ['--log-level=info']));
    cp.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: sampleObjects(bed.router.ipv4) }),
    );
    // Awaited below; meanwhile the Traefik Service gets its address alongside the others.
    const ingressReady = ingress.ready(bed.client);
    ingressReady.catch(() => undefined);
    const addressesOf = (name: string): Promise<string[]> =>
      waitUntil(
        `demo/${name} to get its addresses`,
        () => {
          const svc = informer.get(name, 'demo');
          const found = (svc?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
          return found.length === 2 ? found : undefined;
        },
        30_000,
      );
    const ips = await addressesOf('hello');
    const bgpIps = await addressesOf('hello-bgp');
    state.services = { 'demo/hello': ips, 'demo/hello-bgp': bgpIps };
    log.info('waiting for the BGP routes at the router');
    await waitUntil(
      'BGP routes from every node at the router',
      async () => {
        const hops = await Promise.all(
          bgpIps.map((ip) => router.kernelNextHops(`${ip}/${ip.includes(':') ? 128 : 32}`)),
        );
        return hops.every((h) => h.length === nodes.length) ? true : undefined;
      },
      60_000,
      250,
    );
    const demo = await ingressReady;
    // The speakers serve by Lease liveness until the controller publishes the first membership record (once they
    // all run probes and none arrived for 10 s), then switch to probes with a silence of about 3 s (ADR 0019,
    // "Start-up and fallback"): report the lab ready after that, not during it.
    log.info('waiting for the speakers to switch to probe failure detection');
    await waitUntil(
      'every speaker probing its peers, and the layer-2 address answered',
      async () => {
        for (const node of nodes) {
          const text = await (components.get(node.role)?.metrics() ?? Promise.resolve('')).catch(() => '');
          if (metricValue(text, 'beaconlb_memberlist_datagrams_sent_total') === 0) return undefined;
        }
        const v4 = ips.find((ip) => !ip.includes(':'));
        return v4 === undefined || (await arpingMacs(bed.client.ns, v4, 1, 'eth0', 1)).length === 1 ? true : undefined;
      },
      60_000,
      250,
    );
    state.ingress = { ip: demo.ip, hosts: demo.hosts.map((h) => ({ ...h })) };
    state.services['traefik/traefik'] = [demo.ip];
    const updateState = (): void => {
      for (const n of state.nodes ?? []) {
        const pid = components.get(n.name)?.pid;
        if (pid !== undefined) n.speakerPid = pid;
      }
      writeLabState(stateDir, state);
    };
    state.phase = 'ready';
    updateState();
    log.info({ ips }, 'lab ready');

    // Keep components running, as Kubernetes would.
    void (async () => {
      while (!isStopping()) {
        await sleep(500);
        for (const [name, component] of components) {
          if (isStopping() || component.running()) continue;
          // Like a DaemonSet's restart back-off, and longer than the lease: `lab failover` shows a takeover.
          log.warn({ component: name }, `component exited; restarting in ${RESTART_DELAY_MS / 1000} s`);
          await sleep(RESTART_DELAY_MS);
          if (isStopping()) break;
          const node = nodes.find((n) => n.role === name);
          try {
            components.set(
              name,
              node
                ? await startSpeakerProcess(ctx, node, ['--log-level=info'])
                : await startControllerProcess(ctx, ['--no-leader-elect', '--log-level=info']),
            );
            updateState();
          } catch (error) {
            log.error({ component: name, err: String(error) }, 'restart failed');
          }
        }
      }
    })();
    await terminated;
    state.phase = 'stopping';
    writeLabState(stateDir, state);
    log.info('stopping the lab');
    await teardown();
    rmSync(stateDir, { recursive: true, force: true });
    return 0;
  } catch (error) {
    log.error({ err: String(error) }, 'lab failed');
    const current = readLabState(stateDir) ?? state;
    writeLabState(stateDir, { ...current, phase: 'failed', error: (error as Error).message });
    await teardown();
    return 1;
  }
}
