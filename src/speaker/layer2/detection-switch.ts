// The default failure detection (ADR 0019, "Start-up and fallback"): probes once the controller has published a
// membership record, Lease liveness (ADR 0007) until then, so a speaker without a controller still serves. The
// switch goes one way only (a record once read, never back) and is made safe by silence: from the moment it reads
// the first record a speaker stops answering by Leases and answers by probes no earlier than the Lease fallback's
// fence window later. Any speaker still answering by Leases then has read "no record" within that window, i.e.
// after the record was published: impossible, so no two speakers answer for one address across the switch.
import type { Clock } from '../../core/clock.ts';
import type { ProbeLiveness } from './probe-liveness.ts';

/** The Lease timings the layer-2 speaker runs with. */
export interface LeaseTimings {
  readonly renewIntervalMs: number;
  readonly leaseDurationMs: number;
  readonly fenceMarginMs: number;
}

/** Lease liveness before the first record: ADR 0007's defaults (`--failure-detection=lease`). */
export const LEASE_FALLBACK_TIMINGS: LeaseTimings = {
  renewIntervalMs: 1000,
  leaseDurationMs: 3000,
  fenceMarginMs: 500,
};

export interface DetectionSwitchOptions {
  readonly node: string;
  readonly clock: Clock;
  /** Called when the quiet time after the switch is over (this node may answer by probes from then on). */
  readonly wake: () => void;
  /** The probe detector (its runner); read only once a record was seen. */
  readonly probes: ProbeLiveness;
  /** Lease liveness before the first record (ADR 0007's timings). */
  readonly fallback: LeaseTimings;
  /** The Lease as fence and membership record, after it. */
  readonly withProbes: LeaseTimings;
  /** Told once, when the first record is seen. */
  readonly onSwitch?: () => void;
}

export class DetectionSwitch implements ProbeLiveness {
  readonly #o: DetectionSwitchOptions;
  #switchedAt: number | undefined;

  constructor(options: DetectionSwitchOptions) {
    this.#o = options;
  }

  /**
   * A membership record was read (`now`: monotonic time at the read's return). The Lease renewal it belongs to
   * counts as successful only with this read (the caller reads the record in every renewal), so a speaker that
   * answers by Leases has read "no record" within its fence window.
   */
  recordSeen(now: number): void {
    if (this.#switchedAt !== undefined) return;
    this.#switchedAt = now;
    this.#o.onSwitch?.();
    this.#o.clock.after(this.quietMs, this.#o.wake);
  }

  /** Whether probes decide (a record was seen); before that the Lease liveness of ADR 0007 does. */
  get active(): boolean {
    return this.#switchedAt !== undefined;
  }

  /** The Lease timings in force: the fallback's until the switch, the probes' after it. */
  get timings(): LeaseTimings {
    return this.active ? this.#o.withProbes : this.#o.fallback;
  }

  /** The probe liveness once switched; undefined before (the speaker then reads its peers' Leases). */
  get liveness(): ProbeLiveness | undefined {
    return this.active ? this : undefined;
  }

  /** The silence after the switch: the fallback's fence window (its last Lease answer is at most this old). */
  get quietMs(): number {
    return this.#o.fallback.leaseDurationMs - this.#o.fallback.fenceMarginMs;
  }

  get members(): ReadonlySet<string> | undefined {
    return this.active ? this.#o.probes.members : undefined;
  }

  answering(now: number): boolean {
    return this.#switchedAt !== undefined && now >= this.#switchedAt + this.quietMs && this.#o.probes.answering(now);
  }

  live(now: number): Set<string> {
    const live = this.#o.probes.live(now);
    // The live set holds this node only while it answers (the layer-2 speaker's rule), so not in the quiet time.
    if (!this.answering(now)) live.delete(this.#o.node);
    return live;
  }

  rejoining(now: number): Set<string> {
    return this.#o.probes.rejoining(now);
  }

  setCannotAnswer(cannot: boolean): void {
    this.#o.probes.setCannotAnswer(cannot);
  }

  leave(): void {
    this.#o.probes.leave();
  }
}
