// When the layer-2 speaker runs its ownership pass: coalesced after changes (a burst of Service events costs a few
// passes, not one per event), at once when something urgent changed, and at the next deadline a pass computed
// (a fence, a peer's expiry, the end of a quiet period), never behind the spacing of ordinary passes.
import type { Clock, Timer } from '../../core/clock.ts';

/** Minimum time between two ownership passes (bounds the work of event bursts; adds at most this to reactions). */
const RECOMPUTE_SPACING_MS = 50;
/** A pass costs O(addresses); under a burst the spacing grows to this many times the last pass's cost (at most 1 s). */
const SPACING_PER_PASS_COST = 4;
const MAX_SPACING_MS = 1000;

export class PassScheduler {
  readonly #clock: Clock;
  /** Runs one pass; false when it did not run (the speaker is leaving or stopped), so nothing is measured. */
  readonly #pass: () => boolean;
  #timer: Timer | undefined;
  #wakeTimer: Timer | undefined;
  #lastStart = Number.NEGATIVE_INFINITY;
  #lastCost = 0;
  #inPass = false;
  #stopped = false;

  constructor(clock: Clock, pass: () => boolean) {
    this.#clock = clock;
    this.#pass = pass;
  }

  /**
   * Something the pass reads changed: run on the next tick, or, within RECOMPUTE_SPACING_MS of the last pass, once
   * at its end.
   */
  changed(): void {
    if (this.#timer || this.#stopped) return;
    const spacing = Math.min(MAX_SPACING_MS, Math.max(RECOMPUTE_SPACING_MS, this.#lastCost * SPACING_PER_PASS_COST));
    const wait = Math.max(0, this.#lastStart + spacing - this.#clock.now());
    this.#timer = this.#clock.after(wait, () => {
      this.#timer = undefined;
      this.#run();
    });
  }

  /** Run now; called from inside a pass (the pass tells the probes about the Lease fence): once more right after it. */
  urgent(): void {
    if (this.#stopped) return;
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#inPass)
      this.#timer = this.#clock.after(0, () => {
        this.#timer = undefined;
        this.#run();
      });
    else this.#run();
  }

  /** Run at `at` (monotonic; replaces the previous deadline; not finite: none) at the deadline itself. */
  wakeAt(at: number, now: number): void {
    this.#wakeTimer?.cancel();
    if (!Number.isFinite(at)) return;
    this.#wakeTimer = this.#clock.after(Math.max(0, at - now), () => {
      this.#timer?.cancel();
      this.#timer = undefined;
      this.#run();
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#wakeTimer?.cancel();
    this.#timer?.cancel();
  }

  #run(): void {
    const start = this.#clock.now();
    this.#inPass = true;
    try {
      if (this.#pass()) {
        this.#lastStart = start;
        this.#lastCost = this.#clock.now() - start;
      }
    } finally {
      this.#inPass = false;
    }
  }
}
