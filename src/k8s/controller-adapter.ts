// The controller's view of the cluster: informers for Services, IPPools and Namespaces, and the writers for
// Service status (merge patch with a resourceVersion precondition: no lost updates; the ingress and the allocation
// record that speakers check, in one write), IPPool status and Events.
import type { Clock } from '../core/clock.ts';
import type { IPPool } from '../core/config/api-types.generated.ts';
import { API_GROUP, API_VERSION } from '../core/config/api-types.generated.ts';
import { conditionsWithRecord } from '../core/config/allocation-record.ts';
import { conditionsWithRenumbering } from '../core/config/renumber-record.ts';
import { serviceKey, type ServiceObject } from '../core/config/service-object.ts';
import type { ControllerPorts, WriteOutcome } from '../controller/controller-ports.ts';
import type { Logger } from '../platform/logger.ts';
import type { ApiClient } from './api/api-client.ts';
import { describeError, errorCode } from './api/api-error.ts';
import { paths } from './api/api-paths.ts';
import { EventRecorder } from './event-recorder.ts';
import { Informer, type KubeObject } from './informer.ts';

export interface ControllerAdapterOptions {
  client: ApiClient;
  clock: Clock;
  log: Logger;
  /** Namespace for Events about cluster-scoped objects (pools). */
  namespace: string;
  identity: string;
  onServiceChange: (key: string) => void;
  onPoolsChange: () => void;
  /** Any change of a pool, labels and status included (the advertisements' ipPoolSelector reads labels). */
  onPoolObjectChange?: () => void;
  onNamespaceChange: (namespace: string) => void;
}

type Namespace = KubeObject;

function outcomeOf(error: unknown): WriteOutcome {
  const code = errorCode(error);
  if (code === 409) return 'conflict';
  if (code === 404) return 'gone';
  return { error: describeError(error) };
}

export class ControllerAdapter {
  readonly services: Informer<ServiceObject>;
  readonly pools: Informer<IPPool>;
  readonly namespaces: Informer<Namespace>;
  readonly ports: ControllerPorts;

  // Long (~125 lines): the informers and the ports over them, declared one after another; a list, not logic.
  constructor(o: ControllerAdapterOptions) {
    const { client } = o;
    const events = new EventRecorder({
      client,
      component: 'beaconlb-controller',
      host: o.identity,
      clock: o.clock,
      log: o.log,
    });
    const common = { client, clock: o.clock, log: o.log };
    this.services = new Informer<ServiceObject>({
      ...common,
      path: paths.services(),
      onChange: (svc) => {
        o.onServiceChange(serviceKey(svc));
      },
    });
    // Our own status writes update pools too: only spec changes (generation), adds and deletes matter.
    const seenGeneration = new Map<string, number | undefined>();
    this.pools = new Informer<IPPool>({
      ...common,
      path: paths.ours('ippools'),
      onChange: (pool, kind) => {
        o.onPoolObjectChange?.();
        const name = pool.metadata.name;
        if (kind === 'update' && seenGeneration.get(name) === pool.metadata.generation) return;
        if (kind === 'delete') seenGeneration.delete(name);
        else seenGeneration.set(name, pool.metadata.generation);
        o.onPoolsChange();
      },
    });
    this.namespaces = new Informer<Namespace>({
      ...common,
      path: paths.namespaces(),
      onChange: (ns, kind) => {
        if (kind !== 'add') o.onNamespaceChange(ns.metadata?.name ?? '');
      },
    });

    const services = this.services;
    const pools = this.pools;
    const namespaces = this.namespaces;
    this.ports = {
      services: {
        get(key) {
          const [namespace, name] = key.split('/') as [string, string];
          return services.get(name, namespace);
        },
        list: () => services.list(),
      },
      pools: () => pools.list(),
      namespaceLabels: (namespace) => namespaces.get(namespace)?.metadata?.labels,
      async writeServiceStatus(svc, ingress, retiring, signal) {
        // A merge patch replaces the whole conditions list: other conditions are carried over as they are.
        const now = o.clock
          .wallTime()
          .toISOString()
          .replace(/\.\d+Z$/, 'Z');
        const conditions = conditionsWithRenumbering(
          conditionsWithRecord(
            svc,
            ingress.map((i) => i.ip ?? ''),
            now,
          ),
          retiring,
          now,
        );
        try {
          await client.request(
            'PATCH',
            `${paths.service(svc.metadata.namespace ?? '', svc.metadata.name ?? '')}/status`,
            {
              metadata: { resourceVersion: svc.metadata.resourceVersion },
              status: { loadBalancer: { ingress }, conditions },
            },
            { timeoutMs: 10_000, ...(signal ? { signal } : {}) },
          );
          return 'written';
        } catch (error) {
          return outcomeOf(error);
        }
      },
      async writePoolStatus(pool, status) {
        try {
          await client.request(
            'PATCH',
            `${paths.our('ippools', pool.metadata.name)}/status`,
            { status },
            { timeoutMs: 10_000 },
          );
          return 'written';
        } catch (error) {
          return outcomeOf(error);
        }
      },
      recordEvent(svc, type, reason, message) {
        events.record(
          {
            apiVersion: 'v1',
            kind: 'Service',
            name: svc.metadata.name ?? '',
            namespace: svc.metadata.namespace,
            uid: svc.metadata.uid,
          },
          type,
          reason,
          message,
        );
      },
      recordPoolEvent(pool, type, reason, message) {
        events.record(
          {
            apiVersion: `${API_GROUP}/${API_VERSION}`,
            kind: 'IPPool',
            name: pool.metadata.name,
            namespace: undefined,
            uid: pool.metadata.uid,
          },
          type,
          reason,
          message,
        );
      },
    };
  }

  start(): void {
    this.namespaces.start();
    this.pools.start();
    this.services.start();
  }

  async synced(): Promise<void> {
    await Promise.all([this.namespaces.synced, this.pools.synced, this.services.synced]);
  }

  stop(): void {
    this.services.stop();
    this.pools.stop();
    this.namespaces.stop();
  }
}
