// The speakers' heartbeat Leases as one speaker sees them: a watch-backed cache of the Leases labelled as
// speakers' in the install namespace, and the peers read from it (node, resourceVersion, leaving mark, layer-2
// readiness, rejoining mark; the node is read from the Lease's name, which the admission policy ties to the writer's node, never
// from holderIdentity). The speaker's adapter holds one; the scale harness (bench/support/hollow-speaker.ts) runs many in one
// process.
import type { ApiClient } from './api/api-client.ts';
import { paths } from './api/api-paths.ts';
import { SPEAKER_LEASE_SELECTOR, speakerLeaseMarks, speakerLeaseNode } from './heartbeat-lease.ts';
import { Informer, type InformerOptions, type KubeObject } from './informer.ts';

export interface PeerLease {
  node: string;
  version: string;
  leaving: boolean;
  /** Why the speaker says it must not own layer-2 addresses (annotation); undefined: ready. */
  layer2NotReady?: string;
  /** In its quiet period after (re)joining (ADR 0036): counts for ownership only where no settled peer can serve. */
  rejoining?: boolean;
}

export interface LeaseObject extends KubeObject {
  metadata?: KubeObject['metadata'] & { annotations?: Record<string, string> };
}

export type SpeakerLeaseWatchOptions = Omit<InformerOptions<LeaseObject>, 'path' | 'labelSelector'> & {
  client: ApiClient;
  namespace: string;
};

/** The informer over the speakers' Leases: `speakerLeaseInformer(o).start()` watches them. */
export function speakerLeaseInformer(o: SpeakerLeaseWatchOptions): Informer<LeaseObject> {
  const { namespace, ...options } = o;
  return new Informer<LeaseObject>({
    ...options,
    path: paths.leases(namespace),
    labelSelector: SPEAKER_LEASE_SELECTOR,
  });
}

/** The peers a speaker judges, from the cached Leases: one per Lease named like a speaker's. */
export function peerLeasesOf(leases: readonly LeaseObject[]): PeerLease[] {
  return leases.flatMap((lease) => {
    const node = speakerLeaseNode(lease.metadata?.name);
    if (node === undefined) return [];
    const { leaving, layer2NotReady, rejoining } = speakerLeaseMarks(lease.metadata?.annotations);
    return [
      {
        node,
        version: lease.metadata?.resourceVersion ?? '',
        leaving,
        ...(layer2NotReady === undefined ? {} : { layer2NotReady }),
        ...(rejoining ? { rejoining: true } : {}),
      },
    ];
  });
}
