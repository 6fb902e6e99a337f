// The speaker's flags: their table (help text, defaults), the Lease timings of each failure-detection mode, and the
// settings read from them before anything starts (a usage error after the informers started would leave a process
// running without its signal handlers).
import type { FlagSpec } from './command.ts';
import { UsageError } from './command.ts';
import { durationFlag, integerFlag, optionalStringFlag, stringFlag, type Flags } from './flag-values.ts';
import { selfSignedCertificate } from '../platform/self-signed-certificate.ts';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { DEFAULT_PROBE_TIMINGS, type ProbeTimings } from '../core/election/probe-timings.ts';

/** Failure detection: direct probes with the Lease as fence and membership record (ADR 0019), or Lease liveness (ADR 0007). */
export type FailureDetection = 'probes' | 'lease';

/** The Lease timings of each detection mode when not given. */
const LEASE_DEFAULTS: Record<FailureDetection, { renew: string; duration: string; margin: string }> = {
  probes: { renew: '10s', duration: '40s', margin: '2s' },
  lease: { renew: '1s', duration: '3s', margin: '500ms' },
};

/**
 * The detector's timings for a renew interval: speakers adopt a membership record at most membershipSkew apart
 * (each reads it with every renewal and fences when none succeeded for membershipSkew - fence margin), and an old
 * epoch stays active 3 x as long (ADR 0019, P4).
 */
export function probeTimingsFor(renewIntervalMs: number): ProbeTimings {
  const membershipSkewMs = 3 * renewIntervalMs;
  return { ...DEFAULT_PROBE_TIMINGS, membershipSkewMs, epochTransitionMs: 3 * membershipSkewMs };
}

/** Where the speaker's HTTP endpoints listen; an empty address turns a listener off. */
export interface SpeakerListeners {
  /** /metrics, /healthz and /readyz without authentication. */
  readonly metrics: string;
  /** /healthz and /readyz only. */
  readonly health: string | undefined;
  /** /metrics over HTTPS behind TokenReview and SubjectAccessReview, with its certificate. */
  readonly secure: { readonly address: string; readonly tls: { cert: string; key: string } } | undefined;
}

/**
 * The listeners from the flags, read before anything starts (a usage error after the informers started would leave a
 * process running without its signal handlers). The authenticated listener's certificate: the files given (both or
 * neither), else a self-signed one for a year.
 */
export function speakerListeners(flags: Flags, node: string): SpeakerListeners {
  const certFile = optionalStringFlag(flags, 'metrics-tls-cert-file');
  const keyFile = optionalStringFlag(flags, 'metrics-tls-key-file');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError('--metrics-tls-cert-file and --metrics-tls-key-file go together');
  }
  const secureAddress = optionalStringFlag(flags, 'secure-metrics-address');
  if (secureAddress === undefined && certFile !== undefined)
    throw new UsageError('--metrics-tls-cert-file needs --secure-metrics-address');
  const tls = (): { cert: string; key: string } =>
    certFile !== undefined && keyFile !== undefined
      ? { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') }
      : selfSignedCertificate({
          commonName: `beaconlb-speaker ${node}`,
          dnsNames: [node, 'localhost'],
          now: new Date(),
          validDays: 365,
        });
  return {
    metrics: stringFlag(flags, 'metrics-address'),
    health: optionalStringFlag(flags, 'health-address'),
    secure: secureAddress === undefined ? undefined : { address: secureAddress, tls: tls() },
  };
}

/** What the speaker runs with, read from its flags. */
export interface SpeakerSettings {
  readonly node: string;
  readonly listeners: SpeakerListeners;
  readonly namespace: string;
  readonly detection: FailureDetection;
  readonly leaseDurationMs: number;
  readonly renewIntervalMs: number;
  readonly fenceMarginMs: number;
  readonly probePort: number;
  /** The address peers probe this node at when given; absent: chosen from the interfaces (probeHost). */
  readonly probeAddress: string | undefined;
  readonly staleAfterMs: number;
  /** Ownership stickiness after a failure (ADR 0036); 0: off. */
  readonly rejoinQuietMs: number;
}

/** Reads and checks the flags the wiring depends on; every problem is a UsageError. */
export function readSpeakerSettings(flags: Flags): SpeakerSettings {
  const node = optionalStringFlag(flags, 'node-name');
  if (!node) throw new UsageError('--node-name (or NODE_NAME) is required');
  const listeners = speakerListeners(flags, node);
  const namespace = stringFlag(flags, 'namespace');
  const detection = stringFlag(flags, 'failure-detection');
  if (detection !== 'probes' && detection !== 'lease')
    throw new UsageError(`--failure-detection: "${detection}" is neither probes nor lease`);
  const defaults = LEASE_DEFAULTS[detection];
  const withDefault = (name: string, value: string): Flags => ({
    ...flags,
    [name]: optionalStringFlag(flags, name) ?? value,
  });
  const leaseDurationMs = durationFlag(withDefault('lease-duration', defaults.duration), 'lease-duration');
  const renewIntervalMs = durationFlag(withDefault('renew-interval', defaults.renew), 'renew-interval');
  const fenceMarginMs = durationFlag(withDefault('fence-margin', defaults.margin), 'fence-margin');
  const probePort = integerFlag(flags, 'probe-port');
  if (probePort < 1 || probePort > 65535) throw new UsageError('--probe-port must be 1-65535');
  const probeAddress = optionalStringFlag(flags, 'probe-address');
  if (probeAddress !== undefined && isIP(probeAddress) === 0)
    throw new UsageError(`--probe-address: "${probeAddress}" is not an IP address`);
  if (renewIntervalMs >= leaseDurationMs)
    throw new UsageError('--renew-interval must be shorter than --lease-duration');
  const staleAfterMs = durationFlag(flags, 'stale-view-after');
  const rejoinQuietMs = durationFlag(flags, 'rejoin-quiet-period');
  // Watches are ended by the server after 3/4 of it (whole seconds): below 2 s nothing is left for latency.
  if (staleAfterMs < 2000) throw new UsageError('--stale-view-after must be at least 2s');
  return {
    node,
    listeners,
    namespace,
    detection,
    leaseDurationMs,
    renewIntervalMs,
    fenceMarginMs,
    probePort,
    probeAddress,
    staleAfterMs,
    rejoinQuietMs,
  };
}

