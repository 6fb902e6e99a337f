// An ARP flood against the owner of a Service address: the speaker answers within its rate limit (--max-answers
// per second per interface and protocol, plus a burst of a tenth of it), counts what it left unanswered, and keeps
// answering normally afterwards. The flood comes from the client namespace on the same segment.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { execIn } from '../src/lab/netns.ts';
import { arpingMacs } from '../src/lab/layer2-probe.ts';
import type { TestBed } from '../src/lab/test-bed.ts';
import { startNodeBed } from './support/node-bed.ts';
import { REPO_ROOT, useCluster } from './support/cluster.ts';
import { metricValue, startController } from './support/controller-process.ts';
import {
  applyPool,
  createObject,
  createService,
  kubeClients,
  waitFor,
  waitForIngress,
  type Kube,
} from './support/kube.ts';
import { startSpeaker, type SpeakerProcess } from './support/speaker-process.ts';

const VIP = '198.51.100.70';
const LIMIT = 500;

describe('speaker: an ARP flood is answered within the rate limit', () => {
  const cluster = useCluster();
  let kube: Kube;
  let bed: TestBed;
  let speaker: SpeakerProcess;

  before(async () => {
    kube = kubeClients(cluster.cp);
    ({ bed } = await startNodeBed(cluster, kube, 1));
    const node = bed.nodes[0]!;
    await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
    await applyPool(kube, 'l2', { addresses: ['198.51.100.64/27'] });
    await createObject(kube, 'L2Advertisement', 'l2', {});
    const controller = await startController(cluster, ['--no-leader-elect', '--log-level=warn']);
    cluster.defer(() => controller.stop(1000));
    await createService(kube, { name: 'vip', namespace: 'web', annotations: { 'beaconlb.io/load-balancer-ips': VIP } });
    await waitForIngress(kube, 'web', 'vip');
    speaker = await startSpeaker(cluster, node, [`--max-answers=${LIMIT}`, '--log-level=warn']);
    cluster.defer(() => speaker.stop(3000));
    await waitFor(
      'the VIP answered',
      async () => ((await arpingMacs(bed.client.ns, VIP, 1)).length === 1 ? true : undefined),
      20_000,
    );
  });

  it('answers at most the limit plus its burst, counts the rest, and answers normally afterwards', async () => {
    // 10,000 requests at 5,000/s: 2 s of flood, ten times the limit.
    const flood = await execIn(
      bed.client.ns,
      [
        join(REPO_ROOT, 'node_modules/.bin/node'),
        join(REPO_ROOT, 'bench/support/arp-flood.ts'),
        JSON.stringify({ ifname: 'eth0', target: VIP, count: 10_000, rate: 5_000 }),
      ],
      60_000,
    );
    assert.equal(flood.code, 0, flood.stderr);
    const result = JSON.parse(flood.stdout) as { sent: number; received: number; offered_per_s: number };
    const seconds = result.sent / result.offered_per_s;
    const ceiling = Math.ceil(LIMIT * (seconds + 0.3) + LIMIT / 10);
    console.log(JSON.stringify({ ...result, seconds: Math.round(seconds * 100) / 100, ceiling }));
    assert.ok(
      result.received <= ceiling,
      `${result.received} answers in ${seconds.toFixed(2)} s, over the limit (${ceiling})`,
    );
    assert.ok(result.received >= LIMIT * seconds * 0.8, `${result.received} answers: the limit should still be served`);
    const limited = metricValue(await speaker.metrics(), 'beaconlb_l2_requests_rate_limited_total{protocol="arp"}');
    assert.ok(limited >= result.sent - ceiling, `rate-limited counter ${limited}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await arpingMacs(bed.client.ns, VIP, 1)).length, 1, 'answers again after the flood');
    assert.ok(speaker.running());
  });
});
