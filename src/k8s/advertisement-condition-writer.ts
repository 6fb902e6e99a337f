// Writes the controller's part of the L2Advertisement and BGPAdvertisement status (src/controller/advertisement-
// conditions.ts) while this replica leads: by server-side apply on the status subresource under the field manager
// beaconlb-controller, so the speakers' UpdateTooLarge conditions (their own field managers) are left alone. Writes
// only when the status says something else (transition times aside), batched 200 ms after a change, at most once
// a second per object.
import type { Clock, Timer } from '../core/clock.ts';
import {
  API_GROUP,
  API_VERSION,
  type BGPAdvertisement,
  type IPPool,
  type L2Advertisement,
} from '../core/config/api-types.generated.ts';
import { advertisementStatus, statusSays } from '../controller/advertisement-conditions.ts';
import type { Logger } from '../platform/logger.ts';
import type { ApiClient } from './api/api-client.ts';
import { describeError, errorCode } from './api/api-error.ts';
import { paths } from './api/api-paths.ts';
import { Informer, type KubeObject } from './informer.ts';

type Kind = 'L2Advertisement' | 'BGPAdvertisement';
const PLURAL: Record<Kind, string> = { L2Advertisement: 'l2advertisements', BGPAdvertisement: 'bgpadvertisements' };

export interface AdvertisementConditionWriterOptions {
  client: ApiClient;
  clock: Clock;
  log: Logger;
  pools: () => readonly IPPool[];
  minIntervalMs?: number;
}

export class AdvertisementConditionWriter {
  readonly #client: ApiClient;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #pools: () => readonly IPPool[];
  readonly #minIntervalMs: number;
  readonly #informers: Record<Kind, Informer<KubeObject>>;
  readonly #dirty = new Set<string>();
  readonly #lastWrite = new Map<string, number>();
  #timer: Timer | undefined;
  #running = false;
  #writing = false;

  constructor(o: AdvertisementConditionWriterOptions) {
    this.#client = o.client;
    this.#clock = o.clock;
    this.#log = o.log;
    this.#pools = o.pools;
    this.#minIntervalMs = o.minIntervalMs ?? 1000;
    const informer = (kind: Kind): Informer<KubeObject> =>
      new Informer<KubeObject>({
        client: o.client,
        clock: o.clock,
        log: o.log,
        path: paths.ours(PLURAL[kind]),
        onChange: (obj, change) => {
          if (change !== 'delete') this.#mark(`${kind}/${obj.metadata?.name ?? ''}`);
        },
      });
    this.#informers = { L2Advertisement: informer('L2Advertisement'), BGPAdvertisement: informer('BGPAdvertisement') };
  }

  start(): void {
    this.#running = true;
    for (const i of Object.values(this.#informers)) i.start();
    this.poolsChanged();
  }

  stop(): void {
    this.#running = false;
    this.#timer?.cancel();
    this.#timer = undefined;
    for (const i of Object.values(this.#informers)) i.stop();
  }

  /** Pools were added, removed or changed: every advertisement may select others. */
  poolsChanged(): void {
    for (const kind of Object.keys(PLURAL) as Kind[])
      for (const obj of this.#informers[kind].list()) this.#mark(`${kind}/${obj.metadata?.name ?? ''}`);
    // Before the informers synced there is nothing listed yet: their adds mark everything.
  }

  #mark(key: string): void {
    this.#dirty.add(key);
    this.#schedule(200);
  }

  #schedule(ms: number): void {
    if (!this.#running || this.#timer || this.#writing) return;
    this.#timer = this.#clock.after(ms, () => {
      this.#timer = undefined;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    const now = this.#clock.now();
    const minInterval = this.#minIntervalMs;
    const pools = this.#pools();
    let later = false;
    for (const key of [...this.#dirty]) {
      if (!this.#running) break;
      const slash = key.indexOf('/');
      const kind = key.slice(0, slash) as Kind;
      const name = key.slice(slash + 1);
      const obj = this.#informers[kind].get(name) as L2Advertisement | BGPAdvertisement | undefined;
      if (obj === undefined) {
        this.#dirty.delete(key);
        this.#lastWrite.delete(key);
        continue;
      }
      const desired = advertisementStatus(kind, obj, pools, this.#clock.wallTime());
      if (statusSays(obj, desired)) {
        this.#dirty.delete(key);
        continue;
      }
      if (now - (this.#lastWrite.get(key) ?? Number.NEGATIVE_INFINITY) < minInterval) {
        later = true;
        continue;
      }
      this.#dirty.delete(key);
      this.#lastWrite.set(key, now);
      try {
        await this.#client.request(
          'PATCH',
          `${paths.our(PLURAL[kind], name)}/status`,
          { apiVersion: `${API_GROUP}/${API_VERSION}`, kind, metadata: { name }, status: desired },
          {
            contentType: 'application/apply-patch+yaml',
            query: { fieldManager: 'beaconlb-controller', force: true },
            timeoutMs: 10_000,
          },
        );
      } catch (error) {
        // Gone: nothing to say. Anything else: tried again after the interval.
        if (errorCode(error) !== 404) {
          this.#dirty.add(key);
          later = true;
          this.#log.warn({ kind, name, err: describeError(error) }, 'cannot write the advertisement status');
        }
      }
    }
    this.#writing = false;
    if (later) this.#schedule(minInterval);
    else if (this.#dirty.size > 0) this.#schedule(200);
  }
}
