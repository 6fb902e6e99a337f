// The allocation table against a plain model: random sequences of Service requests, deletions, pool edits and
// time steps. After every step: no address is held twice except by legal sharing, every address lies in an
// eligible pool, usage counts match, untouched Services never move, and fresh allocations take the lowest free
// address of the first pool (by priority) that has one, as a plain scan over a Set would.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AllocationTable } from './allocation-table.ts';
import { compilePools, comparePoolPriority, type PoolConfig } from '../config/pool-config.ts';
import type { IPPool } from '../config/api-types.generated.ts';
import type { ServiceRequest } from '../config/service-request.ts';
import { familyOf, ipv4, parseIp, type IpFamily } from '../ip/ip-address.ts';
import { sharingConflict } from './sharing.ts';

const v4 = (last: number): bigint => ipv4(198, 51, 100, last);
const v6 = (last: number): bigint => {
  const parsed = parseIp(`2001:db8::${last.toString(16)}`);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};

function pool(
  name: string,
  addresses: string[],
  extra: Partial<IPPool['spec']> = {},
  created = '2026-01-01T00:00:00Z',
): IPPool {
  return {
    apiVersion: 'beaconlb.io/v1alpha1',
    kind: 'IPPool',
    metadata: { name, creationTimestamp: created },
    spec: { addresses, ...extra },
  };
}

function request(key: string, extra: Partial<ServiceRequest> = {}): ServiceRequest {
  return {
    key,
    namespace: key.split('/')[0] ?? 'ns',
    labels: {},
    families: [4],
    policy: 'SingleStack',
    requested: [],
    poolNames: undefined,
    sharingKey: undefined,
    ports: ['TCP/80'],
    externalTrafficPolicy: 'Cluster',
    selector: '[]',
    createdAt: '',
    ...extra,
  };
}

