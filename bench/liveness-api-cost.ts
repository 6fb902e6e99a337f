// What failure detection by probes (ADR 0019) costs the API server at large N, and where it goes (prints one JSON
// object; a table on stderr). The API side only: N speakers' heartbeat Lease renewals (the real HeartbeatLease,
// each with its own API client and connections, as the speaker's ServiceAccount with a token bound to a Pod on its
// node, so the Lease admission policy of ADR 0015 runs on every write) and their membership reads (the real
// MembershipReader), and the controller's MembershipPublisher (the only Lease watcher). No UDP probes: they cost the
// API server nothing, and N probe detectors in one process do not fit 2 cores (bench/scale-liveness.ts measures
// them, and failover, at the sizes that fit). One control plane and one set of participants for all phases; each
// phase changes what a renewal does, waits one renew interval, then measures a window:
//   idle                 no renewals (the N Leases, Pods and tokens exist): the API server's own cost
//   renew                the Lease PATCH only
//   renew+quorum         + the record read from etcd with each renewal (ADR 0019 as first built)
//   renew+cache          + the record read from the watch cache at the renewal's resourceVersion
//   renew+metadata       + its metadata from the watch cache, the whole record only when it changed (ADR 0038)
//   renew+metadata-noadm the same with the Lease admission policy's binding removed (its CEL cost)
//   renew-noadm          the Lease PATCH only, without the policy
//   renew-minpatch       a merge patch of spec.renewTime only (not the speaker's labels and annotations)
//   renew-put            a PUT of the whole Lease (as the kubelet renews its node Lease)
// Usage: node bench/liveness-api-cost.ts [--nodes 1000] [--renew 10] [--window 40]
//        [--phases (a phase name, then @<seconds> for another renew interval) idle,renew,renew+quorum,renew+cache,renew+metadata,renew+metadata-noadm,renew-noadm] [--out file.json]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { request as httpsRequest } from 'node:https';
import { ApiClient } from '../src/k8s/api/api-client.ts';
import { connectionFromKubeconfig, type Connection } from '../src/k8s/api/kube-config.ts';
import { HeartbeatLease } from '../src/k8s/heartbeat-lease.ts';
import { paths } from '../src/k8s/api/api-paths.ts';
import { microTime } from '../src/k8s/api/micro-time.ts';
import { MembershipPublisher, MembershipReader, type RecordReadMode } from '../src/k8s/speaker-membership.ts';
import { startControlPlane } from '../src/lab/control-plane.ts';
import { INSTALL_NAMESPACE } from '../src/lab/component-process.ts';
import { installBase } from '../src/lab/install-base.ts';
import { registerRun } from '../src/lab/run-registry.ts';
import { systemClock } from '../src/platform/clock.ts';
import { createLogger } from '../src/platform/logger.ts';
import { parsePrometheusText, type Sample } from './support/apiserver-metrics.ts';
import { hollowNodeName } from './support/hollow-fleet.ts';
import { rssMb } from './support/measure.ts';
import { cpuSeconds, findProcess } from './support/process-usage.ts';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '1000' },
    renew: { type: 'string', default: '10' },
    window: { type: 'string', default: '40' },
    phases: {
      type: 'string',
      default: 'idle,renew,renew+quorum,renew+cache,renew+metadata,renew+metadata-noadm,renew-noadm',
    },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(readFileSync(import.meta.filename, 'utf8').split('\nimport')[0]);
  process.exit(0);
}
const N = Number(values.nodes);
const RENEW_MS = Number(values.renew) * 1000;
const WINDOW_MS = Number(values.window) * 1000;
const PHASES = values.phases.split(',');
/** The longest renew interval of any phase: the Lease duration is 4 of them and records 3 apart, so none expires. */
const LONGEST_MS = Math.max(RENEW_MS, ...PHASES.map((p) => Number(p.split('@')[1] ?? 0) * 1000));
const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;
const log = createLogger({ level: 'silent', component: 'liveness-api-cost' });

/** How a renewal writes the Lease: the speaker's merge patch, a patch of spec.renewTime only, or a PUT. */
type Write = 'patch' | 'minpatch' | 'put';
interface Phase {
  /** The renew interval of this phase (`@<seconds>` after its name; default --renew). */
  renewMs: number;
  renew: boolean;
  write: Write;
  read: RecordReadMode | undefined;
  admission: boolean;
}
function phaseOf(full: string): Phase {
  const [name = '', at] = full.split('@');
  const renewMs = at === undefined ? RENEW_MS : Number(at) * 1000;
  const admission = !name.endsWith('-noadm');
  const [what, read] = name.replace(/-noadm$/, '').split('+');
  if (what === 'idle') return { renewMs, renew: false, write: 'patch', read: undefined, admission: true };
  const write =
    what === 'renew' ? 'patch' : what === 'renew-minpatch' ? 'minpatch' : what === 'renew-put' ? 'put' : undefined;
  if (write === undefined || (read !== undefined && read !== 'quorum' && read !== 'cache' && read !== 'metadata'))
    throw new Error(`unknown phase ${name}`);
  return { renewMs, renew: true, write, read, admission };
}

