// The parts of a core/v1 Service that Beacon LB reads, as plain data (the API client's V1Service fits this shape).
import { parseIp } from '../ip/ip-address.ts';

export interface ServicePort {
  port: number;
  protocol?: string;
  name?: string;
}

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  ipMode?: string;
}

export interface ServiceObject {
  metadata: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: Date | string;
    deletionTimestamp?: Date | string;
  };
  spec?: {
    type?: string;
    loadBalancerClass?: string;
    loadBalancerIP?: string;
    ipFamilies?: string[];
    ipFamilyPolicy?: string;
    ports?: ServicePort[];
    externalTrafficPolicy?: string;
    selector?: Record<string, string>;
  };
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] }; conditions?: ServiceCondition[] };
}

/** A metav1.Condition in a Service's status (Beacon LB writes one: the allocation record, allocation-record.ts). */
export interface ServiceCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string | Date;
  observedGeneration?: number;
}

/** namespace/name */
export function serviceKey(svc: ServiceObject): string {
  return `${svc.metadata.namespace ?? ''}/${svc.metadata.name ?? ''}`;
}

const parsedIngress = new WeakMap<readonly LoadBalancerIngress[], readonly bigint[]>();

/**
 * The addresses in a Service's status, parsed (hostnames and unparsable entries ignored). Every plan pass reads
 * them for every Service; the parse is remembered per ingress list (cached objects are replaced, not mutated).
 */
export function ingressAddresses(svc: ServiceObject): readonly bigint[] {
  const ingressList = svc.status?.loadBalancer?.ingress;
  if (!ingressList) return [];
  const cached = parsedIngress.get(ingressList);
  if (cached) return cached;
  const out: bigint[] = [];
  for (const ingress of ingressList) {
    const parsed = ingress.ip ? parseIp(ingress.ip) : undefined;
    if (parsed?.ok) out.push(parsed.value);
  }
  parsedIngress.set(ingressList, out);
  return out;
}

/** The creation time as RFC 3339 text ('' when unknown), whether the object came decoded (Date) or as JSON. */
export function creationTime(svc: ServiceObject): string {
  const t = svc.metadata.creationTimestamp;
  return t instanceof Date ? t.toISOString() : (t ?? '');
}
