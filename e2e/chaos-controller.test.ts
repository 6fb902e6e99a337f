// Chaos for the controller, against the real API server: two replicas with leader election (2 s lease), five pools
// (IPv4 and IPv6, priorities, namespace and service selectors, autoAssign: false, a tiny one that runs out),
// 2,000 Services created and churned at a bounded rate (deleted, pool annotation switched, addresses requested by
// spec.loadBalancerIP or annotation, sharing keys with disjoint ports, labels that change pool eligibility), while
// the leader (found from its Lease) is killed with SIGKILL 20 times at random moments, and once the API server and
// etcd are restarted on the same data and port. After every kill, once a new leader holds the Lease and the
// statuses settle, and at the end, an independent oracle (support/service-invariants.ts) checks the API server:
// eligible pools only, no illegal sharing, every missing address confirmed impossible and explained by an Event,
// and (from a watch over the whole run) no address taken from a Service whose request did not change, and never,
// not even for a moment, an address joining a status while another status shows it under a request that may not
// share it and that the controller had seen when it computed that status (illegal sharing observed: must be 0; joins
// that raced a request change made after that are counted apart as raced_joins, see AddressHistory).
// Seeded (printed): BEACONLB_CHAOS_SEED=<n> replays the PRNG's choices (operations, shapes, kill moments); what
// they meet depends on timing (which addresses are held, which worker goes first), so a replay is close, not exact.
// Sizes: BEACONLB_CHAOS_SERVICES, BEACONLB_CHAOS_KILLS, BEACONLB_CHAOS_RATE (operations per second).
// The run reports as named phases (subtests): the set-up, each round of churn and leader kill, the API server restart,
// the final check, the leadership terms and the oracle's self-check; it stops at the first phase that fails.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { INSTALL_NAMESPACE, useCluster } from './support/cluster.ts';
import { metricValue, startController, type ControllerProcess } from './support/controller-process.ts';
import { applyPool, serviceManifest, kubeClients } from './support/kube.ts';
import {
  AddressHistory,
  EPOCH_ANNOTATION,
  IPS_ANNOTATION,
  POOL_ANNOTATION,
  SHARING_ANNOTATION,
  checkServices,
  ipsOf,
  keyOf,
  oraclePools,
  poolObjectSpec,
  type CheckResult,
  type PoolSpec,
} from './support/service-invariants.ts';
import { ApiClient } from '../src/k8s/api/api-client.ts';
import { connectionFromKubeconfig } from '../src/k8s/api/kube-config.ts';
import { paths } from '../src/k8s/api/api-paths.ts';
import { describeError, errorCode } from '../src/k8s/api/api-error.ts';
import type { ServiceObject } from '../src/core/config/service-object.ts';
import { seededRandom } from '../src/core/seeded-random.ts';

const envNumber = (name: string, fallback: number): number => {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : Number(value);
};
const SEED = envNumber('BEACONLB_CHAOS_SEED', Math.floor(Math.random() * 2 ** 31));
const TOTAL = envNumber('BEACONLB_CHAOS_SERVICES', 2000);
const KILLS = envNumber('BEACONLB_CHAOS_KILLS', 20);
const RATE = envNumber('BEACONLB_CHAOS_RATE', 60);
const CONCURRENCY = 12;
/** Live Services are kept between these (deletes win above, creates below). */
const LIVE_LOW = 150;
const LIVE_HIGH = 260;
const ELECTION = [
  '--lease-duration=2s',
  '--renew-deadline=1500ms',
  '--retry-period=250ms',
  '--quarantine=2s',
  '--log-level=info',
];
const LEASE = 'beaconlb-controller';

