// `beaconlb speaker`: wiring of caches, the heartbeat Lease, the layer-2 election and the ARP/NDP announcer, and
// the BGP sessions. The file is over 500 lines (~525) only because run() is the one declaration of the speaker's
// parts (flags: speaker-flags.ts; HTTP endpoints: speaker-endpoints.ts).
import type { Command } from './command.ts';
import { durationFlag, integerFlag, logLevelFlag, optionalStringFlag, stringFlag } from './flag-values.ts';
import { shutdownSignal } from './shutdown-signal.ts';
import { createLogger } from '../platform/logger.ts';
import { systemClock } from '../platform/clock.ts';
import { Lifecycle } from '../platform/lifecycle.ts';
import { ChangeSignal } from './change-signal.ts';
import { probeTimingsFor, readSpeakerSettings, speakerFlags } from './speaker-flags.ts';
import { speakerEndpoints } from './speaker-endpoints.ts';
import { InterfaceTableFollower, rtnetlinkSource } from '../platform/interface-table-follower.ts';
import { ApiClient } from '../k8s/api/api-client.ts';
import { loadConnection } from '../k8s/api/kube-config.ts';
import { HeartbeatLease } from '../k8s/heartbeat-lease.ts';
import { SpeakerAdapter } from '../k8s/speaker-adapter.ts';
import { BgpStatusReporter } from '../k8s/bgp-status-reporter.ts';
import { AdvertisementStatusReporter } from '../k8s/advertisement-status-reporter.ts';
import { ServiceAnnouncementStore } from '../k8s/service-announcement-store.ts';
import { AnnouncementPublisher } from '../speaker/announcement-publisher.ts';
import { AnnouncementRecordsCache } from '../speaker/announcement-records-cache.ts';
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
import { MetricsAccessReview } from '../k8s/metrics-access-review.ts';
import { randomBytes } from 'node:crypto';
import { formatProbeAddress } from '../core/election/membership-record.ts';
import { formatIp } from '../core/ip/ip-address.ts';
import { openProbeSocket, type ProbeSocket } from '../platform/probe-transport.ts';
import { probeKey } from '../platform/probe-key.ts';
import type { ProbeKey } from '../protocol/probe/probe-datagram.ts';
import { MembershipReader } from '../k8s/speaker-membership.ts';
import { ProbeRunner } from '../speaker/layer2/probe-runner.ts';
import { DetectionSwitch, LEASE_FALLBACK_TIMINGS } from '../speaker/layer2/detection-switch.ts';
import type { InterfaceTable } from '../platform/network-interfaces.ts';

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

