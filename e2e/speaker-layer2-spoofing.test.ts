// Reflection and spoofing limits of the ARP / NDP responder, with crafted frames from the client namespace (and one
// from the node itself): answers go only to the requester's unicast address, never to a broadcast or multicast
// address taken from a request; requests the kernel delivers as addressed to another host (unknown unicast flooded
// by the switch, or tagged for a VLAN the node has no interface for) or as sent by the node itself are not answered.
// A well-formed request on the same segment is answered as before, so each case shows the rule, not a dead speaker.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseIp } from '../src/core/ip/ip-address.ts';
import { execIn, macAddress } from '../src/lab/netns.ts';
import type { Host, TestBed } from '../src/lab/test-bed.ts';
import { encodeArpFrame } from '../src/protocol/arp/arp-packet.ts';
import { BROADCAST_MAC, ZERO_MAC, ipv6MulticastMac } from '../src/protocol/ethernet/mac-address.ts';
import { encodeNdpFrame, solicitedNodeMulticast } from '../src/protocol/ndp/neighbor-discovery.ts';
import { startNodeBed } from './support/node-bed.ts';
import { REPO_ROOT, useCluster } from './support/cluster.ts';
import { startController } from './support/controller-process.ts';
import type { ProbedAnswer } from './support/frame-probe.ts';
import { metricValue } from '../src/lab/component-process.ts';
import { applyPool, createObject, createService, kubeClients, waitForIngress, type Kube } from './support/kube.ts';
import { startSpeaker, type SpeakerProcess } from './support/speaker-process.ts';

const VIP4 = '198.51.100.71';
const VIP6 = '2001:db8:a::171';
/** A unicast MAC no host on the segment has (RFC 7042 documentation range): the switch floods frames to it. */
const NOBODY_MAC = '00:00:5e:00:53:77';

