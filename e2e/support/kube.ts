// API access for tests: typed clients on the admin kubeconfig, and bounded waiting.
import { CoreV1Api, CustomObjectsApi, KubeConfig, type V1Service } from '@kubernetes/client-node';
import { waitUntil } from '../../src/lab/wait-until.ts';
import type { ControlPlane } from '../../src/lab/control-plane.ts';

export interface Kube {
  core: CoreV1Api;
  custom: CustomObjectsApi;
}

export function kubeClients(cp: ControlPlane): Kube {
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfig);
  return { core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

/** Polls `probe` until it returns a value other than undefined; throws after `timeoutMs`. */
export const waitFor = waitUntil;

export const ingressIps = (svc: V1Service): string[] =>
  (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');

export interface ServiceSpecInput {
  name: string;
  namespace: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  ports?: Array<{ port: number; protocol?: string }>;
  ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
  ipFamilies?: Array<'IPv4' | 'IPv6'>;
  loadBalancerIP?: string;
  loadBalancerClass?: string;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  type?: string;
}

export function serviceManifest(s: ServiceSpecInput): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: s.name, namespace: s.namespace, annotations: s.annotations ?? {}, labels: s.labels ?? {} },
    spec: {
      type: s.type ?? 'LoadBalancer',
      // Beacon LB needs no NodePorts; without this, thousands of Services exhaust the NodePort range.
      ...((s.type ?? 'LoadBalancer') === 'LoadBalancer' ? { allocateLoadBalancerNodePorts: false } : {}),
      selector: { app: s.name },
      ports: (s.ports ?? [{ port: 80 }]).map((p) => ({
        name: `p${p.port}-${(p.protocol ?? 'TCP').toLowerCase()}`,
        port: p.port,
        protocol: p.protocol ?? 'TCP',
      })),
      ...(s.ipFamilyPolicy ? { ipFamilyPolicy: s.ipFamilyPolicy } : {}),
      ...(s.ipFamilies ? { ipFamilies: s.ipFamilies } : {}),
      ...(s.loadBalancerIP ? { loadBalancerIP: s.loadBalancerIP } : {}),
      ...(s.loadBalancerClass ? { loadBalancerClass: s.loadBalancerClass } : {}),
      ...(s.externalTrafficPolicy ? { externalTrafficPolicy: s.externalTrafficPolicy } : {}),
    },
  };
}

export async function createService(kube: Kube, s: ServiceSpecInput): Promise<V1Service> {
  return kube.core.createNamespacedService({ namespace: s.namespace, body: serviceManifest(s) });
}

export async function readService(kube: Kube, namespace: string, name: string): Promise<V1Service> {
  return kube.core.readNamespacedService({ name, namespace });
}

/** Waits until the Service's status holds exactly `count` addresses; returns them. */
export async function waitForIngress(
  kube: Kube,
  namespace: string,
  name: string,
  count = 1,
  timeoutMs = 10_000,
): Promise<string[]> {
  return waitFor(
    `${namespace}/${name} to get ${count} address(es)`,
    async () => {
      const ips = ingressIps(await readService(kube, namespace, name));
      return ips.length === count ? ips : undefined;
    },
    timeoutMs,
  );
}

/** Events recorded on an object, newest last. */
export async function eventsFor(
  kube: Kube,
  namespace: string,
  name: string,
): Promise<Array<{ reason: string; message: string; type: string }>> {
  const list = await kube.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items.map((e) => ({ reason: e.reason ?? '', message: e.message ?? '', type: e.type ?? '' }));
}

export async function waitForEvent(
  kube: Kube,
  namespace: string,
  name: string,
  reason: string,
  timeoutMs = 10_000,
): Promise<{ reason: string; message: string }> {
  return waitFor(
    `a ${reason} Event on ${namespace}/${name}`,
    async () => (await eventsFor(kube, namespace, name)).find((e) => e.reason === reason),
    timeoutMs,
  );
}

export type OurKind = 'IPPool' | 'L2Advertisement' | 'BGPPeer' | 'BGPAdvertisement';

/** Creates one of Beacon LB's (cluster-scoped) objects; the plural is the kind in lower case plus s. */
export async function createObject(
  kube: Kube,
  kind: OurKind,
  name: string,
  spec: Record<string, unknown>,
): Promise<void> {
  await kube.custom.createClusterCustomObject({
    group: 'beaconlb.io',
    version: 'v1alpha1',
    plural: `${kind.toLowerCase()}s`,
    body: { apiVersion: 'beaconlb.io/v1alpha1', kind, metadata: { name }, spec },
  });
}

export async function applyPool(
  kube: Kube,
  name: string,
  spec: Record<string, unknown>,
  labels: Record<string, string> = {},
): Promise<void> {
  const body = { apiVersion: 'beaconlb.io/v1alpha1', kind: 'IPPool', metadata: { name, labels }, spec };
  try {
    const existing = (await kube.custom.getClusterCustomObject({
      group: 'beaconlb.io',
      version: 'v1alpha1',
      plural: 'ippools',
      name,
    })) as { metadata: { resourceVersion: string } };
    await kube.custom.replaceClusterCustomObject({
      group: 'beaconlb.io',
      version: 'v1alpha1',
      plural: 'ippools',
      name,
      body: { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata.resourceVersion } },
    });
  } catch {
    await kube.custom.createClusterCustomObject({ group: 'beaconlb.io', version: 'v1alpha1', plural: 'ippools', body });
  }
}

export async function deletePool(kube: Kube, name: string): Promise<void> {
  await kube.custom.deleteClusterCustomObject({ group: 'beaconlb.io', version: 'v1alpha1', plural: 'ippools', name });
}

export async function readPool(
  kube: Kube,
  name: string,
): Promise<{
  spec: unknown;
  status?: Record<string, unknown> & {
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
  };
}> {
  return (await kube.custom.getClusterCustomObject({
    group: 'beaconlb.io',
    version: 'v1alpha1',
    plural: 'ippools',
    name,
  })) as never;
}