const POOLS: PoolSpec[] = [
  {
    name: 'gold',
    addresses: ['198.51.100.0/25', '2001:db8:10::/116'],
    priority: 10,
    namespaceLabels: { tier: 'gold' },
  },
  { name: 'general', addresses: ['198.51.100.128/26', '203.0.113.0/26', '2001:db8:20::/108'], priority: 20 },
  { name: 'web', addresses: ['203.0.113.64/27'], priority: 5, serviceLabels: { role: 'web' } },
  { name: 'reserved', addresses: ['203.0.113.96/27', '2001:db8:30::/120'], autoAssign: false },
  { name: 'tiny', addresses: ['203.0.113.128/30'], autoAssign: false },
];
/** Created after the API server restart, to prove the pool watch came back. */
const LATE_POOL: PoolSpec = { name: 'late', addresses: ['203.0.113.160/29', '2001:db8:40::/120'], autoAssign: false };
const NAMESPACES: Record<string, Record<string, string>> = {
  'chaos-gold': { tier: 'gold' },
  'chaos-blue': { tier: 'blue' },
};
const POOL_CHOICES = ['gold', 'general', 'web', 'reserved', 'tiny', 'tiny', 'no-such-pool'];
/** In no pool: requesting one is impossible (RequestedIPNotInPool). */
const UNPOOLED = { 4: ['198.51.100.200', '203.0.113.200'], 6: ['2001:db8:99::1'] } as const;
/** Small windows of each family's pool addresses, so requests often collide with held addresses. */
const REQUESTABLE = {
  4: (i: number) =>
    [
      `198.51.100.${i % 40}`,
      `198.51.100.${128 + (i % 40)}`,
      `203.0.113.${i % 40}`,
      `203.0.113.${64 + (i % 32)}`,
      `203.0.113.${96 + (i % 32)}`,
      `203.0.113.${128 + (i % 4)}`,
    ][i % 6]!,
  6: (i: number) =>
    [
      `2001:db8:10::${(i % 40).toString(16)}`,
      `2001:db8:20::${(i % 40).toString(16)}`,
      `2001:db8:30::${(i % 40).toString(16)}`,
    ][i % 3]!,
};

interface Tracked {
  namespace: string;
  name: string;
  families: Array<4 | 6>;
  ports: Array<{ port: number; protocol: string }>;
  epoch: number;
  hasRequest: boolean;
  sharingKey: string | undefined;
  web: boolean;
  busy: boolean;
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0
    ? 0
    : Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);
};

/**
 * Runs one named phase of the run as a subtest of `t`, so the report names the phase that failed; the run stops at
 * the first phase that fails (later phases build on its state).
 */
async function phase(t: TestContext, name: string, body: () => Promise<void>): Promise<void> {
  let failure: { error: unknown } | undefined;
  await t.test(name, async () => {
    try {
      await body();
    } catch (error) {
      failure = { error };
      throw error;
    }
  });
  if (failure) throw failure.error;
}

