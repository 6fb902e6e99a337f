// The allocation table by example: lowest free address first, restore from status, quarantine, addresses a
// status still shows (releasing until written), pool names of released addresses, RequireDualStack. The model-
// based property tests are in allocation-table-model.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AllocationTable } from './allocation-table.ts';
import { compilePools } from '../config/pool-config.ts';
import type { ServiceRequest } from '../config/service-request.ts';
import { ipv4 } from '../ip/ip-address.ts';
import { ctx, pool, request, v4, v6 } from '../../test-support/allocation-inputs.ts';

describe('AllocationTable', () => {
  it('assigns the lowest free address and keeps it on every later pass', () => {
    const table = new AllocationTable({ quarantineMs: 0 });
    table.setPools(compilePools([pool('p', ['198.51.100.10-198.51.100.12'])]).pools);
    const a = table.assign(request('ns/a'), [], ctx());
    const b = table.assign(request('ns/b'), [], ctx());
    assert.deepEqual([a.addresses, b.addresses], [[v4(10)], [v4(11)]]);
    assert.deepEqual(table.assign(request('ns/a'), [], ctx()).addresses, [v4(10)]);
    assert.deepEqual(table.usage('p')?.[4], { total: 3n, allocated: 2, available: 1n });
  });

  it('skips .0 and .255 of a 0.0.0.0/1 avoidBuggyIPs pool when allocating, and counts its size arithmetically', () => {
    const table = new AllocationTable({ quarantineMs: 0 });
    table.setPools(compilePools([pool('huge', ['0.0.0.0/1'], { avoidBuggyIPs: true })]).pools);
    const keys = Array.from({ length: 256 }, (_, i) => `ns/s${i}`);
    const got = keys.map((key) => table.assign(request(key), [], ctx()).addresses[0]);
    assert.equal(got[0], ipv4(0, 0, 0, 1));
    assert.equal(got[253], ipv4(0, 0, 0, 254));
    assert.equal(got[254], ipv4(0, 0, 1, 1));
    assert.ok(got.every((a) => a !== undefined && (a & 0xffn) !== 0n && (a & 0xffn) !== 0xffn));
    assert.deepEqual(table.usage('huge')?.[4], {
      total: 2n ** 31n - 2n ** 24n,
      allocated: 256,
      available: 2n ** 31n - 2n ** 24n - 256n,
    });
  });

  it('rebuilds from status without allocating, and keeps restored addresses even if lower ones are free', () => {
    const table = new AllocationTable({ quarantineMs: 0 });
    table.setPools(compilePools([pool('p', ['198.51.100.0/29'])]).pools);
    const kept = table.assign(request('ns/a'), [v4(5)], { ...ctx(), allocate: false });
    assert.deepEqual(kept.addresses, [v4(5)]);
    const nothing = table.assign(request('ns/b'), [], { ...ctx(), allocate: false });
    assert.deepEqual(nothing.addresses, []);
    assert.deepEqual(table.assign(request('ns/a'), [v4(5)], ctx()).addresses, [v4(5)]);
  });

  it('quarantines released addresses unless nothing else is free', () => {
    const table = new AllocationTable({ quarantineMs: 1000 });
    table.setPools(compilePools([pool('p', ['198.51.100.1-198.51.100.2'])]).pools);
    table.assign(request('ns/a'), [], ctx(0));
    table.release('ns/a', 0);
    assert.deepEqual(table.assign(request('ns/b'), [], ctx(10)).addresses, [v4(2)], 'skips the quarantined .1');
    assert.deepEqual(table.assign(request('ns/c'), [], ctx(20)).addresses, [v4(1)], 'nothing else free: takes it');
    table.release('ns/c', 30);
    table.release('ns/b', 40);
    assert.deepEqual(
      table.assign(request('ns/d'), [], ctx(2000)).addresses,
      [v4(1)],
      'after the quarantine: lowest again',
    );
  });

  it('an address a status shows but no Service holds is releasing until that status is written, then rests', () => {
    const table = new AllocationTable({ quarantineMs: 1000 });
    table.setPools(compilePools([pool('p', ['198.51.100.1-198.51.100.3'])]).pools);
    table.assign(request('ns/a'), [v4(2)], { ...ctx(0), allocate: false });
    table.shownButNotHeld('ns/old', v4(1));
    table.shownButNotHeld('ns/a', v4(2));
    table.shownButNotHeld('ns/old', ipv4(203, 0, 113, 1));
    assert.equal(table.releasing, 2, '.1 and 203.0.113.1; .2 is held by the Service that shows it');
    assert.deepEqual(table.assign(request('ns/b'), [], ctx(10)).addresses, [v4(3)], 'skips the releasing .1');
    const exhausted = table.assign(request('ns/c'), [], ctx(20));
    assert.deepEqual(
      [exhausted.addresses, exhausted.failures.map((f) => f.reason)],
      [[], ['PoolExhausted']],
      'not even the fallback takes it',
    );
    assert.deepEqual(table.statusWritten('ns/old', [], 30).sort(), [v4(1), ipv4(203, 0, 113, 1)].sort());
    assert.deepEqual([table.releasing, table.quarantined], [0, 1], 'the one in a pool rests now');
    assert.deepEqual(
      table.assign(request('ns/d'), [], ctx(40)).addresses,
      [v4(1)],
      'nothing else free: the quarantined one',
    );
  });

  it('an address a Service gave up goes to nobody until its status is written: not free, not the fallback, not by request', () => {
    for (const quarantineMs of [0, 1000]) {
      const table = new AllocationTable({ quarantineMs });
      table.setPools(
        compilePools([pool('a', ['198.51.100.1/32']), pool('b', ['198.51.100.2/32'], { autoAssign: false })]).pools,
      );
      assert.deepEqual(table.assign(request('ns/holder'), [], ctx(0)).addresses, [v4(1)]);
      const moved = table.assign(request('ns/holder', { poolNames: ['b'] }), [v4(1)], ctx(10));
      assert.deepEqual([moved.addresses, moved.released.map((r) => r.address)], [[v4(2)], [v4(1)]]);
      const lowest = table.assign(request('ns/new'), [], ctx(20));
      assert.deepEqual(
        [lowest.addresses, lowest.failures.map((f) => f.reason)],
        [[], ['PoolExhausted']],
        `quarantine ${quarantineMs}: lowest free or fallback`,
      );
      assert.deepEqual(lowest.failures[0]?.waitFor, [{ kind: 'pool', pool: 'a', family: 4 }]);
      const asked = table.assign(request('ns/asks', { requested: [v4(1)] }), [], ctx(20));
      assert.deepEqual(
        asked.failures.map((f) => [f.reason, f.waitFor]),
        [['IPBeingReleased', [{ kind: 'address', address: v4(1) }]]],
      );
      assert.match(asked.failures[0]!.message, /still in the status of ns\/holder/);
      // A write of an older status does not complete it; the write without it does.
      assert.deepEqual(table.statusWritten('ns/holder', [v4(1)], 30), []);
      assert.deepEqual(table.statusWritten('ns/holder', [v4(2)], 40), [v4(1)]);
      assert.deepEqual(table.wakeTargets(v4(1)), [
        { kind: 'address', address: v4(1) },
        { kind: 'pool', pool: 'a', family: 4 },
      ]);
      assert.ok(table.hasAvailable('a', 4));
      assert.deepEqual(table.assign(request('ns/asks', { requested: [v4(1)] }), [], ctx(50)).addresses, [v4(1)]);
      assert.ok(!table.hasAvailable('a', 4));
    }
  });

  it('no new sharer joins an address that a Service which gave it up still shows', () => {
    const table = new AllocationTable({ quarantineMs: 1000 });
    table.setPools(compilePools([pool('a', ['198.51.100.1/32'])]).pools);
    const web = (key: string, port: number, sharingKey = 'web'): ServiceRequest =>
      request(key, { sharingKey, ports: [`TCP/${port}`] });
    table.assign(web('ns/x', 80), [], ctx(0));
    table.assign(web('ns/y', 81), [], ctx(0));
    assert.deepEqual(table.holdersOf(v4(1)).sort(), ['ns/x', 'ns/y']);
    // x changes its key: it may no longer share with y, so it gives .1 up, but its status still shows .1.
    const left = table.assign(web('ns/x', 80, 'other'), [v4(1)], ctx(10));
    assert.deepEqual(
      left.released.map((r) => r.address),
      [v4(1)],
    );
    // z would share with y, and with x's old request (port 82 clashes with nobody), but not with x's new key.
    const z = table.assign(web('ns/z', 82), [], ctx(20));
    assert.deepEqual(z.addresses, [], 'z joined while x still shows .1');
    assert.deepEqual(z.failures[0]?.waitFor, [
      { kind: 'pool', pool: 'a', family: 4 },
      { kind: 'sharing', sharingKey: 'web', family: 4 },
    ]);
    table.statusWritten('ns/x', [], 30);
    assert.deepEqual(table.wakeTargets(v4(1)), [
      { kind: 'address', address: v4(1) },
      { kind: 'sharing', sharingKey: 'web', family: 4 },
    ]);
    assert.deepEqual(table.assign(web('ns/z', 82), [], ctx(40)).addresses, [v4(1)]);
  });

  it('an address a Service keeps from its status leaves the quarantine: the fallback never hands it out again', () => {
    const table = new AllocationTable({ quarantineMs: 10_000 });
    table.setPools(compilePools([pool('p', ['198.51.100.1/32'])]).pools);
    table.assign(request('ns/a'), [], ctx(0));
    table.release('ns/a', 0);
    assert.equal(table.quarantined, 1);
    // A Service whose status (from a cache that lags) shows .1 keeps it: it holds it now.
    assert.deepEqual(table.assign(request('ns/b'), [v4(1)], ctx(10)).addresses, [v4(1)]);
    assert.equal(table.quarantined, 0, 'held, so no longer resting');
    const c = table.assign(request('ns/c'), [], ctx(20));
    assert.deepEqual(
      [c.addresses, c.failures.map((f) => f.reason)],
      [[], ['PoolExhausted']],
      'the fallback handed out a held address',
    );
    assert.deepEqual(table.holdersOf(v4(1)), ['ns/b']);
  });

  it('names the pool of every released address, on release and when a request moves', () => {
    const table = new AllocationTable({ quarantineMs: 0 });
    table.setPools(
      compilePools([pool('a', ['198.51.100.1/32']), pool('b', ['198.51.100.2/32'], { autoAssign: false })]).pools,
    );
    table.assign(request('ns/x'), [], ctx());
    const moved = table.assign(request('ns/x', { poolNames: ['b'] }), [], ctx());
    assert.deepEqual(
      moved.released.map((r) => [r.address, r.pool]),
      [[v4(1), 'a']],
    );
    // Gone: its held address and the one its status still showed are both done.
    assert.deepEqual(table.release('ns/x', 0), [
      { address: v4(2), pool: 'b' },
      { address: v4(1), pool: 'a' },
    ]);
  });

  it('RequireDualStack takes both families or nothing', () => {
    const table = new AllocationTable({ quarantineMs: 0 });
    table.setPools(compilePools([pool('p', ['198.51.100.1/32'])]).pools);
    const res = table.assign(request('ns/a', { families: [6, 4], policy: 'RequireDualStack' }), [], ctx());
    assert.deepEqual(res.addresses, []);
    assert.deepEqual(
      res.failures.map((f) => [f.reason, f.family]),
      [['NoMatchingPool', 6]],
    );
    assert.deepEqual(table.usage('p')?.[4].allocated, 0, 'the IPv4 address was given back');
  });

  it('RequireDualStack gives back the family it holds when the other can no longer be served', () => {
    const table = new AllocationTable({ quarantineMs: 1000 });
    table.setPools(
      compilePools([
        pool('web', ['198.51.100.1/32'], { allocation: { priority: 1 } }),
        pool('dual', ['198.51.100.2/32', '2001:db8::1/128'], { allocation: { priority: 2 } }),
      ]).pools,
    );
    const dual = request('ns/a', { families: [6, 4], policy: 'RequireDualStack' });
    assert.deepEqual(table.assign(dual, [], ctx()).addresses, [v6(1), v4(1)]);
    // The request now names the IPv4-only pool: the IPv4 address is still right, but it may not stay alone.
    const moved = table.assign({ ...dual, poolNames: ['web'] }, [], ctx(10));
    assert.deepEqual(moved.addresses, []);
    assert.deepEqual(moved.allocated, []);
    assert.deepEqual(
      moved.released.map((r) => [r.address, r.pool]).sort(),
      [
        [v4(1), 'web'],
        [v6(1), 'dual'],
      ].sort(),
    );
    assert.match(moved.released.find((r) => r.address === v4(1))!.why, /RequireDualStack and IPv6 cannot be served/);
    assert.deepEqual(
      moved.failures.map((f) => [f.reason, f.family]),
      [['NoMatchingPool', 6]],
    );
    assert.equal(table.addressesOf('ns/a'), undefined);
    assert.deepEqual([table.usage('web')?.[4].allocated, table.usage('dual')?.[6].allocated], [0, 0]);
    // A Service that held nothing gets the same answer for the same request: nothing.
    assert.deepEqual(table.assign({ ...dual, key: 'ns/b', poolNames: ['web'] }, [], ctx(20)).addresses, []);
    // The next pass still sees the old status (the cache lags behind the write): nothing is released twice.
    const again = table.assign({ ...dual, poolNames: ['web'] }, [v6(1), v4(1)], ctx(30));
    assert.deepEqual([again.addresses, again.released], [[], []]);
    assert.deepEqual(table.holdersOf(v4(1)), []);
    assert.equal(table.usage('web')?.[4].allocated, 0);
  });
});
