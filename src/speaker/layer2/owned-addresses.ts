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
      if (was && was.interfaces.join() === entry.interfaces.join()) continue;
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
    for (const address of before.keys()) {
      if (owned.has(address)) continue;
      this.#metrics.ownershipChange('lost');
      this.#log.info({ ip: formatIp(address), node: this.#node }, 'no longer announcing');
    }
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
