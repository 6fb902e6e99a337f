// Prometheus metrics of the speaker (names: beaconlb_<area>_<thing>_<unit>).
import { MetricsRegistry } from '../platform/metrics-registry.ts';
import type { BgpMetrics } from './bgp/bgp-metrics.ts';
import type { Layer2Metrics } from './layer2/layer2-speaker.ts';
import type { ResponderMetrics } from './layer2/responder-metrics.ts';

export function speakerPrometheus(): { registry: MetricsRegistry; layer2: Layer2Metrics; responder: ResponderMetrics; bgp: BgpMetrics } {
  const registry = new MetricsRegistry();
  const owned = registry.gauge('beaconlb_l2_addresses_owned', 'Layer-2 addresses this node answers for.');
  const changes = registry.counter('beaconlb_l2_ownership_changes_total', 'Addresses gained or lost by this node.');
  const fenced = registry.gauge('beaconlb_l2_fenced', '1 while this speaker fences itself (own lease not renewed or not seen in time).');
  const answers = registry.counter('beaconlb_l2_answers_total', 'ARP replies and Neighbor Advertisements sent in answer to requests.');
  const announcements = registry.counter('beaconlb_l2_announcements_total', 'Gratuitous ARPs and unsolicited Neighbor Advertisements sent.');
  const limited = registry.counter('beaconlb_l2_requests_rate_limited_total', 'Requests for owned addresses left unanswered by the rate limit.');
  const ignored = registry.counter('beaconlb_l2_requests_ignored_total', 'Requests for owned addresses not answered by rule: sent by this host, for another host or VLAN, from another interface, or from a group hardware address.');
  const sessionUp = registry.gauge('beaconlb_bgp_session_up', '1 while the BGP session with the peer is Established.');
  const flaps = registry.counter('beaconlb_bgp_session_flaps_total', 'Established BGP sessions that went down.');
  const prefixes = registry.gauge('beaconlb_bgp_prefixes_advertised', 'Prefixes currently advertised to the peer.');
  const updates = registry.counter('beaconlb_bgp_updates_sent_total', 'UPDATE messages sent to the peer.');
  const notifications = registry.counter('beaconlb_bgp_notifications_total', 'NOTIFICATION messages sent or received.');
  const inboundErrors = registry.counter('beaconlb_bgp_inbound_errors_total', 'Inbound UPDATEs handled per RFC 7606 without a reset (treat-as-withdraw, attribute-discard).');
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
    bgp: {
      sessionUp: (peer, up) => {
        sessionUp.set({ peer }, up ? 1 : 0);
      },
      sessionFlap: (peer) => {
        flaps.inc({ peer });
      },
      prefixesAdvertised: (peer, count) => {
        prefixes.set({ peer }, count);
      },
      updatesSent: (peer, count) => {
        updates.inc({ peer }, count);
      },
      notification: (peer, direction) => {
        notifications.inc({ peer, direction });
      },
      inboundError: (peer, handling) => {
        inboundErrors.inc({ peer, handling });
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
      ignored: (protocol, reason) => {
        ignored.inc({ protocol, reason });
      },
    },
  };
}
