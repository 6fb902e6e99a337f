// What the allocation table's tests feed it: IPPool objects and ServiceRequests, each with the defaults a test
// does not care about (a single-stack IPv4 TCP/80 Service of policy Cluster in the namespace its key names).
import type { IPPool } from '../core/config/api-types.generated.ts';
import type { ServiceRequest } from '../core/config/service-request.ts';
import { ipv4, parseIp } from '../core/ip/ip-address.ts';

/** An IPPool named `name` over `addresses`, created at `created` (pool priority ties go to the older one). */
export function pool(
  name: string,
  addresses: string[],
  extra: Partial<IPPool['spec']> = {},
  created = '2026-01-01T00:00:00Z',
): IPPool {
  return {
    apiVersion: 'beaconlb.io/v1alpha1',
    kind: 'IPPool',
    metadata: { name, creationTimestamp: created },
    spec: { addresses, ...extra },
  };
}

/** The request of Service `key` (namespace/name), IPv4 only, no pool, address or sharing key asked for. */
export function request(key: string, extra: Partial<ServiceRequest> = {}): ServiceRequest {
  return {
    key,
    namespace: key.split('/')[0] ?? 'ns',
    labels: {},
    families: [4],
    policy: 'SingleStack',
    requested: [],
    poolNames: undefined,
    sharingKey: undefined,
    ports: ['TCP/80'],
    externalTrafficPolicy: 'Cluster',
    selector: '[]',
    createdAt: '',
    ...extra,
  };
}

/** 198.51.100.`last` */
export const v4 = (last: number): bigint => ipv4(198, 51, 100, last);

/** 2001:db8::`last` (hex) */
export const v6 = (last: number): bigint => {
  const parsed = parseIp(`2001:db8::${last.toString(16)}`);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};

/** The pass context of a namespace without labels at monotonic time `now`. */
export const ctx = (now = 0): { namespaceLabels: undefined; now: number } => ({ namespaceLabels: undefined, now });
