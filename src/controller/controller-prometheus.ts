// Prometheus metrics of the controller (names: beaconlb_<area>_<thing>_<unit>).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ControllerMetrics } from './controller-metrics.ts';

export function controllerPrometheus(): { registry: Registry; metrics: ControllerMetrics; leader: Gauge } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'beaconlb_controller_' });
  const inUse = new Gauge({ name: 'beaconlb_allocator_addresses_in_use', help: 'Addresses assigned to Services, per pool and family.', labelNames: ['pool', 'family'], registers: [registry] });
  const available = new Gauge({ name: 'beaconlb_allocator_addresses_available', help: 'Addresses free to assign, per pool and family.', labelNames: ['pool', 'family'], registers: [registry] });
  const latency = new Histogram({
    name: 'beaconlb_allocator_allocation_duration_seconds',
    help: 'From the start of a reconcile that assigned an address to its status write.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const failures = new Counter({ name: 'beaconlb_allocator_failures_total', help: 'Allocation failures by reason.', labelNames: ['reason'], registers: [registry] });
  const writes = new Counter({ name: 'beaconlb_controller_status_writes_total', help: 'Service status writes by result.', labelNames: ['result'], registers: [registry] });
  const leader = new Gauge({ name: 'beaconlb_controller_leader', help: '1 while this replica is the leader.', registers: [registry] });
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
