// Controller against the real API server (prints one JSON object):
//  - steady: Services created at 1/s, create -> IP in status, p50/p99;
//  - ceiling: a bare client creating N Services and writing the same status itself (the API server's own limit);
//  - burst: N Services created as fast as the API server takes them, with the controller assigning addresses:
//    total time, and create -> IP p50/p99, and the last IP after the last create returned;
//  - restart with N assigned: time until a new Service has its IP, and how many addresses changed (goal 0);
//  - controller RSS idle and with N Services.
// Usage: node bench/controller-api.ts [--services 5000] [--ceiling-services N] [--steady 20] [--concurrency 64]
// (--ceiling-services: how many the bare client creates to measure the ceiling, default --services; the ratio
// compares time per Service, so a smaller ceiling run on a busy machine still gives one, slightly in its favour:
// the API server slows as it holds more objects.)
import { mkdtempSync, rmSync } from 'node:fs';
import { percentile, rssMb } from './support/measure.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { PatchStrategy, setHeaderOptions, Watch, KubeConfig, type V1Service } from '@kubernetes/client-node';
import { startControlPlane } from '../src/lab/control-plane.ts';
import { registerRun } from '../src/lab/run-registry.ts';
import { startController, type ControllerProcess } from '../e2e/support/controller-process.ts';
import { installBase } from '../e2e/support/cluster.ts';
import { applyPool, kubeClients, serviceManifest, type Kube } from '../e2e/support/kube.ts';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '5000' },
    'ceiling-services': { type: 'string' },
    steady: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '64' },
  },
});
const N = Number(values.services);
const N_CEILING = Number(values['ceiling-services'] ?? values.services);
const STEADY = Number(values.steady);
const CONCURRENCY = Number(values.concurrency);

const round = (x: number): number => Math.round(x * 10) / 10;

async function pool<T>(items: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items) await fn(next++);
    }),
  );
}

/** Timestamps of the first status ingress of each Service in `namespace`, from a watch. */
function watchIngress(kc: KubeConfig, namespace: string): { seen: Map<string, number>; stop(): void } {
  const seen = new Map<string, number>();
  let req: { abort(): void } | undefined;
  void new Watch(kc)
    .watch(
      `/api/v1/namespaces/${namespace}/services`,
      {},
      (_type: string, obj: V1Service) => {
        const name = obj.metadata?.name ?? '';
        if (!seen.has(name) && (obj.status?.loadBalancer?.ingress?.length ?? 0) > 0) seen.set(name, performance.now());
      },
      () => undefined,
    )
    .then((r) => (req = r));
  return { seen, stop: () => req?.abort() };
}

/**
 * Retries a request the API server turned away for load (429, 500, 503, 504: its 60 s request timeout on a busy
 * machine), counting retries in the result; anything else, or the fifth failure, is thrown.
 */
const retries = { count: 0 };
async function withRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (attempt >= 5 || code === undefined || ![429, 500, 503, 504].includes(code)) throw error;
      retries.count++;
      await sleep(500 * attempt);
    }
  }
}

async function waitAll(seen: Map<string, number>, count: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (seen.size < count && performance.now() < deadline) await sleep(20);
  if (seen.size < count) throw new Error(`only ${seen.size}/${count} Services got an address`);
}

