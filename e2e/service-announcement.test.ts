// ServiceAnnouncement records and the advertisements' conditions end to end (ADR 0024): the real API server, the
// controller, and three node namespaces each running a speaker under its Pod-bound token (so the admission policy
// beaconlb-speaker-announcements applies to every write). The record of a layer-2 Service names the node that
// answers ARP for its address (checked with arping from the client namespace), follows a failover, goes away with
// the Service and with a speaker that stops; a killed speaker's record is removed by the controller. The leading
// controller writes Accepted / PoolsSelected and matchingPools on L2Advertisements and BGPAdvertisements.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { macAddress } from '../src/lab/netns.ts';
import type { TestBed } from '../src/lab/test-bed.ts';
import { arpingMacs } from '../src/lab/layer2-probe.ts';
import { startNodeBed } from './support/node-bed.ts';
import { useCluster } from './support/cluster.ts';
import { startController, type ControllerProcess } from './support/controller-process.ts';
import {
  applyPool,
  createObject,
  createService,
  kubeClients,
  readService,
  waitFor,
  waitForIngress,
  type Kube,
} from './support/kube.ts';
import { startSpeaker, type SpeakerProcess } from './support/speaker-process.ts';

const IPS = Array.from({ length: 8 }, (_, i) => `198.51.100.${96 + i}`);
const SPEAKER_ARGS = [
  '--renew-interval=250ms',
  '--lease-duration=1s',
  '--fence-margin=250ms',
  '--handover-overlap=500ms',
];
const group = 'beaconlb.io';
const version = 'v1alpha1';

interface AnnouncementObject {
  metadata: {
    name: string;
    labels?: { [k: string]: string };
    ownerReferences?: Array<{ kind: string; name: string; uid: string }>;
  };
  spec: { service: string; node: string };
  status?: { layer2?: { addresses: string[]; interfaces: string[] }; bgp?: { prefixes: string[]; peers: string[] } };
}
interface Conditioned {
  status?: {
    matchingPools?: number;
    observedGeneration?: number;
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
  };
}