describe('controller chaos: leader kills, API server restart, 2,000 Services churned', () => {
  const cluster = useCluster();

  it('keeps every allocation invariant', { timeout: 420_000 }, async (t) => {
    const started = performance.now();
    const rand = seededRandom(SEED);
    console.log(`chaos seed ${SEED} (replay with BEACONLB_CHAOS_SEED=${SEED})`);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
    const client = new ApiClient(connectionFromKubeconfig(cluster.cp.kubeconfig), 'chaos-test');
    cluster.defer(() => {
      client.close();
    });
    const kube = kubeClients(cluster.cp);

    const pools = [...POOLS];
    const namespaceLabels = new Map(Object.entries(NAMESPACES));

    const replicas: ControllerProcess[] = [];
    cluster.defer(async () => {
      await Promise.all(replicas.map((p) => p.stop(1000)));
    });
    /** Every replica started, with the wall time it was killed at (its leadership ends there: it logs nothing more). */
    const everStarted: Array<{ process: ControllerProcess; killedAt?: number }> = [];
    const startReplica = async (): Promise<ControllerProcess> => {
      const p = await startController(cluster, ELECTION);
      replicas.push(p);
      everStarted.push({ process: p });
      return p;
    };
    await phase(t, 'set-up: two namespaces, five pools, two controller replicas', async () => {
      for (const [name, labels] of namespaceLabels)
        await kube.core.createNamespace({ body: { metadata: { name, labels } } });
      for (const p of pools) await applyPool(kube, p.name, poolObjectSpec(p));
      await startReplica();
      await startReplica();
    });

    // ---- observation: a watch over the whole run, feeding the address history ----
    const history = new AddressHistory();
    const heldBy = new Map<string, string[]>();
    const forget = (key: string): void => {
      history.forget(key);
      lastVersion.delete(key);
      heldBy.delete(key);
    };
    const lastVersion = new Map<string, number>();
    const ours = (svc: ServiceObject): boolean => (svc.metadata.namespace ?? '').startsWith('chaos-');
    const observe = (svc: ServiceObject, where: string): void => {
      const key = keyOf(svc);
      const version = Number(svc.metadata.resourceVersion ?? 0);
      // Lists and the watch interleave: never let an older state overwrite a newer one.
      if ((lastVersion.get(key) ?? -1) >= version) return;
      lastVersion.set(key, version);
      history.observe(svc, where);
      heldBy.set(key, ipsOf(svc));
    };
    const listServices = async (): Promise<{ items: ServiceObject[]; version: string }> => {
      const list = await client.request<{ items: ServiceObject[]; metadata: { resourceVersion: string } }>(
        'GET',
        paths.services(),
        undefined,
        { timeoutMs: 20_000 },
      );
      return { items: list.items.filter(ours), version: list.metadata.resourceVersion };
    };
    let watchRestarts = 0;
    const watchErrors: string[] = [];
    const watchAbort = new AbortController();
    const watchStopped = (): boolean => watchAbort.signal.aborted;
    const watching = (async () => {
      let version = '';
      for (let attempt = 0; !watchStopped() && attempt < 10_000; attempt++) {
        try {
          if (!version) {
            const list = await listServices();
            const present = new Set(list.items.map(keyOf));
            for (const key of [...lastVersion.keys()]) {
              if (!present.has(key)) forget(key);
            }
            for (const svc of list.items) observe(svc, 'relist');
            version = list.version;
          }
          await client.watch<ServiceObject>(
            paths.services(),
            { resourceVersion: version, allowWatchBookmarks: true, timeoutSeconds: 600 },
            (event) => {
              version = event.object.metadata.resourceVersion ?? version;
              if (event.type === 'BOOKMARK' || !ours(event.object)) return;
              if (event.type === 'DELETED') forget(keyOf(event.object));
              else observe(event.object, 'watch');
            },
            watchAbort.signal,
          );
        } catch (error) {
          if (watchStopped()) break;
          watchRestarts++;
          history.streamBroken();
          if (watchErrors.length < 5) watchErrors.push(describeError(error).slice(0, 120));
          // Relist: what happened while the watch was down is only in a list.
          version = '';
          await sleep(200);
        }
      }
    })();
    cluster.defer(async () => {
      watchAbort.abort();
      await watching;
    });

    // ---- the churn driver ----
    const live = new Map<string, Tracked>();
    let serial = 0;
    const counts = { created: 0, deleted: 0, changed: 0, clashes: 0, opErrors: 0, ops: 0 };
    const changeKinds: Record<string, number> = {};
    let nextSlot = performance.now();
    const rateSlot = async (): Promise<void> => {
      const now = performance.now();
      nextSlot = Math.max(nextSlot + 1000 / RATE, now);
      if (nextSlot > now) await sleep(nextSlot - now);
    };
    /** Addresses Services hold now (from the watch), to request colliding ones. */
    const heldAddresses = (family: 4 | 6): string[] =>
      [...heldBy.values()].flat().filter((ip) => ip.includes(':') === (family === 6));
    const requestFor = (family: 4 | 6): string => {
      const r = rand();
      if (r < 0.5) return REQUESTABLE[family](Math.floor(rand() * 1000));
      if (r < 0.8) {
        const held = heldAddresses(family);
        if (held.length > 0) return pick(held);
      }
      return pick(UNPOOLED[family]);
    };
    const errorText = (error: unknown): string => describeError(error).slice(0, 200);
    const opErrorsSeen: string[] = [];
    const opFailed = (what: string, error: unknown): void => {
      counts.opErrors++;
      if (opErrorsSeen.length < 10) opErrorsSeen.push(`${what}: ${errorText(error)}`);
    };

    const create = async (): Promise<void> => {
      const i = ++serial;
      const namespace = rand() < 0.5 ? 'chaos-gold' : 'chaos-blue';
      const name = `s${i}`;
      const r = rand();
      const [families, policy]: [Array<4 | 6>, 'SingleStack' | 'PreferDualStack' | 'RequireDualStack'] =
        r < 0.45
          ? [[6], 'SingleStack']
          : r < 0.7
            ? [[4], 'SingleStack']
            : r < 0.88
              ? [[4, 6], 'PreferDualStack']
              : [[6, 4], 'RequireDualStack'];
      const web = rand() < 0.15;
      const annotations: Record<string, string> = { [EPOCH_ANNOTATION]: '1' };
      let ports = [{ port: 1000 + i, protocol: 'TCP' }, ...(rand() < 0.2 ? [{ port: 1000 + i, protocol: 'UDP' }] : [])];
      let loadBalancerIP: string | undefined;
      let sharingKey: string | undefined;
      const sharers = [...live.values()].filter(
        (t) => t.sharingKey && !t.busy && (heldBy.get(`${t.namespace}/${t.name}`)?.length ?? 0) > 0,
      );
      if (rand() < 0.03 && sharers.length > 0) {
        // A clash: same key, same port, asking for the holder's address -> SharingConflict.
        const victim = pick(sharers);
        sharingKey = victim.sharingKey;
        ports = victim.ports;
        annotations[SHARING_ANNOTATION] = sharingKey!;
        annotations[IPS_ANNOTATION] = heldBy.get(`${victim.namespace}/${victim.name}`)![0]!;
        families.splice(0, families.length, annotations[IPS_ANNOTATION].includes(':') ? 6 : 4);
        counts.clashes++;
      } else {
        if (rand() < 0.12) annotations[POOL_ANNOTATION] = pick(POOL_CHOICES);
        if (rand() < 0.08) {
          const address = requestFor(families[0]!);
          if (rand() < 0.5) loadBalancerIP = address;
          else annotations[IPS_ANNOTATION] = address;
        }
        if (rand() < 0.15) {
          sharingKey = `share-${Math.floor(rand() * 5)}`;
          annotations[SHARING_ANNOTATION] = sharingKey;
        }
      }
      const manifest = serviceManifest({
        name,
        namespace,
        annotations,
        labels: web ? { role: 'web' } : {},
        ports,
        ipFamilies: families.map((f) => (f === 4 ? 'IPv4' : 'IPv6')),
        ipFamilyPolicy: families.length === 2 ? policy : 'SingleStack',
        ...(loadBalancerIP ? { loadBalancerIP } : {}),
      });
      const t: Tracked = {
        namespace,
        name,
        families,
        ports,
        epoch: 1,
        hasRequest: Boolean(loadBalancerIP ?? annotations[IPS_ANNOTATION]),
        sharingKey,
        web,
        busy: true,
      };
      live.set(`${namespace}/${name}`, t);
      counts.created++;
      try {
        await client.request('POST', `/api/v1/namespaces/${namespace}/services`, manifest, { timeoutMs: 20_000 });
      } catch (error) {
        opFailed(`create ${name}`, error);
        if (errorCode(error) !== 0) live.delete(`${namespace}/${name}`);
      }
      t.busy = false;
    };

    const remove = async (t: Tracked): Promise<void> => {
      t.busy = true;
      try {
        await client.request('DELETE', paths.service(t.namespace, t.name), undefined, { timeoutMs: 20_000 });
        counts.deleted++;
        live.delete(`${t.namespace}/${t.name}`);
      } catch (error) {
        if (errorCode(error) === 404) live.delete(`${t.namespace}/${t.name}`);
        else opFailed(`delete ${t.name}`, error);
      }
      t.busy = false;
    };

    const change = async (t: Tracked): Promise<void> => {
      t.busy = true;
      const annotations: Record<string, string | null> = { [EPOCH_ANNOTATION]: String(t.epoch + 1) };
      const metadata: Record<string, unknown> = { annotations };
      const spec: Record<string, unknown> = {};
      const r = rand();
      let kind: string;
      if (r < 0.3) {
        kind = 'pool';
        const choice = pick([...POOL_CHOICES, null]);
        annotations[POOL_ANNOTATION] = choice;
      } else if (r < 0.55) {
        kind = 'request';
        if (t.hasRequest && rand() < 0.5) {
          annotations[IPS_ANNOTATION] = null;
          spec['loadBalancerIP'] = null;
          t.hasRequest = false;
        } else {
          const address = requestFor(pick(t.families));
          if (rand() < 0.5) {
            spec['loadBalancerIP'] = address;
            annotations[IPS_ANNOTATION] = null;
          } else {
            annotations[IPS_ANNOTATION] = address;
            spec['loadBalancerIP'] = null;
          }
          t.hasRequest = true;
        }
      } else if (r < 0.8) {
        kind = 'sharing';
        t.sharingKey = t.sharingKey && rand() < 0.5 ? undefined : `share-${Math.floor(rand() * 5)}`;
        annotations[SHARING_ANNOTATION] = t.sharingKey ?? null;
      } else {
        kind = 'labels';
        t.web = !t.web;
        metadata['labels'] = { role: t.web ? 'web' : null };
      }
      try {
        await client.request(
          'PATCH',
          paths.service(t.namespace, t.name),
          { metadata, ...(Object.keys(spec).length ? { spec } : {}) },
          { timeoutMs: 20_000 },
        );
        t.epoch++;
        counts.changed++;
        changeKinds[kind] = (changeKinds[kind] ?? 0) + 1;
      } catch (error) {
        opFailed(`change ${t.name}`, error);
      }
      t.busy = false;
    };

    /** One operation chosen by the PRNG: create while below the target, delete above the live band, else change. */
    const nextOp = (): (() => Promise<void>) | undefined => {
      const idle = [...live.values()].filter((t) => !t.busy);
      const r = rand();
      // In the band: 45% create, 25% delete, 30% change; above it: 35%, 50%, 15%, so the live count comes back down.
      const above = live.size > LIVE_HIGH;
      if (counts.created < TOTAL && (live.size < LIVE_LOW || r < (above ? 0.35 : 0.45))) return create;
      if (idle.length === 0) return undefined;
      const t = pick(idle);
      t.busy = true;
      if (r < (above ? 0.85 : 0.7)) return () => remove(t);
      return () => change(t);
    };

    /** Runs operations at RATE until `created` reaches `until`; `at` fires callbacks when `created` reaches a mark. */
    const churnUntil = async (until: number, marks: Array<{ at: number; fire: () => void }> = []): Promise<void> => {
      const maxOps = counts.ops + 20 * Math.max(1, until - counts.created) + 100;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (counts.created < until && counts.ops < maxOps) {
            await rateSlot();
            if (counts.created >= until) return;
            const op = nextOp();
            if (!op) {
              await sleep(5);
              continue;
            }
            counts.ops++;
            await op();
            for (const mark of marks) {
              if (counts.created >= mark.at && mark.at >= 0) {
                mark.at = -1;
                mark.fire();
              }
            }
          }
        }),
      );
    };

    // ---- leader, kills, settling ----
    const leaseHolder = async (): Promise<string | undefined> => {
      try {
        const lease = await client.request<{ spec?: { holderIdentity?: string } }>(
          'GET',
          paths.lease(INSTALL_NAMESPACE, LEASE),
          undefined,
          { timeoutMs: 5000 },
        );
        return lease.spec?.holderIdentity || undefined;
      } catch {
        return undefined;
      }
    };
    const isLeader = async (p: ControllerProcess): Promise<boolean> =>
      metricValue(await p.metrics().catch(() => ''), 'beaconlb_controller_leader') === 1;
    /** The replica holding the Lease that also says it leads. */
    const waitLeader = async (timeoutMs: number): Promise<ControllerProcess> => {
      const deadline = performance.now() + timeoutMs;
      while (performance.now() < deadline) {
        const holder = await leaseHolder();
        const p = replicas.find((r) => r.name === holder && r.running());
        if (p && (await isLeader(p))) return p;
        await sleep(100);
      }
      throw new Error(
        `no leader after ${timeoutMs} ms (lease holder ${await leaseHolder()}, replicas ${replicas.map((r) => r.name).join(',')})`,
      );
    };
    let kills = 0;
    const takeovers: number[] = [];
    let replacement: Promise<ControllerProcess> | undefined;
    const killLeader = async (): Promise<void> => {
      const victim = await waitLeader(20_000);
      const killedAt = performance.now();
      const record = everStarted.find((r) => r.process === victim);
      if (record) record.killedAt = Date.now();
      await victim.kill();
      replicas.splice(replicas.indexOf(victim), 1);
      kills++;
      replacement = startReplica();
      replacement.catch(() => undefined);
      const next = await waitLeader(20_000);
      assert.notEqual(next, victim);
      takeovers.push(performance.now() - killedAt);
    };
    const writeCount = async (): Promise<number> => {
      let sum = 0;
      for (const p of replicas) {
        const text = await p.metrics().catch(() => '');
        for (const r of ['written', 'conflict', 'error', 'gone'])
          sum += metricValue(text, `beaconlb_controller_status_writes_total{result="${r}"}`);
      }
      return sum;
    };
    /** Waits until no Service changes and no replica writes for a second. */
    const settle = async (): Promise<number> => {
      const begin = performance.now();
      let last = '';
      let stableSince = performance.now();
      while (performance.now() - begin < 60_000) {
        const { items } = await listServices();
        const fingerprint = `${items.map((s) => `${keyOf(s)}@${s.metadata.resourceVersion}`).join(',')}|${await writeCount()}`;
        if (fingerprint !== last) {
          last = fingerprint;
          stableSince = performance.now();
        } else if (performance.now() - stableSince >= 1000) return performance.now() - begin;
        await sleep(250);
      }
      throw new Error('Service statuses did not settle within 60 s');
    };

    let checks = 0;
    let lateHeals = 0;
    const checkViolations: string[] = [];
    const lastReasons: Record<string, number> = {};
    const checkOnce = async (): Promise<CheckResult> => {
      const { items } = await listServices();
      for (const svc of items) observe(svc, 'list');
      // Called only once statuses settled: what each Service holds now is the controller's decision.
      history.confirmAll();
      const events = await client.request<{
        items: Array<{ reason?: string; involvedObject?: { name?: string; namespace?: string } }>;
      }>('GET', '/api/v1/events', undefined, { query: { fieldSelector: 'type=Warning' }, timeoutMs: 20_000 });
      const warnings = new Map<string, Set<string>>();
      for (const e of events.items) {
        const key = `${e.involvedObject?.namespace ?? ''}/${e.involvedObject?.name ?? ''}`;
        const set = warnings.get(key) ?? new Set<string>();
        set.add(e.reason ?? '');
        warnings.set(key, set);
      }
      return checkServices({ services: items, pools: oraclePools(pools), namespaceLabels, warnings });
    };
    const checkInvariants = async (label: string): Promise<CheckResult> => {
      let result = await checkOnce();
      // Events are written a moment after the status; give an explanation a few seconds to arrive.
      for (let retry = 0; retry < 8 && result.violations.length > 0; retry++) {
        await sleep(1000);
        result = await checkOnce();
        if (result.violations.length === 0) lateHeals++;
      }
      checks++;
      for (const v of result.violations.slice(0, 20)) checkViolations.push(`[${label}] ${v}`);
      Object.assign(lastReasons, result.reasons);
      return result;
    };

    // ---- the run ----
    const apiRestartRound = Math.floor(KILLS / 2);
    const api: Record<string, number> = {};
    const settleTimes: number[] = [];
    let lastResult: CheckResult | undefined;
    for (let round = 0; round < KILLS; round++) {
      const from = counts.created;
      const until = Math.round((TOTAL * (round + 1)) / KILLS);
      if (replacement) await replacement;
      await waitLeader(20_000);
      if (round === apiRestartRound)
        await phase(t, 'API server and etcd restart mid-churn: watches resume, invariants hold', async () => {
          // Stop the driver at a random point of the phase's first half, with the controller still busy, and restart.
          await churnUntil(from + Math.floor((until - from) * (0.1 + 0.4 * rand())));
          const pidsBefore = replicas.map((p) => p.pid).join(',');
          const down = performance.now();
          await cluster.cp.restart();
          const up = performance.now();
          api['restart_ms'] = Math.round(up - down);
          // New objects after the restart reach the controller only through watches that reconnected.
          const probe = async (
            what: string,
            namespace: string,
            annotations: Record<string, string>,
          ): Promise<number> => {
            const name = `probe-${what}`;
            for (let attempt = 0; attempt < 100; attempt++) {
              try {
                await client.request(
                  'POST',
                  `/api/v1/namespaces/${namespace}/services`,
                  serviceManifest({
                    name,
                    namespace,
                    annotations: { [EPOCH_ANNOTATION]: '1', ...annotations },
                    ports: [{ port: 80 }],
                  }),
                  { timeoutMs: 10_000 },
                );
                break;
              } catch (error) {
                if (errorCode(error) === 409) break;
                await sleep(200);
              }
            }
            const deadline = performance.now() + 90_000;
            while (performance.now() < deadline) {
              const svc = await client.get<ServiceObject>(paths.service(namespace, name)).catch(() => undefined);
              if (svc && ipsOf(svc).length > 0) {
                live.set(`${namespace}/${name}`, {
                  namespace,
                  name,
                  families: [4],
                  ports: [{ port: 80, protocol: 'TCP' }],
                  epoch: 1,
                  hasRequest: false,
                  sharingKey: undefined,
                  web: false,
                  busy: false,
                });
                return Math.round(performance.now() - up);
              }
              await sleep(50);
            }
            throw new Error(`${namespace}/${name} got no address within 90 s of the API server restart`);
          };
          api['resume_new_service_ms'] = await probe('service', 'chaos-blue', {});
          await applyPool(kube, LATE_POOL.name, poolObjectSpec(LATE_POOL));
          pools.push(LATE_POOL);
          api['resume_new_pool_ms'] = await probe('pool', 'chaos-blue', { [POOL_ANNOTATION]: LATE_POOL.name });
          await kube.core.createNamespace({ body: { metadata: { name: 'chaos-late', labels: { tier: 'gold' } } } });
          namespaceLabels.set('chaos-late', { tier: 'gold' });
          api['resume_new_namespace_ms'] = await probe('namespace', 'chaos-late', {});
          const holder = (await leaseHolder()) ?? '';
          assert.equal(replicas.map((p) => p.pid).join(','), pidsBefore, 'a controller process was restarted');
          assert.ok(
            replicas.every((p) => p.running()),
            'a controller exited during the API server restart',
          );
          const gold = await client.get<ServiceObject>(paths.service('chaos-late', 'probe-namespace'));
          assert.match(
            ipsOf(gold)[0] ?? '',
            /^198\.51\.100\./,
            'the new gold namespace got an address from the gold pool',
          );
          settleTimes.push(await settle());
          const result = await checkInvariants('after API server restart');
          console.log(JSON.stringify({ apiRestart: api, leader: holder, violations: result.violations.length }));
        });
      await phase(
        t,
        `churn to ${until} Services, kill the leader (${round + 1} of ${KILLS}), settle, check invariants`,
        async () => {
          const span = until - counts.created;
          let killing: Promise<void> | undefined;
          const kill = (): void => {
            killing = killLeader();
            // Awaited after the churn; a failure must not count as unhandled meanwhile.
            killing.catch(() => undefined);
          };
          await churnUntil(until, [{ at: counts.created + Math.floor(span * (0.1 + 0.7 * rand())), fire: kill }]);
          if (!killing) kill();
          await killing;
          await waitLeader(20_000);
          settleTimes.push(await settle());
          lastResult = await checkInvariants(`after kill ${kills}`);
          console.log(
            JSON.stringify({
              phase: round,
              kills,
              created: counts.created,
              live: live.size,
              served: lastResult.served,
              explained: lastResult.explained,
              shared: lastResult.shared,
              violations: lastResult.violations.length,
              s: Math.round((performance.now() - started) / 1000),
            }),
          );
        },
      );
    }
    await phase(
      t,
      'final settle: no address moved without a request change, no illegal sharing, every invariant held',
      async () => {
        if (replacement) await replacement;
        await waitLeader(20_000);
        settleTimes.push(await settle());
        lastResult = await checkInvariants('final');

        const summary = {
          seed: SEED,
          services_created: counts.created,
          deletes: counts.deleted,
          changes: counts.changed,
          change_kinds: changeKinds,
          sharing_clashes: counts.clashes,
          operations: counts.ops,
          operation_errors: counts.opErrors,
          kills,
          takeover_ms: { p50: percentile(takeovers, 50), max: percentile(takeovers, 100) },
          invariant_checks: checks,
          checks_healed_late: lateHeals,
          settle_ms: { p50: percentile(settleTimes, 50), max: percentile(settleTimes, 100) },
          final: {
            live: live.size,
            served: lastResult.served,
            explained: lastResult.explained,
            shared_addresses: lastResult.shared,
            reasons: lastReasons,
          },
          watch: {
            observations: history.observations,
            restarts: watchRestarts,
            errors: watchErrors,
            transient_illegal_sharing: history.transientConflicts,
            raced_joins: history.racedJoins,
            contested_moves: history.contestedMoves,
          },
          api_restart: api,
          violations: checkViolations.length + history.violations.length,
          illegal_sharing: history.transientConflicts,
          raced_joins: history.racedJoins,
          duration_s: Math.round((performance.now() - started) / 1000),
        };
        console.log(JSON.stringify(summary));
        if (opErrorsSeen.length > 0) console.log(`operation errors: ${opErrorsSeen.join('; ')}`);
        if (history.transientExamples.length > 0)
          console.log(`transient illegal sharing: ${history.transientExamples.join('; ')}`);
        if (history.racedExamples.length > 0) console.log(`raced joins: ${history.racedExamples.join('; ')}`);
        if (history.contestedExamples.length > 0)
          console.log(`contested moves: ${history.contestedExamples.join('; ')}`);

        assert.deepEqual(history.violations, [], 'addresses changed without a change of the request');
        // Not even for a moment: an address joins a status only when no other status shows it under a request that may
        // not share it (a released address is handed on only after the release was written).
        assert.equal(
          history.transientConflicts,
          0,
          `illegal sharing observed: ${history.transientExamples.join('; ')}`,
        );
        assert.deepEqual(checkViolations, [], 'invariant violations');
        assert.equal(kills, KILLS);
        assert.equal(checks, KILLS + 2);
        assert.equal(counts.created, TOTAL);
        assert.equal(counts.opErrors, 0, `operations failed: ${opErrorsSeen.join('; ')}`);
        assert.ok(lastResult.served > LIVE_LOW / 2, 'most Services are served');
      },
    );

    // At most one leader at any instant, from the replicas' own logs ("became leader" / "stopped leading", or the kill).
    await phase(t, "at most one leader at any instant, from the replicas' logs", async () => {
      await Promise.all(replicas.splice(0).map((p) => p.stop(1000)));
      const terms = everStarted.flatMap(({ process, killedAt }) => {
        const out: Array<{ who: string; from: number; to: number }> = [];
        let from: number | undefined;
        for (const line of readFileSync(process.logFile, 'utf8').split('\n')) {
          if (!line.startsWith('{') || !(line.includes('"became leader"') || line.includes('"stopped leading"')))
            continue;
          const entry = JSON.parse(line) as { time: number; msg: string };
          if (entry.msg === 'became leader') from = entry.time;
          if (entry.msg === 'stopped leading' && from !== undefined) {
            out.push({ who: process.name, from, to: entry.time });
            from = undefined;
          }
        }
        if (from !== undefined) out.push({ who: process.name, from, to: killedAt ?? Date.now() });
        return out;
      });
      terms.sort((x, y) => x.from - y.from);
      const overlaps = terms.flatMap((x, i) =>
        terms
          .slice(i + 1)
          .filter((y) => y.from < x.to)
          .map((y) => `${x.who} and ${y.who} for ${x.to - y.from} ms`),
      );
      console.log(JSON.stringify({ leadership_terms: terms.length, overlapping_terms: overlaps.length }));
      assert.deepEqual(overlaps, [], 'two replicas led at once');
      assert.ok(terms.length >= KILLS + 1, `${terms.length} leadership terms for ${KILLS} kills`);
    });

    // The oracle is not vacuous: with the controllers stopped, plant one fault of each kind as admin and see each found.
    await phase(t, 'the oracle finds one planted fault of each kind', async () => {
      const { items } = await listServices();
      const plain = items.filter(
        (svc) =>
          ipsOf(svc).length === 1 &&
          !svc.metadata.annotations?.[SHARING_ANNOTATION] &&
          !svc.metadata.annotations?.[IPS_ANNOTATION] &&
          !svc.spec?.loadBalancerIP,
      );
      assert.ok(plain.length >= 4, 'four served Services that neither share nor request an address');
      const [dup, moved, cleared, copied] = plain as [ServiceObject, ServiceObject, ServiceObject, ServiceObject];
      const setIngress = (svc: ServiceObject, ips: string[]): Promise<unknown> =>
        client.request('PATCH', `${paths.service(svc.metadata.namespace ?? '', svc.metadata.name ?? '')}/status`, {
          status: { loadBalancer: { ingress: ips.map((ip) => ({ ip, ipMode: 'VIP' })) } },
        });
      await setIngress(dup, ipsOf(copied));
      await setIngress(moved, [ipsOf(moved)[0]!.includes(':') ? UNPOOLED[6][0] : UNPOOLED[4][0]]);
      await setIngress(cleared, []);
      const lost = (svc: ServiceObject): boolean => history.violations.some((v) => v.startsWith(`${keyOf(svc)} lost`));
      for (let i = 0; i < 100 && !(lost(dup) && lost(moved) && lost(cleared)); i++) await sleep(100);
      const planted = await checkOnce();
      const found = (svc: ServiceObject, what: RegExp): boolean =>
        planted.violations.some((v) => v.includes(keyOf(svc)) && what.test(v));
      assert.ok(
        lost(dup) && lost(moved) && lost(cleared),
        `the watch missed a changed address: ${history.violations.join('; ')}`,
      );
      assert.ok(
        found(dup, /held by .* not both sharing/),
        `the duplicate was not found: ${planted.violations.join('; ')}`,
      );
      assert.ok(
        found(moved, /in no pool eligible/),
        `the address outside the pools was not found: ${planted.violations.join('; ')}`,
      );
      assert.ok(
        found(cleared, /lacks an IPv[46] address although one was available/),
        `the missing address was not found: ${planted.violations.join('; ')}`,
      );
      console.log(`oracle self-check: ${planted.violations.length} planted violations found`);
    });
  });
});
