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
import { familyOf, type IpFamily } from '../ip/ip-address.ts';
import { sharingConflict } from './sharing.ts';
import { ctx, pool, request, v4, v6 } from '../../test-support/allocation-inputs.ts';
import { assertOnlyLegalSharing } from '../../test-support/legal-sharing.ts';

describe('AllocationTable', () => {
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
          assertOnlyLegalSharing(byAddress, requests);
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
