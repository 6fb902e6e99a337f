// What the ARP / NDP responders and the announcer report; implemented in speaker-prometheus.ts.
export type Layer2Protocol = 'arp' | 'ndp';

export interface ResponderMetrics {
  answered(protocol: Layer2Protocol): void;
  announced(protocol: Layer2Protocol, count: number): void;
  rateLimited(protocol: Layer2Protocol): void;
  /** A request left unanswered because it must not be answered (see IgnoredRequest). */
  ignored(protocol: Layer2Protocol, reason: IgnoredRequest): void;
  /** A received frame that is no request to answer, or an answer that could not be sent (see DroppedFrame). */
  dropped(protocol: Layer2Protocol, reason: DroppedFrame): void;
}

/**
 * Why a request for an owned address is not answered: sent by this host (`outgoing`), addressed to another host's
 * MAC or tagged for a VLAN this node has no interface for (`other-host`), received through another interface such as
 * a VLAN sub-interface (`other-interface`), or asking for an answer to a broadcast or multicast hardware address
 * (`group-sender`: the answer would go to every host on the segment).
 */
export type IgnoredRequest = 'outgoing' | 'other-host' | 'other-interface' | 'group-sender';

/**
 * Why a received frame is not answered when no rule of IgnoredRequest is the cause (MetalLB's dropReason): it does
 * not decode or fails the protocol's validation, such as RFC 4861 section 7.1.1 (`invalid`), is no ARP request or Neighbor Solicitation (`not-a-request`: an ARP reply, say), is
 * this node's own gratuitous ARP seen on the way out (`own-announcement`), asks for an address this node does not
 * answer for on that interface (`not-owned`: the common case, every request on the segment reaches the socket), or
 * its answer could not be sent (`send-failed`: ENOBUFS under a flood, ENETDOWN).
 */
export type DroppedFrame = 'invalid' | 'not-a-request' | 'own-announcement' | 'not-owned' | 'send-failed';
