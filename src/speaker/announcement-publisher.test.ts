import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AnnouncementPublisher, type AnnouncementStore, type StoreResult } from './announcement-publisher.ts';
import type { AnnouncementRecord } from './announcement-records.ts';
import { ManualClock } from '../test-support/manual-clock.ts';
import { silentLogger } from '../test-support/silent-logger.ts';

/** A store that holds records as the API server would, and records every request. */
class FakeStore implements AnnouncementStore {
  readonly held = new Map<string, AnnouncementRecord>();
  readonly requests: string[] = [];
  failing = false;
  /** Requests wait until released when true. */
  hold = false;
  readonly waiting: Array<() => void> = [];
  inFlight = 0;
  maxInFlight = 0;

  observed(service: string): AnnouncementRecord | undefined {
    return this.held.get(service);
  }

  observedServices(): string[] {
    return [...this.held.keys()];
  }

  async #request(line: string, act: () => void): Promise<StoreResult> {
    this.requests.push(line);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (this.hold) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight--;
    if (this.failing) return { error: 'HTTP 503' };
    act();
    return 'done';
  }

  apply(service: string, record: AnnouncementRecord): Promise<StoreResult> {
    return this.#request(`apply ${service}`, () => this.held.set(service, record));
  }

  remove(service: string): Promise<StoreResult> {
    return this.#request(`delete ${service}`, () => this.held.delete(service));
  }
}

const l2 = (address: string): AnnouncementRecord => ({ layer2: { addresses: [address], interfaces: ['eth0'] } });

function publisher(
  store: FakeStore,
  extra: { writesPerSecond?: number; burst?: number; maxInFlight?: number } = {},
): { clock: ManualClock; p: AnnouncementPublisher } {
  const clock = new ManualClock(0);
  const p = new AnnouncementPublisher({
    clock,
    log: silentLogger(),
    store,
    writesPerSecond: extra.writesPerSecond ?? 100,
    burst: extra.burst ?? 100,
    maxInFlight: extra.maxInFlight ?? 4,
    debounceMs: 250,
    retryMs: 5000,
    startGraceMs: 10_000,
  });
  return { clock, p };
}

const records = (n: number, from = 0): Map<string, AnnouncementRecord> =>
  new Map(Array.from({ length: n }, (_, i) => [`web/s${from + i}`, l2(`198.51.100.${(from + i) % 250}`)]));

/** A started publisher over a fresh store, once it has written `count` records and settled. */
async function publishedRecords(
  count: number,
): Promise<{ store: FakeStore; clock: ManualClock; p: AnnouncementPublisher }> {
  const store = new FakeStore();
  const { clock, p } = publisher(store);
  p.start();
  p.update(records(count));
  await clock.settle(1000);
  return { store, clock, p };
}

