// Removes ServiceAnnouncement records (ADR 0024) that no live speaker will remove, while this controller replica
// leads: records of nodes whose speaker is gone (heartbeat Lease unchanged or absent for `deadAfterMs` on this
// process's clock) and of Services that are gone (where no garbage collector deletes owned objects, or before it
// does). Every `intervalMs`, at most `maxDeletesPerSweep` deletes, `concurrency` at a time: a dead node owning
// thousands of records is cleaned over a few sweeps, never in one burst.
import type { Clock, Timer } from '../core/clock.ts';
import { garbageRecords, SpeakerPresence, type RecordRef } from '../controller/announcement-garbage.ts';
import type { Logger } from '../platform/logger.ts';
import type { ApiClient } from './api/api-client.ts';
import { describeError, errorCode } from './api/api-error.ts';
import { paths } from './api/api-paths.ts';
import { Informer } from './informer.ts';
import { announcementPath, type ServiceAnnouncementObject } from './service-announcement-store.ts';
import { peerLeasesOf, speakerLeaseInformer, type LeaseObject } from './speaker-lease-watch.ts';

export interface AnnouncementSweeperOptions {
  client: ApiClient;
  clock: Clock;
  log: Logger;
  /** The install namespace (speaker Leases). */
  namespace: string;
  /** The uid of a Service (namespace/name) in the controller's cache; undefined: no such Service. */
  serviceUid: (service: string) => string | undefined;
  deadAfterMs: number;
  intervalMs: number;
  maxDeletesPerSweep?: number;
  concurrency?: number;
  /** Called after each delete, for metrics and measurements. */
  onDelete?: (reason: 'SpeakerGone' | 'ServiceGone', ok: boolean) => void;
}

export class AnnouncementSweeper {
  readonly #client: ApiClient;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #serviceUid: (service: string) => string | undefined;
  readonly #deadAfterMs: number;
  readonly #intervalMs: number;
  readonly #maxDeletesPerSweep: number;
  readonly #concurrency: number;
  readonly #onDelete: ((reason: 'SpeakerGone' | 'ServiceGone', ok: boolean) => void) | undefined;
  readonly records: Informer<ServiceAnnouncementObject>;
  readonly #leases: Informer<LeaseObject>;
  #presence: SpeakerPresence | undefined;
  #timer: Timer | undefined;
  #running = false;

  constructor(o: AnnouncementSweeperOptions) {
    this.#client = o.client;
    this.#clock = o.clock;
    this.#log = o.log;
    this.#serviceUid = o.serviceUid;
    this.#deadAfterMs = o.deadAfterMs;
    this.#intervalMs = o.intervalMs;
    this.#maxDeletesPerSweep = o.maxDeletesPerSweep ?? 500;
    this.#concurrency = o.concurrency ?? 4;
    this.#onDelete = o.onDelete;
    const common = { client: o.client, clock: o.clock, log: o.log };
    this.records = new Informer<ServiceAnnouncementObject>({ ...common, path: paths.ours('serviceannouncements') });
    this.#leases = speakerLeaseInformer({
      ...common,
      namespace: o.namespace,
      onChange: () => {
        this.#observe();
      },
    });
  }

  start(): void {
    this.#running = true;
    this.#presence = new SpeakerPresence(this.#clock.now());
    this.records.start();
    this.#leases.start();
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.records.stop();
    this.#leases.stop();
  }

  #observe(): void {
    this.#presence?.observe(
      peerLeasesOf(this.#leases.list()).map((p) => ({ node: p.node, version: p.version })),
      this.#clock.now(),
    );
  }

  #schedule(): void {
    if (!this.#running) return;
    this.#timer = this.#clock.after(this.#intervalMs, () => {
      void this.sweep().finally(() => {
        this.#schedule();
      });
    });
  }

  /** One sweep; resolves with the number of records deleted. */
  async sweep(): Promise<number> {
    if (!this.records.hasSynced || !this.#leases.hasSynced || !this.#presence) return 0;
    this.#observe();
    const now = this.#clock.now();
    const presence = this.#presence;
    const refs: RecordRef[] = this.records.list().flatMap((obj) => {
      const service = obj.spec?.service;
      const node = obj.spec?.node;
      const namespace = obj.metadata?.namespace;
      const name = obj.metadata?.name;
      if (typeof service !== 'string' || typeof node !== 'string' || !namespace || !name) return [];
      const owner = (
        obj.metadata as { ownerReferences?: Array<{ kind?: string; uid?: string }> } | undefined
      )?.ownerReferences?.find((r) => r.kind === 'Service');
      return [{ namespace, name, service, node, ownerUid: owner?.uid }];
    });
    const garbage = garbageRecords(refs, (node) => presence.gone(node, now, this.#deadAfterMs), this.#serviceUid).slice(
      0,
      this.#maxDeletesPerSweep,
    );
    let deleted = 0;
    const queue = [...garbage];
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next && this.#running; next = queue.shift()) {
        try {
          await this.#client.request('DELETE', announcementPath(next.record.namespace, next.record.name), undefined, {
            timeoutMs: 10_000,
          });
          deleted++;
          this.#onDelete?.(next.reason, true);
        } catch (error) {
          const ok = errorCode(error) === 404;
          this.#onDelete?.(next.reason, ok);
          if (!ok)
            this.#log.warn(
              { record: `${next.record.namespace}/${next.record.name}`, err: describeError(error) },
              'cannot delete a stale ServiceAnnouncement',
            );
        }
      }
    };
    await Promise.all(Array.from({ length: this.#concurrency }, worker));
    if (deleted > 0)
      this.#log.info(
        { deleted, reasons: [...new Set(garbage.map((g) => g.reason))] },
        'removed stale ServiceAnnouncement records',
      );
    return deleted;
  }
}
