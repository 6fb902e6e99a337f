// Runs a pure state machine's events one at a time, to completion: an event raised while another is being handled
// (an action that feeds the machine again, a callback fired from inside a send) waits its turn instead of
// re-entering the handler halfway through a step. The BGP and BFD session runners feed their FSMs through it.

export class StepQueue<E> {
  readonly #pending: E[] = [];
  readonly #handle: (event: E) => void;
  #running = false;

  /** `handle` steps the machine with one event and executes its actions. */
  constructor(handle: (event: E) => void) {
    this.#handle = handle;
  }

  /** Handles `event` now, or after the event being handled (and those queued before it) when called from inside. */
  feed(event: E): void {
    this.#pending.push(event);
    if (this.#running) return;
    this.#running = true;
    try {
      for (let next = this.#pending.shift(); next !== undefined; next = this.#pending.shift()) this.#handle(next);
    } finally {
      this.#running = false;
    }
  }
}