function address(text: string): bigint {
  const parsed = parseIp(text);
  assert.ok(parsed.ok);
  return parsed.value;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('speaker: ARP / NDP reflection and spoofing limits (crafted frames from the client namespace)', () => {
  const cluster = useCluster();
  let kube: Kube;
  let bed: TestBed;
  let node: Host;
  let speaker: SpeakerProcess;
  let clientMac = '';
  let nodeMac = '';

  /** Sends the frames from `host` and returns the answers for the Service addresses it saw within half a second. */
  const probe = async (host: Host, frames: Uint8Array[], outgoing = false): Promise<ProbedAnswer[]> => {
    const argument = JSON.stringify({ ifname: host.dev, frames: frames.map(hex), listenMs: 600, outgoing });
    const run = await execIn(
      host.ns,
      [join(REPO_ROOT, 'node_modules/.bin/node'), join(REPO_ROOT, 'e2e/support/frame-probe.ts'), argument],
      20_000,
    );
    assert.equal(run.code, 0, run.stderr);
    const answers = JSON.parse(run.stdout) as ProbedAnswer[];
    return answers.filter((a) => a.address === VIP4 || a.address === VIP6);
  };

  const arpRequest = (
    o: { destination?: string; source?: string; senderMac?: string; vlan?: number } = {},
  ): Uint8Array =>
    encodeArpFrame({
      destination: o.destination ?? BROADCAST_MAC,
      source: o.source ?? clientMac,
      ...(o.vlan === undefined ? {} : { vlan: { id: o.vlan, priority: 0, dropEligible: false } }),
      packet: {
        op: 'request',
        senderMac: o.senderMac ?? clientMac,
        senderIp: address(bed.client.ipv4),
        targetMac: ZERO_MAC,
        targetIp: address(VIP4),
      },
    });

  const neighborSolicitation = (linkLayer: string): Uint8Array => {
    const group = solicitedNodeMulticast(address(VIP6));
    return encodeNdpFrame({
      source: clientMac,
      destination: ipv6MulticastMac(group),
      message: {
        type: 'neighbor-solicitation',
        source: address(bed.client.ipv6),
        destination: group,
        target: address(VIP6),
        sourceLinkLayerAddress: linkLayer,
      },
    });
  };

  const ignored = async (protocol: string, reason: string): Promise<number> =>
    metricValue(
      await speaker.metrics(),
      `beaconlb_l2_requests_ignored_total{protocol="${protocol}",reason="${reason}"}`,
    );

  before(async () => {
    kube = kubeClients(cluster.cp);
    ({ bed } = await startNodeBed(cluster, kube, 1));
    node = bed.nodes[0]!;
    clientMac = (await macAddress(bed.client.ns, bed.client.dev)).toLowerCase();
    nodeMac = (await macAddress(node.ns, node.dev)).toLowerCase();
    await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
    await applyPool(kube, 'l2', { addresses: ['198.51.100.64/27', '2001:db8:a::100/120'] });
    await createObject(kube, 'L2Advertisement', 'l2', {});
    const controller = await startController(cluster, ['--no-leader-elect', '--log-level=warn']);
    cluster.defer(() => controller.stop(1000));
    await createService(kube, {
      name: 'vip',
      namespace: 'web',
      ipFamilyPolicy: 'RequireDualStack',
      ipFamilies: ['IPv4', 'IPv6'],
      annotations: { 'beaconlb.io/load-balancer-ips': `${VIP4},${VIP6}` },
    });
    await waitForIngress(kube, 'web', 'vip', 2);
    speaker = await startSpeaker(cluster, node, ['--log-level=debug']);
    cluster.defer(() => speaker.stop(3000));
    const deadline = Date.now() + 20_000;
    while ((await probe(bed.client, [arpRequest()])).length === 0) {
      assert.ok(Date.now() < deadline, 'the speaker never answered for the VIP');
    }
  });

  it('a well-formed request is answered once, unicast to the requester', async () => {
    const answers = await probe(bed.client, [arpRequest(), neighborSolicitation(clientMac)]);
    assert.deepEqual(answers.map((a) => `${a.kind} ${a.address} ${a.source} -> ${a.destination}`).sort(), [
      `arp-reply ${VIP4} ${nodeMac} -> ${clientMac}`,
      `neighbor-advertisement ${VIP6} ${nodeMac} -> ${clientMac}`,
    ]);
  });

  it('an ARP request whose sender hardware address is broadcast or multicast gets no reply', async () => {
    const before = await ignored('arp', 'group-sender');
    const answers = await probe(bed.client, [
      arpRequest({ senderMac: BROADCAST_MAC }),
      arpRequest({ senderMac: '01:00:5e:00:00:fb' }),
    ]);
    assert.deepEqual(answers, []);
    assert.equal((await ignored('arp', 'group-sender')) - before, 2);
  });

  it('a Neighbor Solicitation whose source link-layer address is multicast gets no advertisement', async () => {
    const before = await ignored('ndp', 'group-sender');
    const answers = await probe(bed.client, [
      neighborSolicitation('33:33:00:00:00:01'),
      neighborSolicitation(BROADCAST_MAC),
    ]);
    assert.deepEqual(answers, []);
    assert.equal((await ignored('ndp', 'group-sender')) - before, 2);
  });

  it("a request unicast to another host's MAC (flooded to the node: PACKET_OTHERHOST) is not answered", async () => {
    const before = await ignored('arp', 'other-host');
    const answers = await probe(bed.client, [arpRequest({ destination: NOBODY_MAC })]);
    assert.deepEqual(answers, []);
    assert.equal((await ignored('arp', 'other-host')) - before, 1);
  });

  it('a request tagged for VLAN 100, which the node has no interface for, is not answered (untagged or tagged)', async () => {
    const before = await ignored('arp', 'other-host');
    const answers = await probe(bed.client, [arpRequest({ vlan: 100 })]);
    assert.deepEqual(answers, []);
    assert.equal((await ignored('arp', 'other-host')) - before, 1, 'the kernel delivers it as PACKET_OTHERHOST');
  });

  it('a priority-tagged request (VLAN ID 0) counts as untagged, as in the kernel: answered, untagged', async () => {
    const answers = await probe(bed.client, [arpRequest({ vlan: 0 })]);
    assert.deepEqual(
      answers.map((a) => [a.destination, a.vlan]),
      [[clientMac, undefined]],
    );
  });

  it("a request the node itself sends (PACKET_OUTGOING on the speaker's socket) is not answered", async () => {
    const own = encodeArpFrame({
      destination: BROADCAST_MAC,
      source: nodeMac,
      packet: {
        op: 'request',
        senderMac: nodeMac,
        senderIp: address(node.ipv4),
        targetMac: ZERO_MAC,
        targetIp: address(VIP4),
      },
    });
    const answers = await probe(node, [own], true);
    assert.deepEqual(answers, [], `answers seen on ${node.role}: ${JSON.stringify(answers)}`);
  });

  it('still answers a well-formed request afterwards', async () => {
    const answers = await probe(bed.client, [arpRequest()]);
    assert.deepEqual(
      answers.map((a) => a.destination),
      [clientMac],
    );
    assert.ok(speaker.running());
  });
});
