// What the BGP sessions report; implemented with Prometheus in ../speaker-prometheus.ts and by counters in tests.
export interface BgpMetrics {
  /** The session with this peer is Established (true) or not. */
  sessionUp(peer: string, up: boolean): void;
  /** An Established session went down. */
  sessionFlap(peer: string): void;
  /** Prefixes currently advertised to this peer. */
  prefixesAdvertised(peer: string, count: number): void;
  updatesSent(peer: string, count: number): void;
  notification(peer: string, direction: 'sent' | 'received'): void;
  /** An inbound UPDATE handled by RFC 7606 rules short of a session reset. */
  inboundError(peer: string, handling: 'treat-as-withdraw' | 'attribute-discard'): void;
}

export const noBgpMetrics: BgpMetrics = {
  sessionUp: () => undefined,
  sessionFlap: () => undefined,
  prefixesAdvertised: () => undefined,
  updatesSent: () => undefined,
  notification: () => undefined,
  inboundError: () => undefined,
};
