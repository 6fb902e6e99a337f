// Draining pools and renumbering windows in the allocation table (ADR 0028): a draining pool hands out nothing and
// takes nothing away; a Service with a renumber window moves with overlap, never losing its old address before the
// new one is held; and, over random sequences with drains toggling and windows ending, no address is ever held by
// two Services that may not share it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AllocationTable, type AssignContext } from './allocation-table.ts';
import { compilePools } from '../config/pool-config.ts';
import type { IPPool } from '../config/api-types.generated.ts';
import type { ServiceRequest } from '../config/service-request.ts';
import { familyOf, ipv4, parseIp } from '../ip/ip-address.ts';
import { pool, request } from '../../test-support/allocation-inputs.ts';
import { assertOnlyLegalSharing } from '../../test-support/legal-sharing.ts';

const v4 = (last: number): bigint => ipv4(198, 51, 100, last);
const n4 = (last: number): bigint => ipv4(203, 0, 113, last);
const v6 = (text: string): bigint => {
  const parsed = parseIp(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};

const T0 = Date.parse('2026-12-07T21:00:00Z');
const ctx = (wallNow = T0, extra: Partial<AssignContext> = {}): AssignContext => ({
  namespaceLabels: undefined,
  now: 0,
  wallNow,
  ...extra,
});
const MINUTE = 60_000;

function table(pools: IPPool[]): AllocationTable {
  const t = new AllocationTable({ quarantineMs: 0 });
  t.setPools(compilePools(pools).pools);
  return t;
}

describe('AllocationTable: draining pools', () => {
  it('keeps every address in use (automatic, named, requested, shared) and hands out none', () => {
    const old = pool('old', ['198.51.100.0/29']);
    const t = table([old]);
    const auto = t.assign(request('ns/auto'), [], ctx());
    const named = t.assign(request('ns/named', { poolNames: ['old'] }), [], ctx());
    const pinned = t.assign(
      request('ns/pinned', { requested: [v4(5)], sharingKey: 'k', ports: ['TCP/80'] }),
      [],
      ctx(),
    );
    assert.deepEqual([auto.addresses, named.addresses, pinned.addresses], [[v4(0)], [v4(1)], [v4(5)]]);

    t.setPools(compilePools([pool('old', ['198.51.100.0/29'], { drain: true })]).pools);
    for (const [key, r, had] of [
      ['ns/auto', request('ns/auto'), v4(0)],
      ['ns/named', request('ns/named', { poolNames: ['old'] }), v4(1)],
      ['ns/pinned', request('ns/pinned', { requested: [v4(5)], sharingKey: 'k', ports: ['TCP/80'] }), v4(5)],
    ] as const) {
      const again = t.assign(r, [had], ctx());
      assert.deepEqual([again.addresses, again.released, again.failures], [[had], [], []], `${key} keeps ${had}`);
    }

    const fresh = t.assign(request('ns/fresh'), [], ctx());
    assert.equal(fresh.failures[0]?.reason, 'PoolDraining');
    assert.match(fresh.failures[0].message, /is draining \(old\): a draining pool hands out no new addresses/);
    const byName = t.assign(request('ns/by-name', { poolNames: ['old'] }), [], ctx());
    assert.equal(byName.failures[0]?.reason, 'PoolDraining');
    const byAddress = t.assign(request('ns/by-address', { requested: [v4(6)] }), [], ctx());
    assert.equal(byAddress.failures[0]?.reason, 'PoolDraining');
    assert.match(byAddress.failures[0].message, /requested 198\.51\.100\.6 is in pool old, which is draining/);
    const joiner = t.assign(
      request('ns/joiner', { requested: [v4(5)], sharingKey: 'k', ports: ['TCP/443'] }),
      [],
      ctx(),
    );
    assert.equal(joiner.failures[0]?.reason, 'PoolDraining', 'no new sharer joins an address of a draining pool');
    const byKey = t.assign(request('ns/by-key', { sharingKey: 'k', ports: ['TCP/8080'] }), [], ctx());
    assert.equal(byKey.failures[0]?.reason, 'PoolDraining');

    assert.deepEqual(t.usage('old')?.[4], { total: 8n, allocated: 3, available: 0n });
    assert.deepEqual(t.holdersInPool('old', 10), { count: 3, first: ['ns/auto', 'ns/named', 'ns/pinned'] });
    assert.deepEqual(t.holdersInPool('old', 2), { count: 3, first: ['ns/auto', 'ns/named'] });
    assert.equal(t.hasAvailable('old', 4), false);
  });

  it('sends new Services to the pools that do not drain, and resumes when the drain is lifted', () => {
    const t = table([
      pool('old', ['198.51.100.0/30'], { drain: true, allocation: { priority: 1 } }),
      pool('new', ['203.0.113.0/30'], { allocation: { priority: 2 } }),
    ]);
    assert.deepEqual(t.assign(request('ns/a'), [], ctx()).addresses, [n4(0)]);
    t.setPools(
      compilePools([
        pool('old', ['198.51.100.0/30'], { allocation: { priority: 1 } }),
        pool('new', ['203.0.113.0/30'], { allocation: { priority: 2 } }),
      ]).pools,
    );
    assert.deepEqual(t.assign(request('ns/b'), [], ctx()).addresses, [v4(0)]);
    assert.deepEqual(t.assign(request('ns/a'), [n4(0)], ctx()).addresses, [n4(0)], 'lifting the drain moves nobody');
  });

  it('reports PoolExhausted over the open pools only when they are full', () => {
    const t = table([pool('old', ['198.51.100.0/30'], { drain: true }), pool('new', ['203.0.113.0/32'])]);
    t.assign(request('ns/a'), [], ctx());
    const full = t.assign(request('ns/b'), [], ctx());
    assert.equal(full.failures[0]?.reason, 'PoolExhausted');
    assert.deepEqual(full.failures[0].waitFor, [{ kind: 'pool', pool: 'new', family: 4 }]);
  });
});

describe('AllocationTable: renumbering windows', () => {
  const pools = (drainOld: boolean): IPPool[] => [
    pool('old', ['198.51.100.0/29', '2001:db8:a::/125'], { drain: drainOld, allocation: { priority: 1 } }),
    pool('new', ['203.0.113.0/29', '2001:db8:b::/125'], { allocation: { priority: 2 } }),
  ];

  it('moves a Service off a draining pool, keeping the old address beside the new one until the window ends', () => {
    const t = table(pools(false));
    const r = request('ns/web', { renumberWindowMs: 10 * MINUTE });
    assert.deepEqual(t.assign(r, [], ctx()).addresses, [v4(0)]);
    assert.deepEqual(t.assign(r, [v4(0)], ctx()).retiring, [], 'no window while the pool serves');

    t.setPools(compilePools(pools(true)).pools);
    const moved = t.assign(r, [v4(0)], ctx(T0 + 500));
    const until = T0 + 10 * MINUTE + 1000; // whole seconds, rounded up: the status stores whole seconds
    assert.deepEqual(moved.addresses, [n4(0)]);
    assert.deepEqual(moved.allocated, [n4(0)]);
    assert.deepEqual(moved.renumbered, [{ address: v4(0), until, successor: n4(0) }]);
    assert.deepEqual(moved.retiring, [{ address: v4(0), until }]);
    assert.deepEqual(moved.released, []);
    assert.deepEqual(t.holdersOf(v4(0)), ['ns/web'], 'the old address stays held: nobody else gets it');
    assert.deepEqual(t.usage('old')?.[4].allocated, 1);
    assert.equal(t.assign(request('ns/thief', { requested: [v4(0)] }), [], ctx()).failures[0]?.reason, 'PoolDraining');

    const during = t.assign(r, [n4(0), v4(0)], ctx(until - 1));
    assert.deepEqual([during.addresses, during.retiring, during.released], [[n4(0)], [{ address: v4(0), until }], []]);

    const after = t.assign(r, [n4(0), v4(0)], ctx(until));
    assert.deepEqual(after.addresses, [n4(0)]);
    assert.deepEqual(after.retiring, []);
    assert.deepEqual(after.released, [{ address: v4(0), why: 'its renumbering window ended', pool: 'old' }]);
    assert.deepEqual(t.releasingBy('ns/web'), [v4(0)], 'released once the status without it is written');
    assert.deepEqual(t.statusWritten('ns/web', [n4(0)], 0), [v4(0)]);
    assert.deepEqual(t.usage('old')?.[4].allocated, 0);
    assert.deepEqual(t.holdersInPool('old', 10), { count: 0, first: [] });
  });

  it('never gives up the old address before the new one is held: a blocked move keeps it and says why', () => {
    const t = table([pool('old', ['198.51.100.0/29'])]);
    const r = request('ns/web', { renumberWindowMs: MINUTE });
    t.assign(r, [], ctx());
    t.setPools(compilePools([pool('old', ['198.51.100.0/29'], { drain: true })]).pools);
    const blocked = t.assign(r, [v4(0)], ctx());
    assert.deepEqual([blocked.addresses, blocked.released, blocked.retiring], [[v4(0)], [], []]);
    assert.equal(blocked.failures[0]?.reason, 'PoolDraining');
    assert.match(blocked.failures[0].message, /^keeps 198\.51\.100\.0 \(pool old is draining\) until it can move: /);
    t.setPools(
      compilePools([pool('old', ['198.51.100.0/29'], { drain: true }), pool('new', ['203.0.113.0/29'])]).pools,
    );
    const moved = t.assign(r, [v4(0)], ctx());
    assert.deepEqual([moved.addresses, moved.retiring.map((x) => x.address)], [[n4(0)], [v4(0)]]);
  });

  it('a pinned Service keeps its address in a draining pool; changing its request moves it with overlap', () => {
    const t = table(pools(false));
    const pinned = request('ns/pinned', { requested: [v4(3)], renumberWindowMs: MINUTE });
    t.assign(pinned, [], ctx());
    t.setPools(compilePools(pools(true)).pools);
    assert.deepEqual(t.assign(pinned, [v4(3)], ctx()).retiring, [], 'the request pins it');
    const moved = t.assign(request('ns/pinned', { requested: [n4(5)], renumberWindowMs: MINUTE }), [v4(3)], ctx());
    assert.deepEqual([moved.addresses, moved.retiring.map((x) => x.address)], [[n4(5)], [v4(3)]]);
  });

  it('without a window a changed request releases the old address at once, as before', () => {
    const t = table(pools(false));
    t.assign(request('ns/a', { requested: [v4(3)] }), [], ctx());
    const moved = t.assign(request('ns/a', { requested: [v4(4)] }), [v4(3)], ctx());
    assert.deepEqual([moved.addresses, moved.retiring, moved.released.map((x) => x.address)], [[v4(4)], [], [v4(3)]]);
  });

  it('going back to the old address during the window makes it the Service own again, and the other one retires', () => {
    const t = table(pools(false));
    t.assign(request('ns/a', { requested: [v4(3)], renumberWindowMs: MINUTE }), [], ctx());
    t.assign(request('ns/a', { requested: [v4(4)], renumberWindowMs: MINUTE }), [v4(3)], ctx());
    const back = t.assign(
      request('ns/a', { requested: [v4(3)], renumberWindowMs: MINUTE }),
      [v4(4), v4(3)],
      ctx(T0 + 1000),
    );
    assert.deepEqual([back.addresses, back.retiring.map((x) => x.address), back.released], [[v4(3)], [v4(4)], []]);
  });

  it('the rebuild restores open windows from the status, and releases the ones that ended meanwhile', () => {
    const t = table(pools(true));
    const r = request('ns/web', { renumberWindowMs: MINUTE });
    const restored = t.assign(
      r,
      [n4(0), v4(0)],
      ctx(T0, { allocate: false, retiring: [{ address: v4(0), until: T0 + MINUTE }] }),
    );
    assert.deepEqual([restored.addresses, restored.retiring], [[n4(0)], [{ address: v4(0), until: T0 + MINUTE }]]);
    assert.deepEqual(t.holdersOf(v4(0)), ['ns/web']);
    const r2 = request('ns/late', { renumberWindowMs: MINUTE });
    const late = t.assign(
      r2,
      [n4(1), v4(1)],
      ctx(T0 + MINUTE, { allocate: false, retiring: [{ address: v4(1), until: T0 + MINUTE }] }),
    );
    assert.deepEqual([late.addresses, late.retiring], [[n4(1)], []]);
    assert.deepEqual(t.holdersOf(v4(1)), [], 'not held: the controller treats it as shown but not held (releasing)');
    // Without a window record, a second address of one family in the status is not kept.
    const stray = t.assign(request('ns/stray'), [n4(2), v4(2)], ctx(T0, { allocate: false }));
    assert.deepEqual([stray.addresses, stray.retiring], [[n4(2)], []]);
  });

  it('a blocked rebuild keeps the old address of a Service that should move (the rebuild allocates nothing)', () => {
    const t = table(pools(true));
    const kept = t.assign(request('ns/web', { renumberWindowMs: MINUTE }), [v4(0)], ctx(T0, { allocate: false }));
    assert.deepEqual([kept.addresses, kept.released, kept.retiring], [[v4(0)], [], []]);
  });

  it('RequireDualStack: a family that cannot move keeps its old address, and the other family still moves', () => {
    const t = table([
      pool('old', ['198.51.100.0/29', '2001:db8:a::/125'], { allocation: { priority: 1 } }),
      pool('new6', ['2001:db8:b::/125']),
    ]);
    const r = request('ns/dual', {
      families: [4, 6],
      policy: 'RequireDualStack',
      renumberWindowMs: MINUTE,
      poolNames: undefined,
    });
    const first = t.assign(r, [], ctx());
    assert.deepEqual(first.addresses, [v4(0), v6('2001:db8:a::')]);
    t.setPools(
      compilePools([
        pool('old', ['198.51.100.0/29', '2001:db8:a::/125'], { drain: true, allocation: { priority: 1 } }),
        pool('new6', ['2001:db8:b::/125']),
      ]).pools,
    );
    const moved = t.assign(r, first.addresses, ctx());
    assert.deepEqual(moved.addresses, [v4(0), v6('2001:db8:b::')]);
    assert.deepEqual(
      moved.retiring.map((x) => x.address),
      [v6('2001:db8:a::')],
    );
    assert.deepEqual(moved.released, []);
    assert.equal(moved.failures[0]?.reason, 'PoolDraining');
  });

  it('a sharer follows the group to its new address, not to the retiring one', () => {
    const t = table([pool('p', ['198.51.100.0/29'])]);
    const a = request('ns/a', { sharingKey: 'k', ports: ['TCP/80'], requested: [v4(1)], renumberWindowMs: MINUTE });
    t.assign(a, [], ctx());
    t.assign({ ...a, requested: [v4(2)] }, [v4(1)], ctx());
    const b = t.assign(request('ns/b', { sharingKey: 'k', ports: ['TCP/443'] }), [], ctx());
    assert.deepEqual(b.addresses, [v4(2)]);
  });

  it('never holds an address for two Services that may not share it, with drains toggling and windows ending (property)', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('svc' as const),
        id: fc.integer({ min: 0, max: 5 }),
        requested: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
        pool: fc.option(fc.constantFrom('a', 'b'), { nil: undefined }),
        share: fc.option(fc.integer({ min: 0, max: 1 }), { nil: undefined }),
        port: fc.integer({ min: 1, max: 3 }),
        window: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
      }),
      fc.record({ kind: fc.constant('drain' as const), a: fc.boolean(), b: fc.boolean() }),
      fc.record({ kind: fc.constant('delete' as const), id: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 3 * MINUTE }) }),
    );
    const poolsWith = (a: boolean, b: boolean): IPPool[] => [
      pool('a', ['198.51.100.0-198.51.100.2'], { drain: a, allocation: { priority: 1 } }),
      pool('b', ['198.51.100.3-198.51.100.5'], { drain: b, allocation: { priority: 2 } }),
    ];
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 50 }), (ops) => {
        const t = table(poolsWith(false, false));
        let wallNow = T0;
        let drains = { a: false, b: false };
        const requests = new Map<string, ServiceRequest>();
        const shown = new Map<string, bigint[]>();
        const pass = (key: string): void => {
          const r = requests.get(key)!;
          const before = new Set([...(t.addressesOf(key) ?? []), ...t.retiringOf(key).map((x) => x.address)]);
          const res = t.assign(r, shown.get(key) ?? [], ctx(wallNow));
          // Nothing new from a draining pool.
          for (const a of res.allocated) {
            if (before.has(a)) continue;
            const p = t.poolOf(a);
            assert.ok(!(p === 'a' ? drains.a : drains.b), `${key} got ${a} from draining pool ${p}`);
          }
          // A window only begins with its successor held, and the old address is never lost to a failed move.
          for (const m of res.renumbered) assert.ok(res.addresses.includes(m.successor));
          const now = [...res.addresses, ...res.retiring.map((x) => x.address)];
          t.statusWritten(key, now, 0);
          shown.set(key, now);
        };
        for (const o of ops) {
          if (o.kind === 'tick') wallNow += o.ms;
          else if (o.kind === 'drain') {
            drains = { a: o.a, b: o.b };
            t.setPools(compilePools(poolsWith(o.a, o.b)).pools);
          } else if (o.kind === 'delete') {
            t.release(`ns/s${o.id}`, 0);
            requests.delete(`ns/s${o.id}`);
            shown.delete(`ns/s${o.id}`);
          } else {
            const key = `ns/s${o.id}`;
            requests.set(
              key,
              request(key, {
                requested: o.requested === undefined ? [] : [v4(o.requested)],
                poolNames: o.pool === undefined ? undefined : [o.pool],
                sharingKey: o.share === undefined ? undefined : `k${o.share}`,
                ports: [`TCP/${o.port}`],
                ...(o.window === undefined ? {} : { renumberWindowMs: o.window * MINUTE }),
              }),
            );
          }
          for (const key of [...requests.keys()].sort()) pass(key);
          // Every address held (own or retiring) by two Services is shared legally, and the table agrees.
          const byAddress = new Map<bigint, string[]>();
          for (const [key, addresses] of shown)
            for (const a of addresses) byAddress.set(a, [...(byAddress.get(a) ?? []), key]);
          assertOnlyLegalSharing(byAddress, requests);
          for (const [a, keys] of byAddress) assert.deepEqual(t.holdersOf(a).sort(), [...keys].sort());
          for (const key of shown.keys()) {
            assert.equal(
              new Set(t.addressesOf(key)?.map(familyOf)).size,
              t.addressesOf(key)?.length ?? 0,
              `${key}: one own address per family`,
            );
            for (const r of t.retiringOf(key))
              assert.ok(r.until > wallNow, `${key} still holds ${r.address} after its window ended`);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
