// The addresses the layer-2 speaker answers for, and what a change of them tells: the announcer (at once), the
// metrics, the log and the Services' Events (AddressAnnounced; Layer2NotReady when readiness is lost).
import { formatIp } from '../../core/ip/ip-address.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Layer2Announcer, OwnedAddress } from './layer2-announcer.ts';
import type { Layer2SpeakerOptions } from './layer2-speaker-options.ts';

export type OwnedAddressesOptions = Pick<Layer2SpeakerOptions, 'node' | 'metrics' | 'recordEvent'> & {
  log: Logger;
  announcer: Layer2Announcer;
};

export class OwnedAddresses {
  readonly #node: string;
  readonly #log: Logger;
  readonly #metrics: Layer2SpeakerOptions['metrics'];
  readonly #announcer: Layer2Announcer;
  readonly #recordEvent: Layer2SpeakerOptions['recordEvent'];
  #owned = new Map<bigint, OwnedAddress>();

  constructor(options: OwnedAddressesOptions) {
    this.#node = options.node;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#announcer = options.announcer;
    this.#recordEvent = options.recordEvent;
  }

  get current(): ReadonlyMap<bigint, OwnedAddress> {
    return this.#owned;
  }

  /** What this node answers for from now on (the announcer is told at once); gains and losses are reported. */
  set(owned: Map<bigint, OwnedAddress>): void {
    const before = this.#owned;
    this.#owned = owned;
    this.#announcer.update(owned);
    this.#metrics.owned(owned.size);
    for (const [address, entry] of owned) {
      const was = before.get(address);
      if (was && sameList(was.interfaces, entry.interfaces)) continue;
      this.#reportGained(address, entry);
    }
    for (const address of before.keys()) if (!owned.has(address)) this.#reportLost(address);
  }

  /**
   * Changes what this node answers for at the addresses in `changes` only (undefined: not owned): the map is changed
   * in place, the announcer is told which addresses changed, and gains and losses are reported as set() does.
   */
  apply(changes: ReadonlyMap<bigint, OwnedAddress | undefined>): void {
    const changed = new Set<bigint>();
    for (const [address, entry] of changes) {
      const was = this.#owned.get(address);
      if (entry === undefined) {
        if (!was) continue;
        this.#owned.delete(address);
        changed.add(address);
        this.#reportLost(address);
        continue;
      }
      const sameInterfaces = was !== undefined && sameList(was.interfaces, entry.interfaces);
      if (sameInterfaces && sameList(was.services, entry.services)) continue;
      this.#owned.set(address, entry);
      changed.add(address);
      if (!sameInterfaces) this.#reportGained(address, entry);
    }
    if (changed.size === 0) return;
    this.#announcer.update(this.#owned, changed);
    this.#metrics.owned(this.#owned.size);
  }

  #reportGained(address: bigint, entry: OwnedAddress): void {
    this.#metrics.ownershipChange('gained');
    const where = entry.interfaces.length ? entry.interfaces.join(', ') : 'no interface (none matches)';
    this.#log.info(
      { ip: formatIp(address), node: this.#node, interfaces: entry.interfaces, services: entry.services },
      'announcing',
    );
    for (const service of entry.services) {
      this.#recordEvent(
        service,
        entry.interfaces.length ? 'Normal' : 'Warning',
        'AddressAnnounced',
        `${formatIp(address)} is announced by node ${this.#node} on ${where}`,
      );
    }
  }

  #reportLost(address: bigint): void {
    this.#metrics.ownershipChange('lost');
    this.#log.info({ ip: formatIp(address), node: this.#node }, 'no longer announcing');
  }

  /** A Warning Event on the Services of every address still owned: this node stops answering for `reason`. */
  reportNotReady(reason: string): void {
    for (const [address, entry] of this.#owned) {
      for (const service of entry.services) {
        this.#recordEvent(
          service,
          'Warning',
          'Layer2NotReady',
          `${formatIp(address)} is no longer announced by node ${this.#node}: ${reason}`,
        );
      }
    }
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
