// The choice of a new address for one family of a Service: the address it requests, else an address its sharing key
// already holds (if it may join), else the lowest free address of the first open pool by priority, else a
// quarantined one; or the failure, with what a later pass waits for.
import { familyOf, formatIp, type IpFamily } from '../ip/ip-address.ts';
import type { ServiceRequest } from '../config/service-request.ts';
import type { AllocationFailure, AllocationFailureReason, AssignContext, WaitFor } from './allocation-result.ts';
import type { PoolState } from './pool-state.ts';
import { joinConflict, onlyRetiring } from './keep-rules.ts';
import type { TableView } from './table-view.ts';

export function allocateFamily(
  view: TableView,
  request: ServiceRequest,
  family: IpFamily,
  eligible: { pools: PoolState[]; unknown: string[] },
  ctx: AssignContext,
): bigint | AllocationFailure {
  const fail = (reason: AllocationFailureReason, message: string, waitFor: WaitFor[] = []): AllocationFailure => ({
    reason,
    family,
    message,
    waitFor,
  });
  if (eligible.unknown.length > 0 && eligible.pools.length === 0) {
    return fail('UnknownPool', `no IPPool named ${eligible.unknown.join(', ')}`);
  }
  const withFamily = eligible.pools.filter((s) => s.config.addresses[family].size > 0n);
  const requested = request.requested.find((r) => familyOf(r) === family);
  if (requested !== undefined) return takeRequested(view, request, requested, withFamily, fail, ctx);
  // Draining pools hand out nothing: no lowest free address, no quarantined one, no sharer joins their addresses.
  const open = withFamily.filter((s) => !s.config.drain);

  for (const address of request.sharingKey ? (view.sharedUnder(request.sharingKey) ?? []) : []) {
    const holder = view.holder(address);
    if (!holder || familyOf(address) !== family || !open.some((s) => s.config.name === holder.pool)) continue;
    // Kept only until a renumbering window ends: the group has moved on, and a sharer follows it there.
    if (onlyRetiring(view, address, holder)) continue;
    // A Service whose status still shows it gave it up, most likely for a request that may not share with this one.
    if (view.releasedByOther(address, request.key) !== undefined) continue;
    if (joinConflict(request, holder, ctx) === undefined) {
      view.claim(address, request);
      return address;
    }
  }
  for (const state of open) {
    const address = state.config.addresses[family].takeLowestFrom(state.free[family]);
    if (address !== undefined) {
      view.claim(address, request, state);
      return address;
    }
  }
  for (const [address, { pool }] of view.quarantined()) {
    if (familyOf(address) === family && open.includes(pool)) {
      view.claim(address, request, pool);
      return address;
    }
  }
  if (withFamily.length === 0) {
    const named = request.poolNames ? ` among ${request.poolNames.join(', ')}` : '';
    return fail('NoMatchingPool', `no IPPool${named} with IPv${family} addresses serves ${request.key}`);
  }
  if (open.length === 0) {
    // Only a change of pools can help (one stops draining, or another admits the Service): that retries everyone.
    const names = withFamily.map((s) => s.config.name).join(', ');
    return fail(
      'PoolDraining',
      `every IPPool with IPv${family} addresses that serves ${request.key} is draining (${names}): a draining pool hands out no new addresses`,
    );
  }
  const waitFor: WaitFor[] = open.map((s) => ({ kind: 'pool', pool: s.config.name, family }));
  if (request.sharingKey) waitFor.push({ kind: 'sharing', sharingKey: request.sharingKey, family });
  return fail('PoolExhausted', `no free IPv${family} address in ${open.map((s) => s.config.name).join(', ')}`, waitFor);
}

export function takeRequested(
  view: TableView,
  request: ServiceRequest,
  address: bigint,
  pools: readonly PoolState[],
  fail: (reason: AllocationFailureReason, message: string, waitFor?: WaitFor[]) => AllocationFailure,
  ctx: AssignContext,
): bigint | AllocationFailure {
  const text = formatIp(address);
  const state = pools.find((s) => s.config.addresses[familyOf(address)].has(address));
  if (!state) {
    const elsewhere = view.poolContaining(address);
    const hint = elsewhere ? `: pool ${elsewhere.config.name} holds it but does not serve this Service` : '';
    return fail('RequestedIPNotInPool', `requested ${text} is in no eligible IPPool${hint}`);
  }
  const holder = view.holder(address);
  if (state.config.drain && !holder?.claims.has(request.key)) {
    return fail(
      'PoolDraining',
      `requested ${text} is in pool ${state.config.name}, which is draining: no Service starts to use its addresses`,
    );
  }
  const conflict = holder ? joinConflict(request, holder, ctx) : undefined;
  if (conflict)
    return fail(request.sharingKey ? 'SharingConflict' : 'IPInUse', `requested ${text}: ${conflict}`, [
      { kind: 'address', address },
    ]);
  const releaser = view.releasedByOther(address, request.key);
  if (releaser !== undefined) {
    return fail(
      'IPBeingReleased',
      `requested ${text} is still in the status of ${releaser}, which gave it up; it is assigned once that status is updated`,
      [{ kind: 'address', address }],
    );
  }
  view.claim(address, request, state);
  return address;
}
