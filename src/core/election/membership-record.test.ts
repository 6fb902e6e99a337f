import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatProbeAddress, MembershipTracker, parseProbeAddress, sameMembers } from './membership-record.ts';

const lease = (
  version: string,
  extra: { leaving?: boolean; probeAddress?: string | undefined; durationMs?: number } = {},
) => ({
  version,
  leaving: extra.leaving ?? false,
  probeAddress: 'probeAddress' in extra ? extra.probeAddress : '198.51.100.11:7946',
  durationMs: extra.durationMs ?? 40_000,
});

describe('MembershipTracker', () => {
  it('lists live, not leaving speakers with a probe address, sorted by node', () => {
    const t = new MembershipTracker();
    t.observe('node2', lease('1'), 0);
    t.observe('node1', lease('2', { probeAddress: '[2001:db8::1]:7946' }), 0);
    t.observe('node3', lease('3', { leaving: true }), 0);
    t.observe('node4', lease('4', { probeAddress: undefined }), 0);
    t.observe('node5', lease('5', { probeAddress: 'nonsense' }), 0);
    assert.deepEqual(t.members(1000), [
      { node: 'node1', address: '2001:db8::1', port: 7946 },
      { node: 'node2', address: '198.51.100.11', port: 7946 },
    ]);
  });

  it("expires a Lease its own duration after the tracker last saw it change, by the tracker's clock", () => {
    const t = new MembershipTracker();
    t.observe('node1', lease('1', { durationMs: 40_000 }), 0);
    t.observe('node2', lease('2', { durationMs: 3000 }), 0);
    assert.equal(t.nextExpiry(0), 3000);
    assert.deepEqual(
      t.members(2999).map((m) => m.node),
      ['node1', 'node2'],
    );
    assert.deepEqual(
      t.members(3000).map((m) => m.node),
      ['node1'],
    );
    // The same version again (a resync) does not renew it; a new one does.
    t.observe('node1', lease('1'), 30_000);
    assert.deepEqual(
      t.members(40_000).map((m) => m.node),
      [],
    );
    t.observe('node1', lease('9'), 40_000);
    assert.deepEqual(
      t.members(79_999).map((m) => m.node),
      ['node1'],
    );
  });

  it('the first record waits until every live speaker runs probes and none arrived within the settle time', () => {
    const t = new MembershipTracker();
    t.observe('node1', lease('1'), 0);
    t.observe('node2', lease('2', { probeAddress: undefined }), 2000); // on Lease liveness (an older version)
    assert.deepEqual(t.firstRecordReadiness(3000, 10_000), {
      ready: false,
      reason: 'lease-liveness',
      nodes: ['node2'],
    });
    t.observe('node2', lease('3'), 4000); // restarted with probes: a renewal, not an arrival
    assert.deepEqual(t.firstRecordReadiness(5000, 10_000), { ready: false, reason: 'settling', retryAt: 12_000 });
    t.observe('node3', lease('4'), 6000);
    t.observe('node1', lease('5'), 7000);
    assert.deepEqual(t.firstRecordReadiness(12_000, 10_000), { ready: false, reason: 'settling', retryAt: 16_000 });
    assert.deepEqual(t.firstRecordReadiness(16_000, 10_000), { ready: true });
    // A leaving or expired speaker on Lease liveness does not hold the record back.
    t.observe('node4', lease('6', { probeAddress: undefined, leaving: true }), 16_000);
    t.observe('node5', lease('7', { probeAddress: undefined, durationMs: 1000 }), 14_000);
    assert.deepEqual(t.firstRecordReadiness(16_000, 10_000), { ready: true });
  });

  it('probe addresses round-trip and sameMembers compares node, address and port', () => {
    assert.deepEqual(parseProbeAddress(formatProbeAddress('2001:db8::5', 7000)), {
      address: '2001:db8::5',
      port: 7000,
    });
    assert.equal(parseProbeAddress('198.51.100.1:0'), undefined);
    const a = [{ node: 'n', address: '198.51.100.1', port: 1 }];
    assert.ok(sameMembers(a, [{ node: 'n', address: '198.51.100.1', port: 1 }]));
    assert.ok(!sameMembers(a, [{ node: 'n', address: '198.51.100.1', port: 2 }]));
    assert.ok(!sameMembers(a, []));
  });
});
