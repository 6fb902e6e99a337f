import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MetricsRegistry } from './metrics-registry.ts';

describe('MetricsRegistry', () => {
  it('an incrementer adds to the counter of its labels, as inc() does', () => {
    const registry = new MetricsRegistry();
    const counter = registry.counter('beaconlb_test_total', 'Test.');
    const increment = counter.incrementer({ protocol: 'arp', reason: 'not-owned' });
    increment();
    increment(2);
    counter.inc({ reason: 'not-owned', protocol: 'arp' });
    assert.match(registry.render(), /^beaconlb_test_total\{protocol="arp",reason="not-owned"\} 4$/m);
  });

  it('renders counters, gauges and histograms in the Prometheus text format', () => {
    const registry = new MetricsRegistry();
    const c = registry.counter('beaconlb_test_total', 'A counter.');
    const g = registry.gauge('beaconlb_test_things', 'A gauge.');
    const h = registry.histogram('beaconlb_test_seconds', 'A histogram.', [0.1, 1]);
    c.inc({ reason: 'a"b' });
    c.inc({ reason: 'a"b' }, 2);
    g.set({ pool: 'p', family: 'ipv4' }, 7);
    h.observe(0.05);
    h.observe(0.5);
    h.observe(5);
    const text = registry.render();
    assert.match(text, /^# TYPE beaconlb_test_total counter$/m);
    assert.match(text, /^beaconlb_test_total\{reason="a\\"b"\} 3$/m);
    assert.match(text, /^beaconlb_test_things\{pool="p",family="ipv4"\} 7$/m);
    assert.match(text, /^beaconlb_test_seconds_bucket\{le="0\.1"\} 1$/m);
    assert.match(text, /^beaconlb_test_seconds_bucket\{le="1"\} 2$/m);
    assert.match(text, /^beaconlb_test_seconds_bucket\{le="\+Inf"\} 3$/m);
    assert.match(text, /^beaconlb_test_seconds_count 3$/m);
    assert.match(text, /^process_resident_memory_bytes \d+$/m);
    g.remove({ pool: 'p', family: 'ipv4' });
    assert.doesNotMatch(registry.render(), /beaconlb_test_things\{/);
    assert.throws(() => registry.counter('beaconlb_test_total', 'again'));
  });
});
