// Speaker memory (prints one JSON object): one real speaker process (layer 2, in a node's network namespace, the
// real kube-apiserver + etcd and the controller), RSS and V8 heap used:
//  - idle: synced, one Service owned, after a settle;
//  - owning N addresses (IPv6 Services created in bulk, all owned by the one node), after a settle;
// each the median of a few samples a second apart; and the speaker's CPU seconds from the first create until it
// owned them all. With --heap-snapshots DIR the speaker runs with
// --heapsnapshot-signal and a snapshot (owning.heapsnapshot, and idle.heapsnapshot with --idle-snapshot) is
// written there (for Chrome DevTools or a script).
// Usage: node bench/speaker-memory.ts [--addresses 5000] [--settle 10] [--heap-snapshots DIR [--idle-snapshot]]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startControlPlane } from '../src/lab/control-plane.ts';
import { registerRun } from '../src/lab/run-registry.ts';
import { createTestBed } from '../src/lab/test-bed.ts';
import { startApiBridge } from '../src/lab/api-bridge.ts';
import { installBase, type ClusterFixture } from '../e2e/support/cluster.ts';
import { metricValue, startController } from '../e2e/support/controller-process.ts';
import { startSpeaker } from '../e2e/support/speaker-process.ts';
import { applyPool, createObject, createService, kubeClients, waitFor, waitForIngress } from '../e2e/support/kube.ts';
import { percentile, rssMb } from './support/measure.ts';
import { cpuSeconds } from './support/process-usage.ts';

const { values } = parseArgs({
  options: {
    addresses: { type: 'string', default: '5000' },
    settle: { type: 'string', default: '10' },
    'heap-snapshots': { type: 'string' },
    'idle-snapshot': { type: 'boolean', default: false },
  },
});
const ADDRESSES = Number(values.addresses);
const SETTLE_S = Number(values.settle);
const SNAPSHOTS = values['heap-snapshots'];
if (SNAPSHOTS) {
  mkdirSync(SNAPSHOTS, { recursive: true });
  // Inherited by the speaker (the control plane's binaries ignore it).
  process.env['NODE_OPTIONS'] =
    `${process.env['NODE_OPTIONS'] ?? ''} --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${SNAPSHOTS}`.trim();
}

const run = registerRun();
const dir = mkdtempSync(join(tmpdir(), `beaconlb-bench-mem-${run.id}-`));
const cp = await startControlPlane({ dir: join(dir, 'cp'), run });
const cleanups: Array<() => Promise<void> | void> = [];
const cluster: ClusterFixture = { cp, run, dir, defer: (c) => void cleanups.push(c) };
const result: Record<string, unknown> = { addresses: ADDRESSES, compiled: Boolean(process.env['BEACONLB_COMPILED']) };
const bed = await createTestBed({ run, nodes: 1 });
const bridge = await startApiBridge(cp.port, dir, run);

/** Median RSS (MB) and V8 heap used (MB, from the speaker's own metrics) over five samples a second apart. */
async function sample(pid: number, metrics: () => Promise<string>): Promise<Record<string, number>> {
  const rss: number[] = [];
  const heap: number[] = [];
  const heapTotal: number[] = [];
  const external: number[] = [];
  for (let i = 0; i < 5; i++) {
    rss.push(rssMb(pid));
    const text = await metrics();
    const used = metricValue(text, 'nodejs_heap_used_bytes');
    if (used > 0) heap.push(Math.round(used / 2 ** 20));
    const total = metricValue(text, 'nodejs_heap_size_total_bytes');
    if (total > 0) heapTotal.push(Math.round(total / 2 ** 20));
    const outside = metricValue(text, 'nodejs_external_memory_bytes');
    if (outside > 0) external.push(Math.round(outside / 2 ** 20));
    await sleep(1000);
  }
  return {
    rss_mb: percentile(rss, 50),
    rss_min_mb: Math.min(...rss),
    rss_max_mb: Math.max(...rss),
    ...(heap.length ? { heap_used_mb: percentile(heap, 50) } : {}),
    ...(heapTotal.length ? { heap_total_mb: percentile(heapTotal, 50) } : {}),
    ...(external.length ? { external_mb: percentile(external, 50) } : {}),
    ...residentKinds(pid),
  };
}

