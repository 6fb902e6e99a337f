import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ApiClient, Query, WatchEvent } from './api/api-client.ts';
import { ApiError } from './api/api-error.ts';
import { Informer, type KubeObject } from './informer.ts';
import { ManualClock, flushMicrotasks } from '../test-support/manual-clock.ts';
import { silentLogger } from '../test-support/silent-logger.ts';
import { fakeApiClient } from '../test-support/fake-api-client.ts';

interface PendingWatch {
  query: Query;
  sentAt: number;
  signal: AbortSignal;
  onEvent: (event: WatchEvent<KubeObject>) => void;
  /** The server ends the stream. */
  end: () => void;
}

/** An API server for one collection: lists answer at once, watches stay open until the test ends or aborts them. */
class FakeServer {
  readonly watches: PendingWatch[] = [];
  readonly #clock: ManualClock;

  constructor(clock: ManualClock) {
    this.#clock = clock;
  }

  readonly client = fakeApiClient({
    get: () =>
      Promise.resolve({
        metadata: { resourceVersion: '10' },
        items: [{ metadata: { name: 'web', namespace: 'shop', resourceVersion: '9' } }],
      }),
    watch: (
      _path: string,
      query: unknown,
      onEvent: (event: WatchEvent<KubeObject>) => void,
      signal: AbortSignal,
    ): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        signal.addEventListener('abort', () => {
          reject(new ApiError(0, 'Aborted', 'aborted'));
        });
        this.watches.push({ query: query as Query, sentAt: this.#clock.now(), signal, onEvent, end: resolve });
      }),
  });
}

function informer(staleAfterMs: number): {
  clock: ManualClock;
  server: FakeServer;
  informer: Informer<KubeObject>;
  reports: Array<{ at: number; stale: boolean }>;
} {
  const clock = new ManualClock();
  const server = new FakeServer(clock);
  const reports: Array<{ at: number; stale: boolean }> = [];
  const i = new Informer<KubeObject>({
    client: server.client,
    path: '/api/v1/services',
    clock,
    log: silentLogger(),
    staleAfterMs,
    onFreshness: (stale) => {
      reports.push({ at: clock.now(), stale });
    },
  });
  return { clock, server, informer: i, reports };
}

describe('Informer freshness', () => {
  it('asks the server to end each watch after three quarters of the bound, and stays fresh while watches end on schedule', async () => {
    const { clock, server, informer: i, reports } = informer(4000);
    i.start();
    await clock.until(0);
    assert.equal(i.hasSynced, true);
    assert.equal(server.watches.length, 1);
    assert.equal(server.watches[0]?.query['timeoutSeconds'], 3);
    for (let n = 0; n < 5; n++) {
      // The server ends each watch at its timeout; the end arrives 50 ms later.
      const watch = server.watches.at(-1);
      assert.ok(watch);
      assert.ok(
        Number(watch.query['timeoutSeconds']) >= 2,
        `watch ${n} asks for ${String(watch.query['timeoutSeconds'])} s`,
      );
      await clock.until(watch.sentAt + Number(watch.query['timeoutSeconds']) * 1000 + 50);
      watch.end();
      await clock.until(clock.now() + 1);
    }
    assert.equal(server.watches.length, 6, 'a new watch after each end');
    assert.deepEqual(reports, []);
    assert.equal(i.stale, false);
    i.stop();
  });

  it('a watch that goes silent makes the cache stale at the bound, is reconnected, and only a watch ending on schedule makes it fresh', async () => {
    const { clock, server, informer: i, reports } = informer(4000);
    i.start();
    await clock.until(0);
    // The first watch never ends (blackholed): no proof after the list at 0.
    await clock.until(3999);
    assert.equal(i.stale, false);
    await clock.until(4000);
    assert.equal(i.stale, true);
    assert.deepEqual(reports, [{ at: 4000, stale: true }]);
    assert.equal(server.watches[0]?.signal.aborted, true, 'the silent watch is dropped');
    assert.equal(server.watches.length, 2, 'and watched again at once');
    // The reconnected watch hangs too: retried every 3 s, with a 1 s timeout while stale.
    await clock.until(6999);
    assert.equal(server.watches.length, 2);
    await clock.until(7000);
    assert.equal(server.watches.length, 3);
    const retried = server.watches[2];
    assert.ok(retried);
    assert.equal(retried.query['timeoutSeconds'], 1);
    // The path heals: the retried watch ends on schedule and proves the cache.
    await clock.until(8000);
    retried.end();
    await clock.until(8010);
    assert.equal(i.stale, false);
    assert.deepEqual(reports, [
      { at: 4000, stale: true },
      { at: 8000, stale: false },
    ]);
    await clock.until(8100);
    assert.equal(server.watches.at(-1)?.query['timeoutSeconds'], 3, 'fresh again: watches of the usual length');
    i.stop();
  });

  it('without a bound, keeps the long watches and never reports', async () => {
    const clock = new ManualClock();
    const server = new FakeServer(clock);
    const i = new Informer<KubeObject>({ client: server.client, path: '/api/v1/services', clock, log: silentLogger() });
    i.start();
    await clock.until(600_000);
    assert.equal(server.watches.length, 1);
    assert.ok(Number(server.watches[0]?.query['timeoutSeconds']) >= 240);
    assert.equal(i.stale, false);
    i.stop();
  });
});

