// The speaker's membership read with each renewal (ADR 0019, ADR 0038) against the real API server: the speaker
// renews its Lease (HeartbeatLease, as the speaker's ServiceAccount with a Pod-bound token) and reads the record
// (MembershipReader) at the resourceVersion the renewal wrote, as src/cmd/speaker-command.ts wires them.
// The fence argument needs: a read with a renewal returns a record at least as new as every record stored before
// that renewal landed. The cost goal needs: the read does not reach etcd, and an unchanged record is not sent again.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient } from '../src/k8s/api/api-client.ts';
import { connectionFromKubeconfig } from '../src/k8s/api/kube-config.ts';
import { HeartbeatLease } from '../src/k8s/heartbeat-lease.ts';
import { MEMBERSHIP_CONFIGMAP, MembershipReader, epochOf } from '../src/k8s/speaker-membership.ts';
import { systemClock } from '../src/platform/clock.ts';
import { scrapeApiServer, type Sample } from '../bench/support/apiserver-metrics.ts';
import { INSTALL_NAMESPACE, useCluster } from './support/cluster.ts';

const MEMBERS = 400;

function members(generation: number): { node: string; address: string; port: number }[] {
  return Array.from({ length: MEMBERS }, (_, i) => ({
    node: `node-${String(i).padStart(4, '0')}`,
    address: `198.51.100.${(i % 250) + 1}`,
    port: 7946 + (generation % 2),
  }));
}

describe('membership read with each renewal (real API server)', () => {
  const cluster = useCluster();
  let admin: ApiClient;
  let speaker: ApiClient;
  let lease: HeartbeatLease;
  let reader: MembershipReader;
  let configMapVersion: string | undefined;

  /** Stores record `generation` as the controller does (a PUT with a resourceVersion precondition, POST first). */
  async function publish(generation: number): Promise<void> {
    const list = members(generation);
    const body = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: MEMBERSHIP_CONFIGMAP,
        namespace: INSTALL_NAMESPACE,
        ...(configMapVersion ? { resourceVersion: configMapVersion } : {}),
      },
      data: { members: JSON.stringify(list), generation: String(generation), epoch: epochOf(generation, list) },
    };
    const path = `/api/v1/namespaces/${INSTALL_NAMESPACE}/configmaps`;
    const written = configMapVersion
      ? await admin.request<{ metadata: { resourceVersion: string } }>('PUT', `${path}/${MEMBERSHIP_CONFIGMAP}`, body)
      : await admin.request<{ metadata: { resourceVersion: string } }>('POST', path, body);
    configMapVersion = written.metadata.resourceVersion;
  }

  before(async () => {
    admin = new ApiClient(connectionFromKubeconfig(cluster.cp.kubeconfig), 'e2e-admin');
    speaker = new ApiClient(
      connectionFromKubeconfig(cluster.cp.nodeBoundKubeconfig(INSTALL_NAMESPACE, 'beaconlb-speaker', 'node1')),
      'beaconlb-speaker/node1',
    );
    lease = new HeartbeatLease({
      client: speaker,
      namespace: INSTALL_NAMESPACE,
      node: 'node1',
      clock: systemClock,
      leaseDurationMs: 40_000,
    });
    reader = new MembershipReader(speaker, INSTALL_NAMESPACE);
    await publish(1);
  });
  after(() => {
    speaker.close();
    admin.close();
  });

  it('returns every record stored before the renewal, whether it changed or not (20 rounds)', async () => {
    for (let generation = 2; generation <= 21; generation++) {
      // Rounds alternate: a new record before the renewal, or none (the held record must then still be the newest).
      if (generation % 2 === 0) await publish(generation);
      const version = await lease.renew(false, 5000);
      const record = await reader.record(5000, version);
      const newest = generation % 2 === 0 ? generation : generation - 1;
      assert.equal(record?.generation, newest, `round ${generation}: read generation ${record?.generation}`);
      assert.equal(record.members.length, MEMBERS);
    }
  });

  it('is answered from the watch cache: no etcd read of the ConfigMap for 10 renewals', async () => {
    const count = (samples: Sample[]): number =>
      samples
        .filter(
          (s) =>
            s.name === 'etcd_requests_total' &&
            s.labels['operation'] === 'get' &&
            s.labels['resource'] === 'configmaps',
        )
        .reduce((sum, s) => sum + s.value, 0);
    const before = count(await scrapeApiServer(cluster.cp));
    for (let i = 0; i < 10; i++) {
      const version = await lease.renew(false, 5000);
      assert.ok(await reader.record(5000, version));
    }
    const reads = count(await scrapeApiServer(cluster.cp)) - before;
    // Before ADR 0038 every read was a quorum GET from etcd: 10 here.
    assert.ok(reads < 3, `${reads} etcd reads of ConfigMaps for 10 membership reads`);
  });

  it('sends an unchanged record once: later reads carry its metadata only', async () => {
    const bytes = (samples: Sample[]): number =>
      samples
        .filter(
          (s) =>
            s.name === 'apiserver_response_sizes_sum' &&
            s.labels['verb'] === 'GET' &&
            s.labels['resource'] === 'configmaps',
        )
        .reduce((sum, s) => sum + s.value, 0);
    const before = bytes(await scrapeApiServer(cluster.cp));
    for (let i = 0; i < 10; i++) {
      const version = await lease.renew(false, 5000);
      assert.ok(await reader.record(5000, version));
    }
    const perRead = (bytes(await scrapeApiServer(cluster.cp)) - before) / 10;
    const recordBytes = JSON.stringify(members(21)).length;
    // Before ADR 0038 every read carried the whole record (here about 20 KB).
    assert.ok(perRead < recordBytes / 5, `${Math.round(perRead)} bytes per read of a ${recordBytes}-byte record`);
  });

  it('falls back to a quorum read when the watch cache does not reach the resourceVersion within its bound', async () => {
    const version = await lease.renew(false, 5000);
    // A revision far ahead of anything stored: the cache waits 3 s, the server answers 504, the reader reads etcd.
    const started = performance.now();
    const record = await reader.record(10_000, String(BigInt(version) + 1_000_000n));
    assert.ok(record, 'a record after the fallback');
    assert.ok(performance.now() - started < 9000, 'within the timeout');
  });
});
