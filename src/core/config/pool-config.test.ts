import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compilePools, comparePoolPriority } from './pool-config.ts';
import type { IPPool } from './api-types.generated.ts';
import { ipv4 } from '../ip/ip-address.ts';

const pool = (
  name: string,
  addresses: string[],
  spec: Partial<IPPool['spec']> = {},
  created = '2026-01-01T00:00:00Z',
): IPPool => ({
  apiVersion: 'beaconlb.io/v1alpha1',
  kind: 'IPPool',
  metadata: { name, creationTimestamp: created },
  spec: { addresses, ...spec },
});

describe('compilePools', () => {
  it('parses CIDRs and ranges of both families into address sets', () => {
    const { pools, problems } = compilePools([
      pool('p', ['198.51.100.0/30', '198.51.100.10-198.51.100.11', '2001:db8::/126']),
    ]);
    const p = pools.get('p')!;
    assert.deepEqual(problems, []);
    assert.equal(p.addresses[4].size, 6n);
    assert.equal(p.addresses[6].size, 4n);
    assert.equal(p.autoAssign, true);
  });

  it('costs the same for an IPv6 /64 as for a /30 (no enumeration)', () => {
    const { pools } = compilePools([pool('big', ['2001:db8::/64'])]);
    assert.equal(pools.get('big')!.addresses[6].size, 2n ** 64n);
    assert.equal(pools.get('big')!.addresses[6].intervalCount, 1);
  });

  it('drops .0 and .255 with avoidBuggyIPs', () => {
    const { pools } = compilePools([pool('p', ['198.51.100.0/23'], { avoidBuggyIPs: true })]);
    const set = pools.get('p')!.addresses[4];
    assert.equal(set.size, 512n - 4n);
    for (const last of [0, 255]) assert.equal(set.has(ipv4(198, 51, 100, last)), false);
    assert.equal(set.has(ipv4(198, 51, 101, 0)), false);
    assert.equal(set.has(ipv4(198, 51, 100, 1)), true);
  });

  it('compiles a 0.0.0.0/1 pool with avoidBuggyIPs and an IPv6 /16 without enumerating (one interval each)', () => {
    const started = performance.now();
    const { pools, problems } = compilePools([
      pool('huge', ['0.0.0.0/1'], { avoidBuggyIPs: true }),
      pool('huge6', ['2001::/16'], { avoidBuggyIPs: true }),
    ]);
    assert.deepEqual(problems, []);
    const v4 = pools.get('huge')!.addresses[4];
    assert.equal(v4.size, 2n ** 31n - 2n ** 24n);
    assert.equal(v4.intervalCount, 1);
    assert.equal(v4.has(ipv4(100, 64, 0, 255)), false);
    assert.equal(v4.has(ipv4(100, 64, 0, 7)), true);
    assert.equal(pools.get('huge6')!.addresses[6].size, 2n ** 112n);
    // Generous on a loaded machine; the enumeration took minutes and gigabytes.
    assert.ok(performance.now() - started < 5000, `took ${Math.round(performance.now() - started)} ms`);
  });

  it('gives overlapping addresses to the older pool and reports Overlap on the newer one', () => {
    const { pools, problems } = compilePools([
      pool('newer', ['198.51.100.0/29'], {}, '2026-01-02T00:00:00Z'),
      pool('older', ['198.51.100.4/30'], {}, '2026-01-01T00:00:00Z'),
    ]);
    assert.equal(pools.get('newer')!.addresses[4].size, 4n);
    assert.equal(pools.get('newer')!.addresses[4].has(ipv4(198, 51, 100, 4)), false);
    assert.equal(pools.get('older')!.addresses[4].size, 4n);
    assert.deepEqual(
      problems.map((p) => [p.name, p.reason]),
      [['newer', 'Overlap']],
    );
    assert.match(problems[0]!.message, /older pool older/);
  });

  it('reports entries the schema cannot catch, such as reversed IPv6 ranges, and keeps the rest', () => {
    const { pools, problems } = compilePools([pool('p', ['2001:db8::ff-2001:db8::10', '198.51.100.0/31'])]);
    assert.equal(pools.get('p')!.addresses[4].size, 2n);
    assert.deepEqual(pools.get('p')!.invalid, ['2001:db8::ff-2001:db8::10']);
    assert.equal(problems[0]?.reason, 'InvalidAddresses');
  });

  it('orders pools by priority, pools without one last, then by name', () => {
    const { pools } = compilePools([
      pool('c', ['198.51.100.0/32']),
      pool('b', ['198.51.100.1/32'], { allocation: { priority: 5 } }),
      pool('a', ['198.51.100.2/32'], { allocation: { priority: 5 } }),
      pool('z', ['198.51.100.3/32'], { allocation: { priority: 1 } }),
    ]);
    assert.deepEqual(
      [...pools.values()].sort(comparePoolPriority).map((p) => p.name),
      ['z', 'a', 'b', 'c'],
    );
  });
});
