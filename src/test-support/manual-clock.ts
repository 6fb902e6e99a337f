// A Clock for tests that moves only when told (every timer in src/ goes through a Clock: CONVENTIONS.md 6), so
// election, hold timers, backoff and quarantine run at simulated speed, deterministically. Nothing here touches a
// real timer: settle only yields to the event loop (setImmediate) so promise continuations run.
import type { Clock, Timer } from '../core/clock.ts';

interface PendingTimer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Lets every queued promise continuation run (setImmediate comes after the whole microtask queue). */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => {
    setImmediate(resolve);
  });
}

/**
 * A Clock that moves only when told. Timers fire in order of due time, then of creation; a timer started by a
 * firing timer fires in the same advance when it falls due within it.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: PendingTimer[] = [];
  readonly #wallEpochMs: number;

  constructor(startMs = 0, wallEpochMs = Date.UTC(2025, 0, 1)) {
    this.#now = startMs;
    this.#wallEpochMs = wallEpochMs;
  }

  now(): number {
    return this.#now;
  }

  wallTime(): Date {
    return new Date(this.#wallEpochMs + this.#now);
  }

  after(ms: number, fn: () => void): Timer {
    const timer: PendingTimer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Timers started and neither fired nor cancelled. */
  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, firing every timer due by then, in order, synchronously. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (let due = this.#takeNextDue(target); due; due = this.#takeNextDue(target)) {
      this.#now = due.at;
      due.fn();
    }
    this.#now = target;
  }

  /**
   * Like advance, but lets promise continuations run before and after each timer, as the event loop would: code
   * that awaits a promise resolved by a timer resumes at that timer's time, not at the end of the advance.
   */
  async settle(ms = 0): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await flushMicrotasks();
      const due = this.#takeNextDue(target);
      if (!due) break;
      this.#now = due.at;
      due.fn();
    }
    this.#now = target;
  }

  /** Settles until the absolute time `t` (see settle), then lets the continuations of the last timers run too. */
  async until(t: number): Promise<void> {
    await this.settle(Math.max(0, t - this.#now));
    await flushMicrotasks();
  }

  /** Moves time forward by `ms` WITHOUT firing timers: an event loop that is late, for the instant it is late. */
  stall(ms: number): void {
    this.#now += ms;
  }

  #takeNextDue(until: number): PendingTimer | undefined {
    this.#timers = this.#timers.filter((t) => !t.cancelled);
    let next: PendingTimer | undefined;
    for (const timer of this.#timers) {
      if (timer.at > until) continue;
      if (!next || timer.at < next.at || (timer.at === next.at && timer.seq < next.seq)) next = timer;
    }
    if (next) {
      const taken = next;
      this.#timers = this.#timers.filter((t) => t !== taken);
    }
    return next;
  }
}
