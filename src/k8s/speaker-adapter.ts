// The speaker's view of the cluster: informers for what it announces (Services, IPPools, L2Advertisements,
// BGPPeers, BGPAdvertisements, Nodes, Namespaces, EndpointSlices), the Secrets of the BGP password namespace (that
// namespace only: ADR 0014) and the peers' heartbeat Leases, plus Events.
import type { Clock } from '../core/clock.ts';
import {
  API_GROUP,
  API_VERSION,
  type BGPAdvertisement,
  type BGPPeer,
  type IPPool,
  type L2Advertisement,
} from '../core/config/api-types.generated.ts';
import type { EndpointSliceObject, NodeObject } from '../core/config/cluster-objects.ts';
import type { ServiceObject } from '../core/config/service-object.ts';
import type { Layer2Inputs } from '../core/config/layer2-plan.ts';
import type { BgpInputs } from '../speaker/bgp/bgp-plan.ts';
import type { Logger } from '../platform/logger.ts';
import type { ApiClient } from './api/api-client.ts';
import { paths } from './api/api-paths.ts';
import { EventRecorder, type EventReason } from './event-recorder.ts';
import type { NamespaceObject } from '../core/config/announcement-authorization.ts';
import { Informer, type KubeObject } from './informer.ts';
import { peerLeasesOf, speakerLeaseInformer, type LeaseObject, type PeerLease } from './speaker-lease-watch.ts';

export type { PeerLease } from './speaker-lease-watch.ts';

interface SecretObject extends KubeObject {
  data?: Record<string, string>;
}

export interface SpeakerAdapterOptions {
  client: ApiClient;
  clock: Clock;
  log: Logger;
  /** The install namespace: heartbeat Leases. */
  namespace: string;
  /** The namespace holding the BGP password Secrets (ADR 0014). */
  passwordNamespace: string;
  node: string;
  loadBalancerClass: string;
  /** Freshness bound of every watch (ADR 0013): a cache with no proof of completeness for this long is stale. */
  staleAfterMs: number;
  /** Called on any change of what the speaker reads, freshness included (debounce in the caller). */
  onChange: () => void;
  /**
   * Watch the peers' heartbeat Leases (ADR 0007's Lease liveness). False with failure detection by probes (ADR 0019):
   * nothing a speaker decides reads other Leases, and N watches of N Leases are the O(N^2) the probes remove.
   */
  watchLeases?: boolean;
}

export class SpeakerAdapter {
  readonly #passwordNamespace: string;
  readonly #loadBalancerClass: string;
  readonly #informers: Array<Informer<KubeObject>>;
  readonly services: Informer<ServiceObject>;
  readonly pools: Informer<IPPool>;
  readonly advertisements: Informer<L2Advertisement>;
  readonly nodes: Informer<NodeObject & KubeObject>;
  readonly namespaces: Informer<NamespaceObject & KubeObject>;
  readonly endpointSlices: Informer<EndpointSliceObject & KubeObject>;
  readonly leases: Informer<LeaseObject>;
  readonly bgpPeers: Informer<BGPPeer>;
  readonly bgpAdvertisements: Informer<BGPAdvertisement>;
  readonly secrets: Informer<SecretObject>;
  readonly events: EventRecorder;

