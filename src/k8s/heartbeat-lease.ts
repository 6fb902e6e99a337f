// The speaker's own heartbeat: Lease `beaconlb-speaker-<node>` in the install namespace, renewed by a merge patch
// of spec.renewTime (one small write per interval, O(nodes) for the cluster), created when missing. Leaving
// (planned shutdown) is an annotation peers read to take over at once; so is layer-2 readiness: a speaker that
// cannot answer correctly (a stale view, its announcing link down) says why in `beaconlb.io/layer2-not-ready`, and
// peers leave it out of the live set until the annotation is gone. Peers take the node from the Lease's name,
// never from holderIdentity: the ValidatingAdmissionPolicy beaconlb-speaker-lease (config/admission) lets a speaker
// write only the Lease named after the node in its Pod-bound token, while holderIdentity is free text (docs/security.md).
import type { Clock } from '../core/clock.ts';
import type { ApiClient } from './api/api-client.ts';
import { errorCode } from './api/api-error.ts';
import { paths } from './api/api-paths.ts';
import { microTime } from './api/micro-time.ts';

export const SPEAKER_LEASE_PREFIX = 'beaconlb-speaker-';
export const SPEAKER_LEASE_LABELS = { 'app.kubernetes.io/name': 'beaconlb', 'app.kubernetes.io/component': 'speaker' };
export const LEAVING_ANNOTATION = 'beaconlb.io/leaving';
export const LAYER2_NOT_READY_ANNOTATION = 'beaconlb.io/layer2-not-ready';
/** A speaker in its quiet period after (re)joining (ADR 0036): live, owning only what no settled peer can serve. */
export const LAYER2_REJOINING_ANNOTATION = 'beaconlb.io/layer2-rejoining';
/** Where the speaker's failure detector listens (ADR 0019), `host:port`; the controller copies it into the membership. */
export const PROBE_ADDRESS_ANNOTATION = 'beaconlb.io/probe-address';

/** The node a speaker heartbeat Lease belongs to, read from its name; undefined for any other Lease. */
export function speakerLeaseNode(leaseName: string | undefined): string | undefined {
  if (!leaseName?.startsWith(SPEAKER_LEASE_PREFIX)) return undefined;
  const node = leaseName.slice(SPEAKER_LEASE_PREFIX.length);
  return node === '' ? undefined : node;
}

/** The label selector (query form) that lists the speakers' heartbeat Leases. */
export const SPEAKER_LEASE_SELECTOR = Object.entries(SPEAKER_LEASE_LABELS)
  .map(([k, v]) => `${k}=${v}`)
  .join(',');

/** What a speaker says of itself in its heartbeat Lease's annotations. */
export interface SpeakerLeaseMarks {
  readonly leaving: boolean;
  /** Why it is not ready for layer 2; undefined while it is. */
  readonly layer2NotReady: string | undefined;
  readonly rejoining: boolean;
}

export function speakerLeaseMarks(annotations: Readonly<Record<string, string>> | undefined): SpeakerLeaseMarks {
  return {
    leaving: annotations?.[LEAVING_ANNOTATION] === 'true',
    layer2NotReady: annotations?.[LAYER2_NOT_READY_ANNOTATION],
    rejoining: annotations?.[LAYER2_REJOINING_ANNOTATION] === 'true',
  };
}

interface Written {
  metadata?: { resourceVersion?: string };
}

export class HeartbeatLease {
  readonly #client: ApiClient;
  readonly #namespace: string;
  readonly #node: string;
  readonly #clock: Clock;
  readonly #leaseSeconds: number;
  readonly #probeAddress: (() => string | undefined) | undefined;

  constructor(options: {
    client: ApiClient;
    namespace: string;
    node: string;
    clock: Clock;
    leaseDurationMs: number;
    probeAddress?: () => string | undefined;
  }) {
    this.#probeAddress = options.probeAddress;
    this.#client = options.client;
    this.#namespace = options.namespace;
    this.#node = options.node;
    this.#clock = options.clock;
    this.#leaseSeconds = Math.max(1, Math.ceil(options.leaseDurationMs / 1000));
  }

  get name(): string {
    return `${SPEAKER_LEASE_PREFIX}${this.#node}`;
  }

  /**
   * Renews (or creates) the Lease; `leaving` marks a planned shutdown, `layer2NotReady` (a reason) a speaker that must
   * not own layer-2 addresses, `rejoining` one in its quiet period (ADR 0036). Resolves with the resourceVersion written.
   */
  async renew(leaving = false, timeoutMs = 1000, layer2NotReady?: string, rejoining = false): Promise<string> {
    const now = microTime(this.#clock.wallTime());
    const probe = this.#probeAddress?.();
    const annotations = {
      [LEAVING_ANNOTATION]: leaving ? 'true' : null,
      [LAYER2_NOT_READY_ANNOTATION]: layer2NotReady ?? null,
      [LAYER2_REJOINING_ANNOTATION]: rejoining ? 'true' : null,
      ...(probe === undefined ? {} : { [PROBE_ADDRESS_ANNOTATION]: probe }),
    };
    const patch = {
      metadata: { labels: SPEAKER_LEASE_LABELS, annotations },
      spec: { holderIdentity: this.#node, renewTime: now, leaseDurationSeconds: this.#leaseSeconds },
    };
    try {
      const written = await this.#client.request<Written>('PATCH', paths.lease(this.#namespace, this.name), patch, {
        timeoutMs,
      });
      return written.metadata?.resourceVersion ?? '';
    } catch (error) {
      if (errorCode(error) !== 404) throw error;
      const created = await this.#client.request<Written>(
        'POST',
        paths.leases(this.#namespace),
        {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name: this.name,
            namespace: this.#namespace,
            labels: SPEAKER_LEASE_LABELS,
            annotations: Object.fromEntries(
              Object.entries(annotations).filter((entry): entry is [string, string] => entry[1] !== null),
            ),
          },
          spec: {
            holderIdentity: this.#node,
            renewTime: now,
            acquireTime: now,
            leaseDurationSeconds: this.#leaseSeconds,
          },
        },
        { timeoutMs },
      );
      return created.metadata?.resourceVersion ?? '';
    }
  }
}
