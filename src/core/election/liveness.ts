// Which peer speakers are alive, judged from their heartbeat Leases by the OBSERVER's monotonic clock. A speaker
// renews its Lease every renewInterval; a peer never compares the lease's timestamps with its own clock (nodes'
// wall clocks disagree). It only notes, on its own monotonic clock, when it saw the lease CHANGE (a new
// resourceVersion or renewTime, or a new state), and calls the peer dead when it has seen no change for
// leaseDuration. A lease seen for the first time counts as changed at that moment: after a restart every peer is
// presumed live until its lease goes stale, so a starting speaker never claims an address another node still holds.
// A lease marked 'leaving' (a speaker shutting down) is not live at once: peers take over its addresses without
// waiting for staleness. So is a lease marked 'not-ready' (a speaker whose view is stale or whose announcing link is
// down says so in its Lease): it is renewed, but the node must not own layer-2 addresses until it is ready again.

/** The state a speaker writes into its heartbeat Lease. */
export type LeaseState = 'active' | 'leaving' | 'not-ready';

/** What the tracker keeps per peer lease. */
interface ObservedLease {
  readonly version: string;
  readonly state: LeaseState;
  /** Observer's monotonic milliseconds when the lease was first seen or last changed. */
  readonly changedAt: number;
}

/** Peer heartbeat leases and when each last changed, on the observer's clock. Pure: time is a parameter. */
export class PeerLiveness {
  readonly #leases = new Map<string, ObservedLease>();

  /**
   * Records a lease as seen at `now`: a lease not seen before, or whose version or state differs from the last
   * observation, counts as changed at `now`; the same version and state again (an informer resync) changes nothing.
   * Returns whether it counted as a change.
   */
  observe(node: string, leaseVersion: string, state: LeaseState, now: number): boolean {
    const known = this.#leases.get(node);
    if (known?.version === leaseVersion && known.state === state) return false;
    this.#leases.set(node, { version: leaseVersion, state, changedAt: now });
    return true;
  }

  /** Forgets a deleted lease: its node is not live; seen again later, it counts as first seen. Returns whether it was known. */
  remove(node: string): boolean {
    return this.#leases.delete(node);
  }

  /** Nodes whose lease changed less than leaseDurationMs before `now` and is 'active', sorted by name. */
  liveNodes(now: number, leaseDurationMs: number): Set<string> {
    const live: string[] = [];
    for (const [node, lease] of this.#leases) {
      if (isLive(lease, now, leaseDurationMs)) live.push(node);
    }
    live.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return new Set(live);
  }

  /**
   * The earliest time after `now` at which a live node goes stale (changedAt + leaseDurationMs), or undefined when no
   * node is live: without new observations the live set is the same until then, so one timer suffices.
   */
  nextExpiry(now: number, leaseDurationMs: number): number | undefined {
    let earliest: number | undefined;
    for (const lease of this.#leases.values()) {
      if (!isLive(lease, now, leaseDurationMs)) continue;
      const expiry = lease.changedAt + leaseDurationMs;
      if (earliest === undefined || expiry < earliest) earliest = expiry;
    }
    return earliest;
  }
}

/** A lease is live while it is active and younger than the lease duration on the observer's clock. */
function isLive(lease: ObservedLease, now: number, leaseDurationMs: number): boolean {
  return lease.state === 'active' && now < lease.changedAt + leaseDurationMs;
}

/**
 * The time at which a speaker must stop answering for its addresses if it cannot renew its own lease:
 * lastSuccessfulRenew + leaseDurationMs - marginMs (see selfFenced).
 */
export function fenceTime(lastSuccessfulRenew: number, leaseDurationMs: number, marginMs: number): number {
  return lastSuccessfulRenew + leaseDurationMs - marginMs;
}

/**
 * Whether a speaker must stop answering because it has not renewed its own lease for leaseDurationMs - marginMs.
 *
 * Why that is early enough: `lastSuccessfulRenew` must be the speaker's monotonic time when it SENT the renewal
 * that succeeded (not when the reply arrived). The API server stored that write no earlier than it was sent; a
 * peer sees it (watch) no earlier than it was stored, and measures staleness from its own observation, so no peer
 * can call this speaker dead before lastSuccessfulRenew + leaseDuration in real time. The speaker stops at
 * lastSuccessfulRenew + leaseDuration - margin, and the margin absorbs what is left: its own lateness in acting
 * (timers firing late, a busy event loop, replies already queued in the kernel) and the drift between two
 * monotonic clocks over one lease duration (parts per million). Using the reply's arrival time instead would be
 * unsafe by up to the request's latency. Every answer should also check this, not only a timer at fenceTime.
 *
 * The guarantee does not cover a peer whose watch lags by more than the lease duration: it can call a healthy
 * speaker dead; renewInterval must stay well below leaseDuration - margin. A margin >= leaseDuration fences at once.
 */
export function selfFenced(
  lastSuccessfulRenew: number,
  now: number,
  leaseDurationMs: number,
  marginMs: number,
): boolean {
  return now >= fenceTime(lastSuccessfulRenew, leaseDurationMs, marginMs);
}
