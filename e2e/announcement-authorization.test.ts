// What the speakers announce is what the controller allocated (ADR 0015), on the real API server with the real
// tokens: two node namespaces run speakers under the speaker ServiceAccount (tokens bound to a Pod on each node), and
// Service statuses are written either as the controller writes them (with the controller's ServiceAccount token:
// ingress and the allocation record in one status write) or by hand by a cluster admin. No controller runs, so
// nothing rewrites a hand-written status: what the speakers do with it is all that is observed. A client on the
// segment asks by ARP who has each address; a gobgpd router shows which routes the speakers advertise by BGP.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALLOCATED_CONDITION, allocationCondition } from '../src/core/config/allocation-record.ts';
import { join } from 'node:path';
import { startBgpRouter, type BgpRouter } from '../src/lab/bgp-router.ts';
import { arpingMacs } from '../src/lab/layer2-probe.ts';
import { macAddress } from '../src/lab/netns.ts';
import type { TestBed } from '../src/lab/test-bed.ts';
import { ANNOUNCEMENT_REFUSED } from '../src/speaker/announcement-audit.ts';
import { waitForAdmissionPolicies } from './support/admission-policies.ts';
import { INSTALL_NAMESPACE, tryKubectl, useCluster } from './support/cluster.ts';
import {
  applyPool,
  createObject,
  createService,
  eventsFor,
  kubeClients,
  waitFor,
  waitForEvent,
  type Kube,
} from './support/kube.ts';
import { startNodeBed } from './support/node-bed.ts';
import { startSpeaker, type SpeakerProcess } from './support/speaker-process.ts';

const SPEAKER_ARGS = [
  '--renew-interval=250ms',
  '--lease-duration=1s',
  '--fence-margin=250ms',
  '--handover-overlap=500ms',
];
// Pool "open" serves every namespace, pool "team" only namespace web (198.51.100.64/27 is clear of the bed's hosts).
const GRANTED = '198.51.100.65';
const FORGED = '198.51.100.66';
const OUTSIDER = '198.51.100.81';
const FOREIGN = '198.51.100.67';
// Pool "routed" is off the segment and advertised by BGP only.
const ROUTED_GRANTED = '198.51.100.130';
const ROUTED_FORGED = '198.51.100.131';
const ROUTER_AS = 65000;
const NODE_AS = 65001;
const POLICY_MESSAGE =
  /ValidatingAdmissionPolicy 'beaconlb-allocation-record' .*denied request: only the Beacon LB controller/;

