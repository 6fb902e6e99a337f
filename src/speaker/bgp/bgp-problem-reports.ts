// The problems the BGP speaker reports as Warning Events, each once: remembered so a pass does not repeat an Event.
// Bounded: an entry lives only while its object exists, a configuration problem only while the plan still has it,
// and any other reason keeps one message per object (a new message replaces the old one).
import type { Logger } from '../../platform/logger.ts';
import type { BgpInputs, BgpPlanProblem } from './bgp-plan.ts';

export type ObjectKind = 'BGPPeer' | 'BGPAdvertisement' | 'Service';
export type PlanReason = BgpPlanProblem['reason'];

/** Every reason the BGP speaker records an Event with (docs/troubleshooting.md, "Every Event reason"). */
export type BgpEventReason =
  | PlanReason
  | 'SessionEstablished'
  | 'SessionDown'
  | 'BFDUp'
  | 'BFDDown'
  | 'BFDFailed'
  | 'ListenFailed'
  | 'NextHopUnavailable'
  | 'RouterFound'
  | 'RouterNotFound';

/** Reasons found by a pass: forgotten once a pass no longer finds them, so they are reported again if they return. */
const PLAN_REASONS: ReadonlySet<string> = new Set<PlanReason>([
  'InvalidConfiguration',
  'MalformedObject',
  'UpdateTooLarge',
  'ProcessingError',
]);

interface ReportedProblem {
  readonly kind: ObjectKind;
  readonly name: string;
  readonly reason: BgpEventReason;
  readonly message: string;
}

/** A configuration problem is one per message (an object can have several at once); other reasons one per object. */
export function reportKey(p: ReportedProblem): string {
  return p.reason === 'InvalidConfiguration'
    ? `${p.kind}/${p.name}/${p.reason}/${p.message}`
    : `${p.kind}/${p.name}/${p.reason}`;
}

export class ProblemReports {
  readonly #log: Logger;
  readonly #recordEvent: (
    kind: ObjectKind,
    name: string,
    type: 'Warning',
    reason: BgpEventReason,
    message: string,
  ) => void;
  readonly #reported = new Map<string, ReportedProblem>();

  constructor(
    log: Logger,
    recordEvent: (kind: ObjectKind, name: string, type: 'Warning', reason: BgpEventReason, message: string) => void,
  ) {
    this.#log = log;
    this.#recordEvent = recordEvent;
  }

  /** Logs the problem and records it as a Warning Event, unless the same message was reported already. */
  report(kind: ObjectKind, name: string, reason: BgpEventReason, message: string): void {
    const problem = { kind, name, reason, message };
    const key = reportKey(problem);
    if (this.#reported.get(key)?.message === message) return;
    this.#reported.set(key, problem);
    this.#log.warn(
      { [kind === 'BGPPeer' ? 'peer' : kind === 'Service' ? 'service' : 'advertisement']: name, reason },
      message,
    );
    this.#recordEvent(kind, name, 'Warning', reason, message);
  }

  /** Forgets problems whose object is gone, or whose configuration problem this pass (`problemsNow`) no longer has. */
  forget(inputs: BgpInputs, problemsNow: ReadonlySet<string>): void {
    const existing = new Set([
      ...inputs.peers.map((p) => `BGPPeer/${p.metadata.name}`),
      ...inputs.advertisements.map((a) => `BGPAdvertisement/${a.metadata.name}`),
      ...inputs.services.map((s) => `Service/${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''}`),
    ]);
    for (const [key, { kind, name, reason }] of this.#reported) {
      if (!existing.has(`${kind}/${name}`) || (PLAN_REASONS.has(reason) && !problemsNow.has(key)))
        this.#reported.delete(key);
    }
  }

  /** Forgets a problem of one object and reason (not a configuration problem), so it is reported again if it returns. */
  clear(kind: ObjectKind, name: string, reason: Exclude<BgpEventReason, 'InvalidConfiguration'>): void {
    this.#reported.delete(reportKey({ kind, name, reason, message: '' }));
  }

  /** How many problems are remembered as reported. */
  get size(): number {
    return this.#reported.size;
  }
}
