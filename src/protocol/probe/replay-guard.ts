// Refuses replayed failure-detector datagrams (ADR 0019): per sender, the incarnation (random per process start)
// and the highest sequence seen; a datagram whose sequence was already passed in the same incarnation is a replay or
// a duplicate. A receiver that restarted knows no sender's sequence, so a captured DOWN could be replayed to it:
// DOWN must also carry a wall-clock second within ±maxSkewSeconds of the receiver's (the only use of wall clocks,
// and only against replays by someone without the key). Reordering is tolerated within a window of sequences.
import type { ProbeDatagram } from './probe-datagram.ts';

export type ReplayVerdict = 'accept' | 'replayed' | 'stale-vote';

interface SenderState {
  incarnation: bigint;
  highest: number;
  /** Sequences in (highest - window, highest] already seen. */
  seen: Set<number>;
}

export class ReplayGuard {
  readonly #senders = new Map<string, SenderState>();
  readonly #window: number;
  readonly #maxSkewSeconds: number;

  constructor(options: { window?: number; maxSkewSeconds?: number } = {}) {
    this.#window = options.window ?? 64;
    this.#maxSkewSeconds = options.maxSkewSeconds ?? 30;
  }

  /** Judges an authenticated datagram received at the receiver's wall-clock second `nowSecond`. */
  check(d: ProbeDatagram, nowSecond: number): ReplayVerdict {
    if (d.message.kind === 'down' && Math.abs(d.wallSecond - nowSecond) > this.#maxSkewSeconds) return 'stale-vote';
    const known = this.#senders.get(d.from);
    if (!known || known.incarnation !== d.incarnation) {
      // A new process of the sender (or the first datagram from it): its sequences start over.
      this.#senders.set(d.from, { incarnation: d.incarnation, highest: d.seq, seen: new Set([d.seq]) });
      return 'accept';
    }
    if (d.seq <= known.highest - this.#window || known.seen.has(d.seq)) return 'replayed';
    known.seen.add(d.seq);
    if (d.seq > known.highest) {
      known.highest = d.seq;
      for (const s of known.seen) if (s <= known.highest - this.#window) known.seen.delete(s);
    }
    return 'accept';
  }

  /** Forgets a sender that left the membership. */
  forget(sender: string): void {
    this.#senders.delete(sender);
  }
}
