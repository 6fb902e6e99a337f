// Prometheus metrics of the speaker (names: beaconlb_<area>_<thing>_<unit>).
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Layer2Metrics } from './layer2/layer2-speaker.ts';
import type { ResponderMetrics } from './layer2/responder-metrics.ts';

export function speakerPrometheus(): { registry: Registry; layer2: Layer2Metrics; responder: ResponderMetrics } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'beaconlb_speaker_' });
  const owned = new Gauge({ name: 'beaconlb_l2_addresses_owned', help: 'Layer-2 addresses this node answers for.', registers: [registry] });
  const changes = new Counter({ name: 'beaconlb_l2_ownership_changes_total', help: 'Addresses gained or lost by this node.', labelNames: ['kind'], registers: [registry] });
  const fenced = new Gauge({ name: 'beaconlb_l2_fenced', help: '1 while this speaker fences itself (own lease not renewed in time).', registers: [registry] });
  const answers = new Counter({ name: 'beaconlb_l2_answers_total', help: 'ARP replies and Neighbor Advertisements sent in answer to requests.', labelNames: ['protocol'], registers: [registry] });
  const announcements = new Counter({ name: 'beaconlb_l2_announcements_total', help: 'Gratuitous ARPs and unsolicited Neighbor Advertisements sent.', labelNames: ['protocol'], registers: [registry] });
  const limited = new Counter({ name: 'beaconlb_l2_requests_rate_limited_total', help: 'Requests for owned addresses left unanswered by the rate limit.', labelNames: ['protocol'], registers: [registry] });
  return {
    registry,
    layer2: {
      owned: (n) => {
        owned.set(n);
      },
      ownershipChange: (kind) => {
        changes.inc({ kind });
      },
      fenced: (f) => {
        fenced.set(f ? 1 : 0);
      },
    },
    responder: {
      answered: (protocol) => {
        answers.inc({ protocol });
      },
      announced: (protocol, count) => {
        announcements.inc({ protocol }, count);
      },
      rateLimited: (protocol) => {
        limited.inc({ protocol });
      },
    },
  };
}
