// `beaconlb speaker`: wiring of caches, the heartbeat Lease, the layer-2 election and the ARP/NDP announcer, and
// the BGP sessions.
import type { Command } from './command.ts';
import { durationFlag, integerFlag, logLevelFlag, optionalStringFlag, stringFlag, type Flags } from './flag-values.ts';
import { shutdownSignal } from './shutdown-signal.ts';
import { UsageError } from './command.ts';
import { createLogger } from '../platform/logger.ts';
import { systemClock } from '../platform/clock.ts';
import { Lifecycle } from '../platform/lifecycle.ts';
import { startMetricsServer, type MetricsServer } from '../platform/metrics-server.ts';
import { InterfaceTableFollower, rtnetlinkSource } from '../platform/interface-table-follower.ts';
import { ApiClient } from '../k8s/api/api-client.ts';
import { loadConnection } from '../k8s/api/kube-config.ts';
import { HeartbeatLease } from '../k8s/heartbeat-lease.ts';
import { SpeakerAdapter } from '../k8s/speaker-adapter.ts';
import { BgpStatusReporter } from '../k8s/bgp-status-reporter.ts';
import { AdvertisementStatusReporter } from '../k8s/advertisement-status-reporter.ts';
import { ServiceAnnouncementStore } from '../k8s/service-announcement-store.ts';
import { AnnouncementPublisher } from '../speaker/announcement-publisher.ts';
import { announcementRecords } from '../speaker/announcement-records.ts';
import type { Timer } from '../core/clock.ts';
import { Layer2Speaker } from '../speaker/layer2/layer2-speaker.ts';
import { PacketAnnouncer } from '../speaker/layer2/packet-announcer.ts';
import { packetChannels } from '../speaker/layer2/packet-channels.ts';
import { speakerPrometheus } from '../speaker/speaker-prometheus.ts';
import { BgpSpeaker } from '../speaker/bgp/bgp-speaker.ts';
import { RouterDiscovery } from '../speaker/bgp/router-discovery.ts';
import { openRouterAdvertisementChannel } from '../platform/router-advertisement-channel.ts';
import { AnnouncementAudit } from '../speaker/announcement-audit.ts';
import { BgpListener, configureAccepted, connectBgpSocket } from '../platform/bgp-transport.ts';
import { openBfdReceiver, openBfdSender } from '../platform/bfd-transport.ts';
import { BfdSessions } from '../speaker/bfd/bfd-sessions.ts';
import { selfSignedCertificate } from '../platform/self-signed-certificate.ts';
import { MetricsAccessReview } from '../k8s/metrics-access-review.ts';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { DEFAULT_PROBE_TIMINGS, type ProbeTimings } from '../core/election/probe-detector.ts';
import { formatProbeAddress } from '../core/election/membership-record.ts';
import { formatIp } from '../core/ip/ip-address.ts';
import { openProbeSocket, type ProbeSocket } from '../platform/probe-transport.ts';
import { probeKey } from '../platform/probe-key.ts';
import type { ProbeKey } from '../protocol/probe/probe-datagram.ts';
import { MembershipReader } from '../k8s/speaker-membership.ts';
import { ProbeRunner } from '../speaker/layer2/probe-runner.ts';
import { DetectionSwitch, LEASE_FALLBACK_TIMINGS } from '../speaker/layer2/detection-switch.ts';
import type { InterfaceTable } from '../platform/network-interfaces.ts';

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

