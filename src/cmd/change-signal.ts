// A change one part reports and others react to, so the wiring of a process can build each part from the parts built
// before it: the producer gets `emit` when it is built, the parts that react are connected once they exist. No
// callback reaches a variable assigned later (a forward reference would throw if it ran early).
export class ChangeSignal<A extends unknown[] = []> {
  readonly #reactions: Array<(...args: A) => void> = [];

  /** Adds a reaction; reactions run in the order connected. */
  connect(reaction: (...args: A) => void): void {
    this.#reactions.push(reaction);
  }

  /** Runs every reaction connected so far (none yet: nothing happens). */
  readonly emit = (...args: A): void => {
    for (const reaction of this.#reactions) reaction(...args);
  };
}