const COUNTERS = new Set([
  'apiserver_request_total',
  'apiserver_request_duration_seconds_sum',
  'apiserver_watch_events_total',
  'apiserver_watch_events_sizes_sum',
  'etcd_requests_total',
  'apiserver_admission_step_admission_duration_seconds_sum',
  'apiserver_validating_admission_policy_check_duration_seconds_sum',
  'apiserver_response_sizes_sum',
  'apiserver_watch_cache_read_wait_seconds_sum',
  'authentication_duration_seconds_sum',
  'authentication_token_cache_request_total',
]);

function scrape(url: string, certs: { caCert: string; adminCert: string; adminKey: string }): Promise<Sample[]> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      `${url}/metrics`,
      {
        ca: readFileSync(certs.caCert),
        cert: readFileSync(certs.adminCert),
        key: readFileSync(certs.adminKey),
        timeout: 20_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          resolve(parsePrometheusText(body, COUNTERS));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('/metrics timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Per-second deltas of `name` between two scrapes, keyed by the labels given (joined by space). */
function rates(
  a: readonly Sample[],
  b: readonly Sample[],
  seconds: number,
  name: string,
  keys: readonly string[],
  digits = 1,
): Record<string, number> {
  const sum = (samples: readonly Sample[]): Map<string, number> => {
    const out = new Map<string, number>();
    for (const s of samples) {
      if (s.name !== name) continue;
      const key = keys.map((k) => s.labels[k] ?? '').join(' ');
      out.set(key, (out.get(key) ?? 0) + s.value);
    }
    return out;
  };
  const before = sum(a);
  const out: Record<string, number> = {};
  for (const [key, value] of sum(b)) {
    const d = (value - (before.get(key) ?? 0)) / seconds;
    if (d > 0) out[key] = round(d, digits);
  }
  return Object.fromEntries(Object.entries(out).sort((x, y) => y[1] - x[1]));
}

/** Pod-bound tokens for N nodes through the API (kubectl per node would take minutes at 1,000). */
async function nodeConnections(admin: ApiClient, base: Connection, nodes: readonly string[]): Promise<Connection[]> {
  const out: Connection[] = [];
  const one = async (node: string): Promise<Connection> => {
    const name = `beaconlb-speaker-${node}`;
    const pod = await admin.request<{ metadata: { uid: string } }>(
      'POST',
      `/api/v1/namespaces/${INSTALL_NAMESPACE}/pods`,
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: INSTALL_NAMESPACE, labels: { 'app.kubernetes.io/name': 'beaconlb' } },
        spec: {
          nodeName: node,
          serviceAccountName: 'beaconlb-speaker',
          containers: [{ name: 'main', image: 'beaconlb' }],
        },
      },
    );
    const token = await admin.request<{ status: { token: string } }>(
      'POST',
      `/api/v1/namespaces/${INSTALL_NAMESPACE}/serviceaccounts/beaconlb-speaker/token`,
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          expirationSeconds: 86_400,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name, uid: pod.metadata.uid },
        },
      },
    );
    return { ...base, cert: undefined, key: undefined, token: () => token.status.token };
  };
  for (let i = 0; i < nodes.length; i += 20) out.push(...(await Promise.all(nodes.slice(i, i + 20).map(one))));
  return out;
}

class Participant {
  readonly client: ApiClient;
  readonly lease: HeartbeatLease;
  readers = new Map<RecordReadMode, MembershipReader>();
  renewals = 0;
  failures = 0;
  generation = 0;
  #timer: NodeJS.Timeout | undefined;
  #keys: Uint8Array[] = [];

  constructor(connection: Connection, node: string, port: number) {
    // Speakers started at different times read the key in different renewals.
    this.renewals = port % 6;
    this.client = new ApiClient(connection, `beaconlb-speaker/${node}`);
    this.lease = new HeartbeatLease({
      client: this.client,
      namespace: INSTALL_NAMESPACE,
      node,
      clock: systemClock,
      leaseDurationMs: 4 * LONGEST_MS,
      probeAddress: () => `127.0.0.1:${port}`,
    });
    for (const mode of ['quorum', 'cache', 'metadata'] as const)
      this.readers.set(mode, new MembershipReader(this.client, INSTALL_NAMESPACE, mode));
  }