const run = registerRun();
const dir = mkdtempSync(join(tmpdir(), `beaconlb-bench-${run.id}-`));
const cp = await startControlPlane({
  dir: join(dir, 'cp'),
  run,
  apiServerArgs: ['--max-requests-inflight=800', '--max-mutating-requests-inflight=400'],
});
const result: Record<string, unknown> = { services: N, ceiling_services: N_CEILING, concurrency: CONCURRENCY };
let controller: ControllerProcess | undefined;
try {
  installBase(cp);
  const kube: Kube = kubeClients(cp);
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfig);
  for (const ns of ['steady', 'ceiling', 'burst', 'late'])
    await kube.core.createNamespace({ body: { metadata: { name: ns } } });
  await applyPool(kube, 'bench', { addresses: ['198.51.100.0/24', '203.0.113.0/24', '2001:db8:100::/104'] });
  // 10.x ClusterIPs come from the API server's range; they are data only.
  const cluster = { cp, run, dir, defer: () => undefined };
  controller = await startController(cluster, ['--log-level=warn', `--concurrency=${CONCURRENCY}`, '--quarantine=10s']);
  await sleep(1000);
  result['controller_rss_idle_mb'] = rssMb(controller.pid);

  // Steady: one Service per second.
  const steady = watchIngress(kc, 'steady');
  const created = new Map<string, number>();
  for (let i = 0; i < STEADY; i++) {
    const name = `s-${i}`;
    const t = performance.now();
    await kube.core.createNamespacedService({
      namespace: 'steady',
      body: serviceManifest({ name, namespace: 'steady', ipFamilies: ['IPv6'] }),
    });
    created.set(name, t);
    await sleep(1000);
  }
  await waitAll(steady.seen, STEADY, 10_000);
  steady.stop();
  const steadyLat = [...created].map(([n, t]) => (steady.seen.get(n) ?? Number.NaN) - t);
  result['steady_1ps_create_to_ip_ms'] = {
    p50: round(percentile(steadyLat, 50)),
    p99: round(percentile(steadyLat, 99)),
    goal_p99: 20,
  };

  // The floor of that path: a bare client creates, writes the status itself at once, and watches it arrive.
  const floorWatch = watchIngress(kc, 'ceiling');
  const floorCreated = new Map<string, number>();
  for (let i = 0; i < STEADY; i++) {
    const name = `floor-${i}`;
    const t = performance.now();
    const svc = await kube.core.createNamespacedService({
      namespace: 'ceiling',
      body: serviceManifest({ name, namespace: 'ceiling', loadBalancerClass: 'example.com/none' }),
    });
    await kube.core.patchNamespacedServiceStatus(
      {
        name,
        namespace: 'ceiling',
        body: {
          metadata: { resourceVersion: svc.metadata?.resourceVersion },
          status: { loadBalancer: { ingress: [{ ip: `2001:db8:300::${i.toString(16)}`, ipMode: 'VIP' }] } },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    floorCreated.set(name, t);
    await sleep(1000);
  }
  await waitAll(floorWatch.seen, STEADY, 10_000);
  floorWatch.stop();
  const floorLat = [...floorCreated].map(([n, t]) => (floorWatch.seen.get(n) ?? Number.NaN) - t);
  result['steady_floor_bare_client_ms'] = {
    p50: round(percentile(floorLat, 50)),
    p99: round(percentile(floorLat, 99)),
  };

  // Ceiling: the same creates and status writes by a bare client (the controller ignores another class).
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const ceilingStart = performance.now();
  await pool(N_CEILING, CONCURRENCY, async (i) => {
    const body = serviceManifest({ name: `c-${i}`, namespace: 'ceiling', loadBalancerClass: 'example.com/none' });
    const svc = await withRetry(() => kube.core.createNamespacedService({ namespace: 'ceiling', body }));
    await withRetry(() =>
      kube.core.patchNamespacedServiceStatus(
        {
          name: `c-${i}`,
          namespace: 'ceiling',
          body: {
            metadata: { resourceVersion: svc.metadata?.resourceVersion },
            status: { loadBalancer: { ingress: [{ ip: `2001:db8:200::${i.toString(16)}`, ipMode: 'VIP' }] } },
          },
        },
        mergePatch,
      ),
    );
  });
  const ceilingMs = performance.now() - ceilingStart;
  result['ceiling_bare_client_ms'] = Math.round(ceilingMs);

  // Burst with the controller.
  const burst = watchIngress(kc, 'burst');
  const createdAt = new Map<string, number>();
  const burstStart = performance.now();
  await pool(N, CONCURRENCY, async (i) => {
    const t = performance.now();
    await withRetry(() =>
      kube.core.createNamespacedService({
        namespace: 'burst',
        body: serviceManifest({ name: `b-${i}`, namespace: 'burst', ipFamilies: ['IPv6'] }),
      }),
    );
    createdAt.set(`b-${i}`, t);
  });
  const lastCreate = performance.now();
  await waitAll(burst.seen, N, Math.max(120_000, N * 10));
  burst.stop();
  const lastIp = Math.max(...burst.seen.values());
  const lat = [...createdAt].map(([n, t]) => (burst.seen.get(n) ?? Number.NaN) - t);
  result['burst'] = {
    total_ms: Math.round(lastIp - burstStart),
    create_to_ip_ms: { p50: round(percentile(lat, 50)), p99: round(percentile(lat, 99)) },
    last_ip_after_last_create_ms: Math.round(lastIp - lastCreate),
    ratio_to_ceiling: round((lastIp - burstStart) / N / (ceilingMs / N_CEILING)),
    goal_ratio_to_ceiling: 1.2,
  };
  await sleep(1500);
  result['controller_rss_with_services_mb'] = rssMb(controller.pid);
  result['controller_rss_goal_mb'] = 400;

  // Restart with everything assigned.
  const snapshot = new Map<string, string>();
  for (const ns of ['steady', 'burst']) {
    for (const svc of (await kube.core.listNamespacedService({ namespace: ns })).items) {
      snapshot.set(`${ns}/${svc.metadata?.name ?? ''}`, JSON.stringify(svc.status?.loadBalancer?.ingress ?? []));
    }
  }
  await controller.stop(5000);
  const late = watchIngress(kc, 'late');
  await kube.core.createNamespacedService({
    namespace: 'late',
    body: serviceManifest({ name: 'after-restart', namespace: 'late', ipFamilies: ['IPv6'] }),
  });
  const restartStart = performance.now();
  controller = await startController(cluster, ['--log-level=warn', `--concurrency=${CONCURRENCY}`]);
  await waitAll(late.seen, 1, 30_000);
  late.stop();
  const restartMs = (late.seen.get('after-restart') ?? Number.NaN) - restartStart;
  await sleep(2000);
  let changed = 0;
  for (const ns of ['steady', 'burst']) {
    for (const svc of (await kube.core.listNamespacedService({ namespace: ns })).items) {
      if (snapshot.get(`${ns}/${svc.metadata?.name ?? ''}`) !== JSON.stringify(svc.status?.loadBalancer?.ingress ?? []))
        changed++;
    }
  }
  result['restart'] = {
    process_start_to_new_service_ip_ms: Math.round(restartMs),
    goal_ms: 2000,
    addresses_changed: changed,
  };
  result['api_retries'] = retries.count;
} finally {
  await controller?.stop(2000);
  await cp.stop();
  run.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(result, null, 2));
