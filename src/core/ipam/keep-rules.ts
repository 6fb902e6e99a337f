// The rules of keeping: why a Service may not keep an address it holds, why it leaves one in a draining pool, why an
// old address may not stay beside its successor (renumbering), and why it may not join the holders of an address.
// Each answers with the reason in a sentence (undefined: no reason against).
import { familyOf, formatIp, type IpFamily } from '../ip/ip-address.ts';
import type { ServiceRequest } from '../config/service-request.ts';
import type { AssignContext } from './allocation-result.ts';
import { admits, type PoolState } from './pool-state.ts';
import { sharingConflict } from './sharing.ts';
import type { Holder, TableView } from './table-view.ts';

/** Why a Service may not keep an address it holds (undefined: it may keep it). */
export function whyNotKeep(
  view: TableView,
  request: ServiceRequest,
  address: bigint,
  eligible: readonly PoolState[],
  kept: ReadonlyMap<IpFamily, bigint>,
): string | undefined {
  const family = familyOf(address);
  if (!request.families.includes(family)) return `the Service no longer has IPv${family} in ipFamilies`;
  if (kept.has(family)) return `the Service already holds another IPv${family} address`;
  const requested = request.requested.find((r) => familyOf(r) === family);
  if (requested !== undefined && requested !== address) return `the Service now requests ${formatIp(requested)}`;
  if (!eligible.some((s) => s.config.addresses[family].has(address))) {
    return 'no pool that serves this Service holds it any more';
  }
  for (const other of view.holder(address)?.claims.values() ?? []) {
    if (other.key === request.key) continue;
    const conflict = sharingConflict(request, other);
    if (conflict) return conflict;
  }
  return undefined;
}

/**
 * Why a Service with a renumber window leaves an address it could keep: its pool drains. An address the Service
 * requests stays (a pinned Service keeps its address in a draining pool; to move it, change the request).
 */
export function whyLeaveDraining(view: TableView, request: ServiceRequest, address: bigint): string | undefined {
  if (request.renumberWindowMs === undefined || request.requested.includes(address)) return undefined;
  const state = view.poolContaining(address);
  return state?.config.drain ? `pool ${state.config.name} is draining` : undefined;
}

/**
 * Why an old address may not stay beside its successor (undefined: it may): it must be of a family the Service
 * still has, in a pool whose namespaces and selectors admit the Service (the speakers check the same before they
 * announce it), and shared with no Service it may not share with.
 */
export function mayStay(
  view: TableView,
  request: ServiceRequest,
  address: bigint,
  namespaceLabels: AssignContext['namespaceLabels'],
): string | undefined {
  const family = familyOf(address);
  if (!request.families.includes(family)) return `the Service no longer has IPv${family} in ipFamilies`;
  const state = view.poolContaining(address);
  if (!state) return 'no pool holds it any more';
  if (!admits(state.config, request, namespaceLabels)) return `pool ${state.config.name} no longer admits this Service`;
  for (const other of view.holder(address)?.claims.values() ?? []) {
    if (other.key === request.key) continue;
    const conflict = sharingConflict(request, other);
    if (conflict) return conflict;
  }
  return undefined;
}

/** Whether every holder of `address` keeps it only until a renumbering window ends (no sharer should join it). */
export function onlyRetiring(view: TableView, address: bigint, holder: Holder): boolean {
  return [...holder.claims.keys()].every((key) => view.retiringOf(key).some((r) => r.address === address));
}

/** Why `request` may not join the holders of an address (undefined: it may), by their requests as held and as now. */
export function joinConflict(request: ServiceRequest, holder: Holder, ctx: AssignContext): string | undefined {
  for (const other of holder.claims.values()) {
    if (other.key === request.key) continue;
    const now = ctx.currentRequest?.(other.key);
    const conflict =
      sharingConflict(request, other) ?? (now && now !== other ? sharingConflict(request, now) : undefined);
    if (conflict) return conflict;
  }
  return undefined;
}