  /** The speaker's renewal (src/cmd/speaker-command.ts): the Lease, then the record (the key every sixth time). */
  async renew(phase: Phase): Promise<void> {
    try {
      const version =
        phase.write === 'patch' ? await this.lease.renew(false, RENEW_MS) : await this.#write(phase.write);
      if (phase.read) {
        const reader = this.readers.get(phase.read)!;
        if (this.#keys.length === 0 || this.renewals % 6 === 0) this.#keys = await reader.keys(RENEW_MS, version);
        const record = await reader.record(RENEW_MS, version);
        this.generation = record?.generation ?? 0;
      }
      this.renewals++;
    } catch {
      this.failures++;
      this.#written = undefined;
    }
  }

  #written: Record<string, unknown> | undefined;

  /** The variants of the renewal the speaker does not use, to compare their cost. */
  async #write(write: Write): Promise<string> {
    const path = paths.lease(INSTALL_NAMESPACE, this.lease.name);
    const renewTime = microTime(new Date());
    if (write === 'minpatch' || !this.#written) {
      const lease = await this.client.request<Record<string, unknown>>('PATCH', path, { spec: { renewTime } });
      this.#written = lease;
    } else {
      const lease = this.#written as { spec: Record<string, unknown> };
      this.#written = await this.client.request<Record<string, unknown>>('PUT', path, {
        ...lease,
        spec: { ...lease.spec, renewTime },
      });
    }
    return (this.#written as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  }

  loop(phase: () => Phase, firstDelayMs: number): void {
    const tick = async (): Promise<void> => {
      const p = phase();
      const started = performance.now();
      if (p.renew) await this.renew(p);
      this.#timer = setTimeout(() => void tick(), Math.max(0, p.renewMs - (performance.now() - started)));
    };
    this.#timer = setTimeout(() => void tick(), firstDelayMs);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.client.close();
  }
}

