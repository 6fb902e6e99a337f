// The speaker's HTTP endpoints as one part of its lifecycle: /metrics, /healthz and /readyz without authentication,
// /healthz and /readyz alone for the kubelet, and /metrics over HTTPS behind TokenReview and SubjectAccessReview
// (ADR 0016); each only where its listen address is set.
import type { Runnable } from '../platform/lifecycle.ts';
import type { Logger } from '../platform/logger.ts';
import type { MetricsRegistry } from '../platform/metrics-registry.ts';
import { startMetricsServer, type MetricsServer } from '../platform/metrics-server.ts';
import type { MetricsAccessReview } from '../k8s/metrics-access-review.ts';
import type { SpeakerListeners } from './speaker-flags.ts';

export function speakerEndpoints(parts: {
  listeners: SpeakerListeners;
  registry: MetricsRegistry;
  /** Whether the speaker is ready (/readyz). */
  ready: () => boolean;
  access: MetricsAccessReview;
  log: Logger;
}): Runnable {
  const { listeners, registry, ready, access, log } = parts;
  const servers: MetricsServer[] = [];
  return {
    name: 'metrics and health endpoints',
    start: async () => {
      servers.push(await startMetricsServer({ address: listeners.metrics, registry, ready }));
      if (listeners.health)
        servers.push(await startMetricsServer({ address: listeners.health, registry, ready, metrics: false }));
      if (listeners.secure) {
        servers.push(
          await startMetricsServer({
            address: listeners.secure.address,
            registry,
            ready,
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
  };
}