  constructor(o: SpeakerAdapterOptions) {
    this.#passwordNamespace = o.passwordNamespace;
    this.#loadBalancerClass = o.loadBalancerClass;
    const common = {
      client: o.client,
      clock: o.clock,
      log: o.log,
      onChange: () => {
        o.onChange();
      },
    };
    // What layer 2 reads is also checked for freshness (each watch is renewed every few seconds, ADR 0013); the BGP
    // objects and Secrets keep long watches.
    const checked = {
      ...common,
      staleAfterMs: o.staleAfterMs,
      onFreshness: () => {
        o.onChange();
      },
    };
    this.services = new Informer<ServiceObject>({ ...checked, path: paths.services() });
    this.pools = new Informer<IPPool>({ ...checked, path: paths.ours('ippools') });
    this.advertisements = new Informer<L2Advertisement>({ ...checked, path: paths.ours('l2advertisements') });
    this.nodes = new Informer<NodeObject & KubeObject>({ ...checked, path: paths.nodes() });
    this.namespaces = new Informer<NamespaceObject & KubeObject>({ ...checked, path: paths.namespaces() });
    this.endpointSlices = new Informer<EndpointSliceObject & KubeObject>({ ...checked, path: paths.endpointSlices() });
    this.leases = speakerLeaseInformer({ ...checked, namespace: o.namespace });
    this.bgpPeers = new Informer<BGPPeer>({ ...common, path: paths.ours('bgppeers') });
    this.bgpAdvertisements = new Informer<BGPAdvertisement>({ ...common, path: paths.ours('bgpadvertisements') });
    this.secrets = new Informer<SecretObject>({ ...common, path: paths.secrets(o.passwordNamespace) });
    this.events = new EventRecorder({
      client: o.client,
      component: 'beaconlb-speaker',
      host: o.node,
      clock: o.clock,
      log: o.log,
    });
    this.#informers = [
      this.services,
      this.pools,
      this.advertisements,
      this.nodes,
      this.namespaces,
      this.endpointSlices,
      ...(o.watchLeases === false ? [] : [this.leases]),
      this.bgpPeers,
      this.bgpAdvertisements,
      this.secrets,
    ] as Array<Informer<KubeObject>>;
  }

  start(): void {
    for (const informer of this.#informers) informer.start();
  }

  stop(): void {
    for (const informer of this.#informers) informer.stop();
  }

  /**
   * Failure detection by probes took over from Lease liveness (ADR 0019, "Start-up and fallback"): the peers' Leases
   * are read no more, so their watch ends (once it has synced, so that nobody waits for it in vain).
   */
  stopLeaseWatch(): void {
    void this.leases.synced.then(() => {
      const at = this.#informers.indexOf(this.leases);
      if (at < 0) return;
      this.#informers.splice(at, 1);
      this.leases.stop();
    });
  }

  /** Reconnects every watch: after a partition, established watches may be silently dead. */
  restartWatches(): void {
    for (const informer of this.#informers) informer.restart();
  }

  /** The caches layer 2 reads that are stale (by resource, such as `services`), sorted. */
  staleLayer2Views(): string[] {
    return this.#informers
      .filter((i) => i.stale)
      .map((i) => i.path.slice(i.path.lastIndexOf('/') + 1))
      .sort();
  }

  async synced(): Promise<void> {
    await Promise.all(this.#informers.map((i) => i.synced));
  }

  layer2Inputs(): Layer2Inputs {
    return {
      services: this.services.list(),
      pools: this.pools.list(),
      advertisements: this.advertisements.list(),
      nodes: this.nodes.list(),
      endpointSlices: this.endpointSlices.list(),
      namespaces: this.namespaces.list(),
      loadBalancerClass: this.#loadBalancerClass,
    };
  }

  bgpInputs(): BgpInputs {
    return {
      services: this.services.list(),
      pools: this.pools.list(),
      peers: this.bgpPeers.list(),
      advertisements: this.bgpAdvertisements.list(),
      nodes: this.nodes.list(),
      endpointSlices: this.endpointSlices.list(),
      namespaces: this.namespaces.list(),
      loadBalancerClass: this.#loadBalancerClass,
    };
  }

  /** One key of a Secret in the BGP password namespace, decoded; undefined when absent. Never log the result. */
  secretValue(name: string, key: string): string | undefined {
    const value = this.secrets.get(name, this.#passwordNamespace)?.data?.[key];
    return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
  }

  /** An Event on one of our objects, or on a Service (name: namespace/name). */
  recordObjectEvent(
    kind: 'L2Advertisement' | 'BGPPeer' | 'BGPAdvertisement' | 'Service',
    name: string,
    type: 'Normal' | 'Warning',
    reason: EventReason,
    message: string,
  ): void {
    if (kind === 'Service') {
      this.recordServiceEvent(name, type, reason, message);
      return;
    }
    const informer =
      kind === 'BGPPeer' ? this.bgpPeers : kind === 'BGPAdvertisement' ? this.bgpAdvertisements : this.advertisements;
    // The object may be malformed: read its uid defensively.
    const uid = (informer.get(name) as { metadata?: { uid?: unknown } } | undefined)?.metadata?.uid;
    this.events.record(
      {
        apiVersion: `${API_GROUP}/${API_VERSION}`,
        kind,
        name,
        namespace: undefined,
        uid: typeof uid === 'string' ? uid : undefined,
      },
      type,
      reason,
      message,
    );
  }

  /** The heartbeat Leases, each for the node its name gives (holderIdentity is not trusted: docs/security.md). */
  peerLeases(): PeerLease[] {
    return peerLeasesOf(this.leases.list());
  }

  recordServiceEvent(key: string, type: 'Normal' | 'Warning', reason: EventReason, message: string): void {
    const [namespace, name] = key.split('/') as [string, string];
    const svc = this.services.get(name, namespace);
    this.events.record(
      { apiVersion: 'v1', kind: 'Service', name, namespace, uid: svc?.metadata.uid },
      type,
      reason,
      message,
    );
  }
}
