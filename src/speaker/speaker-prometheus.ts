// Prometheus metrics of the speaker (names: beaconlb_<area>_<thing>_<unit>).
import { MetricsRegistry } from '../platform/metrics-registry.ts';
import type { BfdMetrics } from './bfd/bfd-sessions.ts';
import type { BgpMetrics } from './bgp/bgp-metrics.ts';
import type { Layer2Metrics } from './layer2/layer2-speaker-options.ts';
import type { ResponderMetrics } from './layer2/responder-metrics.ts';
import type { ProbeMetrics } from './layer2/probe-runner.ts';

export interface AnnouncementRecordMetrics {
  write(verb: 'apply' | 'delete', ok: boolean): void;
}

// Long (~175 lines): the declaration of every speaker metric with its help text, a table.
export function speakerPrometheus(): {
  registry: MetricsRegistry;
  layer2: Layer2Metrics;
  responder: ResponderMetrics;
  bgp: BgpMetrics;
  bfd: BfdMetrics;
  announcements: AnnouncementRecordMetrics;
  probes: ProbeMetrics;
} {
  const registry = new MetricsRegistry();
  const owned = registry.gauge('beaconlb_l2_addresses_owned', 'Layer-2 addresses this node answers for.');
  const changes = registry.counter('beaconlb_l2_ownership_changes_total', 'Addresses gained or lost by this node.');
  const fenced = registry.gauge(
    'beaconlb_l2_fenced',
    '1 while this speaker fences itself (own lease not renewed or not seen in time).',
  );
  const ready = registry.gauge(
    'beaconlb_l2_ready',
    '1 while this speaker is ready for layer 2 (fresh view, announcing links up); 0: it owns nothing and says so in its Lease.',
  );
  const notReady = registry.counter(
    'beaconlb_l2_not_ready_total',
    'Times this speaker became not ready for layer 2, by reason (StaleView, LinkDown).',
  );
  const liveSpeakers = registry.gauge(
    'beaconlb_l2_live_speakers',
    'Speakers this node counts live for layer 2 at its last ownership pass (itself included while ready and not fenced); every node should show the same number.',
  );
  const answers = registry.counter(
    'beaconlb_l2_answers_total',
    'ARP replies and Neighbor Advertisements sent in answer to requests.',
  );
  const announcements = registry.counter(
    'beaconlb_l2_announcements_total',
    'Gratuitous ARPs and unsolicited Neighbor Advertisements sent.',
  );
  const limited = registry.counter(
    'beaconlb_l2_requests_rate_limited_total',
    'Requests for owned addresses left unanswered by the rate limit.',
  );
  const ignored = registry.counter(
    'beaconlb_l2_requests_ignored_total',
    'Requests for owned addresses not answered by rule: sent by this host, for another host or VLAN, from another interface, or from a group hardware address.',
  );
  const dropped = registry.counter(
    'beaconlb_l2_frames_dropped_total',
    'Frames received on the ARP and NDP sockets and not answered, by reason: invalid, not-a-request, own-announcement, not-owned (a request for an address this node does not answer for), send-failed.',
  );
  const droppedBy = new Map<string, () => void>();
  const sessionUp = registry.gauge('beaconlb_bgp_session_up', '1 while the BGP session with the peer is Established.');
  const flaps = registry.counter('beaconlb_bgp_session_flaps_total', 'Established BGP sessions that went down.');
  const prefixes = registry.gauge('beaconlb_bgp_prefixes_advertised', 'Prefixes currently advertised to the peer.');
  const updates = registry.counter('beaconlb_bgp_updates_sent_total', 'UPDATE messages sent to the peer.');
  const notifications = registry.counter('beaconlb_bgp_notifications_total', 'NOTIFICATION messages sent or received.');
  const inboundErrors = registry.counter(
    'beaconlb_bgp_inbound_errors_total',
    'Inbound UPDATEs handled per RFC 7606 without a reset (treat-as-withdraw, attribute-discard).',
  );
  const bfdUp = registry.gauge('beaconlb_bfd_session_up', '1 while the BFD session with the peer address is Up.');
  const bfdDowns = registry.counter(
    'beaconlb_bfd_session_down_total',
    'BFD sessions that left Up, by reason (detection-time-expired, peer-signaled-down, peer-admin-down, stopped).',
  );
  const bfdDiscarded = registry.counter(
    'beaconlb_bfd_packets_discarded_total',
    'Received BFD packets discarded, by reason (decode errors, no such session, RFC 5880 section 6.8.6 rules).',
  );
  const recordWrites = registry.counter(
    'beaconlb_speaker_announcement_writes_total',
    'ServiceAnnouncement record writes, by verb (apply, delete) and result (ok, error).',
  );
  const probeSent = registry.counter(
    'beaconlb_memberlist_datagrams_sent_total',
    'Failure-detector datagrams sent to other speakers (ADR 0019).',
  );
  const probeReceived = registry.counter(
    'beaconlb_memberlist_datagrams_received_total',
    'Failure-detector datagrams received, authenticated and accepted.',
  );
  const probeRejected = registry.counter(
    'beaconlb_memberlist_rejected_total',
    'Failure-detector datagrams dropped, by reason (decode, auth, replay, stale-vote, not-for-us, no-key).',
  );
  owned.set({}, 0);
  fenced.set({}, 1);
  ready.set({}, 0);
  return {
    registry,
    probes: {
      sent: (count) => {
        probeSent.inc({}, count);
      },
      received: () => {
        probeReceived.inc({});
      },
      rejected: (reason) => {
        probeRejected.inc({ reason });
      },
    },
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
      liveSpeakers: (n) => {
        liveSpeakers.set({}, n);
      },
      ready: (r, reason) => {
        ready.set({}, r ? 1 : 0);
        if (reason) notReady.inc({ reason });
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
    bfd: {
      sessionUp: (peer, up) => {
        bfdUp.set({ peer }, up ? 1 : 0);
      },
      sessionDown: (peer, reason) => {
        bfdDowns.inc({ peer, reason });
      },
      packetDiscarded: (reason) => {
        bfdDiscarded.inc({ reason });
      },
    },
    announcements: {
      write: (verb, ok) => {
        recordWrites.inc({ verb, result: ok ? 'ok' : 'error' });
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
      // Every request on the segment for another host is counted here: the label key is computed once per pair.
      dropped: (protocol, reason) => {
        const key = `${protocol}/${reason}`;
        let increment = droppedBy.get(key);
        if (!increment) droppedBy.set(key, (increment = dropped.incrementer({ protocol, reason })));
        increment();
      },
    },
  };
}
