// One bad object must not take down the controller or the speakers: IPPools of 0.0.0.0/1 and 2001:db8::/32 with
// avoidBuggyIPs. On the real API server with the controller and a speaker in a node namespace: the pools get their
// exact totals, the speaker keeps answering ARP for the other pool's addresses (old and new), and neither process
// grows past the speaker DaemonSet's 256Mi limit. Before: the .0/.255 holes were cut one /24 at a time (2^24
// interval operations per compile: 2.1 GB in the controller, 1.9 GB in each speaker, minutes per pass).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { TestBed } from '../src/lab/test-bed.ts';
import { arpingMacs } from '../src/lab/layer2-probe.ts';
import { macAddress } from '../src/lab/netns.ts';
import { startNodeBed } from './support/node-bed.ts';
import { useCluster } from './support/cluster.ts';
import { startController, type ControllerProcess } from './support/controller-process.ts';
import {
  applyPool,
  createObject,
  createService,
  kubeClients,
  readPool,
  waitFor,
  waitForIngress,
  type Kube,
} from './support/kube.ts';
import { startSpeaker, type SpeakerProcess } from './support/speaker-process.ts';

const SPEAKER_ARGS = ['--renew-interval=250ms', '--lease-duration=1s', '--fence-margin=250ms'];
/** The speaker DaemonSet's memory limit (config/speaker). */
const LIMIT_BYTES = 256 * 1024 * 1024;

/** Peak resident set size of a process (VmHWM), in bytes. */
function peakRss(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmHWM for ${pid}`);
  return Number(match[1]) * 1024;
}

describe('one bad object: huge pools with avoidBuggyIPs', () => {
  const cluster = useCluster();
  let kube: Kube;
  let bed: TestBed;
  let controller: ControllerProcess;
  let speaker: SpeakerProcess;
  let mac = '';

  before(async () => {
    kube = kubeClients(cluster.cp);
    ({ bed } = await startNodeBed(cluster, kube, 1));
    mac = (await macAddress(bed.nodes[0]!.ns, bed.nodes[0]!.dev)).toLowerCase();
    await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
    await applyPool(kube, 'l2', { addresses: ['198.51.100.64/28'] });
    // Every pool, the huge ones included.
    await createObject(kube, 'L2Advertisement', 'all', {});
    controller = await startController(cluster, ['--no-leader-elect']);
    cluster.defer(() => controller.stop(1000));
    speaker = await startSpeaker(cluster, bed.nodes[0]!, SPEAKER_ARGS);
    cluster.defer(() => speaker.stop(3000));
  });

  const answered = (ip: string): Promise<true> =>
    waitFor(
      `ARP answers for ${ip}`,
      async () => ((await arpingMacs(bed.client.ns, ip)).includes(mac) ? true : undefined),
      30_000,
    );

  it('IPPools of 0.0.0.0/1 and 2001:db8::/32 with avoidBuggyIPs: exact totals, ARP for the other pool goes on, controller and speaker stay under 256Mi', async () => {
    await createService(kube, { name: 'before', namespace: 'web' });
    const [first = ''] = await waitForIngress(kube, 'web', 'before', 1, 20_000);
    await answered(first);

    // Served to no namespace: only their size matters here (their addresses are no documentation prefixes).
    const allocation = { namespaces: ['nobody'] };
    const created = performance.now();
    await applyPool(kube, 'huge', { addresses: ['0.0.0.0/1'], avoidBuggyIPs: true, autoAssign: false, allocation });
    await applyPool(kube, 'huge6', {
      addresses: ['2001:db8::/32'],
      avoidBuggyIPs: true,
      autoAssign: false,
      allocation,
    });

    const total = async (name: string, family: 'ipv4' | 'ipv6'): Promise<string> => {
      const status = (await readPool(kube, name)).status as { [f: string]: { total?: string } } | undefined;
      return status?.[family]?.total ?? '';
    };
    await waitFor(
      'the 0.0.0.0/1 total',
      async () => ((await total('huge', 'ipv4')) === String(2n ** 31n - 2n ** 24n) ? true : undefined),
      30_000,
    );
    await waitFor(
      'the 2001:db8::/32 total',
      async () => ((await total('huge6', 'ipv6')) === String(2n ** 96n) ? true : undefined),
      30_000,
    );
    const statusMs = Math.round(performance.now() - created);

    await createService(kube, { name: 'after', namespace: 'web' });
    const [second = ''] = await waitForIngress(kube, 'web', 'after', 1, 20_000);
    await answered(second);
    await answered(first);

    const rss = { controller: peakRss(controller.pid), speaker: peakRss(speaker.pid) };
    console.log(
      `huge pools: both totals in status after ${statusMs} ms; peak RSS: controller ${Math.round(rss.controller / 2 ** 20)} MiB, speaker ${Math.round(rss.speaker / 2 ** 20)} MiB`,
    );
    assert.ok(rss.speaker < LIMIT_BYTES, `speaker peak RSS ${rss.speaker} bytes`);
    assert.ok(rss.controller < LIMIT_BYTES, `controller peak RSS ${rss.controller} bytes`);
    assert.ok(controller.running() && speaker.running());
  });
});
