// Writes the UpdateTooLarge condition of BGPAdvertisements whose routes a speaker cannot advertise because their
// merged path attributes do not fit a BGP UPDATE. Every speaker applies the condition it observes by server-side
// apply under its own field manager (as with BGPPeer sessions): speakers that observe the same message apply the same
// value (the transition time is taken from the object when the message is unchanged) and own the condition together;
// one that stops observing it applies an empty list, which removes the condition only when no other speaker owns it.
// A speaker that observes a problem and finds no condition on the object (another took it over and cleared it)
// applies it again. Writes happen only on a change of the message, or when the condition is missing: bounded.
import type { Clock } from '../core/clock.ts';
import { API_GROUP, API_VERSION, type Condition } from '../core/config/api-types.generated.ts';
import type { Logger } from '../platform/logger.ts';
import type { ApiClient } from './api/api-client.ts';
import { paths } from './api/api-paths.ts';
import { describeError, errorCode } from './api/api-error.ts';

export const UPDATE_TOO_LARGE = 'UpdateTooLarge';

export interface AdvertisementStatusReporterOptions {
  client: ApiClient;
  clock: Clock;
  log: Logger;
  node: string;
  /** The conditions of a BGPAdvertisement in the cache (undefined: no such object, or no conditions). */
  conditions: (name: string) => readonly Condition[] | undefined;
}

export class AdvertisementStatusReporter {
  readonly #client: ApiClient;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #node: string;
  readonly #conditions: (name: string) => readonly Condition[] | undefined;
  /** The message this speaker last applied per advertisement. */
  readonly #applied = new Map<string, string>();
  readonly #inFlight = new Set<string>();

  constructor(o: AdvertisementStatusReporterOptions) {
    this.#client = o.client;
    this.#clock = o.clock;
    this.#log = o.log;
    this.#node = o.node;
    this.#conditions = o.conditions;
  }

  /** The UpdateTooLarge message per advertisement this node observes now (all others: none). */
  update(messages: ReadonlyMap<string, string>): void {
    for (const [name, message] of messages) {
      const present = this.#current(name);
      if (this.#applied.get(name) === message && present !== undefined) continue;
      void this.#apply(name, message, present?.message === message ? present.lastTransitionTime : undefined);
    }
    for (const name of [...this.#applied.keys()]) if (!messages.has(name)) void this.#apply(name, undefined, undefined);
  }

  /** Drops this speaker's conditions (speaker stopping). */
  async clear(): Promise<void> {
    await Promise.all([...this.#applied.keys()].map((name) => this.#apply(name, undefined, undefined)));
  }

  #current(name: string): Condition | undefined {
    // The status of an object stored without the current schema may be anything.
    const conditions: unknown = this.#conditions(name);
    if (!Array.isArray(conditions)) return undefined;
    return (conditions as unknown[]).find(
      (c): c is Condition =>
        typeof c === 'object' &&
        c !== null &&
        (c as Condition).type === UPDATE_TOO_LARGE &&
        (c as Condition).status === 'True',
    );
  }

  async #apply(name: string, message: string | undefined, since: string | undefined): Promise<void> {
    if (this.#inFlight.has(name)) return;
    this.#inFlight.add(name);
    const condition: Condition | undefined =
      message === undefined
        ? undefined
        : {
            type: UPDATE_TOO_LARGE,
            status: 'True',
            reason: UPDATE_TOO_LARGE,
            message,
            lastTransitionTime:
              since ??
              this.#clock
                .wallTime()
                .toISOString()
                .replace(/\.\d+Z$/, 'Z'),
          };
    const body = {
      apiVersion: `${API_GROUP}/${API_VERSION}`,
      kind: 'BGPAdvertisement',
      metadata: { name },
      status: { conditions: condition ? [condition] : [] },
    };
    try {
      await this.#client.request('PATCH', `${paths.our('bgpadvertisements', name)}/status`, body, {
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: `beaconlb-speaker-${this.#node}`, force: true },
        timeoutMs: 10_000,
      });
      if (message === undefined) this.#applied.delete(name);
      else this.#applied.set(name, message);
    } catch (error) {
      if (errorCode(error) === 404) this.#applied.delete(name);
      // Anything else is retried on the next pass (any change of the cluster view).
      else
        this.#log.debug(
          { advertisement: name, err: describeError(error) },
          'cannot write the BGPAdvertisement condition',
        );
    } finally {
      this.#inFlight.delete(name);
    }
  }
}
