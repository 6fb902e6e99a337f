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

  /** One audit now; returns the refusals found. */
  audit(): ReturnType<typeof refusedAddresses> {
    this.#last = this.#clock.now();
    const inputs = this.#inputs();
    const refused = refusedAddresses(
      inputs.services,
      authorizationContext(compilePools(inputs.pools).pools, inputs.namespaces),
      inputs.loadBalancerClass,
    );
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