/** Resident memory by kind (MB, /proc/PID/status): anonymous (heaps, malloc) and file-backed (the binary's pages). */
function residentKinds(pid: number): Record<string, number> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss_anon_mb: Math.round(kb('RssAnon') / 1024), rss_file_mb: Math.round(kb('RssFile') / 1024) };
}

/** Signals the speaker to write a heap snapshot and waits until the file stops growing. */
async function snapshot(pid: number, label: string): Promise<void> {
  if (!SNAPSHOTS) return;
  const before = new Set(readdirSync(SNAPSHOTS));
  process.kill(pid, 'SIGUSR2');
  const file = await waitFor(
    `heap snapshot ${label}`,
    () => Promise.resolve(readdirSync(SNAPSHOTS).find((f) => !before.has(f))),
    60_000,
  );
  let size = -1;
  for (let i = 0; i < 120; i++) {
    await sleep(2000);
    const now = statSync(join(SNAPSHOTS, file)).size;
    if (now === size) break;
    size = now;
  }
  renameSync(join(SNAPSHOTS, file), join(SNAPSHOTS, `${label}.heapsnapshot`));
}

try {
  installBase(cp);
  const kube = kubeClients(cp);
  const node = bed.nodes[0]!;
  await bridge.connect(node.ns);
  await kube.core.createNode({ body: { metadata: { name: node.role } } });
  await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
  await kube.core.createNamespace({ body: { metadata: { name: 'bulk' } } });
  await applyPool(kube, 'l2', { addresses: ['198.51.100.64/27'] });
  await applyPool(kube, 'bulk', { addresses: ['2001:db8:a::/112'], allocation: { namespaces: ['bulk'] } });
  await createObject(kube, 'L2Advertisement', 'l2', {});
  const controller = await startController(cluster, ['--no-leader-elect', '--log-level=warn']);
  cleanups.push(() => controller.stop(1000));
  await createService(kube, { name: 'one', namespace: 'web' });
  await waitForIngress(kube, 'web', 'one');

  const speaker = await startSpeaker(cluster, node, ['--log-level=warn']);
  cleanups.push(() => speaker.stop(3000));
  await waitFor(
    'the speaker to own the first address',
    async () => (metricValue(await speaker.metrics(), 'beaconlb_l2_addresses_owned') >= 1 ? true : undefined),
    30_000,
  );
  await sleep(SETTLE_S * 1000);
  result['idle'] = { ...(await sample(speaker.pid, () => speaker.metrics())), goal_rss_mb: 80 };
  // A snapshot inflates the resident memory measured after it: the idle one only with --idle-snapshot.
  if (values['idle-snapshot']) await snapshot(speaker.pid, 'idle');

  const started = performance.now();
  const cpuIdle = cpuSeconds(speaker.pid);
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < ADDRESSES) {
        const i = next++;
        await createService(kube, { name: `b-${i}`, namespace: 'bulk', ipFamilies: ['IPv6'] });
      }
    }),
  );
  await waitFor(
    `the speaker to own ${ADDRESSES + 1} addresses`,
    async () =>
      metricValue(await speaker.metrics(), 'beaconlb_l2_addresses_owned') >= ADDRESSES + 1 ? true : undefined,
    600_000,
  );
  const ownedAfter = Math.round((performance.now() - started) / 1000);
  const cpuOwning = cpuSeconds(speaker.pid) - cpuIdle;
  await sleep(SETTLE_S * 1000);
  result['owning'] = {
    addresses: ADDRESSES + 1,
    ...(await sample(speaker.pid, () => speaker.metrics())),
    goal_rss_mb: 120,
    seconds_to_own_all: ownedAfter,
    speaker_cpu_seconds_to_own_all: Math.round(cpuOwning * 10) / 10,
  };
  await snapshot(speaker.pid, 'owning');
} finally {
  for (const c of cleanups.reverse()) await c();
  await bridge.stop();
  bed.destroy();
  await cp.stop();
  run.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(result, null, 2));
