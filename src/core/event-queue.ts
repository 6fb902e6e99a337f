// Run-to-completion delivery of events to a state machine (the BGP and BFD session runners): an event raised while
// an earlier one is being handled (an action that feeds the machine again) waits until that one is done, so every
// step sees the state the previous step left.

export class EventQueue<E> {
  readonly #handle: (event: E) => void;
  readonly #queue: E[] = [];
  #running = false;

  constructor(handle: (event: E) => void) {
    this.#handle = handle;
  }

  push(event: E): void {
    this.#queue.push(event);
    if (this.#running) return;
    this.#running = true;
    try {
      for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) this.#handle(next);
    } finally {
      this.#running = false;
    }
  }
}
