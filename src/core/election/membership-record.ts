// The membership record of the failure detector (ADR 0019), as the controller leader keeps it: the speakers whose
// heartbeat Lease is live, not marked leaving, and names a probe address. Liveness of a Lease is judged as in ADR
// 0007, by the controller's own monotonic clock from the last change it saw, with the Lease's own duration; never by
// comparing wall clocks. The record changes only on join, leave, expiry or a new probe address; each change is a
// new generation. Pure: time is a parameter.

export interface MemberAddress {
  readonly node: string;
  readonly address: string;
  readonly port: number;
}

interface Observed {
  readonly version: string;
  readonly leaving: boolean;
  readonly probe: { address: string; port: number } | undefined;
  readonly durationMs: number;
  readonly changedAt: number;
  /** When the Lease was first seen live (again): a speaker's arrival. */
  readonly joinedAt: number;
}

/** Whether the first record may be published, and if not, why and when to look again. */
export type FirstRecordReadiness =
  | { ready: true }
  | { ready: false; reason: 'lease-liveness'; nodes: string[] }
  | { ready: false; reason: 'settling'; retryAt: number };

/** `host:port` or `[v6]:port`, as speakers write it into their Lease; undefined when malformed. */
export function parseProbeAddress(text: string | undefined): { address: string; port: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  const address = m[1] ?? m[2];
  return address === undefined ? undefined : { address, port };
}

export function formatProbeAddress(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export class MembershipTracker {
  readonly #leases = new Map<string, Observed>();

  /** A speaker Lease as seen at `now`; a new version counts as a change at `now` (an identical one changes nothing). */
  observe(
    node: string,
    lease: { version: string; leaving: boolean; probeAddress: string | undefined; durationMs: number },
    now: number,
  ): void {
    const known = this.#leases.get(node);
    if (known?.version === lease.version) return;
    const live = known !== undefined && now < known.changedAt + known.durationMs && !known.leaving;
    this.#leases.set(node, {
      joinedAt: live ? known.joinedAt : now,
      version: lease.version,
      leaving: lease.leaving,
      probe: parseProbeAddress(lease.probeAddress),
      durationMs: lease.durationMs,
      changedAt: now,
    });
  }

  remove(node: string): void {
    this.#leases.delete(node);
  }

  /** The members at `now`, sorted by node. */
  members(now: number): MemberAddress[] {
    const out: MemberAddress[] = [];
    for (const [node, lease] of this.#leases) {
      if (lease.leaving || !lease.probe || now >= lease.changedAt + lease.durationMs) continue;
      out.push({ node, address: lease.probe.address, port: lease.probe.port });
    }
    return out.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  /**
   * The first record switches every speaker from Lease liveness to probes for good (ADR 0019, "Start-up and
   * fallback"). Publish it only when every live speaker runs probes (a speaker on Lease liveness, such as an older
   * version during an upgrade, would keep judging its peers by Leases and answer beside them) and no speaker arrived
   * within `settleMs`, so that the speakers of a new cluster, started within seconds, are listed together in
   * generation 1 instead of one by one.
   */
  firstRecordReadiness(now: number, settleMs: number): FirstRecordReadiness {
    const leaseOnly: string[] = [];
    let lastJoin = Number.NEGATIVE_INFINITY;
    for (const [node, lease] of this.#leases) {
      if (lease.leaving || now >= lease.changedAt + lease.durationMs) continue;
      if (!lease.probe) leaseOnly.push(node);
      lastJoin = Math.max(lastJoin, lease.joinedAt);
    }
    if (leaseOnly.length > 0) return { ready: false, reason: 'lease-liveness', nodes: leaseOnly.sort() };
    if (now < lastJoin + settleMs) return { ready: false, reason: 'settling', retryAt: lastJoin + settleMs };
    return { ready: true };
  }

  /** When the next live Lease expires (the record may change then without an event). */
  nextExpiry(now: number): number | undefined {
    let next: number | undefined;
    for (const lease of this.#leases.values()) {
      const at = lease.changedAt + lease.durationMs;
      if (lease.leaving || at <= now) continue;
      if (next === undefined || at < next) next = at;
    }
    return next;
  }
}

/** Whether two member lists are the same (sorted by node, as `members` returns them). */
export function sameMembers(a: readonly MemberAddress[], b: readonly MemberAddress[]): boolean {
  return (
    a.length === b.length &&
    a.every((m, i) => {
      const o = b[i];
      return o !== undefined && m.node === o.node && m.address === o.address && m.port === o.port;
    })
  );
}