describe('AnnouncementPublisher', () => {
  it('told which Services changed, writes those that differ, and deletes those gone (ADR 0037)', async () => {
    const { store, clock, p } = await publishedRecords(3);
    store.requests.length = 0;
    const now = records(3);
    now.set('web/s1', l2('198.51.100.200'));
    now.delete('web/s2');
    now.set('web/s9', l2('198.51.100.9'));
    p.update(now, new Set(['web/s0', 'web/s1', 'web/s2', 'web/s9']));
    await clock.settle(1000);
    assert.deepEqual(store.requests.sort(), ['apply web/s1', 'apply web/s9', 'delete web/s2']);
    assert.deepEqual([...store.held.keys()].sort(), ['web/s0', 'web/s1', 'web/s9']);
  });

  it('writes nothing before start, then one apply per announced Service', async () => {
    const store = new FakeStore();
    const { clock, p } = publisher(store);
    p.update(records(3));
    await clock.settle(1000);
    assert.equal(store.requests.length, 0);
    p.start();
    await clock.settle(1000);
    assert.deepEqual(store.requests.sort(), ['apply web/s0', 'apply web/s1', 'apply web/s2']);
    assert.deepEqual(store.held.get('web/s1'), l2('198.51.100.1'));
  });

  it('coalesces changes within the debounce: a flap that comes back costs no write, a change one write', async () => {
    const { store, clock, p } = await publishedRecords(2);
    store.requests.length = 0;
    p.update(
      new Map([
        ['web/s0', l2('198.51.100.99')],
        ['web/s1', l2('198.51.100.1')],
      ]),
    );
    p.update(new Map());
    p.update(records(2));
    p.update(
      new Map([
        ['web/s0', l2('198.51.100.42')],
        ['web/s1', l2('198.51.100.1')],
      ]),
    );
    await clock.settle(1000);
    assert.deepEqual(store.requests, ['apply web/s0']);
    assert.deepEqual(store.held.get('web/s0'), l2('198.51.100.42'));
  });

  it('deletes the record of a Service this node stops announcing', async () => {
    const { store, clock, p } = await publishedRecords(2);
    p.update(records(1));
    await clock.settle(1000);
    assert.deepEqual([...store.held.keys()], ['web/s0']);
    assert.equal(store.requests.at(-1), 'delete web/s1');
  });

  it('keeps to the write rate: a failover of 1,000 Services is spread at writesPerSecond', async () => {
    const store = new FakeStore();
    const count = (): number => store.requests.length;
    const { clock, p } = publisher(store, { writesPerSecond: 50, burst: 100 });
    p.start();
    await clock.settle(5000);
    p.update(records(1000));
    await clock.settle(200);
    assert.equal(store.requests.length, 0, 'nothing within the debounce');
    await clock.settle(100);
    assert.ok(count() >= 100 && count() <= 103, `the burst right after the debounce: ${count()}`);
    await clock.settle(1000);
    assert.ok(count() >= 145 && count() <= 155, `${count()} after 1.3 s`);
    for (let i = 0; i < 20 && count() < 1000; i++) await clock.settle(1000);
    assert.equal(store.requests.length, 1000, 'each exactly once');
    assert.equal(new Set(store.requests).size, 1000);
  });

  it('never has more than maxInFlight requests open', async () => {
    const store = new FakeStore();
    store.hold = true;
    const { clock, p } = publisher(store, { maxInFlight: 3 });
    p.start();
    p.update(records(10));
    await clock.settle(300);
    assert.equal(store.inFlight, 3);
    for (let i = 0; i < 10; i++) {
      for (const release of store.waiting.splice(0)) release();
      await clock.settle(10);
    }
    assert.equal(store.held.size, 10);
    assert.equal(store.maxInFlight, 3);
  });

  it('retries a failed write after retryMs, not before', async () => {
    const store = new FakeStore();
    store.failing = true;
    const { clock, p } = publisher(store);
    p.start();
    p.update(records(1));
    await clock.settle(300);
    assert.equal(store.requests.length, 1);
    await clock.settle(4000);
    assert.equal(store.requests.length, 1, 'no retry within retryMs');
    store.failing = false;
    await clock.settle(1500);
    assert.equal(store.requests.length, 2);
    assert.ok(store.held.has('web/s0'));
  });

  it('writes again a record someone else changed or deleted, and leaves one that already says the same', async () => {
    const { store, clock, p } = await publishedRecords(2);
    store.requests.length = 0;
    store.held.delete('web/s0');
    p.observedChanged('web/s0');
    p.observedChanged('web/s1');
    await clock.settle(1000);
    assert.deepEqual(store.requests, ['apply web/s0']);
  });

  it('after a restart: keeps records that are still right, deletes others only after the start grace', async () => {
    const store = new FakeStore();
    store.held.set('web/s0', l2('198.51.100.0'));
    store.held.set('web/old', l2('198.51.100.200'));
    const { clock, p } = publisher(store);
    p.start();
    await clock.settle(1000);
    p.update(records(1));
    await clock.settle(1000);
    assert.deepEqual(store.requests, [], 'the record still right is not rewritten; the other waits for the grace');
    await clock.settle(9000);
    assert.deepEqual(store.requests, ['delete web/old']);
  });

  it('withdrawAll deletes every record within its budget', async () => {
    const { store, clock, p } = await publishedRecords(5);
    const done = p.withdrawAll(2000);
    await clock.settle(2000);
    await done;
    assert.equal(store.held.size, 0);
  });
});
