// `beaconlb controller`: wiring of caches, leader election, the Service controller and the metrics endpoint.
import { hostname } from 'node:os';
import type { Command } from './command.ts';
import { durationFlag, integerFlag, logLevelFlag, optionalStringFlag, stringFlag } from './flag-values.ts';
import { shutdownSignal } from './shutdown-signal.ts';
import { createLogger } from '../platform/logger.ts';
import { systemClock } from '../platform/clock.ts';
import { Lifecycle } from '../platform/lifecycle.ts';
import { startMetricsServer, type MetricsServer } from '../platform/metrics-server.ts';
import { controllerPrometheus } from '../controller/controller-prometheus.ts';
import { ApiClient } from '../k8s/api/api-client.ts';
import { loadConnection } from '../k8s/api/kube-config.ts';
import { ControllerAdapter } from '../k8s/controller-adapter.ts';
import { LeaderElector } from '../k8s/leader-election.ts';
import { ServiceController } from '../controller/service-controller.ts';
import { AdvertisementConditionWriter } from '../k8s/advertisement-condition-writer.ts';
import { AnnouncementSweeper } from '../k8s/announcement-sweeper.ts';
import { MembershipPublisher } from '../k8s/speaker-membership.ts';

export const controllerCommand: Command = {
  name: 'controller',
  summary: 'Run the controller: allocate addresses from IPPools to LoadBalancer Services.',
  usage: 'controller [flags]',
  flags: {
    kubeconfig: { type: 'string', description: 'Kubeconfig file; in-cluster config when absent.', env: 'KUBECONFIG' },
    namespace: {
      type: 'string',
      description: 'Namespace of the leader Lease.',
      default: 'beaconlb-system',
      env: 'BEACONLB_NAMESPACE',
    },
    'load-balancer-class': {
      type: 'string',
      description: 'spec.loadBalancerClass served besides unset.',
      default: 'beaconlb.io/beaconlb',
    },
    'no-leader-elect': {
      type: 'boolean',
      description: 'Run as the only writer without a Lease (single replica, tests).',
      default: false,
    },
    'lease-duration': {
      type: 'string',
      description: 'Leader Lease duration; a dead leader is replaced after at most this long.',
      default: '15s',
    },
    'renew-deadline': {
      type: 'string',
      description: 'The leader steps down when it could not renew for this long.',
      default: '10s',
    },
    'retry-period': {
      type: 'string',
      description: 'How often candidates try to acquire and the leader renews.',
      default: '2s',
    },
    quarantine: {
      type: 'string',
      description: 'How long a released address rests before reuse (unless nothing else is free).',
      default: '10s',
    },
    concurrency: {
      type: 'string',
      description: 'Service reconciles (status writes) in flight at once.',
      default: '64',
    },
    'announcement-gc-after': {
      type: 'string',
      description:
        'ServiceAnnouncement records of a node whose speaker Lease has not changed for this long are removed.',
      default: '30s',
    },
    'metrics-address': {
      type: 'string',
      description: 'Listen address for /metrics, /healthz and /readyz.',
      default: ':7472',
    },
    identity: { type: 'string', description: 'This replica in the leader Lease.', env: 'POD_NAME' },
    'membership-interval': {
      type: 'string',
      description:
        "At least this long between two speaker membership records; at least 3 x the speakers' --renew-interval (ADR 0019).",
      default: '30s',
    },
    'memberlist-key-rotation': {
      type: 'string',
      description: "Rotate the speakers' failure-detector key (Secret beaconlb-memberlist) this often; 0s: never.",
      default: '24h',
    },
    'log-level': {
      type: 'string',
      description: 'trace, debug, info, warn or error.',
      default: 'info',
      env: 'BEACONLB_LOG_LEVEL',
    },
  },
  // Long (~185 lines): the controller's parts and their start and stop order declared once (Lifecycle); a list of parts, not logic.
  async run(flags) {
    const log = createLogger({ level: logLevelFlag(flags), component: 'controller' });
    const clock = systemClock;
    const namespace = stringFlag(flags, 'namespace');
    const identity = optionalStringFlag(flags, 'identity') ?? `${hostname()}-${process.pid}`;
    const leaseDurationMs = durationFlag(flags, 'lease-duration');
    const quarantineMs = durationFlag(flags, 'quarantine');
    const concurrency = Math.max(1, integerFlag(flags, 'concurrency'));
    const client = new ApiClient(
      loadConnection(optionalStringFlag(flags, 'kubeconfig')),
      `beaconlb-controller/${identity}`,
    );
    const { registry, metrics, leader } = controllerPrometheus();

    let controller: ServiceController | undefined;
    // The leader publishes the speakers' membership record and keeps their failure-detector key (ADR 0019).
    let membership: MembershipPublisher | undefined;
    const keyRotationMs = durationFlag(flags, 'memberlist-key-rotation');
    const membershipIntervalMs = durationFlag(flags, 'membership-interval');
    const adapter = new ControllerAdapter({
      client,
      clock,
      log,
      namespace,
      identity,
      onServiceChange: (key) => controller?.serviceChanged(key),
      onPoolsChange: () => controller?.poolsChanged(),
      onPoolObjectChange: () => {
        advertisements.poolsChanged();
      },
      onNamespaceChange: (ns) => controller?.namespaceChanged(ns),
    });
    // Written once for the cluster, by the leader: the advertisements' conditions and the removal of stale records.
    const advertisements = new AdvertisementConditionWriter({ client, clock, log, pools: () => adapter.pools.list() });
    const gcAfterMs = durationFlag(flags, 'announcement-gc-after');
    const sweeper = new AnnouncementSweeper({
      client,
      clock,
      log,
      namespace,
      serviceUid: (key) => {
        const [ns, name] = key.split('/') as [string, string];
        return adapter.services.get(name, ns)?.metadata.uid;
      },
      deadAfterMs: gcAfterMs,
      intervalMs: Math.max(1000, Math.min(10_000, gcAfterMs / 3)),
    });
    // One AbortController per leadership term. A term waits for the caches to sync before its controller starts;
    // if leadership is lost meanwhile (or lost and won again: a newer term), the term is over and starts nothing,
    // or two allocators would run until a restart (one of them not leading).
    let term: AbortController | undefined;
    const lead = async (): Promise<void> => {
      term?.abort();
      const mine = new AbortController();
      term = mine;
      // Leadership was acquired (the Lease write committed) before this moment.
      const leadingSince = clock.now();
      await adapter.synced();
      // A consistent list of Services: the watch of a follower may lag (a slow or reconnecting watch), and what the
      // previous leader wrote last must be in the view the allocation table is rebuilt from. A list sent after the
      // acquisition already is one (a replica that won its first attempt, before its informers started): listing
      // again would only double the start-up work (at 50,000 Services, seconds).
      if (!mine.signal.aborted && !adapter.services.listedSince(leadingSince)) await adapter.services.relist();
      if (mine.signal.aborted) {
        log.info({ identity }, 'leadership ended before the caches synced; not starting');
        return;
      }
      if (controller) return;
      membership = new MembershipPublisher({
        client,
        clock,
        log: log.child({ area: 'membership' }),
        namespace,
        keyRotationMs,
        minIntervalMs: membershipIntervalMs,
      });
      membership.start();
      controller = new ServiceController({
        ports: adapter.ports,
        clock,
        log,
        metrics,
        loadBalancerClass: stringFlag(flags, 'load-balancer-class'),
        quarantineMs,
        concurrency,
        poolStatusIntervalMs: 1000,
      });
      controller.start();
      advertisements.start();
      sweeper.start();
      leader.set({}, 1);
    };
    const follow = (): void => {
      term?.abort();
      term = undefined;
      const stopping = controller;
      controller = undefined;
      membership?.stop();
      membership = undefined;
      leader.set({}, 0);
      if (stopping) {
        advertisements.stop();
        sweeper.stop();
      }
      // Aborts the status writes in flight at once (synchronously): the Lease may expire for the others
      // leaseDuration - renewDeadline from now, and nothing this replica sent may land after a successor started.
      void stopping?.stop(0);
    };

    const elector =
      flags['no-leader-elect'] === true
        ? undefined
        : new LeaderElector({
            client,
            namespace,
            name: 'beaconlb-controller',
            identity,
            leaseDurationMs,
            renewDeadlineMs: Math.min(durationFlag(flags, 'renew-deadline'), leaseDurationMs),
            retryPeriodMs: durationFlag(flags, 'retry-period'),
            clock,
            log,
            onStartedLeading: () => void lead(),
            onStoppedLeading: follow,
          });

    // Started in this order, stopped in the reverse (the controller first, the API client last). The first leader
    // election attempt comes before the informers start, so that a replica that leads from its start lists once,
    // after it leads (see lead()); campaigning goes on and stops with the entry 'leader election'.
    let server: MetricsServer | undefined;
    const lifecycle = new Lifecycle(log).add(
      {
        name: 'api client',
        stop: () => {
          client.close();
        },
      },
      {
        name: 'first leader election attempt',
        start: async () => {
          if (elector) await elector.start();
          else void lead();
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
        name: 'metrics endpoint',
        start: async () => {
          server = await startMetricsServer({
            address: stringFlag(flags, 'metrics-address'),
            registry,
            ready: () => adapter.services.hasSynced,
          });
          log.info({ identity, metricsPort: server.port }, 'controller starting');
        },
        stop: () => server?.close(),
      },
      {
        name: 'leader election',
        stop: async () => {
          await Promise.race([elector?.stop(), new Promise((resolve) => setTimeout(resolve, 500))]);
        },
      },
      {
        name: 'service controller',
        stop: async () => {
          term?.abort();
          const running = controller;
          controller = undefined;
          membership?.stop();
          membership = undefined;
          advertisements.stop();
          sweeper.stop();
          await running?.stop(1000);
        },
      },
    );
    await lifecycle.start();

    const signal = await shutdownSignal();
    const stopping = clock.now();
    log.info({ signal }, 'shutting down');
    await lifecycle.stop();
    log.info({ ms: Math.round(clock.now() - stopping) }, 'stopped');
    return 0;
  },
};
