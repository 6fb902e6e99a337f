// What this node knows of the age of the membership records (ADR 0019, "Record age"): every probe message reports
// its sender's newest generation and how long the sender has held it. A report "generation g, held for h" read at r
// proves that record g, and every older one, was stored before r − h, and that the sender holds g or newer. Kept
// here: an upper bound on the publication of each record this node holds (and of its first one, and of the one that
// first listed it), the newest generation each member reported, and which members of the current record have not yet
// said they hold the one that lists this node (a join). Pure: time is a parameter; the detector asks the questions.
import type { Epoch } from './membership-epoch.ts';
import type { RecordReport } from './probe-messages.ts';

export class RecordAges {
  readonly #skewMs: number;
  #firstGeneration = 0;
  #firstPublishedBy = Number.POSITIVE_INFINITY;
  /** The generation that first listed this node in its current run of memberships (0: not a member). */
  #joinGeneration = 0;
  #joinPublishedBy = Number.POSITIVE_INFINITY;
  /** Per held generation: stored no later than this. */
  readonly #publishedBy = new Map<number, number>();
  /** Per member: the newest generation its current process reported holding. */
  readonly #reported = new Map<string, number>();
  /** Members of the current record not yet known to hold the one that first listed this node. */
  #joinUnacknowledged: Set<string> | undefined;

  constructor(membershipSkewMs: number) {
    this.#skewMs = membershipSkewMs;
  }

  /** The generation of this process's first record (0 before it has one). */
  get firstGeneration(): number {
    return this.#firstGeneration;
  }

  /** No later than this, this process's first record was stored. */
  get firstPublishedBy(): number {
    return this.#firstPublishedBy;
  }

  /** This node adopted `epoch` at `now`; `joined`: it is the first record of this node's current run of memberships. */
  adopted(epoch: Epoch, now: number, joined: boolean): void {
    this.#publishedBy.set(epoch.generation, now);
    if (this.#firstGeneration === 0) {
      this.#firstGeneration = epoch.generation;
      this.#firstPublishedBy = now;
    }
    if (joined) {
      this.#joinGeneration = epoch.generation;
      this.#joinPublishedBy = now;
    }
  }

  /** This node adopted a record that does not list it. */
  leftMembership(): void {
    this.#joinGeneration = 0;
    this.#joinUnacknowledged = undefined;
  }

  /** The members of the current record (other than `self`) still to say they hold the record that listed this node. */
  awaitJoinReports(members: readonly string[], self: string): void {
    this.#joinUnacknowledged = new Set(
      members.filter((m) => m !== self && (this.#reported.get(m) ?? 0) < this.#joinGeneration),
    );
  }

  /** A report from `from`, read at `now` (monotonic clocks agree on durations to far better than the 0.1 % discounted). */
  note(from: string, report: RecordReport, now: number): void {
    const by = now - report.heldMs * 0.999;
    if (this.#firstGeneration > 0 && report.generation >= this.#firstGeneration)
      this.#firstPublishedBy = Math.min(this.#firstPublishedBy, by);
    if (this.#joinGeneration > 0 && report.generation >= this.#joinGeneration) {
      this.#joinPublishedBy = Math.min(this.#joinPublishedBy, by);
      this.#joinUnacknowledged?.delete(from);
    }
    for (const [generation, known] of this.#publishedBy)
      if (generation <= report.generation && by < known) this.#publishedBy.set(generation, by);
    if (report.generation > (this.#reported.get(from) ?? 0)) this.#reported.set(from, report.generation);
  }

  /** The newest generation `member`'s current process reported (0: none). */
  reported(member: string): number {
    return this.#reported.get(member) ?? 0;
  }

  /** No later than this, `epoch` (held here) was stored. */
  publishedBy(epoch: Epoch): number {
    return this.#publishedBy.get(epoch.generation) ?? epoch.adoptedAt;
  }

  /** Whether `member` surely holds `epoch` (or newer) at `now`: it said so, or the epoch is membershipSkew old. */
  surelyHolds(member: string, epoch: Epoch, now: number): boolean {
    return this.reported(member) >= epoch.generation || now >= this.publishedBy(epoch) + this.#skewMs;
  }

  /**
   * Whether every speaker surely knows this node's membership at `now` (P4 rule 4): the record that listed it was
   * stored membershipSkew ago (no later than `joinedAt`, this node's adoption of it, or than a report proves), or every
   * member of the current record said it holds that record.
   */
  joinKnown(joinedAt: number, now: number): boolean {
    if (now >= Math.min(joinedAt, this.#joinPublishedBy) + this.#skewMs) return true;
    return this.#joinUnacknowledged !== undefined && this.#joinUnacknowledged.size === 0;
  }

  /** A member restarted: its new process has reported nothing yet. */
  forget(member: string): void {
    this.#reported.delete(member);
  }

  /** A record this node held is gone (its transition is over). */
  dropped(epoch: Epoch): void {
    this.#publishedBy.delete(epoch.generation);
  }

  /** Forgets the reports of nodes no held record lists. */
  keepOnly(isMember: (node: string) => boolean): void {
    for (const m of this.#reported.keys()) if (!isMember(m)) this.#reported.delete(m);
  }
}
