// What the ARP / NDP responder reports; implemented in speaker-prometheus.ts.
export type Layer2Protocol = 'arp' | 'ndp';

export interface ResponderMetrics {
  answered(protocol: Layer2Protocol): void;
  announced(protocol: Layer2Protocol, count: number): void;
  rateLimited(protocol: Layer2Protocol): void;
}
