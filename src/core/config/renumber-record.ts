// The controller's record of a renumbering window: the condition `beaconlb.io/Renumbering` in a Service's status,
// written in the same status write as the ingress, whose message lists each old address that stays beside its
// successor and when its window ends ("198.51.100.10 until 2026-12-07T22:00:00Z", comma-separated). The end is
// stored, not a timer: a restarted controller or a new leader reads it back and releases the address on time
// (ADR 0028). The old address is also in the ingress and in the allocation record (allocation-record.ts), which is
// what lets the speakers announce it; this condition only says until when.
import { formatIp, parseIp } from '../ip/ip-address.ts';
import type { ServiceCondition, ServiceObject } from './service-object.ts';

export const RENUMBERING_CONDITION = 'beaconlb.io/Renumbering';
const REASON = 'Renumbering';

/** An old address kept beside its successor until `until` (wall-clock epoch milliseconds). */
export interface RetiringAddress {
  address: bigint;
  until: number;
}

/** RFC 3339 in whole seconds, as the API server stores times. */
export function rfc3339(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** The condition's message for `retiring` ('' when there is none). */
export function renumberingMessage(retiring: readonly RetiringAddress[]): string {
  return retiring.map((r) => `${formatIp(r.address)} until ${rfc3339(r.until)}`).join(', ');
}

function recordOf(svc: ServiceObject): ServiceCondition | undefined {
  return svc.status?.conditions?.find((c) => c.type === RENUMBERING_CONDITION);
}

/** The windows a Service's status records (entries that do not parse are left out). */
export function recordedRenumbering(svc: ServiceObject): RetiringAddress[] {
  const record = recordOf(svc);
  if (record?.status !== 'True') return [];
  const out: RetiringAddress[] = [];
  for (const entry of (record.message ?? '').split(',')) {
    const match = /^\s*(\S+) until (\S+)\s*$/.exec(entry);
    const address = match ? parseIp(match[1] ?? '') : undefined;
    const until = match ? Date.parse(match[2] ?? '') : Number.NaN;
    if (address?.ok && Number.isFinite(until)) out.push({ address: address.value, until });
  }
  return out;
}

/** Whether the Service's record is exactly `retiring` (no record at all when there is none). */
export function renumberingMatches(svc: ServiceObject, retiring: readonly RetiringAddress[]): boolean {
  const record = recordOf(svc);
  if (retiring.length === 0) return record === undefined;
  return record?.status === 'True' && record.message === renumberingMessage(retiring);
}

/** `conditions` with the renumbering record set to `retiring` (removed when there is none). */
export function conditionsWithRenumbering(
  conditions: readonly ServiceCondition[],
  retiring: readonly RetiringAddress[],
  now: string,
): ServiceCondition[] {
  const others = conditions.filter((c) => c.type !== RENUMBERING_CONDITION);
  if (retiring.length === 0) return others;
  const current = conditions.find((c) => c.type === RENUMBERING_CONDITION);
  const message = renumberingMessage(retiring);
  const kept = current?.status === 'True' && current.message === message && current.lastTransitionTime !== undefined;
  const since = kept ? current.lastTransitionTime : now;
  return [
    ...others,
    {
      type: RENUMBERING_CONDITION,
      status: 'True',
      reason: REASON,
      message,
      lastTransitionTime: since instanceof Date ? since.toISOString() : (since ?? now),
    },
  ];
}
