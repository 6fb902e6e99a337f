// The named timers of a state machine's runner (BGP's ConnectRetry, Hold, Keepalive; BFD's transmit and detection):
// the FSM says start or stop a timer by name, the runner keeps at most one running per name on the injected Clock.
import type { Clock, Timer } from '../core/clock.ts';

export class FsmTimers<Name> {
  readonly #clock: Clock;
  readonly #running = new Map<Name, Timer>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** (Re)starts `name`: one already running is cancelled; `fire` runs once, `ms` from now, unless stopped first. */
  start(name: Name, ms: number, fire: () => void): void {
    this.#running.get(name)?.cancel();
    this.#running.set(
      name,
      this.#clock.after(ms, () => {
        this.#running.delete(name);
        fire();
      }),
    );
  }

  /** Cancels `name` if it is running. */
  stop(name: Name): void {
    this.#running.get(name)?.cancel();
    this.#running.delete(name);
  }

  /** Cancels every running timer. */
  stopAll(): void {
    for (const timer of this.#running.values()) timer.cancel();
    this.#running.clear();
  }
}
