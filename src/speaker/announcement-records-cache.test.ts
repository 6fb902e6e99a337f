// The incremental records (ADR 0037) equal announcementRecords after any sequence of changes, name every Service
// whose record changed, and one changed address among 5,000 rebuilds one record.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { OwnedAddress } from './layer2/layer2-announcer.ts';
import { announcementRecords, recordText, type AdvertisedRoutes } from './announcement-records.ts';
import { AnnouncementRecordsCache } from './announcement-records-cache.ts';

const ADDRESSES = [0xc6336401n, 0xc6336402n, 0xc6336403n].map((a) => 0xffff00000000n + a);
const SERVICES = ['web/a', 'web/b', 'web/c'];

describe('AnnouncementRecordsCache', () => {
  it('equals announcementRecords after every change and names every Service whose record changed', () => {
    const entry = fc.record({
      interfaces: fc.subarray(['eth0', 'eth1']),
      services: fc.subarray(SERVICES, { minLength: 1 }),
    });
    const step = fc.record({
      address: fc.constantFrom(...ADDRESSES),
      entry: fc.option(entry),
      bgp: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 20 }), (steps) => {
        const cache = new AnnouncementRecordsCache();
        const owned = new Map<bigint, OwnedAddress>();
        let before = new Map<string, string>();
        for (const s of steps) {
          if (s.entry) owned.set(s.address, s.entry);
          else owned.delete(s.address);
          cache.layer2Changed(new Set([s.address]));
          const advertised: AdvertisedRoutes[] = s.bgp
            ? [{ peer: 'r1', routes: [{ prefix: { family: 4, address: s.address, length: 32 }, services: ['web/b'] }] }]
            : [];
          const { records, changed } = cache.build(owned, advertised);
          const expected = announcementRecords(owned, advertised);
          assert.deepEqual(new Map(records), expected);
          const now = new Map([...expected].map(([k, r]) => [k, recordText(r)]));
          for (const key of new Set([...before.keys(), ...now.keys()]))
            if (before.get(key) !== now.get(key)) assert.ok(changed.has(key), `${key} changed but was not named`);
          before = now;
        }
      }),
      { numRuns: 300, seed: 37 },
    );
  });

  it('one address gained among 5,000 rebuilds one record', () => {
    const cache = new AnnouncementRecordsCache();
    const owned = new Map<bigint, OwnedAddress>();
    for (let i = 0; i < 5000; i++) owned.set(BigInt(i + 1), { interfaces: ['eth0'], services: [`bulk/b-${i}`] });
    cache.layer2Changed(undefined);
    assert.equal(cache.build(owned, []).changed.size, 5000);
    owned.set(9999n, { interfaces: ['eth0'], services: ['bulk/new'] });
    cache.layer2Changed(new Set([9999n]));
    const { records, changed } = cache.build(owned, []);
    assert.deepEqual([...changed], ['bulk/new']);
    assert.equal(records.size, 5001);
  });
});