export const speakerCommand: Command = {
  name: 'speaker',
  summary: 'Run the speaker on a node: announce addresses by ARP/NDP and BGP.',
  usage: 'speaker [flags]',
  flags: speakerFlags,
  // One declaration of the speaker's parts, each built from the parts above it (changes that flow back up go through
  // the ChangeSignals declared first), then their start and stop order: long (~450 lines) because it is a list of
  // parts, not logic; splitting it would pass most of them from one function to the next.
  async run(flags) {
    const settings = readSpeakerSettings(flags);
    const { node, listeners, namespace, detection, renewIntervalMs, leaseDurationMs, probePort } = settings;
    const log = createLogger({ level: logLevelFlag(flags), component: 'speaker' }).child({ node });
    const clock = systemClock;
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
    /** The node's links, addresses or default routes changed. */
    const interfacesChanged = new ChangeSignal();
    /** The cluster view (the informers' objects) changed. */
    const clusterChanged = new ChangeSignal();
    /** An interface became broken or healed. */
    const interfaceHealthChanged = new ChangeSignal();
    /** The failure detector's view of the peers changed. */
    const probesChanged = new ChangeSignal();
    /** A BGP session or a BFD path changed state. */
    const sessionsChanged = new ChangeSignal();
    /** Router discovery heard a router (unnumbered BGP peers) or gave up waiting. */
    const routersChanged = new ChangeSignal();
    /** What this node announces changed (layer-2 owned addresses, BGP routes). */
    const announcementsChanged = new ChangeSignal();
    /** A ServiceAnnouncement record observed on the server changed (its Service's key), or the records relisted. */
    const recordObserved = new ChangeSignal<[string]>();
    const recordsRelisted = new ChangeSignal();

    // Links, addresses and default routes over rtnetlink, read again after each change the kernel reports.
    const following = await InterfaceTableFollower.open(rtnetlinkSource(), {
      onUpdate: interfacesChanged.emit,
      onError: (reason) => {
        log.warn({ err: reason }, 'cannot read interfaces');
      },
    });
    if (!following.ok) throw new Error(`cannot read the node's interfaces: ${following.error}`);
    const interfaces = following.value;
    const adapter = new SpeakerAdapter({
      client,
      clock,
      log,
      namespace,
      passwordNamespace: stringFlag(flags, 'password-namespace'),
      node,
      loadBalancerClass: stringFlag(flags, 'load-balancer-class'),
      staleAfterMs: settings.staleAfterMs,
      // Also with probes: Lease liveness until the first membership record (the switch ends the watch).
      watchLeases: true,
      onChange: clusterChanged.emit,
    });
    const announcer = new PacketAnnouncer({
      open: packetChannels(log),
      interfaceTable: () => interfaces.table(),
      clock,
      log,
      metrics: responder,
      burstMs: [0, 250, 1000],
      announceIntervalMs: durationFlag(flags, 'announce-interval'),
      maxAnswersPerSecond: Math.max(1, integerFlag(flags, 'max-answers')),
      onHealthChange: interfaceHealthChanged.emit,
    });
    interfacesChanged.connect(() => {
      announcer.interfacesChanged();
    });
    // Failure detection by probes (ADR 0019): a UDP socket, the runner of the detector, the membership and key reads.
    let runner: ProbeRunner | undefined;
    let probeSocket: ProbeSocket | undefined;
    let keys: ProbeKey[] = [];
    const membership = new MembershipReader(client, namespace);
    const probeAddress = (): string | undefined => {
      const host = probeHost(settings.probeAddress, interfaces.table());
      return host === undefined ? undefined : formatProbeAddress(host, probePort);
    };
    if (detection === 'probes') {
      const datagrams = new ChangeSignal<[Uint8Array, { address: string; port: number }]>();
      const opened = await openProbeSocket({
        port: probePort,
        ...(settings.probeAddress === undefined ? {} : { bindAddress: settings.probeAddress }),
        onDatagram: (d) => {
          datagrams.emit(d.bytes, { address: d.address, port: d.port });
        },
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
        onChange: probesChanged.emit,
        metrics: probeMetrics,
        rejoinQuietMs: settings.rejoinQuietMs,
      });
      const probes = runner;
      // Datagrams that arrive before the runner exists are dropped, as the detector drops any unexpected probe.
      datagrams.connect((bytes, source) => {
        probes.receive(bytes, source);
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
            fenceMarginMs: settings.fenceMarginMs,
          },
          wake: probesChanged.emit,
          onSwitch: () => {
            log.info({}, 'membership record found: failure detection by probes from now on (Lease liveness until now)');
            adapter.stopLeaseWatch();
          },
        })
      : undefined;
    const leaseTimings = () =>
      detectionSwitch?.timings ?? { renewIntervalMs, leaseDurationMs, fenceMarginMs: settings.fenceMarginMs };
    let renewals = 0;
    /**
     * The membership record (and every 6th time, or while none is held, the key): part of every renewal with probes.
     * `renewal` is the resourceVersion the renewal wrote: the record read is at least as new as every record stored
     * before it (from the API server's watch cache; ADR 0038). Without it (start-up polls) a quorum read.
     */
    const readMembership = async (timeoutMs: number, renewal?: string): Promise<void> => {
      if (!runner) return;
      if (keys.length === 0 || renewals++ % 6 === 0) {
        try {
          keys = (await membership.keys(timeoutMs, renewal)).map(probeKey);
        } catch (error) {
          log.warn({ err: String(error) }, 'cannot read the failure-detector key; keeping the one held');
        }
      }
      const record = await membership.record(timeoutMs, renewal);
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
    // The ServiceAnnouncement records, rebuilt for the Services whose announcements changed (ADR 0037).
    const recordsCache = new AnnouncementRecordsCache();
    const speaker = new Layer2Speaker({
      node,
      clock,
      log,
      metrics: layer2,
      inputs: () => adapter.layer2Inputs(),
      peers: () => adapter.peerLeases(),
      renew: async (leaving, timeoutMs, layer2NotReady, rejoining) => {
        const version = await heartbeat.renew(leaving, timeoutMs, layer2NotReady, rejoining);
        if (!leaving) await readMembership(timeoutMs, version);
        return version;
      },
      staleViews: () => adapter.staleLayer2Views(),
      brokenInterfaces: () => announcer.brokenInterfaces(),
      interfaceTable: () => interfaces.table(),
      announcer: {
        update: (owned, changed) => {
          announcer.update(owned, changed);
          recordsCache.layer2Changed(changed);
          announcementsChanged.emit();
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
      rejoinQuietMs: settings.rejoinQuietMs,
      onRejoinAtStart: () => {
        runner?.rejoin();
      },
      onLiveNodes: (nodes) => {
        firstLive = [...nodes].sort()[0];
      },
      get probes() {
        return detectionSwitch?.liveness;
      },
    });
    for (const signal of [interfacesChanged, clusterChanged, interfaceHealthChanged])
      signal.connect(() => {
        speaker.changed();
      });
    probesChanged.connect(() => {
      speaker.urgent();
    });
    const bfd = new BfdSessions({
      clock,
      log: log.child({ area: 'bfd' }),
      metrics: bfdMetrics,
      transport: { openReceiver: openBfdReceiver, openSender: openBfdSender },
      onTransition: sessionsChanged.emit,
    });
    const advertisementStatus = new AdvertisementStatusReporter({
      client,
      clock,
      log,
      node,
      conditions: (name) => adapter.bgpAdvertisements.get(name)?.status?.conditions,
    });
    const routers = new RouterDiscovery({
      clock,
      log: log.child({ area: 'router-discovery' }),
      interfaceTable: () => interfaces.table(),
      open: openRouterAdvertisementChannel,
      onChange: routersChanged.emit,
    });
    const bgp = new BgpSpeaker({
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
        sessionsChanged.emit();
        announcementsChanged.emit();
      },
      onOversizedAdvertisements: (messages) => {
        advertisementStatus.update(messages);
      },
    });
    for (const signal of [interfacesChanged, clusterChanged, routersChanged])
      signal.connect(() => {
        bgp.changed();
      });
    const bgpStatus = new BgpStatusReporter({ client, clock, log, node, sessions: () => bgp.sessions() });
    sessionsChanged.connect(() => {
      bgpStatus.changed();
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
            onObservedChange: recordObserved.emit,
            onResync: recordsRelisted.emit,
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
    recordObserved.connect((key) => {
      publisher.observedChanged(key);
    });
    recordsRelisted.connect(() => {
      publisher.resync();
    });
    let recordsTimer: Timer | undefined;
    const recordsChanged = (): void => {
      if (!recordStore) return;
      recordsTimer ??= clock.after(100, () => {
        recordsTimer = undefined;
        const { records, changed } = recordsCache.build(
          speaker.owned,
          bgp.advertised().map((p) => ({ peer: p.peer.metadata.name, routes: p.routes })),
        );
        publisher.update(records, changed);
      });
    };
    announcementsChanged.connect(recordsChanged);
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
    clusterChanged.connect(() => {
      audit.changed();
    });
    // Started in this order, stopped in the reverse: the audit and the hand-over first, then the announcement
    // records, BFD, the Events still queued, the packet sockets, the failure detector, the informers, the endpoints
    // (up through the hand-over), the interface follower (opened above: it only stops here) and the API client last.
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
      speakerEndpoints({ listeners, registry, ready: () => adapter.services.hasSynced, access, log }),
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
