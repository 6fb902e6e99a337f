// The API side of failure detection by probes (ADR 0019): the membership record (ConfigMap `beaconlb-speakers` in
// the install namespace) and the cluster key (Secret `beaconlb-memberlist`, keys `current` and `previous`).
// The controller leader keeps both (MembershipPublisher): it watches the speakers' Leases (N events per renew
// interval), publishes the members whose Lease is live, not leaving and names a probe address, as a new
// generation on every change, and creates the key when absent and rotates it. Speakers read the record with every
// renewal (one GET, MembershipReader) and the key every few renewals; RBAC lets them get these two objects by name
// and nothing else of the namespace (config/rbac/speaker-role.yaml).
import { createHash, randomBytes } from 'node:crypto';
import type { Clock, Timer } from '../core/clock.ts';
import {
  MembershipTracker,
  sameMembers,
  type FirstRecordReadiness,
  type MemberAddress,
} from '../core/election/membership-record.ts';
import type { Logger } from '../platform/logger.ts';
import { PROBE_KEY_LENGTH, probeKeyId } from '../platform/probe-key.ts';
import type { ApiClient } from './api/api-client.ts';
import { describeError, errorCode } from './api/api-error.ts';
import { paths } from './api/api-paths.ts';
import { LEAVING_ANNOTATION, PROBE_ADDRESS_ANNOTATION, speakerLeaseNode } from './heartbeat-lease.ts';
import type { Informer } from './informer.ts';
import { speakerLeaseInformer, type LeaseObject } from './speaker-lease-watch.ts';

export const MEMBERSHIP_CONFIGMAP = 'beaconlb-speakers';
export const MEMBERLIST_SECRET = 'beaconlb-memberlist';
const ROTATED_AT_ANNOTATION = 'beaconlb.io/key-rotated-at';
/** How long the previous key is accepted after a rotation (speakers re-read the key at least this often). */
export const PREVIOUS_KEY_GRACE_MS = 10 * 60_000;

export interface MembershipRecord {
  readonly members: readonly MemberAddress[];
  readonly epoch: string;
  readonly generation: number;
}

export interface ConfigMapObject {
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  data?: Record<string, string>;
}

interface LeaseWithSpec extends LeaseObject {
  spec?: { leaseDurationSeconds?: number };
}

const LABELS = { 'app.kubernetes.io/name': 'beaconlb', 'app.kubernetes.io/component': 'speaker' };

/** The record a ConfigMap holds, or undefined when it holds none (or a malformed one). */
export function membershipOf(cm: ConfigMapObject | undefined): MembershipRecord | undefined {
  const data = cm?.data;
  if (!data?.members || !data.generation || !data.epoch) return undefined;
  const generation = Number(data.generation);
  if (!Number.isSafeInteger(generation) || generation < 1) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.members);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const members: MemberAddress[] = [];
  for (const m of parsed as unknown[]) {
    const { node, address, port } = (m ?? {}) as Record<string, unknown>;
    if (typeof node !== 'string' || typeof address !== 'string' || typeof port !== 'number') return undefined;
    members.push({ node, address, port });
  }
  return { members, epoch: data.epoch.slice(0, 64), generation };
}

/** The epoch of a record: its generation and a hash of its members (diagnostics; the detector keys on it). */
export function epochOf(generation: number, members: readonly MemberAddress[]): string {
  return `${generation}-${createHash('sha256').update(JSON.stringify(members)).digest('hex').slice(0, 16)}`;
}

/** The keys a Secret holds: current first (the one to sign with), then previous. */
export function keysOf(secret: ConfigMapObject | undefined): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const name of ['current', 'previous']) {
    const text = secret?.data?.[name];
    if (!text) continue;
    const bytes = new Uint8Array(Buffer.from(text, 'base64'));
    if (bytes.length >= PROBE_KEY_LENGTH) out.push(bytes);
  }
  return out;
}

