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
}

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
    this.#leases.set(node, {
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
