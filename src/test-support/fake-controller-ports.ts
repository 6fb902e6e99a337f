// Test doubles for the controller's tests: Services as an earlier leader left them, and ControllerPorts over an
// in-memory store whose status writes can be slowed, failed or held until the test lets them land (or the
// controller aborts them). Each fake world has a ManualClock: the controller's timers (backoff, quarantine, pool
// status) and slow writes run on it, and the waits below move it a millisecond at a time, never sleeping.
import assert from 'node:assert/strict';
import { ServiceController, type ServiceControllerOptions } from '../controller/service-controller.ts';
import type { ControllerPorts, WriteOutcome } from '../controller/controller-ports.ts';
import { noMetrics } from '../controller/controller-metrics.ts';
import { ManualClock } from './manual-clock.ts';
import { silentLogger } from './silent-logger.ts';
import type { IPPool } from '../core/config/api-types.generated.ts';
import { serviceKey, type LoadBalancerIngress, type ServiceObject } from '../core/config/service-object.ts';
import { allocationCondition, conditionsWithRecord } from '../core/config/allocation-record.ts';
import { conditionsWithRenumbering, type RetiringAddress } from '../core/config/renumber-record.ts';

export const POOL: IPPool = {
  apiVersion: 'beaconlb.io/v1alpha1',
  kind: 'IPPool',
  metadata: { name: 'p', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { addresses: ['198.51.100.0/29'] },
};

export function ipPool(name: string, addresses: string[], spec: Partial<IPPool['spec']> = {}): IPPool {
  return { ...POOL, metadata: { name, creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { addresses, ...spec } };
}

/** A LoadBalancer Service in namespace apps as an earlier leader left it: `ip` in its status, with its allocation record. */
export function service(
  name: string,
  created: string,
  port: number,
  sharingKey: string | undefined,
  ip: string | undefined,
): ServiceObject {
  return {
    metadata: {
      name,
      namespace: 'apps',
      resourceVersion: '1',
      creationTimestamp: created,
      annotations: sharingKey ? { 'beaconlb.io/allow-shared-ip': sharingKey } : {},
    },
    spec: { type: 'LoadBalancer', ports: [{ port, protocol: 'TCP' }], selector: { app: name } },
    status: {
      loadBalancer: { ingress: ip ? [{ ip, ipMode: 'VIP' }] : [] },
      conditions: ip ? [allocationCondition([ip], '2026-01-01T00:00:00Z')] : [],
    },
  };
}

/** A status write the test decides: resolve it with an outcome (it lands when 'written'), or watch its signal. */
export interface HeldWrite {
  key: string;
  ips: string[];
  signal: AbortSignal | undefined;
  resolve(outcome: WriteOutcome): void;
}

export interface FakePortsOptions {
  pools?: IPPool[];
  /** The cache does not see the controller's own writes. */
  lagging?: boolean;
  /** Every write takes this long (on the world's clock). */
  writeMs?: number;
  /** Decides a write instead of the store: return an outcome, or 'hold' to leave it to the test (see `held`). */
  decide?: (key: string, ips: string[]) => WriteOutcome | 'hold' | undefined;
  /** Reads after which a reconcile loop counts as runaway (it throws). */
  maxReads?: number;
}

export interface FakePorts {
  ports: ControllerPorts;
  /** The world's clock: newController(ports) runs the controller on it. */
  clock: ManualClock;
  writes: Map<string, LoadBalancerIngress[]>;
  current: (name: string) => string[];
  reads: () => number;
  /** "start key=ips" and "done key=ips" per write, in order; "landed key=ips" when a held write lands. */
  log: string[];
  update: (name: string, change: (svc: ServiceObject) => ServiceObject) => void;
  remove: (name: string) => void;
  add: (svc: ServiceObject) => void;
  events: string[];
  /** Writes the test holds, in the order they started. */
  held: HeldWrite[];
}

/**
 * Ports over an in-memory set of Services; a status write replaces the Service with a new resourceVersion, unless
 * `lagging` (the cache has not seen the write yet). A runaway reconcile loop is cut off after `maxReads` reads.
 */
export function fakePorts(services: readonly ServiceObject[], options: FakePortsOptions = {}): FakePorts {
  const store = new Map(services.map((s) => [serviceKey(s), s]));
  const writes = new Map<string, LoadBalancerIngress[]>();
  const log: string[] = [];
  const events: string[] = [];
  const held: HeldWrite[] = [];
  const clock = new ManualClock();
  const maxReads = options.maxReads ?? 1000;
  let reads = 0;
  const land = (svc: ServiceObject, ingress: LoadBalancerIngress[], retiring: readonly RetiringAddress[]): void => {
    const key = serviceKey(svc);
    writes.set(key, ingress);
    const now = store.get(key);
    const conditions = conditionsWithRenumbering(
      conditionsWithRecord(
        svc,
        ingress.map((i) => i.ip ?? ''),
        '2026-01-02T00:00:00Z',
      ),
      retiring,
      '2026-01-02T00:00:00Z',
    );
    if (!options.lagging && now)
      store.set(key, {
        ...now,
        metadata: { ...now.metadata, resourceVersion: String(Number(now.metadata.resourceVersion) + 1) },
        status: { loadBalancer: { ingress }, conditions },
      });
  };
  const ports: ControllerPorts = {
    services: {
      get: (key) => {
        if (++reads > maxReads) throw new Error(`reconciled ${maxReads} times: a runaway loop`);
        return store.get(key);
      },
      list: () => [...store.values()],
    },
    pools: () => options.pools ?? [POOL],
    namespaceLabels: () => ({}),
    async writeServiceStatus(svc, ingress, retiring, signal) {
      const key = serviceKey(svc);
      const ips = ingress.map((i) => i.ip ?? '');
      const text = `${key}=${ips.join(',')}`;
      log.push(`start ${text}`);
      const current = store.get(key);
      if (current && current.metadata.resourceVersion !== svc.metadata.resourceVersion) {
        log.push(`conflict ${text}`);
        return 'conflict';
      }
      const decided = options.decide?.(key, ips);
      if (decided === 'hold') {
        // As the API client does: an aborted request ends at once with an error, whatever the server does with it.
        const outcome = await new Promise<WriteOutcome>((resolve) => {
          held.push({ key, ips, signal, resolve });
          signal?.addEventListener(
            'abort',
            () => {
              log.push(`aborted ${text}`);
              resolve({ error: 'aborted' });
            },
            { once: true },
          );
        });
        if (outcome === 'written') {
          log.push(`landed ${text}`);
          land(svc, ingress, retiring);
        }
        return outcome;
      }
      if (decided !== undefined) {
        log.push(`${typeof decided === 'string' ? decided : 'error'} ${text}`);
        return decided;
      }
      const writeMs = options.writeMs;
      if (writeMs)
        await new Promise((resolve) =>
          clock.after(writeMs, () => {
            resolve(undefined);
          }),
        );
      log.push(`done ${text}`);
      land(svc, ingress, retiring);
      return 'written';
    },
    writePoolStatus: () => Promise.resolve('written'),
    recordEvent: (svc, type, reason) => events.push(`${serviceKey(svc)} ${type} ${reason}`),
    recordPoolEvent: () => undefined,
  };
  const current = (name: string): string[] =>
    (store.get(`apps/${name}`)?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
  const update = (name: string, change: (svc: ServiceObject) => ServiceObject): void => {
    const svc = store.get(`apps/${name}`);
    assert.ok(svc);
    store.set(
      `apps/${name}`,
      change({
        ...svc,
        metadata: { ...svc.metadata, resourceVersion: String(Number(svc.metadata.resourceVersion) + 1) },
      }),
    );
  };
  const remove = (name: string): void => {
    store.delete(`apps/${name}`);
  };
  const add = (svc: ServiceObject): void => {
    store.set(serviceKey(svc), svc);
  };
  worlds.set(ports, clock);
  latestClock = clock;
  return { ports, clock, writes, current, reads: () => reads, log, update, remove, add, events, held };
}

/** The clock of each fake world, by its ports; the clock of each controller newController made. */
const worlds = new WeakMap<ControllerPorts, ManualClock>();
const controllerClocks = new WeakMap<ServiceController, ManualClock>();
/** The clock of the fake world made last: until() moves it (each test makes its own world). */
let latestClock: ManualClock | undefined;

export function newController(
  ports: ControllerPorts,
  extra: Partial<ServiceControllerOptions> = {},
): ServiceController {
  const clock = worlds.get(ports) ?? new ManualClock();
  const controller = new ServiceController({
    ports,
    clock,
    log: silentLogger(),
    metrics: noMetrics,
    loadBalancerClass: 'beaconlb.io/beaconlb',
    quarantineMs: 0,
    concurrency: 4,
    poolStatusIntervalMs: 1000,
    ...extra,
  });
  controllerClocks.set(controller, clock);
  return controller;
}

/** Moves `clock` a millisecond at a time, letting the event loop turn each time, until `done` (at most `maxMs`). */
async function advanceUntil(clock: ManualClock, done: () => boolean, maxMs: number): Promise<void> {
  await clock.settle(0);
  for (let ms = 0; !done() && ms < maxMs; ms++) await clock.settle(1);
}

/** Runs the controller's clock (at most `maxMs` of it) until its queue is empty. */
export async function settled(controller: ServiceController, maxMs = 1000): Promise<void> {
  const clock = controllerClocks.get(controller);
  assert.ok(clock, 'a controller made by newController');
  await advanceUntil(clock, () => controller.queueDepth === 0, maxMs);
  assert.equal(controller.queueDepth, 0, 'the queue drained');
}

/** Runs the clock of the latest fake world (at most `maxMs` of it) until `condition` holds. */
export async function until(what: string, condition: () => boolean, maxMs = 2000): Promise<void> {
  assert.ok(latestClock, 'a fake world made by fakePorts');
  await advanceUntil(latestClock, condition, maxMs);
  assert.ok(condition(), `timed out waiting for ${what}`);
}