const run = registerRun();
const dir = mkdtempSync(join(tmpdir(), `beaconlb-apicost-${run.id}-`));
const cp = await startControlPlane({ dir: join(dir, 'cp'), run });
const participants: Participant[] = [];
let publisher: MembershipPublisher | undefined;
const results: Record<string, unknown>[] = [];
const stopOnSignal = (): void => {
  for (const p of participants) p.stop();
  publisher?.stop();
  void cp.stop().finally(() => {
    run.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });
};
process.once('SIGINT', stopOnSignal);
process.once('SIGTERM', stopOnSignal);
try {
  installBase(cp);
  const apiPid = findProcess(['kube-apiserver', `--secure-port=${cp.port}`]);
  const etcdPid = findProcess(['etcd', `--data-dir=${join(dir, 'cp', 'etcd-data')}`]);
  const adminConnection = connectionFromKubeconfig(cp.kubeconfig);
  const admin = new ApiClient(adminConnection, 'bench-admin');
  const nodes = Array.from({ length: N }, (_, i) => hollowNodeName(i));
  const t0 = performance.now();
  const connections = await nodeConnections(admin, adminConnection, nodes);
  console.error(`== ${N} node-bound tokens in ${Math.round(performance.now() - t0)} ms`);
  const publisherClient = new ApiClient(
    connectionFromKubeconfig(cp.serviceAccountKubeconfig(INSTALL_NAMESPACE, 'beaconlb-controller')),
    'beaconlb-controller/bench',
  );
  publisher = new MembershipPublisher({
    client: publisherClient,
    clock: systemClock,
    log,
    namespace: INSTALL_NAMESPACE,
    keyRotationMs: 0,
    minIntervalMs: 3 * LONGEST_MS,
  });
  publisher.start();
  let current = phaseOf('renew+quorum');
  for (let i = 0; i < N; i++) participants.push(new Participant(connections[i]!, nodes[i]!, 20_000 + i));
  // Spread the renewals over the interval, as N independent speakers' are.
  for (const [i, p] of participants.entries()) p.loop(() => current, (i / N) * RENEW_MS);
  // Until the first record lists everyone (published 10 s after the last arrival, then every 3 renewals).
  const deadline = performance.now() + 200_000;
  while ((publisher.published?.members.length ?? 0) < N && performance.now() < deadline) await sleep(1000);
  const listed = publisher.published?.members.length ?? 0;
  console.error(`== record lists ${listed} of ${N} after ${Math.round((performance.now() - t0) / 1000)} s`);
  const recordBytes = JSON.stringify(publisher.published?.members ?? []).length;

  let admissionBound = true;
  for (const name of PHASES) {
    const phase = phaseOf(name);
    if (phase.admission !== admissionBound) {
      if (phase.admission) installBase(cp);
      else cp.kubectl(['delete', 'validatingadmissionpolicybinding', 'beaconlb-speaker-lease']);
      admissionBound = phase.admission;
    }
    current = phase;
    await sleep(phase.renewMs + 2000);
    const renewals0 = participants.reduce((s, p) => s + p.renewals, 0);
    const failures0 = participants.reduce((s, p) => s + p.failures, 0);
    const before = await scrape(cp.url, cp.certificates);
    const cpu0 = { api: cpuSeconds(apiPid), etcd: cpuSeconds(etcdPid), self: process.cpuUsage() };
    const load0 = loadavg()[0]!;
    const w0 = performance.now();
    await sleep(WINDOW_MS);
    const seconds = (performance.now() - w0) / 1000;
    const cpu1 = { api: cpuSeconds(apiPid), etcd: cpuSeconds(etcdPid), self: process.cpuUsage(cpu0.self) };
    const after = await scrape(cp.url, cp.certificates);
    const r: Record<string, unknown> = {
      phase: name,
      renew_interval_s: phase.renewMs / 1000,
      seconds: round(seconds),
      load_average_1m: [round(load0, 2), round(loadavg()[0]!, 2)],
      apiserver_cpu_cores: round((cpu1.api - cpu0.api) / seconds, 3),
      etcd_cpu_cores: round((cpu1.etcd - cpu0.etcd) / seconds, 3),
      participants_cpu_cores: round((cpu1.self.user + cpu1.self.system) / 1e6 / seconds, 3),
      apiserver_rss_mb: rssMb(apiPid),
      renewals_per_s: round((participants.reduce((s, p) => s + p.renewals, 0) - renewals0) / seconds),
      renew_failures: participants.reduce((s, p) => s + p.failures, 0) - failures0,
      requests_per_s: rates(before, after, seconds, 'apiserver_request_total', ['verb', 'resource', 'code']),
      request_seconds_per_s: rates(
        before,
        after,
        seconds,
        'apiserver_request_duration_seconds_sum',
        ['verb', 'resource'],
        4,
      ),
      response_bytes_per_s: rates(before, after, seconds, 'apiserver_response_sizes_sum', ['verb', 'resource'], 0),
      etcd_requests_per_s: rates(before, after, seconds, 'etcd_requests_total', ['operation', 'resource']),
      authentication_seconds_per_s: rates(before, after, seconds, 'authentication_duration_seconds_sum', ['result'], 4),
      token_cache_requests_per_s: rates(before, after, seconds, 'authentication_token_cache_request_total', ['status']),
      watch_cache_read_wait_seconds_per_s: rates(
        before,
        after,
        seconds,
        'apiserver_watch_cache_read_wait_seconds_sum',
        ['resource'],
        4,
      ),
      watch_events_per_s: rates(before, after, seconds, 'apiserver_watch_events_total', ['resource']),
      admission_seconds_per_s: rates(
        before,
        after,
        seconds,
        'apiserver_admission_step_admission_duration_seconds_sum',
        ['operation', 'type'],
        4,
      ),
      policy_check_seconds_per_s: rates(
        before,
        after,
        seconds,
        'apiserver_validating_admission_policy_check_duration_seconds_sum',
        ['policy'],
        4,
      ),
    };
    results.push(r);
    console.error(JSON.stringify(r));
  }
  const idle = results.find((r) => r['phase'] === 'idle')?.['apiserver_cpu_cores'];
  const output = {
    benchmark: 'liveness-api-cost',
    nodes: N,
    renew_interval_s: RENEW_MS / 1000,
    record_members: listed,
    record_members_json_bytes: recordBytes,
    node: process.version,
    phases: results,
  };
  console.error(
    '\n| phase | kube-apiserver CPU (cores) | above idle | etcd CPU | renewals/s | requests/s (verb resource) | load |',
  );
  console.error('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    const api = Number(r['apiserver_cpu_cores']);
    const reqs = Object.entries(r['requests_per_s'] as Record<string, number>)
      .filter(([, v]) => v >= 0.5)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
    console.error(
      `| ${String(r['phase'])} | ${api} | ${typeof idle === 'number' ? round(api - idle, 3) : '-'} | ${String(r['etcd_cpu_cores'])} | ${String(r['renewals_per_s'])} | ${reqs} | ${(r['load_average_1m'] as number[]).join(' → ')} |`,
    );
  }
  if (values.out) writeFileSync(values.out, `${JSON.stringify(output, null, 2)}\n`);
  console.log(JSON.stringify(output, null, 2));
} finally {
  for (const p of participants) p.stop();
  publisher?.stop();
  await cp.stop();
  run.close();
  rmSync(dir, { recursive: true, force: true });
}
