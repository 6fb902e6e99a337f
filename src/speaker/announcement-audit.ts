// Reports what the speaker refuses to announce (announcement-authorization.ts): addresses in a Service's status
// that the controller did not allocate to it, or whose pool does not admit the Service, and addresses of our pools
// handed out to Services of another class. Each refusal is a Warning Event on the Service (reason
// AnnouncementRefused) and a log line, once when it appears; the audit runs at most once per interval, since it
// reads every Service. Every speaker refuses, but one reports: the Event comes from the first live speaker by name
// (`reports`), so one forged status makes one Event, not one per node. A speaker that becomes the reporter reports
// what is still refused (at least once, possibly twice across a change of reporter).
import type { Clock, Timer } from '../core/clock.ts';
import {
  authorizationContext,
  refusedAddresses,
  type NamespaceObject,
} from '../core/config/announcement-authorization.ts';
import type { IPPool } from '../core/config/api-types.generated.ts';
import { compilePools } from '../core/config/pool-config.ts';
import type { ServiceObject } from '../core/config/service-object.ts';
import type { Logger } from '../platform/logger.ts';

/** The one reason the audit records an Event with. */
export type AuditEventReason = 'AnnouncementRefused';
export const ANNOUNCEMENT_REFUSED: AuditEventReason = 'AnnouncementRefused';

export interface AuditInputs {
  services: readonly ServiceObject[];
  pools: readonly IPPool[];
  namespaces: readonly NamespaceObject[];
  loadBalancerClass: string;
}

export interface AnnouncementAuditOptions {
  clock: Clock;
  log: Logger;
  inputs: () => AuditInputs;
  recordEvent: (service: string, type: 'Warning', reason: AuditEventReason, message: string) => void;
  /** Minimum time between two audits. */
  intervalMs: number;
  /** Whether this speaker records the Events now (one speaker does); the others only log. */
  reports: () => boolean;
}

export class AnnouncementAudit {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #inputs: () => AuditInputs;
  readonly #recordEvent: (service: string, type: 'Warning', reason: AuditEventReason, message: string) => void;
  readonly #intervalMs: number;
  readonly #reports: () => boolean;
  /** Refusals reported by Event, as `service address message`. */
  #reported = new Set<string>();
  /** Refusals logged (every speaker logs what it refuses, once). */
  #logged = new Set<string>();
  #timer: Timer | undefined;
  #last = Number.NEGATIVE_INFINITY;
  /** What each Service version refuses, for the pools, namespaces and class the context was built from (ADR 0037). */
  readonly #byService = new Map<ServiceObject, { refused: ReturnType<typeof refusedAddresses>; seen: number }>();
  #context:
    { inputs: Omit<AuditInputs, 'services'>; authorization: ReturnType<typeof authorizationContext> } | undefined;
  #audits = 0;
  /** Service versions reviewed since the audit was built (for tests: an audit reviews only what changed). */
  servicesReviewed = 0;
  #started = false;

  constructor(options: AnnouncementAuditOptions) {
    this.#clock = options.clock;
    this.#log = options.log;
    this.#inputs = options.inputs;
    this.#recordEvent = options.recordEvent;
    this.#intervalMs = options.intervalMs;
    this.#reports = options.reports;
  }

  /** Audits once `synced` resolves, then after every change (at most once per interval). */
  start(synced: Promise<void>): void {
    void synced.then(() => {
      this.#started = true;
      this.changed();
    });
  }

  changed(): void {
    if (!this.#started || this.#timer) return;
    const wait = Math.max(0, this.#last + this.#intervalMs - this.#clock.now());
    this.#timer = this.#clock.after(wait, () => {
      this.#timer = undefined;
      this.audit();
    });
  }

  stop(): void {
    this.#started = false;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  /** The refusals of every Service: reviewed once per Service version while the pools, namespaces and class stay. */
  #refused(inputs: AuditInputs): ReturnType<typeof refusedAddresses> {
    const audit = ++this.#audits;
    let context = this.#context;
    const known = context?.inputs;
    if (
      !context ||
      !known ||
      known.loadBalancerClass !== inputs.loadBalancerClass ||
      !sameObjects(known.pools, inputs.pools) ||
      !sameObjects(known.namespaces, inputs.namespaces)
    ) {
      context = {
        inputs: { pools: inputs.pools, namespaces: inputs.namespaces, loadBalancerClass: inputs.loadBalancerClass },
        authorization: authorizationContext(compilePools(inputs.pools).pools, inputs.namespaces),
      };
      this.#context = context;
      this.#byService.clear();
    }
    const { authorization } = context;
    const refused: ReturnType<typeof refusedAddresses> = [];
    for (const svc of inputs.services) {
      let entry = this.#byService.get(svc);
      if (!entry) {
        this.servicesReviewed++;
        entry = { refused: refusedAddresses([svc], authorization, inputs.loadBalancerClass), seen: audit };
        this.#byService.set(svc, entry);
      }
      entry.seen = audit;
      refused.push(...entry.refused);
    }
    if (this.#byService.size > inputs.services.length)
      for (const [svc, entry] of this.#byService) if (entry.seen !== audit) this.#byService.delete(svc);
    return refused;
  }

  /** One audit now; returns the refusals found. */
  audit(): ReturnType<typeof refusedAddresses> {
    this.#last = this.#clock.now();
    const refused = this.#refused(this.#inputs());
    const reports = this.#reports();
    const current = new Set<string>();
    const logged = new Set<string>();
    for (const r of refused) {
      const key = `${r.service} ${r.address} ${r.message}`;
      logged.add(key);
      if (this.#reported.has(key)) {
        current.add(key);
        continue;
      }
      if (!this.#logged.has(key)) this.#log.warn({ service: r.service }, r.message);
      if (!reports) continue;
      current.add(key);
      this.#recordEvent(r.service, 'Warning', ANNOUNCEMENT_REFUSED, r.message);
    }
    this.#logged = logged;
    this.#reported = current;
    return refused;
  }
}

function sameObjects<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