// relist() reads the collection again while a watch runs, applies the differences, and resolves only after that list.
/** A collection whose list answers from `items`; a watch delivers nothing and ends only when aborted. */
class FakeCollection {
  items: KubeObject[] = [];
  lists = 0;
  watches = 0;
  client(): ApiClient {
    return fakeApiClient({
      get: () => {
        this.lists++;
        return Promise.resolve({
          metadata: { resourceVersion: String(100 + this.lists) },
          items: structuredClone(this.items),
        });
      },
      watch: (_path: string, _query: unknown, _onEvent: unknown, signal: AbortSignal) => {
        this.watches++;
        return new Promise<void>((_resolve, reject) => {
          signal.addEventListener(
            'abort',
            () => {
              reject(new ApiError(0, 'Aborted', 'aborted'));
            },
            { once: true },
          );
        });
      },
    });
  }
}

const object = (name: string, version: string): KubeObject => ({
  metadata: { name, namespace: 'apps', resourceVersion: version },
});

describe('Informer.relist', () => {
  it('relist() lists again while a watch runs, applies the differences, and resolves after that list', async () => {
    const collection = new FakeCollection();
    collection.items = [object('a', '1'), object('b', '1')];
    const changes: string[] = [];
    const informer = new Informer<KubeObject>({
      client: collection.client(),
      path: '/api/v1/services',
      clock: new ManualClock(),
      log: silentLogger(),
      onChange: (obj, kind) => changes.push(`${kind} ${obj.metadata?.name ?? ''}`),
    });
    informer.start();
    await informer.synced;
    await flushMicrotasks();
    assert.deepEqual([collection.lists, collection.watches, informer.size], [1, 1, 2]);
    // Writes the watch never delivered: b changed, c appeared, a is gone.
    collection.items = [object('b', '2'), object('c', '1')];
    changes.length = 0;
    await informer.relist();
    assert.equal(collection.lists, 2);
    assert.deepEqual(changes.sort(), ['add c', 'delete a', 'update b']);
    assert.deepEqual(
      informer
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
      ['b', 'c'],
    );
    await flushMicrotasks();
    assert.equal(collection.watches, 2, 'it watches again from the new list');
    informer.stop();
    assert.equal(
      await Promise.race([informer.relist().then(() => 'resolved'), flushMicrotasks().then(() => 'pending')]),
      'resolved',
      'a stopped informer does not hang relist()',
    );
  });
});

describe('Informer.listedSince', () => {
  it('is true only for a list sent at or after the given moment (a leader need not list again after it)', async () => {
    const collection = new FakeCollection();
    collection.items = [object('a', '1')];
    const clock = new ManualClock();
    const informer = new Informer<KubeObject>({
      client: collection.client(),
      path: '/api/v1/services',
      clock,
      log: silentLogger(),
    });
    const before = clock.now();
    assert.equal(informer.listedSince(before), false, 'nothing listed yet');
    clock.advance(100);
    informer.start();
    await informer.synced;
    assert.equal(informer.listedSince(before), true);
    assert.equal(informer.listedSince(clock.now() + 1), false);
    const later = clock.now() + 50;
    clock.advance(100);
    await informer.relist();
    assert.equal(informer.listedSince(later), true, 'the relist was sent after it');
    informer.stop();
  });
});

// The informer contains a throw of its change handler per object: the list still syncs, every object is cached, the
// watch goes on delivering (before, one throw failed the list, and the cache never synced).
const unnamespaced = (name: string, version: string): KubeObject => ({ metadata: { name, resourceVersion: version } });

describe("Informer: one object's change handler failing", () => {
  it('a change handler that throws for one object neither fails the list nor stops the watch', async (t) => {
    let deliver: ((event: { type: string; object: KubeObject }) => void) | undefined;
    const client = fakeApiClient({
      get: () =>
        Promise.resolve({
          metadata: { resourceVersion: '10' },
          items: [unnamespaced('bad', '1'), unnamespaced('good', '2')],
        }),
      watch: (
        _path: string,
        _query: unknown,
        onEvent: (event: { type: string; object: KubeObject }) => void,
        signal: AbortSignal,
      ) =>
        new Promise<void>((resolve) => {
          deliver = onEvent;
          signal.addEventListener(
            'abort',
            () => {
              resolve();
            },
            { once: true },
          );
        }),
    });
    const seen: string[] = [];
    const informer = new Informer<KubeObject>({
      client,
      path: '/apis/beaconlb.io/v1alpha1/ippools',
      clock: new ManualClock(),
      log: silentLogger(),
      onChange: (obj, kind) => {
        if (obj.metadata?.name?.startsWith('bad')) throw new TypeError('pool.spec.addresses is not iterable');
        seen.push(`${kind} ${obj.metadata?.name ?? ''}`);
      },
    });
    informer.start();
    t.after(() => {
      informer.stop();
    });
    const synced = await Promise.race([
      informer.synced.then(() => true),
      new Promise<false>((resolve) =>
        setTimeout(() => {
          resolve(false);
        }, 5000),
      ),
    ]);
    assert.ok(synced, 'the cache synced');
    assert.deepEqual(
      informer
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
      ['bad', 'good'],
    );
    for (let i = 0; i < 100 && deliver === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    deliver?.({ type: 'ADDED', object: unnamespaced('bad2', '11') });
    deliver?.({ type: 'ADDED', object: unnamespaced('good2', '12') });
    assert.deepEqual(seen, ['add good', 'add good2']);
    assert.equal(informer.size, 4);
  });
});