describe('ServiceAnnouncement records and advertisement conditions', () => {
  const cluster = useCluster();
  let kube: Kube;
  let bed: TestBed;
  let controller: ControllerProcess;
  const speakers = new Map<string, SpeakerProcess>();
  const macs = new Map<string, string>();

  before(async () => {
    kube = kubeClients(cluster.cp);
    ({ bed } = await startNodeBed(cluster, kube, 3));
    cluster.defer(() => Promise.all([...speakers.values()].map((sp) => sp.stop(3000))).then(() => undefined));
    for (const node of bed.nodes) macs.set((await macAddress(node.ns, node.dev)).toLowerCase(), node.role);
    await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
    await applyPool(kube, 'l2', { addresses: ['198.51.100.96/29'] }, { tier: 'front' });
    await createObject(kube, 'L2Advertisement', 'l2', { ipPools: ['l2'] });
    controller = await startController(cluster, ['--no-leader-elect', '--announcement-gc-after=4s']);
    cluster.defer(() => controller.stop(1000));
    for (const node of bed.nodes) speakers.set(node.role, await startSpeaker(cluster, node, SPEAKER_ARGS));
  });

  const records = async (): Promise<AnnouncementObject[]> =>
    (
      (await kube.custom.listNamespacedCustomObject({
        group,
        version,
        namespace: 'web',
        plural: 'serviceannouncements',
      })) as { items: AnnouncementObject[] }
    ).items;
  const recordsOf = async (service: string): Promise<AnnouncementObject[]> =>
    (await records()).filter((r) => r.spec.service === service);
  /**
   * Waits until the Service has exactly one record, with the address, of the node that answers ARP for it now (read
   * again on every try: right after the speakers start, ownership may still move once), and not of `not`.
   */
  const soleRecord = (service: string, ip: string, timeoutMs = 15_000, not?: string): Promise<AnnouncementObject> => {
    let seen = '';
    return waitFor(
      `the only record of ${service} to be its ARP owner's with ${ip}`,
      async () => {
        const mine = await recordsOf(service);
        const answered = await arpingMacs(bed.client.ns, ip, 1);
        const owner = answered.length === 1 ? macs.get(answered[0]!) : undefined;
        seen = `owner ${owner ?? answered.join('+')}, records ${mine.map((r) => `${r.spec.node}:${JSON.stringify(r.status)}`).join(' ')}`;
        const record = mine[0];
        return mine.length === 1 &&
          record &&
          owner !== undefined &&
          owner !== not &&
          record.spec.node === owner &&
          record.status?.layer2?.addresses.includes(ip)
          ? record
          : undefined;
      },
      timeoutMs,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)} (last: ${seen})`);
    });
  };

  it('the node that answers ARP for a Service has its record: address, interface, owner, labels, name', async () => {
    await createService(kube, {
      name: 'a',
      namespace: 'web',
      annotations: { 'beaconlb.io/load-balancer-ips': IPS[0]! },
    });
    await waitForIngress(kube, 'web', 'a');
    const record = await soleRecord('a', IPS[0]!);
    const owner = record.spec.node;
    const svc = await readService(kube, 'web', 'a');
    assert.equal(record.metadata.name, `a.${owner}`);
    assert.deepEqual(record.status?.layer2, {
      addresses: [IPS[0]],
      interfaces: [bed.nodes.find((n) => n.role === owner)!.dev],
    });
    assert.equal(record.status.bgp, undefined);
    assert.deepEqual(
      record.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.uid]),
      [['Service', 'a', svc.metadata?.uid]],
    );
    assert.equal(record.metadata.labels?.['beaconlb.io/node'], owner);
    assert.equal(record.metadata.labels['beaconlb.io/service'], 'a');
    // kubectl shows it with the printer columns.
    // (Right after the speakers start, the owner may still move once: the record is then re-created on the new node.)
    const table = await waitFor(
      'kubectl to show the record of a',
      () => {
        const out = cluster.cp.kubectl(['get', 'serviceannouncements', '-n', 'web', '-l', 'beaconlb.io/service=a']);
        return out.includes('L2 ADDRESSES') ? out : undefined;
      },
      15_000,
    );
    assert.match(table, /SERVICE\s+NODE\s+L2 ADDRESSES\s+INTERFACES\s+BGP PREFIXES\s+PEERS\s+AGE/);
    assert.match(table, new RegExp(`a\\.node\\d\\s+a\\s+node\\d\\s+\\["${IPS[0]!.replaceAll('.', '\\.')}"\\]`));
  });

  it('a speaker stopped with SIGTERM removes its records; the new owner writes its own', async () => {
    await createService(kube, {
      name: 'b',
      namespace: 'web',
      annotations: { 'beaconlb.io/load-balancer-ips': IPS[1]! },
    });
    await waitForIngress(kube, 'web', 'b');
    const owner = (await soleRecord('b', IPS[1]!)).spec.node;
    await speakers.get(owner)!.stop(5000);
    speakers.delete(owner);
    try {
      await soleRecord('b', IPS[1]!, 15_000, owner);
      assert.equal(
        (await records()).filter((r) => r.spec.node === owner).length,
        0,
        'the stopped speaker left no record',
      );
    } finally {
      speakers.set(
        owner,
        await startSpeaker(
          cluster,
          bed.nodes.find((n) => n.role === owner)!,
          SPEAKER_ARGS,
        ),
      );
    }
  });

  it("a killed speaker's records are removed by the controller once its Lease is stale", async () => {
    await createService(kube, {
      name: 'c',
      namespace: 'web',
      annotations: { 'beaconlb.io/load-balancer-ips': IPS[2]! },
    });
    await waitForIngress(kube, 'web', 'c');
    const owner = (await soleRecord('c', IPS[2]!)).spec.node;
    await speakers.get(owner)!.kill();
    speakers.delete(owner);
    try {
      // The dead node's record lingers until the controller judges its speaker gone (4 s here), then only the new one is left.
      await soleRecord('c', IPS[2]!, 30_000, owner);
      await waitFor(
        'no record of the killed node',
        async () => ((await records()).some((r) => r.spec.node === owner) ? undefined : true),
        30_000,
      );
    } finally {
      speakers.set(
        owner,
        await startSpeaker(
          cluster,
          bed.nodes.find((n) => n.role === owner)!,
          SPEAKER_ARGS,
        ),
      );
    }
  });

  it("a deleted Service's records go (no garbage collector runs here: the speaker removes them)", async () => {
    await createService(kube, {
      name: 'd',
      namespace: 'web',
      annotations: { 'beaconlb.io/load-balancer-ips': IPS[3]! },
    });
    await waitForIngress(kube, 'web', 'd');
    await waitFor('a record of d', async () => ((await recordsOf('d')).length === 1 ? true : undefined), 15_000);
    await kube.core.deleteNamespacedService({ namespace: 'web', name: 'd' });
    await waitFor('no record of d', async () => ((await recordsOf('d')).length === 0 ? true : undefined), 15_000);
  });

  it('a record changed by hand is written back to what its node announces (the status is replaced whole)', async () => {
    const owner = (await soleRecord('a', IPS[0]!)).spec.node;
    await kube.custom.patchNamespacedCustomObject({
      group,
      version,
      namespace: 'web',
      plural: 'serviceannouncements',
      name: `a.${owner}`,
      body: [{ op: 'replace', path: '/status/layer2/addresses', value: ['198.51.100.200'] }],
    });
    await waitFor(
      'the record of a back to what its node announces',
      async () => {
        const [record] = await recordsOf('a');
        return record?.status?.layer2?.addresses.join() === IPS[0] ? true : undefined;
      },
      15_000,
    );
  });

  it('the controller writes Accepted and PoolsSelected with matchingPools on L2Advertisements and BGPAdvertisements', async () => {
    const read = async (plural: string, name: string): Promise<Conditioned> =>
      (await kube.custom.getClusterCustomObject({ group, version, plural, name })) as Conditioned;
    const conditionsOf = (obj: Conditioned): string[] =>
      (obj.status?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`).sort();
    const l2 = await waitFor(
      'conditions on L2Advertisement l2',
      async () => {
        const obj = await read('l2advertisements', 'l2');
        return obj.status?.conditions?.length === 2 ? obj : undefined;
      },
      15_000,
    );
    assert.deepEqual(conditionsOf(l2), ['Accepted=True/Accepted', 'PoolsSelected=True/PoolsSelected']);
    assert.equal(l2.status?.matchingPools, 1);
    await createObject(kube, 'L2Advertisement', 'typo', { ipPools: ['l2', 'no-such-pool'] });
    await createObject(kube, 'BGPAdvertisement', 'none', { ipPoolSelector: { matchLabels: { tier: 'back' } } });
    const typo = await waitFor(
      'UnknownPool on typo',
      async () => {
        const obj = await read('l2advertisements', 'typo');
        return obj.status?.conditions?.some((c) => c.reason === 'UnknownPool') ? obj : undefined;
      },
      15_000,
    );
    assert.match(typo.status!.conditions!.find((c) => c.type === 'PoolsSelected')!.message, /no-such-pool/);
    assert.equal(typo.status?.matchingPools, 1);
    await waitFor(
      'NoMatchingPool on BGPAdvertisement none',
      async () => {
        const obj = await read('bgpadvertisements', 'none');
        return conditionsOf(obj).join() === 'Accepted=True/Accepted,PoolsSelected=False/NoMatchingPool' &&
          obj.status?.matchingPools === 0
          ? true
          : undefined;
      },
      15_000,
    );
    // A pool relabelled is selected: the condition follows the pools (their labels too), not only the advertisement.
    cluster.cp.kubectl(['label', 'ippool', 'l2', 'tier=back', '--overwrite']);
    await waitFor(
      'PoolsSelected on none once a pool matches',
      async () => {
        const obj = await read('bgpadvertisements', 'none');
        return conditionsOf(obj).includes('PoolsSelected=True/PoolsSelected') && obj.status?.matchingPools === 1
          ? true
          : undefined;
      },
      15_000,
    );
    // printer columns
    assert.match(cluster.cp.kubectl(['get', 'l2advertisements']), /POOLS\s+ACCEPTED/);
  });
});