const ctx = (now = 0): { namespaceLabels: undefined; now: number } => ({ namespaceLabels: undefined, now });

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

  it('never lets a Service show an address that another status still shows under a request it may not share with (property)', () => {
    // The API server's view: each Service's status is what the table decided in one of its passes, written later or
    // never (the write failed). Whenever a pass decides to show an address its status does not show yet, every other
    // status showing that address belongs to a Service that may share it (by their requests as they are now).
    const svcArb = fc.record({
      id: fc.integer({ min: 0, max: 5 }),
      requested: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      pool: fc.option(fc.integer({ min: 0, max: 1 }), { nil: undefined }),
      share: fc.option(fc.integer({ min: 0, max: 1 }), { nil: undefined }),
      port: fc.integer({ min: 1, max: 2 }),
      lands: fc.boolean(),
    });
    const stepArb = fc.oneof(
      { weight: 5, arbitrary: svcArb.map((v) => ({ kind: 'svc' as const, ...v })) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('land' as const), id: fc.integer({ min: 0, max: 5 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 5 }) }) },
      {
        weight: 1,
        arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 1500 }) }),
      },
    );
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 50 }), fc.boolean(), (steps, withQuarantine) => {
        const table = new AllocationTable({ quarantineMs: withQuarantine ? 1000 : 0 });
        table.setPools(
          compilePools([
            pool('p0', ['198.51.100.1-198.51.100.2']),
            pool('p1', ['198.51.100.3-198.51.100.4'], { autoAssign: false }),
          ]).pools,
        );
        let now = 0;
        const requests = new Map<string, ServiceRequest>();
        const shown = new Map<string, bigint[]>();
        const pending = new Map<string, bigint[]>();
        const land = (key: string): void => {
          const next = pending.get(key);
          if (!next) return;
          pending.delete(key);
          shown.set(key, next);
          table.statusWritten(key, next, now);
        };
        for (const step of steps) {
          const key = step.kind === 'tick' ? '' : `ns/s${step.id}`;
          if (step.kind === 'tick') now += step.ms;
          else if (step.kind === 'land') land(key);
          else if (step.kind === 'delete') {
            table.release(key, now);
            requests.delete(key);
            shown.delete(key);
            pending.delete(key);
          } else {
            const r = request(key, {
              requested: step.requested === undefined ? [] : [v4(step.requested)],
              poolNames: step.pool === undefined ? undefined : [`p${step.pool}`],
              sharingKey: step.share === undefined ? undefined : `k${step.share}`,
              ports: [`TCP/${step.port}`],
            });
            requests.set(key, r);
            const res = table.assign(r, shown.get(key) ?? [], ctx(now));
            const decided = res.addresses.filter((a) => !res.withheld.includes(a));
            for (const address of decided) {
              if (shown.get(key)?.includes(address)) continue;
              for (const [other, addresses] of shown) {
                if (other === key || !addresses.includes(address)) continue;
                assert.equal(
                  sharingConflict(r, requests.get(other)!),
                  undefined,
                  `${key} is to show ${address}, which ${other} shows`,
                );
              }
            }
            pending.set(key, decided);
            if (step.lands) land(key);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  // ---- model-based property test ----

  type Op =
    | {
        kind: 'svc';
        id: number;
        families: IpFamily[];
        require: boolean;
        requested: number | undefined;
        pool: number | undefined;
        share: number | undefined;
        port: number;
      }
    | { kind: 'delete'; id: number }
    | { kind: 'pools'; ranges: Array<[number, number, number]> }
    | { kind: 'tick'; ms: number };

  const opArb: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant('svc' as const),
        id: fc.integer({ min: 0, max: 9 }),
        families: fc.constantFrom<IpFamily[]>([4], [6], [4, 6], [6, 4]),
        require: fc.boolean(),
        requested: fc.option(fc.integer({ min: 0, max: 15 }), { nil: undefined }),
        pool: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
        share: fc.option(fc.integer({ min: 0, max: 1 }), { nil: undefined }),
        port: fc.integer({ min: 1, max: 3 }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 9 }) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('pools' as const),
        ranges: fc.array(
          fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 2 })),
          { minLength: 1, maxLength: 4 },
        ),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 2000 }) }) },
  );

  function poolsOf(ranges: Array<[number, number, number]>): IPPool[] {
    return [0, 1, 2].map((i) => {
      const mine = ranges.filter(([, , p]) => p === i);
      const addresses = mine.flatMap(([start, len]) => [
        `198.51.100.${start}-198.51.100.${start + len}`,
        `2001:db8::${start.toString(16)}-2001:db8::${(start + len).toString(16)}`,
      ]);
      return pool(
        `pool-${i}`,
        addresses.length ? [...new Set(addresses)] : ['203.0.113.0/32'],
        { allocation: { priority: 10 - i } },
        `2026-01-01T00:00:0${i}Z`,
      );
    });
  }

  it('never hands out an address twice, and matches a plain model (property)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), fc.boolean(), (ops, withQuarantine) => {
        const quarantineMs = withQuarantine ? 500 : 0;
        const table = new AllocationTable({ quarantineMs });
        let now = 0;
        let compiled = compilePools(
          poolsOf([
            [0, 3, 0],
            [4, 3, 1],
            [8, 3, 2],
          ]),
        );
        table.setPools(compiled.pools);
        const requests = new Map<string, ServiceRequest>();
        const held = new Map<string, bigint[]>();

        const eligiblePools = (r: ServiceRequest): PoolConfig[] =>
          [...compiled.pools.values()]
            .filter((p) => (r.poolNames ? r.poolNames.includes(p.name) : r.requested.length > 0 || p.autoAssign))
            .sort(comparePoolPriority);

        const check = (touched: string | undefined, before: Map<string, bigint[]>): void => {
          const byAddress = new Map<bigint, string[]>();
          for (const [key, addresses] of held) {
            const r = requests.get(key)!;
            const families = addresses.map(familyOf);
            assert.equal(new Set(families).size, families.length, `${key} holds two addresses of one family`);
            if (r.policy === 'RequireDualStack')
              assert.equal(addresses.length, 2, `${key} (RequireDualStack) holds one family only`);
            for (const a of addresses) {
              assert.ok(r.families.includes(familyOf(a)));
              assert.ok(
                eligiblePools(r).some((p) => p.addresses[familyOf(a)].has(a)),
                `${key} holds ${a} outside its pools`,
              );
              byAddress.set(a, [...(byAddress.get(a) ?? []), key]);
            }
            if (key !== touched && before.has(key))
              assert.deepEqual(addresses, before.get(key), `${key} moved without a reason`);
          }
          for (const [a, keys] of byAddress) {
            for (const x of keys)
              for (const y of keys) {
                if (x !== y)
                  assert.equal(
                    sharingConflict(requests.get(x)!, requests.get(y)!),
                    undefined,
                    `${a} held by ${x} and ${y}`,
                  );
              }
          }
          const entries = new Map([...table.entries()].map(([a, keys]) => [a, [...keys].sort()]));
          assert.deepEqual(entries, new Map([...byAddress].map(([a, keys]) => [a, [...keys].sort()])));
          for (const p of compiled.pools.values()) {
            for (const f of [4, 6] as const) {
              const inPool = [...byAddress.keys()].filter((a) => p.addresses[f].has(a)).length;
              assert.equal(table.usage(p.name)?.[f].allocated, inPool);
            }
          }
        };

        for (const op of ops) {
          const before = new Map(held);
          let touched: string | undefined;
          if (op.kind === 'tick') now += op.ms;
          else if (op.kind === 'delete') {
            touched = `ns/s${op.id}`;
            table.release(touched, now);
            held.delete(touched);
            requests.delete(touched);
          } else if (op.kind === 'pools') {
            compiled = compilePools(poolsOf(op.ranges));
            table.setPools(compiled.pools);
            for (const [key, r] of requests) {
              const res = table.assign(r, held.get(key) ?? [], ctx(now));
              table.statusWritten(key, res.addresses, now);
              if (res.addresses.length) held.set(key, res.addresses);
              else held.delete(key);
            }
            check('*', new Map());
            continue;
          } else {
            touched = `ns/s${op.id}`;
            const family = op.families[0]!;
            const r = request(touched, {
              families: op.families,
              policy: op.families.length === 2 ? (op.require ? 'RequireDualStack' : 'PreferDualStack') : 'SingleStack',
              requested: op.requested === undefined ? [] : [family === 4 ? v4(op.requested) : v6(op.requested)],
              poolNames: op.pool === undefined ? undefined : [`pool-${op.pool}`],
              sharingKey: op.share === undefined ? undefined : `k${op.share}`,
              ports: [`TCP/${op.port}`],
            });
            const previous = table.addressesOf(touched);
            const freeBefore = new Map([...compiled.pools.values()].map((p) => [p.name, p]));
            const heldSet = new Set([...table.entries()].map(([a]) => a));
            const res = table.assign(r, held.get(touched) ?? [], ctx(now));
            table.statusWritten(touched, res.addresses, now);
            requests.set(touched, r);
            if (res.addresses.length) held.set(touched, res.addresses);
            else held.delete(touched);
            // A fresh, non-requested, non-shared address with no quarantine is the lowest free one of the first pool that has one.
            if (quarantineMs === 0 && !previous && r.requested.length === 0 && !r.sharingKey) {
              for (const a of res.allocated) {
                const f = familyOf(a);
                const expected = eligiblePools(r)
                  .map((p) => freeBefore.get(p.name)!)
                  .map(
                    (p) =>
                      [...p.addresses[f].intervals()].flatMap(([lo, hi]) => {
                        const out: bigint[] = [];
                        for (let x = lo; x <= hi; x++) if (!heldSet.has(x)) out.push(x);
                        return out;
                      })[0],
                  )
                  .find((x) => x !== undefined);
                assert.equal(a, expected, 'not the lowest free address of the first pool with one');
              }
            }
          }
          check(touched, before);
        }
      }),
      { numRuns: 400 },
    );
  });
});
