// One consistent read of everything `beaconlb status` shows: pools, Services, L2 and BGP advertisements, BGP peers
// (with the sessions the speakers report), nodes, namespaces, EndpointSlices, the speakers' heartbeat Leases (the
// node named by each Lease's name, as the speakers read it: never by holderIdentity) and the ServiceAnnouncement
// records the speakers keep.
import type { BGPAdvertisement, BGPPeer, IPPool, L2Advertisement } from '../core/config/api-types.generated.ts';
import type { NamespaceObject } from '../core/config/announcement-authorization.ts';
import type { EndpointSliceObject, NodeObject } from '../core/config/cluster-objects.ts';
import type { ServiceObject } from '../core/config/service-object.ts';
import type { ApiClient } from './api/api-client.ts';
import { paths } from './api/api-paths.ts';
import { errorCode } from './api/api-error.ts';
import type { ServiceAnnouncementObject } from './service-announcement-store.ts';
import { SPEAKER_LEASE_SELECTOR, speakerLeaseMarks, speakerLeaseNode } from './heartbeat-lease.ts';
import { MEMBERSHIP_CONFIGMAP, membershipOf, type ConfigMapObject } from './speaker-membership.ts';

export interface SpeakerLeaseRecord {
  node: string;
  renewTime: string | undefined;
  leaseDurationSeconds: number;
  leaving: boolean;
  /** Why the speaker says it must not own layer-2 addresses; empty: ready. */
  layer2NotReady: string;
  /** In its quiet period after (re)joining (ADR 0036). */
  rejoining?: boolean;
}

export interface ClusterSnapshot {
  pools: IPPool[];
  services: ServiceObject[];
  advertisements: L2Advertisement[];
  bgpPeers: BGPPeer[];
  bgpAdvertisements: BGPAdvertisement[];
  nodes: NodeObject[];
  namespaces: NamespaceObject[];
  endpointSlices: EndpointSliceObject[];
  speakers: SpeakerLeaseRecord[];
  /** The ServiceAnnouncement records (ADR 0024); empty where the kind is not installed. */
  announcements: ServiceAnnouncementObject[];
  /**
   * The members of the speakers' membership record (ADR 0019), when the controller has published one: the speakers
   * then judge liveness by probes and own addresses by preference order over these members.
   */
  membership?: string[];
}

interface List<T> {
  items: T[];
}

interface LeaseItem {
  metadata?: { name?: string; annotations?: Record<string, string> };
  spec?: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number };
}

export async function readClusterSnapshot(client: ApiClient, namespace: string): Promise<ClusterSnapshot> {
  const [pools, services, advertisements, bgpPeers, bgpAdvertisements, nodes, namespaces, endpointSlices, leases] =
    await Promise.all([
      client.get<List<IPPool>>(paths.ours('ippools')),
      client.get<List<ServiceObject>>(paths.services()),
      client.get<List<L2Advertisement>>(paths.ours('l2advertisements')),
      client.get<List<BGPPeer>>(paths.ours('bgppeers')),
      client.get<List<BGPAdvertisement>>(paths.ours('bgpadvertisements')),
      client.get<List<NodeObject>>(paths.nodes()),
      client.get<List<NamespaceObject>>(paths.namespaces()),
      client.get<List<EndpointSliceObject>>(paths.endpointSlices()),
      client.get<List<LeaseItem>>(paths.leases(namespace), { labelSelector: SPEAKER_LEASE_SELECTOR }),
    ]);
  const record = await client
    .get<ConfigMapObject>(`/api/v1/namespaces/${namespace}/configmaps/${MEMBERSHIP_CONFIGMAP}`)
    .catch((error: unknown) => {
      if (errorCode(error) === 404 || errorCode(error) === 403) return undefined;
      throw error;
    });
  const membership = membershipOf(record)?.members.map((m) => m.node);
  const announcements = await client
    .get<List<ServiceAnnouncementObject>>(paths.ours('serviceannouncements'))
    .catch((error: unknown) => {
      if (errorCode(error) === 404) return { items: [] };
      throw error;
    });
  return {
    pools: pools.items,
    services: services.items,
    advertisements: advertisements.items,
    bgpPeers: bgpPeers.items,
    bgpAdvertisements: bgpAdvertisements.items,
    nodes: nodes.items,
    namespaces: namespaces.items,
    endpointSlices: endpointSlices.items,
    announcements: announcements.items,
    ...(membership === undefined ? {} : { membership }),
    speakers: leases.items.flatMap((l) => {
      const node = speakerLeaseNode(l.metadata?.name);
      if (node === undefined) return [];
      const marks = speakerLeaseMarks(l.metadata?.annotations);
      return [
        {
          node,
          renewTime: l.spec?.renewTime,
          leaseDurationSeconds: l.spec?.leaseDurationSeconds ?? 3,
          leaving: marks.leaving,
          layer2NotReady: marks.layer2NotReady ?? '',
          rejoining: marks.rejoining,
        },
      ];
    }),
  };
}
