// Which ServiceAnnouncement records (ADR 0024) nobody will remove: those of a node whose speaker is gone (its
// heartbeat Lease not renewed, by the controller's own clock, for `deadAfterMs`, or absent that long), and those of a
// Service that is gone or was replaced (its uid is not the record's owner) where no garbage collector runs. A live
// speaker keeps its own records right; the controller removes only what no live speaker will.
import { PeerLiveness } from '../core/election/liveness.ts';

export interface RecordRef {
  readonly namespace: string;
  readonly name: string;
  readonly service: string;
  readonly node: string;
  /** The uid in the record's ownerReference to its Service. */
  readonly ownerUid: string | undefined;
}

export interface SpeakerLeaseSeen {
  readonly node: string;
  readonly version: string;
}

/** The speakers' liveness as the controller sees it, from the Leases it watches. */
export class SpeakerPresence {
  readonly #liveness = new PeerLiveness();
  readonly #since: number;
  #known = new Set<string>();

  constructor(now: number) {
    this.#since = now;
  }

  observe(leases: readonly SpeakerLeaseSeen[], now: number): void {
    const seen = new Set<string>();
    for (const lease of leases) {
      seen.add(lease.node);
      this.#liveness.observe(lease.node, lease.version, 'active', now);
    }
    for (const node of this.#known) if (!seen.has(node)) this.#liveness.remove(node);
    this.#known = seen;
  }

  /** Whether the node's speaker is gone: its Lease unchanged (or absent) for deadAfterMs, this process up that long. */
  gone(node: string, now: number, deadAfterMs: number): boolean {
    if (now - this.#since < deadAfterMs) return false;
    return !this.#liveness.liveNodes(now, deadAfterMs).has(node);
  }
}

/** The records to delete, with the reason for the log. */
export function garbageRecords(
  records: readonly RecordRef[],
  speakerGone: (node: string) => boolean,
  serviceUid: (key: string) => string | undefined,
): Array<{ record: RecordRef; reason: 'SpeakerGone' | 'ServiceGone' }> {
  const garbage: Array<{ record: RecordRef; reason: 'SpeakerGone' | 'ServiceGone' }> = [];
  for (const record of records) {
    const uid = serviceUid(`${record.namespace}/${record.service}`);
    if (uid === undefined || (record.ownerUid !== undefined && record.ownerUid !== uid))
      garbage.push({ record, reason: 'ServiceGone' });
    else if (speakerGone(record.node)) garbage.push({ record, reason: 'SpeakerGone' });
  }
  return garbage;
}
