// The timing of the layer-2 speakers in the tests' cluster: renew interval, Lease duration, fencing margin, handover
// overlap, and how soon a speaker acts on an event that is not a deadline.
export const RENEW_MS = 1000;
export const LEASE_MS = 5000;
export const MARGIN_MS = 1000;
export const OVERLAP_MS = 1500;
/**
 * How soon a speaker acts on an event that is not a deadline (an informer event, a new Lease version): passes are
 * coalesced, at most one per 50 ms (RECOMPUTE_SPACING_MS in src/speaker/layer2/pass-scheduler.ts).
 */
export const SOON_MS = 100;
