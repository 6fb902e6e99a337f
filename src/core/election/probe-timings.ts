// The timings of the probe failure detector (ADR 0019): the defaults, and the names every layer reads them by.

/** The timings of ADR 0019, in milliseconds of the monotonic clock. */
export interface ProbeTimings {
  probeIntervalMs: number;
  probeTimeoutMs: number;
  indirectHelpers: number;
  suspectAfterMs: number;
  fenceMarginMs: number;
  voteValidityMs: number;
  voteRefreshMs: number;
  /** Assumed upper bound on a datagram's delay (later ones are assumed lost). */
  maxDelayMs: number;
  /** Monitors per member (fewer when the membership is smaller). */
  monitors: number;
  /** How far apart in time speakers adopt a membership epoch (they read it with every Lease renewal). */
  membershipSkewMs: number;
  /** How long an old epoch stays active after a new one is adopted; at least 3 x membershipSkewMs. */
  epochTransitionMs: number;
}

export const DEFAULT_PROBE_TIMINGS: ProbeTimings = {
  probeIntervalMs: 100,
  probeTimeoutMs: 50,
  indirectHelpers: 2,
  suspectAfterMs: 500,
  fenceMarginMs: 200,
  voteValidityMs: 2000,
  voteRefreshMs: 500,
  maxDelayMs: 1000,
  monitors: 3,
  membershipSkewMs: 10_000,
  epochTransitionMs: 40_000,
};
