// Each speaker reports its own BGP sessions on the BGPPeer status: `status.sessions` is a list map keyed by node,
// and every speaker writes only its entry by server-side apply with its own field manager, so speakers never
// conflict and an entry disappears when its speaker applies none (peer no longer selects the node, speaker
// stopping). Writes happen when a state or prefix count changes, at most once per `minIntervalMs` per peer.
import type { Clock, Timer } from '../core/clock.ts';
import { API_GROUP, API_VERSION } from '../core/config/api-types.generated.ts';
import type { Logger } from '../platform/logger.ts';
import type { SessionStatus } from '../speaker/bgp/bgp-speaker.ts';
import type { ApiClient } from './api/api-client.ts';
import { paths } from './api/api-paths.ts';
import { describeError, errorCode } from './api/api-error.ts';

export interface BgpStatusReporterOptions {
  client: ApiClient;
  clock: Clock;
  log: Logger;
  node: string;
  sessions: () => SessionStatus[];
  minIntervalMs?: number;
}

interface Reported {
  text: string;
  at: number;
}

export class BgpStatusReporter {
  readonly #client: ApiClient;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #node: string;
  readonly #sessions: () => SessionStatus[];
  readonly #minIntervalMs: number;
  readonly #reported = new Map<string, Reported>();
  #timer: Timer | undefined;
  #writing: Promise<void> | undefined;
  #again = false;

  constructor(o: BgpStatusReporterOptions) {
    this.#client = o.client;
    this.#clock = o.clock;
    this.#log = o.log;
    this.#node = o.node;
    this.#sessions = o.sessions;
    this.#minIntervalMs = o.minIntervalMs ?? 1000;
  }

  /** Sessions may have changed: write soon (coalesced). */
  changed(): void {
    if (this.#timer) return;
    this.#timer = this.#clock.after(50, () => {
      this.#timer = undefined;
      void this.#flush();
    });
  }

  /** Removes this node's entries from every peer it reported on (speaker stopping). */
  async clear(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.#writing;
    await Promise.all([...this.#reported.keys()].map((peer) => this.#apply(peer, undefined)));
    this.#reported.clear();
  }

  async #flush(): Promise<void> {
    if (this.#writing) {
      this.#again = true;
      return;
    }
    this.#writing = this.#write();
    await this.#writing;
    this.#writing = undefined;
    if (this.#again) {
      this.#again = false;
      this.changed();
    }
  }

  async #write(): Promise<void> {
    const now = this.#clock.now();
    const minInterval = this.#minIntervalMs;
    const current = new Map(this.#sessions().map((s) => [s.peer, s]));
    let deferred = false;
    for (const [peer, session] of current) {
      const text = `${session.state}/${session.prefixesAdvertised}/${session.peerAs ?? ''}/${session.bfdState ?? ''}`;
      const last = this.#reported.get(peer);
      if (last?.text === text) continue;
      if (last && now - last.at < minInterval) {
        deferred = true;
        continue;
      }
      // A write that failed (API server unreachable, conflict) is tried again after minInterval, not left wrong.
      if (await this.#apply(peer, session)) this.#reported.set(peer, { text, at: now });
      else deferred = true;
    }
    for (const peer of [...this.#reported.keys()]) {
      if (current.has(peer)) continue;
      if (await this.#apply(peer, undefined)) this.#reported.delete(peer);
      else deferred = true;
    }
    if (deferred) {
      this.#timer ??= this.#clock.after(minInterval, () => {
        this.#timer = undefined;
        void this.#flush();
      });
    }
  }

  async #apply(peer: string, session: SessionStatus | undefined): Promise<boolean> {
    const wallNow = this.#clock.wallTime().getTime();
    const entry = session && {
      node: this.#node,
      state: session.state,
      lastTransitionTime: new Date(wallNow - (this.#clock.now() - session.since)).toISOString().replace(/\.\d+Z$/, 'Z'),
      prefixesAdvertised: session.prefixesAdvertised,
      ...(session.peerAs === undefined ? {} : { peerASN: session.peerAs }),
      ...(session.bfdState === undefined ? {} : { bfdState: session.bfdState }),
    };
    const body = {
      apiVersion: `${API_GROUP}/${API_VERSION}`,
      kind: 'BGPPeer',
      metadata: { name: peer },
      status: { sessions: entry ? [entry] : [] },
    };
    try {
      await this.#client.request('PATCH', `${paths.our('bgppeers', peer)}/status`, body, {
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: `beaconlb-speaker-${this.#node}`, force: true },
      });
      return true;
    } catch (error) {
      // A deleted peer has no status to clean; anything else is retried on the next change.
      if (errorCode(error) === 404) return true;
      this.#log.debug({ peer, err: describeError(error) }, 'cannot report the BGP session on the BGPPeer status');
      return false;
    }
  }
}
