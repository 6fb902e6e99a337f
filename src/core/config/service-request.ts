// What a LoadBalancer Service asks of the allocator, read from its spec and annotations (ours and MetalLB's).
import { familyOf, parseIp, type IpFamily } from '../ip/ip-address.ts';
import { err, ok, type Result } from '../result.ts';
import { parseDuration } from '../duration.ts';
import type { ServiceObject } from './service-object.ts';
import { creationTime, serviceKey } from './service-object.ts';

export const DEFAULT_LOAD_BALANCER_CLASS = 'beaconlb.io/beaconlb';

/** Annotation names, ours first; the MetalLB names are honoured so Services move over unchanged. */
export const ANNOTATIONS = {
  ipPool: ['beaconlb.io/ip-pool', 'metallb.io/address-pool', 'metallb.universe.tf/address-pool'],
  loadBalancerIPs: [
    'beaconlb.io/load-balancer-ips',
    'metallb.io/loadBalancerIPs',
    'metallb.universe.tf/loadBalancerIPs',
  ],
  allowSharedIP: ['beaconlb.io/allow-shared-ip', 'metallb.io/allow-shared-ip', 'metallb.universe.tf/allow-shared-ip'],
  /** Ours only: MetalLB has no renumbering (ADR 0028). */
  renumberWindow: ['beaconlb.io/renumber-window'],
} as const;

/** The longest renumbering window accepted (7 days): a longer one is more likely a typo than a plan. */
export const MAX_RENUMBER_WINDOW_MS = 7 * 24 * 3_600_000;

export type FamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';

export interface ServiceRequest {
  key: string;
  namespace: string;
  labels: Readonly<Record<string, string>>;
  /** Families to serve, in the Service's ipFamilies order. */
  families: IpFamily[];
  policy: FamilyPolicy;
  /** Requested addresses, at most one per family. */
  requested: bigint[];
  /** Pools named by annotation; undefined when none is named. */
  poolNames: string[] | undefined;
  /** The allow-shared-ip key; undefined when the Service does not share. */
  sharingKey: string | undefined;
  /** `protocol/port` of every port. */
  ports: string[];
  externalTrafficPolicy: 'Cluster' | 'Local';
  /** The Service selector in canonical form (sharing with ETP Local needs the same one). */
  selector: string;
  /** Creation time; the older Service wins a conflict found at restart. */
  createdAt: string;
  /**
   * beaconlb.io/renumber-window: the Service may be renumbered, and when it moves to a new address (its request
   * changed, or its address lies in a draining pool) the old one stays in its status, announced, for this long.
   * Absent: an address the Service gives up is released at once, and it never leaves a draining pool by itself.
   */
  renumberWindowMs?: number;
}

export interface RequestProblem {
  reason: 'InvalidRequest';
  message: string;
}

function annotation(svc: ServiceObject, names: readonly string[]): { name: string; value: string } | undefined {
  const annotations = svc.metadata.annotations ?? {};
  for (const name of names) {
    const value = annotations[name];
    if (value !== undefined) return { name, value };
  }
  return undefined;
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** Whether Beacon LB serves this Service: type LoadBalancer, with no class or with ours. */
export function isOurService(svc: ServiceObject, loadBalancerClass: string = DEFAULT_LOAD_BALANCER_CLASS): boolean {
  if (svc.spec?.type !== 'LoadBalancer') return false;
  const cls = svc.spec.loadBalancerClass;
  return cls === undefined || cls === loadBalancerClass;
}

function canonicalSelector(selector: Record<string, string> | undefined): string {
  return JSON.stringify(Object.entries(selector ?? {}).sort(([a], [b]) => a.localeCompare(b)));
}

/** Reads the request of a Service of ours; malformed annotations are a typed problem naming the annotation. */
export function readServiceRequest(svc: ServiceObject): Result<ServiceRequest, RequestProblem> {
  const families: IpFamily[] = (svc.spec?.ipFamilies ?? ['IPv4']).map((f) => (f === 'IPv6' ? 6 : 4));
  const policy = (svc.spec?.ipFamilyPolicy ?? 'SingleStack') as FamilyPolicy;

  const requested: bigint[] = [];
  const ipsAnnotation = annotation(svc, ANNOTATIONS.loadBalancerIPs);
  const sources: Array<{ from: string; values: string[] }> = [];
  if (ipsAnnotation) sources.push({ from: `annotation ${ipsAnnotation.name}`, values: list(ipsAnnotation.value) });
  else if (svc.spec?.loadBalancerIP) sources.push({ from: 'spec.loadBalancerIP', values: [svc.spec.loadBalancerIP] });
  for (const { from, values } of sources) {
    if (values.length === 0) return err({ reason: 'InvalidRequest', message: `${from} is empty` });
    for (const text of values) {
      const parsed = parseIp(text);
      if (!parsed.ok) return err({ reason: 'InvalidRequest', message: `${from}: ${parsed.error}` });
      const family = familyOf(parsed.value);
      if (requested.some((r) => familyOf(r) === family)) {
        return err({ reason: 'InvalidRequest', message: `${from} requests more than one IPv${family} address` });
      }
      if (!families.includes(family)) {
        return err({
          reason: 'InvalidRequest',
          message: `${from} requests an IPv${family} address but the Service's ipFamilies is [${(svc.spec?.ipFamilies ?? ['IPv4']).join(', ')}]`,
        });
      }
      requested.push(parsed.value);
    }
  }

  const poolAnnotation = annotation(svc, ANNOTATIONS.ipPool);
  const poolNames = poolAnnotation ? list(poolAnnotation.value) : undefined;
  if (poolAnnotation && poolNames?.length === 0) {
    return err({ reason: 'InvalidRequest', message: `annotation ${poolAnnotation.name} names no pool` });
  }
  const sharing = annotation(svc, ANNOTATIONS.allowSharedIP);
  const sharingKey = sharing?.value.trim() ? sharing.value.trim() : undefined;
  const window = annotation(svc, ANNOTATIONS.renumberWindow);
  let renumberWindowMs: number | undefined;
  if (window) {
    const parsed = parseDuration(window.value.trim());
    if (!parsed.ok) return err({ reason: 'InvalidRequest', message: `annotation ${window.name}: ${parsed.error}` });
    if (parsed.value > MAX_RENUMBER_WINDOW_MS) {
      return err({
        reason: 'InvalidRequest',
        message: `annotation ${window.name}: ${window.value.trim()} is longer than the longest window, 168h`,
      });
    }
    renumberWindowMs = parsed.value;
  }

  return ok({
    key: serviceKey(svc),
    namespace: svc.metadata.namespace ?? '',
    labels: svc.metadata.labels ?? {},
    families: [...new Set(families)],
    policy,
    requested,
    poolNames,
    sharingKey,
    ports: (svc.spec?.ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${p.port}`),
    externalTrafficPolicy: svc.spec?.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    selector: canonicalSelector(svc.spec?.selector),
    createdAt: creationTime(svc),
    ...(renumberWindowMs !== undefined ? { renumberWindowMs } : {}),
  });
}
