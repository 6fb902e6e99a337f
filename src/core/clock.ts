// Time as a parameter: monotonic milliseconds and cancellable timers. src/platform/clock.ts has the real one;
// tests use a manual clock.

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds (never goes back; unrelated to wall time). */
  now(): number;
  /** Wall-clock time, for API timestamps only. */
  wallTime(): Date;
  after(ms: number, fn: () => void): Timer;
}
