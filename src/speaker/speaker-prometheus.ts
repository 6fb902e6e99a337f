// Prometheus metrics of the speaker (names: beaconlb_<area>_<thing>_<unit>).
import { MetricsRegistry } from '../platform/metrics-registry.ts';
import type { Layer2Metrics } from './layer2/layer2-speaker.ts';
import type { ResponderMetrics } from './layer2/responder-metrics.ts';

export function speakerPrometheus(): { registry: MetricsRegistry; layer2: Layer2Metrics; responder: ResponderMetrics } {
  const registry = new MetricsRegistry();
  const owned = registry.gauge('beaconlb_l2_addresses_owned', 'Layer-2 addresses this node answers for.');
  const changes = registry.counter('beaconlb_l2_ownership_changes_total', 'Addresses gained or lost by this node.');
  const fenced = registry.gauge('beaconlb_l2_fenced', '1 while this speaker fences itself (own lease not renewed or not seen in time).');
  const answers = registry.counter('beaconlb_l2_answers_total', 'ARP replies and Neighbor Advertisements sent in answer to requests.');
  const announcements = registry.counter('beaconlb_l2_announcements_total', 'Gratuitous ARPs and unsolicited Neighbor Advertisements sent.');
  const limited = registry.counter('beaconlb_l2_requests_rate_limited_total', 'Requests for owned addresses left unanswered by the rate limit.');
  owned.set({}, 0);
  fenced.set({}, 1);
  return {
    registry,
    layer2: {
      owned: (n) => {
        owned.set({}, n);
      },
      ownershipChange: (kind) => {
        changes.inc({ kind });
      },
      fenced: (f) => {
        fenced.set({}, f ? 1 : 0);
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
