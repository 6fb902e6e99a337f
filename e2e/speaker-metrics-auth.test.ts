// The speaker's metrics on a host-network node: without flags /metrics, /healthz and /readyz listen on the node's
// loopback only, so nothing off the node reaches the metrics, and /healthz and /readyz alone on port 7475 of every
// address for the kubelet's probes; with --secure-metrics-address the metrics are served over
// HTTPS to callers whose bearer token the real API server authenticates (TokenReview) and authorizes for `get` on
// /metrics (SubjectAccessReview), using the RBAC of config/rbac (system:auth-delegator for the speaker, the
// beaconlb-metrics-reader ClusterRole for the scraper). Requests come from the client namespace, as a scraper's would.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mainEntry, INSTALL_NAMESPACE } from '../src/lab/component-process.ts';
import { startProcess } from '../src/lab/managed-process.ts';
import { execIn } from '../src/lab/netns.ts';
import type { Host, TestBed } from '../src/lab/test-bed.ts';
import { startNodeBed } from './support/node-bed.ts';
import { REPO_ROOT, useCluster } from './support/cluster.ts';
import { kubeClients, waitFor } from './support/kube.ts';

const SECURE_PORT = 7474;

interface Fetched {
  /** curl's exit code: 0, or 7 for a refused connection. */
  code: number;
  status: string;
  body: string;
}

describe('speaker: metrics are loopback-only by default, and authenticated over the network', () => {
  const cluster = useCluster();
  let bed: TestBed;
  let node: Host;

  /** curl from a namespace; the status line's code and the body. */
  const curl = async (ns: string, url: string, token?: string): Promise<Fetched> => {
    const args = [
      'curl',
      '-sk',
      '--max-time',
      '5',
      '-w',
      '\n%{http_code}',
      ...(token ? ['-H', `Authorization: Bearer ${token}`] : []),
      url,
    ];
    const run = await execIn(ns, args, 10_000);
    const lines = run.stdout.split('\n');
    const status = lines.pop() ?? '';
    return { code: run.code, status, body: lines.join('\n') };
  };

  const tokenFor = (account: string): string =>
    cluster.cp.kubectl(['create', 'token', account, '-n', 'default', '--duration=1h']).trim();

  before(async () => {
    const kube = kubeClients(cluster.cp);
    ({ bed } = await startNodeBed(cluster, kube, 1));
    node = bed.nodes[0]!;
    const kubeconfig = cluster.cp.serviceAccountKubeconfig(INSTALL_NAMESPACE, 'beaconlb-speaker');
    // No --metrics-address: the default is what is tested.
    const speaker = startProcess({
      name: 'speaker-metrics',
      command: join(REPO_ROOT, 'node_modules/.bin/node'),
      args: [
        mainEntry(),
        'speaker',
        `--kubeconfig=${kubeconfig}`,
        `--node-name=${node.role}`,
        `--secure-metrics-address=:${SECURE_PORT}`,
        '--log-level=debug',
      ],
      netns: node.ns,
      logFile: join(cluster.dir, 'speaker-metrics.log'),
    });
    cluster.run.recordProcess(speaker.pid);
    cluster.defer(() => speaker.stop(3000));
    await waitFor(
      'the speaker ready on its loopback',
      async () => {
        if (!speaker.running()) throw new Error(`speaker exited: ${speaker.tail()}`);
        return (await curl(node.ns, 'http://127.0.0.1:7473/readyz')).status === '200' ? true : undefined;
      },
      20_000,
    );
    for (const account of ['prometheus', 'stranger'])
      cluster.cp.kubectl(['create', 'serviceaccount', account, '-n', 'default']);
    cluster.cp.kubectl([
      'create',
      'clusterrolebinding',
      'prometheus-reads-beaconlb',
      '--clusterrole=beaconlb-metrics-reader',
      '--serviceaccount=default:prometheus',
    ]);
  });

  it('the health port (for the kubelet) answers /healthz and /readyz from anywhere, and serves no metrics', async () => {
    assert.equal((await curl(bed.client.ns, `http://${node.ipv4}:7475/healthz`)).status, '200');
    assert.equal((await curl(bed.client.ns, `http://${node.ipv4}:7475/readyz`)).status, '200');
    const metrics = await curl(bed.client.ns, `http://${node.ipv4}:7475/metrics`);
    assert.equal(metrics.status, '404');
    assert.doesNotMatch(metrics.body, /beaconlb_/);
  });

  it("by default /metrics listens on the node's loopback only: served there, refused from the client and the node's address", async () => {
    const local = await curl(node.ns, 'http://127.0.0.1:7473/metrics');
    assert.equal(local.status, '200');
    assert.match(local.body, /^beaconlb_l2_addresses_owned 0$/m);
    const remote = await curl(bed.client.ns, `http://${node.ipv4}:7473/metrics`);
    assert.equal(remote.code, 7, `expected a refused connection, got ${JSON.stringify(remote)}`);
    const viaNodeAddress = await curl(node.ns, `http://${node.ipv4}:7473/metrics`);
    assert.equal(viaNodeAddress.code, 7, JSON.stringify(viaNodeAddress));
  });

  it('the authenticated listener refuses a scrape without a token (401) and with a token the API server rejects (401)', async () => {
    const none = await curl(bed.client.ns, `https://${node.ipv4}:${SECURE_PORT}/metrics`);
    assert.equal(none.status, '401', JSON.stringify(none));
    assert.doesNotMatch(none.body, /beaconlb_/);
    const forged = await curl(
      bed.client.ns,
      `https://${node.ipv4}:${SECURE_PORT}/metrics`,
      'eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl',
    );
    assert.equal(forged.status, '401', JSON.stringify(forged));
  });

  it('refuses an authenticated ServiceAccount without get on /metrics (403)', async () => {
    const stranger = await curl(bed.client.ns, `https://${node.ipv4}:${SECURE_PORT}/metrics`, tokenFor('stranger'));
    assert.equal(stranger.status, '403', JSON.stringify(stranger));
    assert.match(stranger.body, /system:serviceaccount:default:stranger may not get \/metrics/);
  });

  it('serves a ServiceAccount granted get on /metrics (beaconlb-metrics-reader), over TLS', async () => {
    const prometheus = await curl(bed.client.ns, `https://${node.ipv4}:${SECURE_PORT}/metrics`, tokenFor('prometheus'));
    assert.equal(prometheus.status, '200', JSON.stringify(prometheus));
    assert.match(prometheus.body, /^beaconlb_l2_addresses_owned 0$/m);
    const plain = await curl(bed.client.ns, `http://${node.ipv4}:${SECURE_PORT}/metrics`, tokenFor('prometheus'));
    assert.notEqual(plain.status, '200', 'plain HTTP is not served on the authenticated port');
  });
});
