// What the layer-2 speaker reads from failure detection by probes (ADR 0019): implemented by probe-runner.ts, and
// switched on by detection-switch.ts once the membership record is published.

/**
 * Liveness by direct probes (ADR 0019; src/speaker/layer2/probe-runner.ts): the membership record, the live set in
 * this node's view and this node's own right to answer.
 */
export interface ProbeLiveness {
  /** The members of the newest membership record (undefined before the first). */
  readonly members: ReadonlySet<string> | undefined;
  live(now: number): Set<string>;
  /** Members in their quiet period after a re-join (ADR 0036), this node itself while it does not count itself settled. */
  rejoining(now: number): Set<string>;
  answering(now: number): boolean;
  /** This node must not answer for a reason outside the detector (Lease fence, not ready): peers are told at once. */
  setCannotAnswer(cannot: boolean): void;
  /** Planned shutdown: peers take over at once. */
  leave(): void;
}