describe('speakers announce only what the controller allocated', () => {
  const cluster = useCluster();
  let kube: Kube;
  let bed: TestBed;
  let controllerKubeconfig: string;
  const speakers: SpeakerProcess[] = [];
  const nodeMacs = new Set<string>();
  let router: BgpRouter | undefined;

  /** A status patch with ingress `ip`, and with the allocation record as the controller writes it when `recorded`. */
  const statusPatch = (ip: string, recorded: boolean): string =>
    JSON.stringify({
      status: {
        loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] },
        ...(recorded
          ? { conditions: [allocationCondition([ip], new Date().toISOString().replace(/\.\d+Z$/, 'Z'))] }
          : {}),
      },
    });
  const writeStatus = (
    kubeconfig: string,
    namespace: string,
    name: string,
    patch: string,
  ): { ok: boolean; out: string } =>
    tryKubectl(cluster.cp, [
      `--kubeconfig=${kubeconfig}`,
      'patch',
      'service',
      name,
      '-n',
      namespace,
      '--subresource=status',
      '--type=merge',
      '-p',
      patch,
    ]);
  /** The node MACs answering ARP for `ip`, over a few seconds (each arping sends 2 requests). */
  const answers = async (ip: string, rounds = 3): Promise<string[]> => {
    const seen = new Set<string>();
    for (let i = 0; i < rounds; i++) for (const mac of await arpingMacs(bed.client.ns, ip)) seen.add(mac);
    return [...seen];
  };

  before(async () => {
    kube = kubeClients(cluster.cp);
    ({ bed } = await startNodeBed(cluster, kube, 2));
    for (const node of bed.nodes) nodeMacs.add((await macAddress(node.ns, node.dev)).toLowerCase());
    await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
    await kube.core.createNamespace({ body: { metadata: { name: 'elsewhere' } } });
    await applyPool(kube, 'open', { addresses: ['198.51.100.64/28'] });
    await applyPool(kube, 'team', { addresses: ['198.51.100.80/28'], allocation: { namespaces: ['web'] } });
    await applyPool(kube, 'routed', { addresses: ['198.51.100.128/28'] });
    await createObject(kube, 'L2Advertisement', 'l2', { ipPools: ['open', 'team'] });
    await createObject(kube, 'BGPPeer', 'router', {
      myASN: NODE_AS,
      peerASN: ROUTER_AS,
      peerAddress: bed.router.ipv4,
      connectTime: '1s',
    });
    await createObject(kube, 'BGPAdvertisement', 'routed', { ipPools: ['routed'] });
    router = await startBgpRouter({
      kind: 'gobgpd',
      ns: bed.router.ns,
      dir: join(cluster.dir, 'router'),
      run: cluster.run,
      asn: ROUTER_AS,
      routerId: bed.router.ipv4,
      neighbors: bed.nodes.map((n) => ({ address: n.ipv4, asn: NODE_AS })),
    });
    cluster.defer(() => router?.stop());
    await waitForAdmissionPolicies(cluster.cp);
    controllerKubeconfig = cluster.cp.serviceAccountKubeconfig(INSTALL_NAMESPACE, 'beaconlb-controller');
    // Registered after the router's: the speakers stop first.
    cluster.defer(() => Promise.all(speakers.map((sp) => sp.stop(3000))).then(() => undefined));
    for (const node of bed.nodes) speakers.push(await startSpeaker(cluster, node, SPEAKER_ARGS));
  });

  it('announces an address whose status the controller wrote with its allocation record', async () => {
    await createService(kube, { name: 'granted', namespace: 'web' });
    const written = writeStatus(controllerKubeconfig, 'web', 'granted', statusPatch(GRANTED, true));
    assert.ok(written.ok, written.out);
    const owner = await waitFor(
      `an ARP answer for ${GRANTED}`,
      async () => {
        const macs = await arpingMacs(bed.client.ns, GRANTED);
        return macs.length === 1 ? macs[0] : undefined;
      },
      15_000,
    );
    assert.ok(nodeMacs.has(owner), `${GRANTED} answered by ${owner}, which is no node`);
  });

  it('does not announce a status written by hand by a cluster admin, and says so in a Warning Event', async () => {
    await createService(kube, { name: 'forged', namespace: 'web' });
    const written = writeStatus(cluster.cp.kubeconfig, 'web', 'forged', statusPatch(FORGED, false));
    assert.ok(written.ok, written.out);
    const event = await waitForEvent(kube, 'web', 'forged', ANNOUNCEMENT_REFUSED, 15_000);
    assert.match(
      event.message,
      new RegExp(
        `^${FORGED.replaceAll('.', '\\.')} in the Service's status was not allocated by the Beacon LB controller`,
      ),
    );
    assert.deepEqual(await answers(FORGED), [], `${FORGED} was announced`);
    // Every speaker refuses it, one reports it: after a few audit intervals there is still one Event, not one per
    // node; and the one allocated address is still answered.
    await new Promise((r) => setTimeout(r, 3000));
    const refusals = (await eventsFor(kube, 'web', 'forged')).filter(
      (e) => e.reason === ANNOUNCEMENT_REFUSED && e.type === 'Warning',
    );
    assert.equal(refusals.length, 1, `${refusals.length} AnnouncementRefused Events for ${speakers.length} speakers`);
    assert.equal((await arpingMacs(bed.client.ns, GRANTED)).length, 1);
  });

  it('refuses the cluster admin (anyone but the controller) to forge the allocation record', async () => {
    const forged = writeStatus(cluster.cp.kubeconfig, 'web', 'forged', statusPatch(FORGED, true));
    assert.equal(forged.ok, false, 'an admin wrote the allocation record');
    assert.match(forged.out, POLICY_MESSAGE);
    // Nor may another address be slipped in beside a genuine record: the record still names only GRANTED.
    const added = writeStatus(
      cluster.cp.kubeconfig,
      'web',
      'granted',
      JSON.stringify({
        status: {
          loadBalancer: {
            ingress: [
              { ip: GRANTED, ipMode: 'VIP' },
              { ip: FORGED, ipMode: 'VIP' },
            ],
          },
        },
      }),
    );
    assert.ok(added.ok, added.out);
    await waitFor(
      'the refusal of the added address',
      async () =>
        (await eventsFor(kube, 'web', 'granted')).some(
          (e) => e.reason === ANNOUNCEMENT_REFUSED && e.message.startsWith(FORGED),
        )
          ? true
          : undefined,
      15_000,
    );
    assert.deepEqual(await answers(FORGED), [], `${FORGED} was announced beside ${GRANTED}`);
    const svc = await kube.core.readNamespacedService({ namespace: 'web', name: 'forged' });
    assert.ok(!(svc.status?.conditions ?? []).some((c) => c.type === ALLOCATED_CONDITION), 'the record is absent');
  });

  it("re-checks the pool's namespaces: a recorded address of a pool that does not serve the Service is not announced", async () => {
    await createService(kube, { name: 'outsider', namespace: 'elsewhere' });
    const written = writeStatus(controllerKubeconfig, 'elsewhere', 'outsider', statusPatch(OUTSIDER, true));
    assert.ok(written.ok, written.out);
    const event = await waitForEvent(kube, 'elsewhere', 'outsider', ANNOUNCEMENT_REFUSED, 15_000);
    assert.match(event.message, /is in pool team, whose namespaces or selectors do not admit this Service/);
    assert.deepEqual(await answers(OUTSIDER), [], `${OUTSIDER} was announced`);
  });

  it('does not announce an address of our pools that another implementation gave a Service of its class, and warns', async () => {
    await createService(kube, { name: 'foreign', namespace: 'web', loadBalancerClass: 'example.com/other-lb' });
    const written = writeStatus(cluster.cp.kubeconfig, 'web', 'foreign', statusPatch(FOREIGN, false));
    assert.ok(written.ok, written.out);
    const event = await waitForEvent(kube, 'web', 'foreign', ANNOUNCEMENT_REFUSED, 15_000);
    assert.match(event.message, /loadBalancerClass example\.com\/other-lb, which Beacon LB does not serve/);
    assert.deepEqual(await answers(FOREIGN), [], `${FOREIGN} was announced`);
  });

  it('does not advertise by BGP a status written by hand, while it advertises the recorded one from every node', async () => {
    // The forged status first: once the recorded route is at the router, a plan pass has seen both.
    await createService(kube, { name: 'routed-forged', namespace: 'web' });
    const forged = writeStatus(cluster.cp.kubeconfig, 'web', 'routed-forged', statusPatch(ROUTED_FORGED, false));
    assert.ok(forged.ok, forged.out);
    await waitForEvent(kube, 'web', 'routed-forged', ANNOUNCEMENT_REFUSED, 15_000);
    await createService(kube, { name: 'routed-granted', namespace: 'web' });
    const granted = writeStatus(controllerKubeconfig, 'web', 'routed-granted', statusPatch(ROUTED_GRANTED, true));
    assert.ok(granted.ok, granted.out);
    const nodes = bed.nodes.map((n) => n.ipv4).sort();
    await waitFor(
      `${ROUTED_GRANTED}/32 from every node at the router`,
      async () => {
        const from = (await router!.routes(4))
          .filter((r) => r.prefix === `${ROUTED_GRANTED}/32`)
          .map((r) => r.neighbor)
          .sort();
        return JSON.stringify(from) === JSON.stringify(nodes) ? true : undefined;
      },
      30_000,
    );
    const advertised = (await router!.routes(4)).map((r) => r.prefix);
    assert.ok(
      !advertised.includes(`${ROUTED_FORGED}/32`),
      `${ROUTED_FORGED}/32 was advertised: ${advertised.join(', ')}`,
    );
  });
});
