// What the ARP / NDP responder reports; implemented in speaker-prometheus.ts.
export type Layer2Protocol = 'arp' | 'ndp';

export interface ResponderMetrics {
  answered(protocol: Layer2Protocol): void;
  announced(protocol: Layer2Protocol, count: number): void;
  rateLimited(protocol: Layer2Protocol): void;
  /** A request left unanswered because it must not be answered (see IgnoredRequest). */
  ignored(protocol: Layer2Protocol, reason: IgnoredRequest): void;
}

/**
 * Why a request for an owned address is not answered: sent by this host (`outgoing`), addressed to another host's
 * MAC or tagged for a VLAN this node has no interface for (`other-host`), received through another interface such as
 * a VLAN sub-interface (`other-interface`), or asking for an answer to a broadcast or multicast hardware address
 * (`group-sender`: the answer would go to every host on the segment).
 */
export type IgnoredRequest = 'outgoing' | 'other-host' | 'other-interface' | 'group-sender';
