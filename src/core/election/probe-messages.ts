// What the probe failure detector (ADR 0019, probe-detector.ts) exchanges: the messages between speakers
// (authenticated and encoded in src/protocol/probe), the sends it asks for and the events it is stepped with.

/**
 * What every message says about its sender's newest membership record: its generation and how long the sender has
 * held it (its own monotonic clock). A receiver learns from it that the record was published at least `heldMs`
 * before the message arrived, and that the sender has adopted it (ADR 0019, "Record age").
 */
export interface RecordReport {
  generation: number;
  heldMs: number;
}

/** What travels between speakers (authenticated and encoded by the transport); the detector adds `report` to each. */
export type ProbeMessage = { report?: RecordReport } &
  /** Probe; `confirmed`: the highest ACK sequence the monitor `for` has received from the target (null: none, or held down). */
  (
    | { kind: 'ping'; epoch: string; seq: number; for: string; confirmed: number | null }
    | { kind: 'ack'; epoch: string; seq: number; ackSeq: number }
    | { kind: 'ping-req'; epoch: string; target: string; seq: number; confirmed: number | null }
    | { kind: 'relay'; epoch: string; target: string; seq: number; ackSeq: number }
    | { kind: 'down'; epoch: string; target: string }
    | { kind: 'fenced'; epoch: string }
    | { kind: 'leaving'; epoch: string }
    /** The sender is in its quiet period after a re-join (ADR 0036): count it only where no settled member serves. */
    | { kind: 'rejoining'; epoch: string }
  );

export interface ProbeSend {
  type: 'send';
  to: string;
  message: ProbeMessage;
}

export type ProbeEvent =
  | { type: 'tick' }
  | { type: 'receive'; from: string; message: ProbeMessage }
  /** The membership record (sorted or not), its epoch and its generation (increasing; an older one is ignored). */
  | { type: 'membership'; members: readonly string[]; epoch: string; generation: number }
  /** The Lease fence (ADR 0007's rule at the Lease's cadence), decided outside. */
  | { type: 'lease-fenced'; fenced: boolean }
  /**
   * `member` runs a new process (the transport saw a new incarnation): its ACK sequences start over, so the highest
   * one received from its predecessor confirms nothing of the new process's ACKs.
   */
  | { type: 'restarted'; member: string }
  /**
   * This process replaces an earlier one of this node that served while its peers serve (the speaker found its own
   * Lease left at start): with a rejoin quiet period its first return to answering is a re-join (ADR 0036).
   */
  | { type: 'rejoin' }
  | { type: 'leave' };
