// One bad object must not take down the controller or the speakers: objects stored without the current schema. The
// CRDs are first installed without validation, malformed objects are written (addresses missing or not strings,
// peerAddress missing, an ASN as a string, selectors with unknown operators, a community as a number), then the real
// CRDs are installed (the stored objects stay as they are). The controller and the speakers keep serving every valid
// object and report each bad one; a selector with an unknown operator matches nothing. Before: the controller's pool
// cache never synced (compiling the pools threw in its watch callback), the speakers' passes threw in a timer.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { TestBed } from '../src/lab/test-bed.ts';
import { arpingMacs } from '../src/lab/layer2-probe.ts';
import { macAddress } from '../src/lab/netns.ts';
import { startNodeBed } from './support/node-bed.ts';
import { REPO_ROOT, useCluster } from './support/cluster.ts';
import { startController, type ControllerProcess } from './support/controller-process.ts';
import {
  createService,
  eventsFor,
  kubeClients,
  readPool,
  waitFor,
  waitForIngress,
  type Kube,
  type OurKind,
} from './support/kube.ts';
import { startSpeaker, type SpeakerProcess } from './support/speaker-process.ts';

const SPEAKER_ARGS = ['--renew-interval=250ms', '--lease-duration=1s', '--fence-margin=250ms'];

/** The CRDs of config/crd with the schema replaced by "anything goes", as an install without validation has them. */
function crdsWithoutSchema(): string {
  const dir = join(REPO_ROOT, 'config/crd');
  return readdirSync(dir)
    .filter((f) => f.startsWith('beaconlb.io_'))
    .map((f) => {
      const crd = parse(readFileSync(join(dir, f), 'utf8')) as {
        spec: { versions: Array<{ schema: unknown; additionalPrinterColumns?: unknown }> };
      };
      for (const version of crd.spec.versions) {
        version.schema = { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } };
        delete version.additionalPrinterColumns;
      }
      return stringify(crd);
    })
    .join('---\n');
}

/** Malformed objects (kind, name, spec) and a field their MalformedObject message must name. */
const BAD: ReadonlyArray<[OurKind, string, Record<string, unknown>, RegExp]> = [
  ['IPPool', 'bad-no-addresses', { autoAssign: true }, /spec\.addresses is missing/],
  [
    'IPPool',
    'bad-numbers',
    { addresses: [7, '198.51.100.80/28'] },
    /spec\.addresses\[0\] is an integer \(7\), not a string/,
  ],
  [
    'IPPool',
    'bad-selector',
    {
      addresses: ['198.51.100.96/28'],
      allocation: { serviceSelector: { matchExpressions: [{ key: 'tier', operator: 'Matches', values: ['x'] }] } },
    },
    /operator is "Matches"/,
  ],
  [
    'L2Advertisement',
    'bad-l2-selector',
    {
      ipPools: ['other'],
      nodeSelector: { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'Near', values: ['node1'] }] },
    },
    /operator is "Near"/,
  ],
  ['L2Advertisement', 'bad-l2-interfaces', { ipPools: ['good'], interfaces: 'eth0' }, /spec\.interfaces is a string/],
  // (No peerAddress is no longer a shape problem: with interface it is an unnumbered peer, ADR 0035.)
  ['BGPPeer', 'bad-peer-no-my-asn', { peerASN: 65000, peerAddress: '198.51.100.1' }, /spec\.myASN is missing/],
  [
    'BGPPeer',
    'bad-peer-asn',
    { myASN: '65001', peerASN: 65000, peerAddress: '198.51.100.1' },
    /spec\.myASN is a string \("65001"\), not an integer/,
  ],
  ['BGPAdvertisement', 'bad-communities', { communities: [65000] }, /spec\.communities\[0\] is an integer/],
];

/**
 * Objects of the right shape that only the CEL rules refuse: each is used, the bad selector matching nothing (never
 * everything), and an InvalidConfiguration Event names the field.
 */
const INVALID: ReadonlyArray<[OurKind, string, Record<string, unknown>, RegExp]> = [
  [
    'L2Advertisement',
    'bad-l2-service-selector',
    { ipPools: ['good'], serviceSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } },
    /^serviceSelector: matchExpressions\[0\] \(app\): In needs at least one value; it matches no Service/,
  ],
  [
    'BGPAdvertisement',
    'bad-bgp-service-selector',
    { serviceSelector: { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] } },
    /^serviceSelector: matchExpressions\[0\] \(app\): Exists takes no values; it matches no Service/,
  ],
  [
    'L2Advertisement',
    'bad-l2-pattern',
    { ipPools: ['other'], interfaces: ['eth[]'] },
    /^interfaces\[0\]: "eth\[\]" is not an interface pattern/,
  ],
];

