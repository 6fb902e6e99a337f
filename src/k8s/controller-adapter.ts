// The controller's view of the cluster: informers for Services, IPPools and Namespaces, and the writers for
// Service status (merge patch with a resourceVersion precondition: no lost updates), IPPool status and Events.
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1Namespace,
  type V1Service,
} from '@kubernetes/client-node';
import type { Clock } from '../core/clock.ts';
import type { IPPool } from '../core/config/api-types.generated.ts';
import { API_GROUP, API_VERSION } from '../core/config/api-types.generated.ts';
import { serviceKey, type ServiceObject } from '../core/config/service-object.ts';
import type { ControllerPorts, WriteOutcome } from '../controller/controller-ports.ts';
import type { Logger } from '../platform/logger.ts';
import { EventRecorder } from './event-recorder.ts';
import { Informer } from './informer.ts';
import { apiErrorCode, describeApiError } from './kube-client.ts';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface ControllerAdapterOptions {
  kc: KubeConfig;
  clock: Clock;
  log: Logger;
  /** Namespace for Events about cluster-scoped objects (pools). */
  namespace: string;
  identity: string;
  onServiceChange: (key: string) => void;
  onPoolsChange: () => void;
  onNamespaceChange: (namespace: string) => void;
}

function outcomeOf(error: unknown): WriteOutcome {
  const code = apiErrorCode(error);
  if (code === 409) return 'conflict';
  if (code === 404) return 'gone';
  return { error: describeApiError(error) };
}

export class ControllerAdapter {
  readonly services: Informer<V1Service>;
  /** Custom objects arrive as plain JSON (string timestamps), hence IPPool is read through a cast. */
  readonly pools: Informer<KubernetesObject>;
  readonly namespaces: Informer<V1Namespace>;
  readonly ports: ControllerPorts;

  constructor(o: ControllerAdapterOptions) {
    const core = o.kc.makeApiClient(CoreV1Api);
    const custom = o.kc.makeApiClient(CustomObjectsApi);
    const events = new EventRecorder({ core, component: 'beaconlb-controller', host: o.identity, clock: o.clock, log: o.log, defaultNamespace: o.namespace });
    const common = { kc: o.kc, clock: o.clock, log: o.log };

    this.services = new Informer<V1Service>({
      ...common,
      path: '/api/v1/services',
      list: () => core.listServiceForAllNamespaces(),
      onChange: (svc) => {
        o.onServiceChange(serviceKey(svc as ServiceObject));
      },
    });
    // Our own status writes update pools too: only spec changes (generation), adds and deletes matter.
    const seenGeneration = new Map<string, number | undefined>();
    this.pools = new Informer<KubernetesObject>({
      ...common,
      path: `/apis/${API_GROUP}/${API_VERSION}/ippools`,
      list: () =>
        custom.listClusterCustomObject({ group: API_GROUP, version: API_VERSION, plural: 'ippools' }) as Promise<KubernetesListObject<KubernetesObject>>,
      onChange: (pool, kind) => {
        const name = pool.metadata?.name ?? '';
        if (kind === 'update' && seenGeneration.get(name) === pool.metadata?.generation) return;
        if (kind === 'delete') seenGeneration.delete(name);
        else seenGeneration.set(name, pool.metadata?.generation);
        o.onPoolsChange();
      },
    });
    this.namespaces = new Informer<V1Namespace>({
      ...common,
      path: '/api/v1/namespaces',
      list: () => core.listNamespace(),
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
          // Objects from the API server always carry metadata.
          return services.get(name, namespace) as ServiceObject | undefined;
        },
        list: () => services.list() as readonly ServiceObject[],
      },
      pools: () => pools.list() as unknown as readonly IPPool[],
      namespaceLabels: (namespace) => namespaces.get(namespace)?.metadata?.labels,
      async writeServiceStatus(svc, ingress) {
        try {
          await core.patchNamespacedServiceStatus(
            {
              name: svc.metadata.name ?? '',
              namespace: svc.metadata.namespace ?? '',
              body: {
                metadata: { resourceVersion: svc.metadata.resourceVersion },
                status: { loadBalancer: { ingress } },
              },
            },
            mergePatch,
          );
          return 'written';
        } catch (error) {
          return outcomeOf(error);
        }
      },
      async writePoolStatus(pool, status) {
        try {
          await custom.patchClusterCustomObjectStatus(
            { group: API_GROUP, version: API_VERSION, plural: 'ippools', name: pool.metadata.name, body: { status } },
            mergePatch,
          );
          return 'written';
        } catch (error) {
          return outcomeOf(error);
        }
      },
      recordEvent(svc, type, reason, message) {
        events.record(
          { apiVersion: 'v1', kind: 'Service', name: svc.metadata.name ?? '', namespace: svc.metadata.namespace, uid: svc.metadata.uid },
          type,
          reason,
          message,
        );
      },
      recordPoolEvent(pool, type, reason, message) {
        events.record(
          { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'IPPool', name: pool.metadata.name, namespace: undefined, uid: pool.metadata.uid },
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
