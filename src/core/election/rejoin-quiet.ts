// A speaker's own quiet period after it (re)joins (ADR 0036): the mark it writes into its heartbeat Lease and
// whether it counts itself for ownership. Peers read the mark from the Lease; the speaker itself counts as settled
// only after the write that cleared the mark came back through its own watch and one more renew interval has
// passed, so that every peer counts it settled before it does (the rule `I` of sticky-owner.ts; the same wait as
// ADR 0013's return to readiness). Pure: time is a parameter.

export type QuietPhase =
  /** Counts for ownership like any live member. */
  | 'settled'
  /** Writes the rejoining mark until `quietUntil`. */
  | 'quiet'
  /** The quiet period is over: writes no mark, waits to see that write come back. */
  | 'clearing';

export class RejoinQuiet {
  readonly #quietMs: number;
  readonly #renewIntervalMs: number;
  #phase: QuietPhase = 'settled';
  #quietUntil = Number.NEGATIVE_INFINITY;
  #settleAt = Number.POSITIVE_INFINITY;

  /** `quietMs` 0 turns stickiness off: `rejoin` never starts a quiet period. */
  constructor(quietMs: number, renewIntervalMs: number) {
    this.#quietMs = quietMs;
    this.#renewIntervalMs = renewIntervalMs;
  }

  get enabled(): boolean {
    return this.#quietMs > 0;
  }

  /**
   * The node is about to (re)join the live set: it starts with a previous Lease of its own, or it renews while fenced
   * (peers may have dropped it), or it is ready for layer 2 again. `othersServe`: another live member is settled in
   * its view, so the cluster runs without it. Then it is quiet for the period from `now` (again from `now` if it
   * already was). With nobody else to serve, a quiet period in progress ends now (a member counts itself settled
   * only once its cleared mark came back). Returns whether the node is quiet now.
   */
  rejoin(now: number, othersServe: boolean): boolean {
    if (!this.enabled) return false;
    if (othersServe) {
      this.#phase = 'quiet';
      this.#quietUntil = now + this.#quietMs;
      this.#settleAt = Number.POSITIVE_INFINITY;
    } else if (this.#phase === 'quiet') {
      this.#quietUntil = Math.min(this.#quietUntil, now);
    }
    return this.mark(now);
  }

  /** Whether a renewal sent at `now` writes the rejoining mark. */
  mark(now: number): boolean {
    if (this.#phase === 'quiet' && now >= this.#quietUntil) this.#phase = 'clearing';
    return this.#phase === 'quiet';
  }

  /** A version of the own Lease came back through the watch: `marked` what it said, `sentAt` when it was sent. */
  echoed(marked: boolean, sentAt: number, now: number): void {
    if (this.mark(now) || this.#phase !== 'clearing') return;
    if (!marked && sentAt >= this.#quietUntil && this.#settleAt === Number.POSITIVE_INFINITY)
      this.#settleAt = now + this.#renewIntervalMs;
  }

  /** Whether the node counts itself for ownership at `now`. */
  settled(now: number): boolean {
    if (this.#phase === 'clearing' && now >= this.#settleAt) {
      this.#phase = 'settled';
      this.#settleAt = Number.POSITIVE_INFINITY;
    }
    return this.#phase === 'settled';
  }

  phase(now: number): QuietPhase {
    this.mark(now);
    this.settled(now);
    return this.#phase;
  }

  /** The next time `mark` or `settled` changes by itself (undefined: not before an event). */
  nextChange(now: number): number | undefined {
    const phase = this.phase(now);
    if (phase === 'quiet') return this.#quietUntil;
    if (phase === 'clearing' && Number.isFinite(this.#settleAt)) return this.#settleAt;
    return undefined;
  }
}