/** A new key whose id differs from `previous`'s (receivers pick the key by id). */
function newKey(previous: Uint8Array | undefined): Uint8Array {
  for (;;) {
    const key = new Uint8Array(randomBytes(PROBE_KEY_LENGTH));
    if (!previous || probeKeyId(key) !== probeKeyId(previous)) return key;
  }
}

/**
 * How a speaker reads the record with a renewal (ADR 0038). `quorum`: a GET without resourceVersion, read from etcd
 * (ADR 0019 as first built). `cache`: a GET with resourceVersion = the renewal's, which the API server answers from
 * its watch cache once the cache holds that revision. `metadata` (the default): the same, but first only the
 * object's metadata (its resourceVersion), and the whole record only when that differs from the one held.
 */
export type RecordReadMode = 'quorum' | 'cache' | 'metadata';

/** After a read from the watch cache timed out, this many reads go to etcd before the cache is tried again. */
export const QUORUM_READS_AFTER_TIMEOUT = 30;

const PARTIAL_METADATA = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';

/** The speaker's reads: the record with every renewal, the key when asked. */
export class MembershipReader {
  readonly #client: ApiClient;
  readonly #namespace: string;
  readonly #mode: RecordReadMode;
  /** The last record read whole, with the ConfigMap's resourceVersion then (metadata mode). */
  #held: { resourceVersion: string; record: MembershipRecord | undefined } | undefined;
  /** The resourceVersion of the renewal the last read came with. */
  #lastRenewal: string | undefined;
  /** Reads left to do from etcd after the watch cache kept one waiting too long. */
  #quorumReads = 0;

  constructor(client: ApiClient, namespace: string, mode: RecordReadMode = 'metadata') {
    this.#client = client;
    this.#namespace = namespace;
    this.#mode = mode;
  }

  /**
   * The record, or undefined when the controller has published none yet. With `notOlderThan`, the resourceVersion
   * of a write of this speaker that has landed (its renewal), the answer is at least as new as every record stored
   * before that write: the API server answers a GET with a resourceVersion only from a watch cache that holds that
   * revision (waiting up to 3 s for it, then 504, on which this falls back to a quorum read). Without it, or in
   * `quorum` mode, a quorum read: at least as new as every record stored before the read started.
   */
  async record(timeoutMs: number, notOlderThan?: string): Promise<MembershipRecord | undefined> {
    // A renewal that wrote nothing (a no-op patch) answers an older resourceVersion: then read from etcd.
    const fresh =
      notOlderThan && this.#mode !== 'quorum' && notOlderThan !== this.#lastRenewal && this.#quorumReads === 0
        ? notOlderThan
        : undefined;
    if (notOlderThan) this.#lastRenewal = notOlderThan;
    if (this.#quorumReads > 0) this.#quorumReads--;
    try {
      if (fresh !== undefined && this.#mode === 'metadata') {
        const meta = await this.#get(timeoutMs, fresh, PARTIAL_METADATA);
        const version = meta.metadata?.resourceVersion;
        if (version !== undefined && version === this.#held?.resourceVersion) return this.#held.record;
      }
      const cm = await this.#get(timeoutMs, fresh);
      const record = membershipOf(cm);
      const version = cm.metadata?.resourceVersion;
      this.#held = version === undefined ? undefined : { resourceVersion: version, record };
      return record;
    } catch (error) {
      if (errorCode(error) === 404) {
        this.#held = undefined;
        return undefined;
      }
      // The watch cache did not reach the renewal's revision within the server's bound (3 s): read from etcd, and
      // for the next reads too (an API server before 1.31 does not ask etcd for progress, so its cache of a
      // resource that rarely changes can lag for minutes).
      if (fresh !== undefined && errorCode(error) === 504) {
        this.#quorumReads = QUORUM_READS_AFTER_TIMEOUT;
        return this.record(timeoutMs);
      }
      throw error;
    }
  }

  #get(timeoutMs: number, resourceVersion: string | undefined, accept?: string): Promise<ConfigMapObject> {
    return this.#client.request<ConfigMapObject>(
      'GET',
      `/api/v1/namespaces/${this.#namespace}/configmaps/${MEMBERSHIP_CONFIGMAP}`,
      undefined,
      {
        timeoutMs,
        ...(resourceVersion === undefined ? {} : { query: { resourceVersion } }),
        ...(accept === undefined ? {} : { accept }),
      },
    );
  }