/** The flags of `beaconlb speaker`, with their help text and defaults. */
export const speakerFlags: Record<string, FlagSpec> = {
  kubeconfig: { type: 'string', description: 'Kubeconfig file; in-cluster config when absent.', env: 'KUBECONFIG' },
  'node-name': { type: 'string', description: 'The Node this speaker runs on.', env: 'NODE_NAME' },
  namespace: {
    type: 'string',
    description: 'Namespace of the heartbeat Leases.',
    default: 'beaconlb-system',
    env: 'BEACONLB_NAMESPACE',
  },
  'password-namespace': {
    type: 'string',
    description: 'Namespace of the BGP password Secrets (the only Secrets the speaker reads).',
    default: 'beaconlb-bgp-passwords',
    env: 'BEACONLB_PASSWORD_NAMESPACE',
  },
  'load-balancer-class': {
    type: 'string',
    description: 'spec.loadBalancerClass served besides unset.',
    default: 'beaconlb.io/beaconlb',
  },
  'failure-detection': {
    type: 'string',
    description:
      "probes: speakers probe each other over UDP and the Lease is only the fence and membership record (ADR 0019); until the controller has published the membership (once every speaker runs probes), liveness from the peers' Leases at 1s / 3s / 500ms; lease: liveness from every peer's Lease, renewed every second (ADR 0007).",
    default: 'probes',
  },
  'probe-address': {
    type: 'string',
    description:
      "The node address peers send failure-detector probes to; absent: the first IPv4 address of the default route's interface.",
    env: 'BEACONLB_PROBE_ADDRESS',
  },
  'probe-port': {
    type: 'string',
    description: 'UDP port of the failure detector (open it between nodes).',
    default: '7946',
  },
  'renew-interval': {
    type: 'string',
    description:
      'How often the heartbeat Lease is renewed (default 10s with probes, 1s with lease; probes use 1s until the first membership record).',
  },
  'lease-duration': {
    type: 'string',
    description: 'A Lease that has not changed for this long is expired (default 40s with probes, 3s with lease).',
  },
  'fence-margin': {
    type: 'string',
    description:
      'Stop answering this long before peers could consider this node dead (default 2s with probes, 500ms with lease).',
  },
  'stale-view-after': {
    type: 'string',
    description:
      'A watch with no proof of being live for this long makes the view stale: stop answering and hand addresses over (at least 2s).',
    default: '10s',
  },
  'rejoin-quiet-period': {
    type: 'string',
    description:
      'Ownership stickiness (ADR 0036): a speaker back from a failure (a restart, a fence, a partition) while others serve owns only what no settled peer can serve for this long, so one failure moves its addresses once (0s: off). Both detections: a mark in the Lease with lease, a REJOINING claim to every peer with probes.',
    default: '0s',
  },
  'handover-overlap': {
    type: 'string',
    description: 'On SIGTERM, keep answering this long after marking the Lease leaving.',
    default: '1s',
  },
  'announce-interval': {
    type: 'string',
    description: 'Periodic gratuitous ARP / unsolicited NA for owned addresses (0s: off).',
    default: '10s',
  },
  'max-answers': {
    type: 'string',
    description:
      'ARP replies / NAs per second per interface and protocol (plus a burst of a tenth); the rest are dropped and counted.',
    default: '2000',
  },
  'metrics-address': {
    type: 'string',
    description:
      "Listen address for /metrics, /healthz and /readyz without authentication (host:port or unix:/path); the node's loopback by default (host network).",
    default: '127.0.0.1:7473',
  },
  'health-address': {
    type: 'string',
    description:
      "Listen address for /healthz and /readyz only (the kubelet's probes; they reveal nothing); empty: off.",
    default: ':7475',
  },
  'secure-metrics-address': {
    type: 'string',
    description:
      'Listen address for /metrics over HTTPS, each request authenticated (TokenReview) and authorized (SubjectAccessReview: get on /metrics); absent: off.',
  },
  'metrics-tls-cert-file': {
    type: 'string',
    description: 'PEM certificate for --secure-metrics-address; absent: a self-signed one made at start.',
  },
  'metrics-tls-key-file': { type: 'string', description: 'PEM private key of --metrics-tls-cert-file.' },
  'announcement-writes-per-second': {
    type: 'string',
    description:
      'Writes per second (burst: twice that) of the ServiceAnnouncement records saying what this node announces; 0: no records.',
    default: '50',
  },
  'log-level': {
    type: 'string',
    description: 'trace, debug, info, warn or error.',
    default: 'info',
    env: 'BEACONLB_LOG_LEVEL',
  },
};