/** The address peers probe this node at: the flag, else the first IPv4 of the default route's interface, else of any up non-loopback interface. */
function probeHost(flag: string | undefined, table: InterfaceTable): string | undefined {
  if (flag !== undefined) return flag;
  const candidates = [
    table.defaultRoute[4],
    ...table.interfaces.filter((i) => i.up && i.name !== 'lo').map((i) => i.name),
  ];
  for (const name of candidates) {
    const address = table.interfaces
      .find((i) => i.name === name)
      ?.addresses.find((a) => a.family === 4 && a.prefixLength < 32);
    if (address) return formatIp(address.address);
  }
  return undefined;
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

export const speakerCommand: Command = {
  name: 'speaker',
  summary: 'Run the speaker on a node: announce addresses by ARP/NDP and BGP.',
  usage: 'speaker [flags]',
  flags: {
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
        "lease: liveness from every peer's Lease, renewed every second (ADR 0007); probes: speakers probe each other over UDP and the Lease is only the fence and membership record (ADR 0019; until the controller has published the membership, liveness from the peers' Leases at 1s / 3s / 500ms; a freshly started speaker takes no address over for up to 90 s, ADR 0019 'Start-up limit').",
      default: 'lease',
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
        'Ownership stickiness (ADR 0036; lease detection only): a speaker back from a failure while others serve owns only what no settled peer can serve for this long, so one failure moves its addresses once (0s: off).',
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
  },
  async run(flags) {
    const node = optionalStringFlag(flags, 'node-name');
    if (!node) throw new UsageError('--node-name (or NODE_NAME) is required');
    const log = createLogger({ level: logLevelFlag(flags), component: 'speaker' }).child({ node });
    const listeners = speakerListeners(flags, node);
    const clock = systemClock;
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
    const probeAddressFlag = optionalStringFlag(flags, 'probe-address');
    if (probeAddressFlag !== undefined && isIP(probeAddressFlag) === 0)
      throw new UsageError(`--probe-address: "${probeAddressFlag}" is not an IP address`);
    if (renewIntervalMs >= leaseDurationMs)
      throw new UsageError('--renew-interval must be shorter than --lease-duration');
    const staleAfterMs = durationFlag(flags, 'stale-view-after');
    const rejoinQuietMs = durationFlag(flags, 'rejoin-quiet-period');
    if (rejoinQuietMs > 0 && detection === 'probes')
      throw new UsageError('--rejoin-quiet-period needs --failure-detection=lease (not built for probes, ADR 0036)');
    // Watches are ended by the server after 3/4 of it (whole seconds): below 2 s nothing is left for latency.
    if (staleAfterMs < 2000) throw new UsageError('--stale-view-after must be at least 2s');
    const client = new ApiClient(loadConnection(optionalStringFlag(flags, 'kubeconfig')), `beaconlb-speaker/${node}`);
    const {
      registry,
      layer2,
      responder,
      bgp: bgpMetrics,
      bfd: bfdMetrics,
      announcements: announcementMetrics,
      probes: probeMetrics,
    } = speakerPrometheus();

    // Links, addresses and default routes over rtnetlink, read again after each change the kernel reports.
    const following = await InterfaceTableFollower.open(rtnetlinkSource(), {
      onUpdate: () => {
        announcer.interfacesChanged();
        speaker.changed();
        bgp.changed();
      },
      onError: (reason) => {
        log.warn({ err: reason }, 'cannot read interfaces');
      },
    });
    if (!following.ok) throw new Error(`cannot read the node's interfaces: ${following.error}`);
    const interfaces = following.value;
    const announcer = new PacketAnnouncer({
      open: packetChannels(log),
      interfaceTable: () => interfaces.table(),
      clock,
      log,
      metrics: responder,
      burstMs: [0, 250, 1000],
      announceIntervalMs: durationFlag(flags, 'announce-interval'),
      maxAnswersPerSecond: Math.max(1, integerFlag(flags, 'max-answers')),
      onHealthChange: () => {
        speaker.changed();
      },
    });
    // Failure detection by probes (ADR 0019): a UDP socket, the runner of the detector, the membership and key reads.
    let runner: ProbeRunner | undefined;
    let probeSocket: ProbeSocket | undefined;
    let keys: ProbeKey[] = [];
    const membership = new MembershipReader(client, namespace);
    const probeAddress = (): string | undefined => {
      const host = probeHost(probeAddressFlag, interfaces.table());
      return host === undefined ? undefined : formatProbeAddress(host, probePort);
    };
    if (detection === 'probes') {
      const opened = await openProbeSocket({
        port: probePort,
        ...(probeAddressFlag === undefined ? {} : { bindAddress: probeAddressFlag }),
        onDatagram: (d) => runner?.receive(d.bytes),
      });
      if (!opened.ok) throw new Error(`failure detector: ${opened.error}`);
      probeSocket = opened.value;
      const socket = probeSocket;
      runner = new ProbeRunner({
        node,
        clock,
        log: log.child({ area: 'probes' }),
        timings: probeTimingsFor(renewIntervalMs),
        send: (bytes, address, port) => {
          socket.send(bytes, address, port);
        },
        keys: () => keys,
        incarnation: randomBytes(8).readBigUInt64BE(),
        wallSecond: () => Math.floor(clock.wallTime().getTime() / 1000),
        onChange: () => {
          speaker.urgent();
        },
        metrics: probeMetrics,
      });
    }
    // Lease liveness until the controller's first membership record, probes from then on (ADR 0019, "Start-up and fallback").
    const detectionSwitch = runner
      ? new DetectionSwitch({
          node,
          clock,
          probes: runner,
          fallback: LEASE_FALLBACK_TIMINGS,
          withProbes: {
            renewIntervalMs,
            // The fence also bounds the age of the membership record read with each renewal (ADR 0019, P4).
            leaseDurationMs: Math.min(leaseDurationMs, probeTimingsFor(renewIntervalMs).membershipSkewMs),
            fenceMarginMs,
          },
          wake: () => {
            speaker.urgent();
          },
          onSwitch: () => {
            log.info({}, 'membership record found: failure detection by probes from now on (Lease liveness until now)');
            adapter.stopLeaseWatch();
          },
        })
      : undefined;
    const leaseTimings = () => detectionSwitch?.timings ?? { renewIntervalMs, leaseDurationMs, fenceMarginMs };
    let renewals = 0;
    /** The membership record (and every 6th time, or while none is held, the key): part of every renewal with probes. */
    const readMembership = async (timeoutMs: number): Promise<void> => {
      if (!runner) return;
      if (keys.length === 0 || renewals++ % 6 === 0) {
        try {
          keys = (await membership.keys(timeoutMs)).map(probeKey);
        } catch (error) {
          log.warn({ err: String(error) }, 'cannot read the failure-detector key; keeping the one held');
        }
      }
      const record = await membership.record(timeoutMs);
      if (record) runner.setMembership(record);
      if (record) detectionSwitch?.recordSeen(clock.now());
    };
    const heartbeat = new HeartbeatLease({
      client,
      namespace,
      node,
      clock,
      leaseDurationMs,
      probeAddress: runner ? probeAddress : () => undefined,
    });
    // The first live speaker by name at the last layer-2 pass: it records the cluster-wide Events (one per cause).
    let firstLive: string | undefined;
    // Callbacks below reach `adapter` and `speaker` only after both exist (events start with adapter.start()).
    const speaker: Layer2Speaker = new Layer2Speaker({
      node,
      clock,
      log,
      metrics: layer2,
      inputs: () => adapter.layer2Inputs(),
      peers: () => adapter.peerLeases(),
      renew: async (leaving, timeoutMs, layer2NotReady, rejoining) => {
        const version = await heartbeat.renew(leaving, timeoutMs, layer2NotReady, rejoining);
        if (!leaving) await readMembership(timeoutMs);
        return version;
      },
      staleViews: () => adapter.staleLayer2Views(),
      brokenInterfaces: () => announcer.brokenInterfaces(),
      interfaceTable: () => interfaces.table(),
      announcer: {
        update: (owned) => {
          announcer.update(owned);
          recordsChanged();
        },
      },
      recordEvent: (service, type, reason, message) => {
        adapter.recordServiceEvent(service, type, reason, message);
      },
      recordProblem: (problem) => {
        // IPPools are reported by the controller (Ready condition and Event), once for the cluster.
        if (problem.kind !== 'IPPool')
          adapter.recordObjectEvent(problem.kind, problem.name, 'Warning', problem.reason, problem.message);
      },
      onStaleView: () => {
        adapter.restartWatches();
      },
      get renewIntervalMs() {
        return leaseTimings().renewIntervalMs;
      },
      get leaseDurationMs() {
        return leaseTimings().leaseDurationMs;
      },
      get fenceMarginMs() {
        return leaseTimings().fenceMarginMs;
      },
      handoverOverlapMs: durationFlag(flags, 'handover-overlap'),
      rejoinQuietMs,
      onLiveNodes: (nodes) => {
        firstLive = [...nodes].sort()[0];
      },
      get probes() {
        return detectionSwitch?.liveness;
      },
    });
    const bfd = new BfdSessions({
      clock,
      log: log.child({ area: 'bfd' }),
      metrics: bfdMetrics,
      transport: { openReceiver: openBfdReceiver, openSender: openBfdSender },
      onTransition: () => {
        bgpStatus.changed();
      },
    });
    const routers = new RouterDiscovery({
      clock,
      log: log.child({ area: 'router-discovery' }),
      interfaceTable: () => interfaces.table(),
      open: openRouterAdvertisementChannel,
      onChange: () => {
        bgp.changed();
      },
    });
    const bgp: BgpSpeaker = new BgpSpeaker({
      bfd,
      routers,
      node,
      clock,
      log: log.child({ area: 'bgp' }),
      metrics: bgpMetrics,
      inputs: () => adapter.bgpInputs(),
      interfaceTable: () => interfaces.table(),
      password: (name, key) => adapter.secretValue(name, key),
      transport: {
        connect: connectBgpSocket,
        configureAccepted,
        listen: (port, onConnection) =>
          BgpListener.listen({
            port,
            onConnection,
            onError: (error) => {
              log.warn({ err: error.message }, 'BGP listener error');
            },
          }),
      },
      recordEvent: (kind, name, type, reason, message) => {
        adapter.recordObjectEvent(kind, name, type, reason, message);
      },
      onSessionsChanged: () => {
        bgpStatus.changed();
        recordsChanged();
      },
      onOversizedAdvertisements: (messages) => {
        advertisementStatus.update(messages);
      },
    });
    const advertisementStatus = new AdvertisementStatusReporter({
      client,
      clock,
      log,
      node,
      conditions: (name) => adapter.bgpAdvertisements.get(name)?.status?.conditions,
    });
    // ServiceAnnouncement records (ADR 0024): computed at most every 100 ms, written by the publisher at its own pace.
    const writesPerSecond = Math.max(0, integerFlag(flags, 'announcement-writes-per-second'));
    const recordStore =
      writesPerSecond === 0
        ? undefined
        : new ServiceAnnouncementStore({
            client,
            clock,
            log,
            node,
            serviceUid: (key) => {
              const [ns, name] = key.split('/') as [string, string];
              return adapter.services.get(name, ns)?.metadata.uid;
            },
            onObservedChange: (key) => {
              publisher.observedChanged(key);
            },
            onResync: () => {
              publisher.resync();
            },
          });
    const publisher = new AnnouncementPublisher({
      clock,
      log: log.child({ area: 'announcements' }),
      store: recordStore ?? {
        observed: () => undefined,
        observedServices: () => [],
        apply: () => Promise.resolve('done'),
        remove: () => Promise.resolve('done'),
      },
      writesPerSecond: Math.max(1, writesPerSecond),
      burst: Math.max(1, 2 * writesPerSecond),
      maxInFlight: 4,
      debounceMs: 250,
      retryMs: 5000,
      startGraceMs: 10_000,
      onWrite: (verb, ok) => {
        announcementMetrics.write(verb, ok);
      },
    });
    let recordsTimer: Timer | undefined;
    const recordsChanged = (): void => {
      if (!recordStore) return;
      recordsTimer ??= clock.after(100, () => {
        recordsTimer = undefined;
        publisher.update(
          announcementRecords(
            speaker.owned,
            bgp.advertised().map((p) => ({ peer: p.peer.metadata.name, routes: p.routes })),
          ),
        );
      });
    };
    const bgpStatus = new BgpStatusReporter({ client, clock, log, node, sessions: () => bgp.sessions() });
    const audit = new AnnouncementAudit({
      clock,
      log,
      inputs: () => adapter.layer2Inputs(),
      recordEvent: (service, type, reason, message) => {
        adapter.recordServiceEvent(service, type, reason, message);
      },
      intervalMs: 1000,
      reports: () => firstLive === node,
    });
    const adapter = new SpeakerAdapter({
      client,
      clock,
      log,
      namespace,
      passwordNamespace: stringFlag(flags, 'password-namespace'),
      node,
      loadBalancerClass: stringFlag(flags, 'load-balancer-class'),
      staleAfterMs,
      // Also with probes: Lease liveness until the first membership record (the switch ends the watch).
      watchLeases: true,
      onChange: () => {
        speaker.changed();
        bgp.changed();
        audit.changed();
      },
    });
    // Started in this order, stopped in the reverse: the audit and the hand-over first, then the announcement
    // records, BFD, the Events still queued, the packet sockets, the failure detector, the informers, the endpoints
    // (up through the hand-over), the interface follower (opened above: it only stops here) and the API client last.
    const servers: MetricsServer[] = [];
    let joinTimer: { cancel(): void } | undefined;
    const pollUntilMember = (): void => {
      if (!runner || runner.members?.has(node)) return;
      joinTimer = clock.after(1000, () => {
        void readMembership(1000)
          .catch(() => undefined)
          .finally(pollUntilMember);
      });
    };
    const access = new MetricsAccessReview({ client, clock });
    const lifecycle = new Lifecycle(log).add(
      {
        name: 'api client',
        stop: () => {
          client.close();
        },
      },
      {
        name: 'interface follower',
        stop: () => {
          interfaces.close();
        },
      },
      {
        name: 'metrics and health endpoints',
        start: async () => {
          servers.push(
            await startMetricsServer({ address: listeners.metrics, registry, ready: () => adapter.services.hasSynced }),
          );
          if (listeners.health)
            servers.push(
              await startMetricsServer({
                address: listeners.health,
                registry,
                ready: () => adapter.services.hasSynced,
                metrics: false,
              }),
            );
          if (listeners.secure) {
            servers.push(
              await startMetricsServer({
                address: listeners.secure.address,
                registry,
                ready: () => adapter.services.hasSynced,
                tls: listeners.secure.tls,
                authorize: (request) => access.decide(request),
                onRefused: (request, decision) => {
                  log.info(
                    { remote: request.socket.remoteAddress, status: decision.status, reason: decision.reason },
                    'metrics request refused',
                  );
                },
              }),
            );
          }
        },
        stop: async () => {
          for (const server of servers.splice(0)) await server.close();
        },
      },
      {
        name: 'informers',
        start: () => {
          adapter.start();
        },
        stop: () => {
          adapter.stop();
        },
      },
      {
        // Failure detection by probes (ADR 0019); until the controller lists this node, the membership record is
        // read every second (start-up only), not once per renewal.
        name: 'failure detector',
        start: () => {
          runner?.start();
          pollUntilMember();
        },
        stop: () => {
          joinTimer?.cancel();
          runner?.stop();
          probeSocket?.close();
        },
      },
      {
        name: 'packet sockets',
        stop: () => {
          announcer.close();
        },
      },
      { name: 'event queue', stop: () => adapter.events.flush() },
      { name: 'bfd', stop: () => bfd.stop() },
      {
        // After the hand-over this node announces nothing: its records go (what is left after the budget, the
        // controller removes).
        name: 'announcement records',
        start: () => {
          if (!recordStore) return;
          recordStore.informer.start();
          void Promise.all([adapter.synced(), recordStore.informer.synced]).then(() => {
            publisher.start();
            recordsChanged();
          });
        },
        stop: async () => {
          recordsTimer?.cancel();
          if (recordStore) await publisher.withdrawAll(2000);
          publisher.stop();
          recordStore?.informer.stop();
        },
      },
      {
        name: 'layer 2 and bgp',
        start: () => {
          speaker.start(adapter.synced());
          bgp.start(adapter.synced());
        },
        // Leaving hands the layer-2 addresses over; BGP withdraws with a Cease, then the statuses it wrote are cleared.
        stop: async () => {
          await Promise.all([
            speaker.leave(),
            bgp.stop().then(() => Promise.all([bgpStatus.clear(), advertisementStatus.clear()])),
          ]);
        },
      },
      {
        name: 'announcement audit',
        start: () => {
          audit.start(adapter.synced());
        },
        stop: () => {
          audit.stop();
        },
      },
    );
    await lifecycle.start();
    log.info({ interfaces: interfaces.table().interfaces.map((i) => i.name) }, 'speaker started');

    const signal = await shutdownSignal();
    const stopping = clock.now();
    log.info({ signal }, 'leaving: handing addresses over');
    await lifecycle.stop();
    log.info({ ms: Math.round(clock.now() - stopping) }, 'stopped');
    return 0;
  },
};
