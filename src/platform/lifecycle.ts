// Start-up and shutdown of a process, declared once (controller-runtime's Manager: runnables added in order, started
// in that order, stopped in the reverse order). A part added later may use every part added before it, so it stops
// before them: the informers outlive the reconcilers that read them, the API client outlives everything that calls
// it, the health endpoints outlive the hand-over. A start that fails stops what had started, in reverse, and the
// error goes on; a stop that fails is logged and the others still stop. Parts that start outside start() (the lab
// starts them one by one, with work in between) are added with started(): they are stopped as if start() had
// started them.
import type { Logger } from './logger.ts';

/** One part of a process: what it does to start, and to stop. Either may be absent. */
export interface Runnable {
  /** Names the part in the log lines of start and stop. */
  readonly name: string;
  start?(): void | Promise<void>;
  stop?(): void | Promise<void>;
}

export class Lifecycle {
  readonly #log: Logger;
  readonly #declared: Runnable[] = [];
  /** Started and not yet stopped, in start order. */
  readonly #running: Runnable[] = [];
  #stopping: Promise<void> | undefined;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Declares parts, in start order; start() starts them. */
  add(...runnables: Runnable[]): this {
    this.#declared.push(...runnables);
    return this;
  }

  /** A part that is already running (started by the caller): stop() stops it, before everything started earlier. */
  started(runnable: Runnable): void {
    this.#running.push(runnable);
  }

  /** Starts every part declared and not yet started, in order; if one fails, stops what is running and rethrows. */
  async start(): Promise<void> {
    for (const runnable of this.#declared.splice(0)) {
      try {
        await runnable.start?.();
      } catch (error) {
        this.#log.error({ part: runnable.name, err: String(error) }, 'start failed; stopping what started');
        await this.stop();
        throw error;
      }
      this.#running.push(runnable);
    }
  }

  /** Stops every running part, the last started first; never throws. Calling it again waits for the same stop. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  async #stopAll(): Promise<void> {
    for (let runnable = this.#running.pop(); runnable; runnable = this.#running.pop()) {
      try {
        await runnable.stop?.();
      } catch (error) {
        this.#log.error({ part: runnable.name, err: String(error) }, 'stop failed; stopping the rest');
      }
    }
  }
}