describe('one bad object: objects stored without the current schema', () => {
  const cluster = useCluster({ install: false });
  let kube: Kube;
  let bed: TestBed;
  let controller: ControllerProcess;
  let speaker: SpeakerProcess;

  const create = async (kind: OurKind, name: string, spec: Record<string, unknown>): Promise<void> => {
    await kube.custom.createClusterCustomObject({
      group: 'beaconlb.io',
      version: 'v1alpha1',
      plural: `${kind.toLowerCase()}s`,
      body: { apiVersion: 'beaconlb.io/v1alpha1', kind, metadata: { name }, spec },
    });
  };

  before(async () => {
    cluster.cp.kubectl(['apply', '-k', join(REPO_ROOT, 'config/namespace')]);
    cluster.cp.kubectl(['apply', '-f', '-'], crdsWithoutSchema());
    cluster.cp.kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=30s',
      'crd',
      '-l',
      'app.kubernetes.io/name=beaconlb',
    ]);
    kube = kubeClients(cluster.cp);
    for (const [kind, name, spec] of [...BAD, ...INVALID]) await create(kind, name, spec);
    await create('IPPool', 'good', { addresses: ['198.51.100.64/28'], allocation: { priority: 1 } });
    await create('IPPool', 'other', { addresses: ['198.51.100.112/28'], autoAssign: false });
    await create('L2Advertisement', 'good', { ipPools: ['good'] });
    // The real CRDs: the API server now validates writes; the stored objects stay as they are.
    cluster.cp.kubectl(['apply', '-k', join(REPO_ROOT, 'config/crd')]);
    cluster.cp.kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=30s',
      'crd',
      '-l',
      'app.kubernetes.io/name=beaconlb',
    ]);
    cluster.cp.kubectl(['apply', '-k', join(REPO_ROOT, 'config/rbac')]);

    ({ bed } = await startNodeBed(cluster, kube, 1));
    await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
    controller = await startController(cluster, ['--no-leader-elect']);
    cluster.defer(() => controller.stop(1000));
    speaker = await startSpeaker(cluster, bed.nodes[0]!, SPEAKER_ARGS);
    cluster.defer(() => speaker.stop(3000));
  });

  it('objects stored without the current schema: every valid object is served, each malformed one reported, the processes stay up', async () => {
    await createService(kube, { name: 'web', namespace: 'web' });
    const [address = ''] = await waitForIngress(kube, 'web', 'web', 1, 20_000);
    assert.match(address, /^198\.51\.100\.(6[4-9]|7[0-9])$/, 'from the good pool');
    const mac = (await macAddress(bed.nodes[0]!.ns, bed.nodes[0]!.dev)).toLowerCase();
    await waitFor(
      `ARP answers for ${address}`,
      async () => ((await arpingMacs(bed.client.ns, address)).includes(mac) ? true : undefined),
      20_000,
    );

    for (const [kind, name, , field] of BAD) {
      const event = await waitFor(
        `a MalformedObject Event on ${kind} ${name}`,
        async () => (await eventsFor(kube, 'default', name)).find((e) => e.reason === 'MalformedObject'),
        20_000,
      );
      assert.equal(event.type, 'Warning');
      assert.match(event.message, field);
      // The API server refuses any status write to an object whose stored spec has a type error (validation
      // ratcheting covers unchanged values, not types): those pools get the Event only.
      if (kind === 'IPPool' && name === 'bad-no-addresses') {
        const ready = await waitFor(
          `Ready=False on ${name}`,
          async () => (await readPool(kube, name)).status?.conditions?.find((c) => c.type === 'Ready'),
          20_000,
        );
        assert.deepEqual([ready.status, ready.reason], ['False', 'MalformedObject']);
        assert.match(ready.message, field);
      }
    }
    for (const [kind, name, , message] of INVALID) {
      const event = await waitFor(
        `an InvalidConfiguration Event on ${kind} ${name}`,
        async () => (await eventsFor(kube, 'default', name)).find((e) => e.reason === 'InvalidConfiguration'),
        20_000,
      );
      assert.equal(event.type, 'Warning');
      assert.match(event.message, message);
    }
    const good = await waitFor(
      'Ready=True on the good pool',
      async () =>
        (await readPool(kube, 'good')).status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True'),
      20_000,
    );
    assert.equal(good.reason, 'Valid');
    assert.ok(controller.running() && speaker.running(), `a process exited:\n${controller.tail()}\n${speaker.tail()}`);
  });

  it('label selectors with an unknown operator match nothing: a pool with one serves no Service, an advertisement with one announces nothing', async () => {
    // The pool's serviceSelector has operator "Matches": it matched every Service, now none (the pool is left out).
    await createService(kube, {
      name: 'picky',
      namespace: 'web',
      annotations: { 'beaconlb.io/ip-pool': 'bad-selector' },
    });
    await waitFor(
      'a Warning on web/picky',
      async () => (await eventsFor(kube, 'web', 'picky')).find((e) => e.type === 'Warning'),
      20_000,
    );
    const picky = await kube.core.readNamespacedService({ namespace: 'web', name: 'picky' });
    assert.deepEqual(
      picky.status?.loadBalancer?.ingress ?? [],
      [],
      'no address from a pool whose selector is malformed',
    );

    // The only advertisement of pool "other" has a nodeSelector with operator "Near": no node may announce it.
    await createService(kube, { name: 'other', namespace: 'web', annotations: { 'beaconlb.io/ip-pool': 'other' } });
    const [other = ''] = await waitForIngress(kube, 'web', 'other', 1, 20_000);
    const [web = ''] = await waitForIngress(kube, 'web', 'web', 1);
    // The speaker has seen the new Service once it answers for it, if ever: ask for both, several times.
    for (let i = 0; i < 3; i++) {
      assert.equal((await arpingMacs(bed.client.ns, web)).length, 1, `${web} is still answered`);
      assert.deepEqual(await arpingMacs(bed.client.ns, other), [], `${other} is announced by nobody`);
    }
  });
});