  /** The keys; with `notOlderThan` (a renewal's resourceVersion) from the watch cache, as the record. */
  async keys(timeoutMs: number, notOlderThan?: string): Promise<Uint8Array[]> {
    const fresh = notOlderThan && this.#mode !== 'quorum' && this.#quorumReads === 0 ? notOlderThan : undefined;
    try {
      return keysOf(
        await this.#client.request<ConfigMapObject>(
          'GET',
          `${paths.secrets(this.#namespace)}/${MEMBERLIST_SECRET}`,
          undefined,
          { timeoutMs, ...(fresh === undefined ? {} : { query: { resourceVersion: fresh } }) },
        ),
      );
    } catch (error) {
      if (errorCode(error) === 404) return [];
      if (fresh !== undefined && errorCode(error) === 504) return this.keys(timeoutMs);
      throw error;
    }
  }
}

export interface MembershipPublisherOptions {
  client: ApiClient;
  clock: Clock;
  log: Logger;
  namespace: string;
  /** Rotate the key this often (0: never). */
  keyRotationMs: number;
  /**
   * At least this long between two records: the speakers' membershipSkew (3 renew intervals) or more, so that every
   * speaker that answers reads every record (it fences when it has read none for membershipSkew - margin) and none
   * skips one, which ADR 0019's P4 needs. Changes within it are published together at its end.
   */
  minIntervalMs: number;
  /**
   * The first record waits until no speaker arrived for this long (default 10 s), and until every live speaker runs
   * probes (MembershipTracker.firstRecordReadiness).
   */
  firstRecordSettleMs?: number;
}

/** The controller leader's duty: the membership record and the cluster key. Start when leading, stop when not. */
export class MembershipPublisher {
  readonly #client: ApiClient;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #namespace: string;
  readonly #keyRotationMs: number;
  readonly #minIntervalMs: number;
  readonly #tracker = new MembershipTracker();
  readonly #leases: Informer<LeaseObject>;
  #published: MembershipRecord | undefined;
  #resourceVersion: string | undefined;
  #timer: Timer | undefined;
  #keyTimer: Timer | undefined;
  #writing = false;
  #again = false;
  #stopped = true;
  #publishedAt = Number.NEGATIVE_INFINITY;
  readonly #firstRecordSettleMs: number;
  /** The last reason logged for holding the first record back (logged once per change). */
  #heldBecause = '';

