// The controller leader's MembershipPublisher (ADR 0019) over a fake API server: what it writes and when.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from './api/api-error.ts';
import { MembershipPublisher, membershipOf } from './speaker-membership.ts';
import { fakeApiClient } from '../test-support/fake-api-client.ts';
import { ManualClock } from '../test-support/manual-clock.ts';
import { silentLogger } from '../test-support/silent-logger.ts';

const INTERVAL_MS = 30_000;

/** Speaker Leases (live, probing), a stored record, and the record writes the publisher makes. */
function apiServer(clock: ManualClock, nodes: readonly string[], stored: { generation: number; members: string[] }) {
  const writes: Array<{ at: number; generation: number; members: string[] }> = [];
  const configMap = {
    metadata: { name: 'beaconlb-speakers', namespace: 'beaconlb-system', resourceVersion: '5' },
    data: {
      members: JSON.stringify(stored.members.map((node) => ({ node, address: '198.51.100.10', port: 7946 }))),
      generation: String(stored.generation),
      epoch: `${stored.generation}-stored`,
    },
  };
  const client = fakeApiClient({
    get: () =>
      Promise.resolve({
        metadata: { resourceVersion: '10' },
        items: nodes.map((node, i) => ({
          metadata: {
            name: `beaconlb-speaker-${node}`,
            namespace: 'beaconlb-system',
            resourceVersion: String(20 + i),
            annotations: { 'beaconlb.io/probe-address': '198.51.100.10:7946' },
          },
          spec: { leaseDurationSeconds: 40 },
        })),
      }),
    watch: (_path, _query, _onEvent, signal) =>
      new Promise<void>((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          reject(new ApiError(0, 'Aborted', 'aborted'));
        });
      }),
    request: (method, path, body) => {
      if (path.includes('/secrets'))
        return Promise.resolve({ data: { current: Buffer.alloc(32, 7).toString('base64') } });
      if (method === 'GET') return Promise.resolve(configMap);
      const record = membershipOf(body as Parameters<typeof membershipOf>[0]);
      if (!record) throw new Error('malformed record written');
      writes.push({ at: clock.now(), generation: record.generation, members: record.members.map((m) => m.node) });
      return Promise.resolve({ ...(body as object), metadata: { resourceVersion: String(100 + writes.length) } });
    },
  });
  return { client, writes };
}

describe('MembershipPublisher', () => {
  it('a new leader publishes its first change only minIntervalMs after it took over, not at once', async () => {
    // Breaks if a new leader counts the interval from nothing: its predecessor may have published a moment before it
    // took over (a controller rollout), and two records less than membershipSkew apart let a speaker skip one, which
    // ADR 0019's P4 forbids ("At most one record per membershipSkew").
    const clock = new ManualClock();
    const { client, writes } = apiServer(clock, ['a', 'b'], { generation: 4, members: ['a'] });
    const publisher = new MembershipPublisher({
      client,
      clock,
      log: silentLogger(),
      namespace: 'beaconlb-system',
      keyRotationMs: 0,
      minIntervalMs: INTERVAL_MS,
    });
    publisher.start();
    await clock.settle(INTERVAL_MS - 1000);
    assert.equal(writes.length, 0, 'nothing written within the interval after taking over');
    await clock.settle(2000);
    assert.deepEqual(
      writes.map((w) => ({ generation: w.generation, members: w.members })),
      [{ generation: 5, members: ['a', 'b'] }],
    );
    assert.ok(writes[0]!.at >= INTERVAL_MS, `written at ${writes[0]!.at} ms`);
    publisher.stop();
  });
});
