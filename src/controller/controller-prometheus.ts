// Prometheus metrics of the controller (names: beaconlb_<area>_<thing>_<unit>).
import { MetricsRegistry, type Gauge } from '../platform/metrics-registry.ts';
import type { ControllerMetrics } from './controller-metrics.ts';

export function controllerPrometheus(): { registry: MetricsRegistry; metrics: ControllerMetrics; leader: Gauge } {
  const registry = new MetricsRegistry();
  const inUse = registry.gauge(
    'beaconlb_allocator_addresses_in_use',
    'Addresses assigned to Services, per pool and family.',
  );
  const available = registry.gauge(
    'beaconlb_allocator_addresses_available',
    'Addresses free to assign, per pool and family.',
  );
  const latency = registry.histogram(
    'beaconlb_allocator_allocation_duration_seconds',
    'From the start of a reconcile that assigned an address to its status write.',
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  );
  const failures = registry.counter('beaconlb_allocator_failures_total', 'Allocation failures by reason.');
  const writes = registry.counter('beaconlb_controller_status_writes_total', 'Service status writes by result.');
  const leader = registry.gauge('beaconlb_controller_leader', '1 while this replica is the leader.');
  leader.set({}, 0);
  return {
    registry,
    leader,
    metrics: {
      allocationSeconds: (s) => {
        latency.observe(s);
      },
      allocationFailure: (reason) => {
        failures.inc({ reason });
      },
      statusWrite: (result) => {
        writes.inc({ result });
      },
      poolUsage: (pool, family, used, free) => {
        inUse.set({ pool, family }, used);
        available.set({ pool, family }, free);
      },
      forgetPool: (pool) => {
        for (const family of ['ipv4', 'ipv6']) {
          inUse.remove({ pool, family });
          available.remove({ pool, family });
        }
      },
    },
  };
}
