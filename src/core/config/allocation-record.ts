// The controller's record of what it allocated to a Service: the condition `beaconlb.io/Allocated` in the Service's
// status, written in the same status write as the ingress, whose message lists the allocated addresses. Speakers
// announce an address only when this record holds it (announcement-authorization.ts). Anyone with services/status
// can write status.loadBalancer.ingress, but only the controller's ServiceAccount may add or change this condition:
// the ValidatingAdmissionPolicy beaconlb-allocation-record (config/admission) refuses everyone else (ADR 0015).
import { parseIp } from '../ip/ip-address.ts';
import type { ServiceCondition, ServiceObject } from './service-object.ts';

export const ALLOCATED_CONDITION = 'beaconlb.io/Allocated';
const REASON = 'Allocated';

/** The record of `addresses` (canonical text, in status order); its message is the addresses joined by commas. */
export function allocationCondition(addresses: readonly string[], lastTransitionTime: string): ServiceCondition {
  return {
    type: ALLOCATED_CONDITION,
    status: 'True',
    reason: REASON,
    message: addresses.join(','),
    lastTransitionTime,
  };
}

function recordOf(svc: ServiceObject): ServiceCondition | undefined {
  return svc.status?.conditions?.find((c) => c.type === ALLOCATED_CONDITION);
}

const parsedRecords = new WeakMap<ServiceCondition, ReadonlySet<bigint>>();

/**
 * The addresses the controller recorded for this Service (empty when there is no record, or it is not True).
 * Remembered per condition object (cached objects are replaced, not mutated).
 */
export function recordedAddresses(svc: ServiceObject): ReadonlySet<bigint> {
  const record = recordOf(svc);
  if (record?.status !== 'True') return new Set();
  const cached = parsedRecords.get(record);
  if (cached) return cached;
  const out = new Set<bigint>();
  for (const text of (record.message ?? '').split(',')) {
    const parsed = parseIp(text.trim());
    if (parsed.ok) out.add(parsed.value);
  }
  parsedRecords.set(record, out);
  return out;
}

/** Whether the Service's record is exactly `addresses` (no record at all when there are none). */
export function recordMatches(svc: ServiceObject, addresses: readonly string[]): boolean {
  const record = recordOf(svc);
  if (addresses.length === 0) return record === undefined;
  return record?.status === 'True' && record.message === addresses.join(',');
}

/**
 * The Service's conditions with the record set to `addresses` (removed when there are none); other conditions are
 * kept as they are, and an unchanged record keeps its lastTransitionTime.
 */
export function conditionsWithRecord(
  svc: ServiceObject,
  addresses: readonly string[],
  now: string,
): ServiceCondition[] {
  const others = (svc.status?.conditions ?? []).filter((c) => c.type !== ALLOCATED_CONDITION);
  if (addresses.length === 0) return others;
  const current = recordOf(svc);
  const fresh = allocationCondition(addresses, now);
  const kept =
    current?.status === 'True' && current.message === fresh.message && current.lastTransitionTime !== undefined;
  const lastTransitionTime = kept && current.lastTransitionTime !== undefined ? current.lastTransitionTime : now;
  return [
    ...others,
    {
      ...fresh,
      lastTransitionTime: lastTransitionTime instanceof Date ? lastTransitionTime.toISOString() : lastTransitionTime,
    },
  ];
}
