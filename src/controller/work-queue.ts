// A deduplicating work queue: a key is processed by at most one worker at a time, re-added keys are processed
// again after the current pass, failures are retried with exponential backoff, and up to `concurrency` keys are
// in flight at once (a burst is bounded by the API server, not by one worker).
// Every pass starts on a turn of the event loop of its own (`yieldToLoop`): passes that need no I/O (a Service whose
// status is already right) finish synchronously, and without the yield a queue of 20,000 of them ran as one chain of
// microtasks that held the loop for seconds, so the leader Lease's renewal (a timer and a socket) waited behind it.
// One turn now runs at most `concurrency` passes.
import type { Clock, Timer } from '../core/clock.ts';
import { nextEventLoopTurn } from '../platform/event-loop-turn.ts';

export type Outcome = 'done' | { retry: string };

export interface WorkQueueOptions {
  concurrency: number;
  clock: Clock;
  process: (key: string) => Promise<Outcome>;
  onError?: (key: string, error: unknown) => void;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Resolves on a later turn of the event loop; awaited before every pass (default: setImmediate). */
  yieldToLoop?: () => Promise<void>;
}

export class WorkQueue {
  readonly #options: Required<Omit<WorkQueueOptions, 'onError'>> & Pick<WorkQueueOptions, 'onError'>;
  readonly #pending = new Set<string>();
  readonly #active = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #retryTimers = new Map<string, Timer>();
  #running = false;
  #idleWaiters: Array<() => void> = [];

  constructor(options: WorkQueueOptions) {
    this.#options = { baseBackoffMs: 50, maxBackoffMs: 30_000, yieldToLoop: nextEventLoopTurn, ...options };
  }

  start(): void {
    this.#running = true;
    this.#pump();
  }

  /** Stops taking work; resolves when in-flight keys finish or after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.#running = false;
    for (const timer of this.#retryTimers.values()) timer.cancel();
    this.#retryTimers.clear();
    if (this.#active.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = this.#options.clock.after(graceMs, resolve);
      this.#idleWaiters.push(() => {
        timer.cancel();
        resolve();
      });
    });
  }

  add(key: string): void {
    if (this.#active.has(key)) this.#dirty.add(key);
    else this.#pending.add(key);
    this.#pump();
  }

  get depth(): number {
    return this.#pending.size + this.#active.size;
  }

  #pump(): void {
    if (!this.#running) return;
    while (this.#active.size < this.#options.concurrency && this.#pending.size > 0) {
      const key = this.#pending.values().next().value as string;
      this.#pending.delete(key);
      this.#active.add(key);
      void this.#run(key);
    }
  }

  async #run(key: string): Promise<void> {
    await this.#options.yieldToLoop();
    if (!this.#running) {
      // Stopped while this pass waited for its turn: it never started.
      this.#active.delete(key);
      this.#dirty.delete(key);
      if (this.#active.size === 0) for (const waiter of this.#idleWaiters.splice(0)) waiter();
      return;
    }
    let outcome: Outcome;
    try {
      outcome = await this.#options.process(key);
    } catch (error) {
      this.#options.onError?.(key, error);
      outcome = { retry: String(error) };
    }
    this.#active.delete(key);
    if (outcome === 'done') this.#failures.delete(key);
    else this.#scheduleRetry(key);
    if (this.#dirty.delete(key)) this.#pending.add(key);
    if (this.#active.size === 0) {
      for (const waiter of this.#idleWaiters.splice(0)) waiter();
    }
    this.#pump();
  }

  #scheduleRetry(key: string): void {
    if (!this.#running || this.#retryTimers.has(key)) return;
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    const delay = Math.min(this.#options.maxBackoffMs, this.#options.baseBackoffMs * 2 ** (failures - 1));
    this.#retryTimers.set(
      key,
      this.#options.clock.after(delay, () => {
        this.#retryTimers.delete(key);
        this.add(key);
      }),
    );
  }
}