  constructor(options: MembershipPublisherOptions) {
    this.#client = options.client;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#namespace = options.namespace;
    this.#keyRotationMs = options.keyRotationMs;
    this.#minIntervalMs = options.minIntervalMs;
    this.#firstRecordSettleMs = options.firstRecordSettleMs ?? 10_000;
    this.#leases = speakerLeaseInformer({
      client: options.client,
      clock: options.clock,
      log: options.log,
      namespace: options.namespace,
      onChange: (lease, kind) => {
        this.#observe(lease, kind === 'delete');
      },
    });
  }

  start(): void {
    this.#stopped = false;
    this.#leases.start();
    void this.#leases.synced.then(() => {
      this.#schedule(0);
    });
    void this.#ensureKey();
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#keyTimer?.cancel();
    this.#leases.stop();
  }

  /** Read through a method: the flag changes while a request awaits. */
  #isStopped(): boolean {
    return this.#stopped;
  }

  get published(): MembershipRecord | undefined {
    return this.#published;
  }

  #observe(lease: LeaseWithSpec, deleted: boolean): void {
    const node = speakerLeaseNode(lease.metadata?.name);
    if (node === undefined) return;
    if (deleted) this.#tracker.remove(node);
    else {
      this.#tracker.observe(
        node,
        {
          version: lease.metadata?.resourceVersion ?? '',
          leaving: lease.metadata?.annotations?.[LEAVING_ANNOTATION] === 'true',
          probeAddress: lease.metadata?.annotations?.[PROBE_ADDRESS_ANNOTATION],
          durationMs: Math.max(1, lease.spec?.leaseDurationSeconds ?? 40) * 1000,
        },
        this.#clock.now(),
      );
    }
    if (this.#leases.hasSynced) this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer?.cancel();
    this.#timer = this.#clock.after(ms, () => void this.#publish());
  }

  async #publish(): Promise<void> {
    if (this.#stopped) return;
    if (this.#writing) {
      this.#again = true;
      return;
    }
    this.#writing = true;
    const now = this.#clock.now();
    const members = this.#tracker.members(now);
    let held = false;
    let settleUntil: number | undefined;
    try {
      if (this.#published === undefined) await this.#load();
      // No first record without a member: its existence switches every speaker from Lease liveness to probes
      // (ADR 0019, "Start-up and fallback"), and an empty one would leave them all silent until the next.
      const published = this.#published;
      const first = !published || published.members.length === 0;
      const readiness: FirstRecordReadiness = first
        ? this.#tracker.firstRecordReadiness(now, this.#firstRecordSettleMs)
        : { ready: true };
      if (!readiness.ready) {
        this.#logHeld(readiness);
        if (readiness.reason === 'settling') settleUntil = readiness.retryAt;
      } else if (published ? !sameMembers(published.members, members) : members.length > 0) {
        const wait = this.#publishedAt + this.#minIntervalMs - this.#clock.now();
        if (wait > 0) held = true;
        else {
          await this.#write(members);
          this.#publishedAt = this.#clock.now();
        }
      }
    } catch (error) {
      this.#log.warn({ err: describeError(error) }, 'could not publish the speaker membership; retrying');
      this.#resourceVersion = undefined;
      this.#published = undefined;
      this.#again = true;
    } finally {
      this.#writing = false;
    }
    const after = this.#clock.now();
    const expiry = this.#tracker.nextExpiry(after);
    if (this.#again) {
      this.#again = false;
      this.#schedule(held ? Math.max(200, this.#publishedAt + this.#minIntervalMs - after) : 200);
    } else if (held) this.#schedule(Math.max(0, this.#publishedAt + this.#minIntervalMs - after));
    else if (settleUntil !== undefined) this.#schedule(Math.max(0, settleUntil - after));
    else if (expiry !== undefined) this.#schedule(Math.max(0, expiry - after));
  }

  #logHeld(readiness: FirstRecordReadiness & { ready: false }): void {
    const because = readiness.reason === 'lease-liveness' ? `lease-liveness:${readiness.nodes.join(',')}` : 'settling';
    if (because === this.#heldBecause) return;
    this.#heldBecause = because;
    if (readiness.reason === 'lease-liveness')
      this.#log.info(
        { nodes: readiness.nodes },
        'first speaker membership held back: these speakers run Lease liveness (--failure-detection=lease or an older version); probes start when every speaker runs them',
      );
    else
      this.#log.info(
        { settleMs: this.#firstRecordSettleMs },
        'first speaker membership: waiting for speakers to settle',
      );
  }

  async #load(): Promise<void> {
    try {
      const cm = await this.#client.request<ConfigMapObject>('GET', this.#configMapPath());
      this.#resourceVersion = cm.metadata?.resourceVersion;
      // A record stored by a previous leader may be seconds old (a controller rollout): count the interval from now,
      // so that two records are never less than minIntervalMs apart (ADR 0019, "At most one record per membershipSkew").
      if (this.#publishedAt === Number.NEGATIVE_INFINITY) this.#publishedAt = this.#clock.now();
      this.#published = membershipOf(cm) ?? {
        members: [],
        epoch: '',
        generation: Number(cm.data?.generation ?? 0) || 0,
      };
    } catch (error) {
      if (errorCode(error) !== 404) throw error;
      this.#resourceVersion = undefined;
    }
  }

  #configMapPath(): string {
    return `/api/v1/namespaces/${this.#namespace}/configmaps/${MEMBERSHIP_CONFIGMAP}`;
  }

  async #write(members: MemberAddress[]): Promise<void> {
    const generation = (this.#published?.generation ?? 0) + 1;
    const record: MembershipRecord = { members, epoch: epochOf(generation, members), generation };
    const body = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: MEMBERSHIP_CONFIGMAP,
        namespace: this.#namespace,
        labels: LABELS,
        ...(this.#resourceVersion ? { resourceVersion: this.#resourceVersion } : {}),
      },
      data: { members: JSON.stringify(members), generation: String(generation), epoch: record.epoch },
    };
    const written = this.#resourceVersion
      ? await this.#client.request<ConfigMapObject>('PUT', this.#configMapPath(), body)
      : await this.#client.request<ConfigMapObject>('POST', `/api/v1/namespaces/${this.#namespace}/configmaps`, body);
    this.#resourceVersion = written.metadata?.resourceVersion;
    this.#published = record;
    this.#log.info({ generation, members: members.map((m) => m.node) }, 'speaker membership published');
  }

  /** Creates the key when absent; rotates it when older than keyRotationMs; drops the previous one after the grace. */
  async #ensureKey(): Promise<void> {
    if (this.#stopped) return;
    const path = `${paths.secrets(this.#namespace)}/${MEMBERLIST_SECRET}`;
    let next = 60_000;
    try {
      let secret: ConfigMapObject | undefined;
      try {
        secret = await this.#client.request<ConfigMapObject>('GET', path);
      } catch (error) {
        if (errorCode(error) !== 404) throw error;
      }
      const wall = this.#clock.wallTime().getTime();
      const stamp = (): Record<string, string> => ({ [ROTATED_AT_ANNOTATION]: new Date(wall).toISOString() });
      const b64 = (key: Uint8Array): string => Buffer.from(key).toString('base64');
      if (!secret) {
        await this.#client.request('POST', paths.secrets(this.#namespace), {
          apiVersion: 'v1',
          kind: 'Secret',
          type: 'Opaque',
          metadata: { name: MEMBERLIST_SECRET, namespace: this.#namespace, labels: LABELS, annotations: stamp() },
          data: { current: b64(newKey(undefined)) },
        });
        this.#log.info({ secret: MEMBERLIST_SECRET }, 'failure-detector key created');
      } else {
        const [current, previous] = keysOf(secret);
        const rotatedAt = Date.parse(secret.metadata?.annotations?.[ROTATED_AT_ANNOTATION] ?? '') || 0;
        const rotate = current === undefined || (this.#keyRotationMs > 0 && wall - rotatedAt >= this.#keyRotationMs);
        const dropPrevious = previous !== undefined && wall - rotatedAt >= PREVIOUS_KEY_GRACE_MS;
        if (rotate || dropPrevious) {
          const data: Record<string, string> = rotate
            ? { current: b64(newKey(current)), ...(current ? { previous: b64(current) } : {}) }
            : { current: b64(current) };
          await this.#client.request('PUT', path, {
            apiVersion: 'v1',
            kind: 'Secret',
            type: 'Opaque',
            metadata: {
              ...secret.metadata,
              annotations: { ...secret.metadata?.annotations, ...(rotate ? stamp() : {}) },
            },
            data,
          });
          this.#log.info(
            { secret: MEMBERLIST_SECRET, rotated: rotate, droppedPrevious: !rotate },
            'failure-detector key updated',
          );
        }
      }
    } catch (error) {
      this.#log.warn({ err: describeError(error) }, 'could not check the failure-detector key; retrying');
      next = 5000;
    }
    if (!this.#isStopped()) this.#keyTimer = this.#clock.after(next, () => void this.#ensureKey());
  }
}
