// Failure detection by direct probes (ADR 0019, --failure-detection=probes) end to end: the real API server, the
// controller (which publishes the membership record and the key), three node namespaces each running a speaker. A
// client on the segment sends a broadcast ARP request every 50 ms during each case and captures every ARP packet
// for the address: no request may be answered by two nodes. The partitions are those of ADR 0019's table:
// node-to-node links cut (nftables in the node's namespace) with the API reachable, the API cut (bridge) with the
// peers reachable, both, asymmetric loss (only the owner's outgoing probes dropped), and one cut link, which must
// move nothing. kill -9 of the owner is timed to the new owner's first gratuitous ARP at the client.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiBridge } from '../src/lab/api-bridge.ts';
import { metricValue, probingAndAnswering } from '../src/lab/component-process.ts';
import { arpingMacs } from '../src/lab/layer2-probe.ts';
import { startProcess } from '../src/lab/managed-process.ts';
import { execIn, macAddress, mustExecIn, startCapture, type Capture } from '../src/lab/netns.ts';
import type { Host, TestBed } from '../src/lab/test-bed.ts';
import { arpProbes, doubleAnswered, readCapture, type ArpProbe } from './support/arp-answers.ts';
import { REPO_ROOT, useCluster } from './support/cluster.ts';
import { startController } from './support/controller-process.ts';
import {
  applyPool,
  createObject,
  createService,
  kubeClients,
  waitFor,
  waitForIngress,
  type Kube,
} from './support/kube.ts';
import { serveNodeNames, startNodeBed } from './support/node-bed.ts';
import { startSpeaker, type SpeakerProcess } from './support/speaker-process.ts';

// Default probe timings (100 ms probes, 500 ms suspicion); the Lease faster than its 10 s / 40 s default so the API
// cut case ends in seconds: the fence then comes 3 x 500 ms - 250 ms after the last renewal that succeeded.
const SPEAKER_ARGS = [
  '--failure-detection=probes',
  '--renew-interval=500ms',
  '--lease-duration=3s',
  '--fence-margin=250ms',
  '--handover-overlap=500ms',
];
// 198.51.100.112/28: clear of the bed's hosts and of the other layer-2 suites' addresses.
const IPS = Array.from({ length: 12 }, (_, i) => `198.51.100.${112 + i}`);
/** 3 x membershipSkew (3 x the renew interval): how long an old membership epoch stays active. */
const EPOCH_TRANSITION_MS = 3 * 3 * 500;
const KILL_REPEATS = Number(process.env['PROBES_KILL_REPEATS'] ?? 5);

describe('speaker: layer 2 with failure detection by probes', () => {
  const cluster = useCluster();
  let kube: Kube;
  let bed: TestBed;
  let bridge: ApiBridge;
  const speakers = new Map<string, SpeakerProcess>();
  const macs = new Map<string, string>();

  const hostOf = (node: string): Host => bed.nodes.find((n) => n.role === node)!;
  const macOf = (node: string): string => [...macs].find(([, n]) => n === node)?.[0] ?? '';
  const startOn = async (node: string): Promise<void> => {
    const host = hostOf(node);
    speakers.set(node, await startSpeaker(cluster, host, [...SPEAKER_ARGS, `--probe-address=${host.ipv4}`]));
  };
  /**
   * Every speaker probes its peers (the controller's first record has come: until then they run Lease liveness) and
   * answers, and the membership epochs of the last join are over: during an epoch transition a node counts its fence
   * quorum in the old epoch too (ADR 0019, P4), where a killed peer may be its only monitor.
   */
  const allAnswering = async (): Promise<void> => {
    for (const sp of speakers.values()) {
      await waitFor(
        `${sp.node} to probe and answer`,
        async () => (probingAndAnswering(await sp.metrics()) ? true : undefined),
        30_000,
      );
    }
    await sleep(EPOCH_TRANSITION_MS);
  };

  before(async () => {
    kube = kubeClients(cluster.cp);
    ({ bed, bridge } = await startNodeBed(cluster, kube, 3));
    cluster.defer(() => Promise.all([...speakers.values()].map((sp) => sp.stop(3000))).then(() => undefined));
    for (const node of bed.nodes) macs.set((await macAddress(node.ns, node.dev)).toLowerCase(), node.role);
    serveNodeNames(cluster, bed.nodes, IPS, []);
    await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
    await applyPool(kube, 'l2', { addresses: ['198.51.100.112/28'] });
    await createObject(kube, 'L2Advertisement', 'l2', { ipPools: ['l2'] });
    // One record per membershipSkew at most (3 x the 500 ms renewals), as --membership-interval must be.
    const controller = await startController(cluster, ['--no-leader-elect', '--membership-interval=1500ms']);
    cluster.defer(() => controller.stop(1000));
    for (const node of bed.nodes) await startOn(node.role);
    await allAnswering();
  });

  const settledOwner = (ip: string, timeoutMs = 20_000): Promise<string> =>
    waitFor(
      `a single owner of ${ip}`,
      async () => {
        const answered = await arpingMacs(bed.client.ns, ip, 1);
        return answered.length === 1 ? macs.get(answered[0]!) : undefined;
      },
      timeoutMs,
    );

  let services = 0;
  const service = async (): Promise<string> => {
    const ip = IPS[services]!;
    const name = `probes-${services++}`;
    await createService(kube, { name, namespace: 'web', annotations: { 'beaconlb.io/load-balancer-ips': ip } });
    await waitForIngress(kube, 'web', name);
    return ip;
  };

  /** A broadcast ARP request for `ip` every 50 ms from the client, captured with every ARP packet about `ip`. */
  async function watchArp(
    ip: string,
    name: string,
  ): Promise<{ lines(): Promise<string[]>; stop(): Promise<ArpProbe[]> }> {
    const capture: Capture = await startCapture(bed.client.ns, 'eth0', `arp host ${ip}`, cluster.dir, name);
    const prober = startProcess({
      name: `arp-prober-${name}`,
      command: join(REPO_ROOT, 'node_modules/.bin/node'),
      args: [join(REPO_ROOT, 'e2e/support/arp-prober.ts'), 'eth0', bed.client.ipv4, ip, '50'],
      netns: bed.client.ns,
      logFile: join(cluster.dir, `arp-prober-${name}.log`),
    });
    cluster.run.recordProcess(prober.pid);
    return {
      lines: () => readCapture(capture.file),
      async stop() {
        await prober.stop(500);
        await capture.stop();
        return arpProbes(await readCapture(capture.file), ip, bed.client.ipv4);
      },
    };
  }

  const doubles = (probes: readonly ArpProbe[]): string =>
    doubleAnswered(probes)
      .slice(0, 5)
      .map((p) => `${p.t.toFixed(3)}: ${p.macs.map((m) => macs.get(m) ?? m).join(' and ')}`)
      .join('; ');

  /**
   * nftables in a node's namespace: `rules` are added to an output and an input chain of table inet
   * beaconlb_probe_cut (the API bridge's cut has its own table, beaconlb_cut).
   */
  const nft = async (node: string, output: string[], input: string[]): Promise<void> => {
    const ns = hostOf(node).ns;
    await mustExecIn(ns, ['nft', 'add', 'table', 'inet', 'beaconlb_probe_cut']);
    await mustExecIn(ns, [
      'nft',
      'add',
      'chain',
      'inet',
      'beaconlb_probe_cut',
      'out',
      '{ type filter hook output priority 0 ; }',
    ]);
    await mustExecIn(ns, [
      'nft',
      'add',
      'chain',
      'inet',
      'beaconlb_probe_cut',
      'in',
      '{ type filter hook input priority 0 ; }',
    ]);
    for (const rule of output)
      await mustExecIn(ns, ['nft', 'add', 'rule', 'inet', 'beaconlb_probe_cut', 'out', ...rule.split(' ')]);
    for (const rule of input)
      await mustExecIn(ns, ['nft', 'add', 'rule', 'inet', 'beaconlb_probe_cut', 'in', ...rule.split(' ')]);
  };
  const unNft = async (node: string): Promise<void> => {
    await execIn(hostOf(node).ns, ['nft', 'delete', 'table', 'inet', 'beaconlb_probe_cut']);
  };
  const peersOf = (node: string): string[] => bed.nodes.filter((n) => n.role !== node).map((n) => n.ipv4);

  /**
   * Applies `cut` to the owner of a new Service while the client probes, waits for another node to answer, lifts it
   * with `heal`, and checks that no request was answered by two nodes; resolves with the successor and the takeover time.
   */
  async function partition(
    label: string,
    cut: (owner: string) => Promise<void>,
    heal: (owner: string) => Promise<void>,
  ): Promise<{ owner: string; successor: string; takeoverMs: number }> {
    const ip = await service();
    const owner = await settledOwner(ip);
    const watch = await watchArp(ip, label);
    await sleep(500);
    const start = performance.now();
    let successor: string;
    try {
      await cut(owner);
      successor = await waitFor(
        `another node to answer ${ip}`,
        async () => {
          const answered = await arpingMacs(bed.client.ns, ip, 1);
          const node = answered.length === 1 ? macs.get(answered[0]!) : undefined;
          return node && node !== owner ? node : undefined;
        },
        20_000,
      );
    } finally {
      await heal(owner);
    }
    const takeoverMs = Math.round(performance.now() - start);
    await sleep(500);
    const probes = await watch.stop();
    console.log(
      JSON.stringify({
        partition: label,
        owner,
        successor,
        takeoverMs,
        probes: probes.length,
        doubleAnswered: doubleAnswered(probes).length,
      }),
    );
    assert.ok(probes.length >= 10, `only ${probes.length} probes captured`);
    assert.equal(doubleAnswered(probes).length, 0, `answered by two nodes: ${doubles(probes)}`);
    await allAnswering();
    return { owner, successor, takeoverMs };
  }

  it("kill -9 of the owner: the new owner's gratuitous ARP reaches the client in under a second (repeated)", async () => {
    const times: number[] = [];
    for (let i = 0; i < KILL_REPEATS; i++) {
      const ip = await service();
      const owner = await settledOwner(ip);
      const capture = await startCapture(bed.client.ns, 'eth0', `arp host ${ip}`, cluster.dir, `kill-${i}`);
      await sleep(300);
      const killedAt = Date.now() / 1000;
      await speakers.get(owner)!.kill();
      const first = await waitFor(
        'a gratuitous ARP from another node',
        async () => {
          for (const line of await readCapture(capture.file)) {
            // Gratuitous: sender and target are the address itself (a request or a reply), from a node's MAC.
            const m =
              /^(\d+\.\d+) (\S+) > .* (?:Request who-has ([^\s,]+) (?:\(\S+\) )?tell ([^\s,]+)|Reply ([^\s,]+) is-at)/.exec(
                line,
              );
            if (!m) continue;
            const mac = m[2]!.toLowerCase();
            const gratuitous = (m[3] === ip && m[4] === ip) || m[5] === ip;
            if (gratuitous && mac !== macOf(owner) && macs.has(mac) && Number(m[1]) > killedAt) return Number(m[1]);
          }
          return undefined;
        },
        10_000,
      );
      await capture.stop();
      times.push(Math.round((first - killedAt) * 1000));
      await startOn(owner);
      await allAnswering();
    }
    const sorted = [...times].sort((a, b) => a - b);
    console.log(
      JSON.stringify({
        failover: 'kill -9',
        detection: 'probes',
        gratuitousArpMs: times,
        p50: sorted[Math.floor(sorted.length / 2)],
        max: sorted.at(-1),
      }),
    );
    // The goal (p99 < 1 s) is measured by bench/; on this shared machine the test only bounds it loosely.
    assert.ok(sorted.at(-1)! < 3000, `kill -9 to gratuitous ARP: ${times.join(', ')} ms`);
  });

  it('node-to-node links of the owner cut, API reachable: it fences itself, another node takes over, never two at once', async () => {
    const { takeoverMs } = await partition(
      'links-cut',
      (owner) => nft(owner, ['udp dport 7946 drop'], ['udp dport 7946 drop']),
      (owner) => unNft(owner),
    );
    assert.ok(takeoverMs < 10_000);
  });

  it('API cut for the owner, peers reachable: it fences by its Lease and says so; another node takes over, never two at once', async () => {
    await partition(
      'api-cut',
      (owner) => bridge.cut(hostOf(owner).ns),
      (owner) => bridge.restore(hostOf(owner).ns),
    );
  });

  it('owner cut from both the API and its peers: another node takes over, never two at once', async () => {
    await partition(
      'both-cut',
      async (owner) => {
        await bridge.cut(hostOf(owner).ns);
        await nft(owner, ['udp dport 7946 drop'], ['udp dport 7946 drop']);
      },
      async (owner) => {
        try {
          await unNft(owner);
        } finally {
          await bridge.restore(hostOf(owner).ns);
        }
      },
    );
  });

  it("asymmetric loss: only the owner's outgoing probes are lost; it fences before peers count it down, never two at once", async () => {
    await partition(
      'asymmetric-out',
      (owner) => nft(owner, ['udp dport 7946 drop', 'udp sport 7946 drop'], []),
      (owner) => unNft(owner),
    );
  });

  it("asymmetric loss: only the owner's incoming probes are lost; never two at once", async () => {
    await partition(
      'asymmetric-in',
      (owner) => nft(owner, [], ['udp dport 7946 drop']),
      (owner) => unNft(owner),
    );
  });

  it('one cut link between the owner and one peer moves nothing (indirect probes carry it)', async () => {
    const ip = await service();
    const owner = await settledOwner(ip);
    const [peer] = peersOf(owner);
    await nft(owner, [`ip daddr ${peer!} udp dport 7946 drop`], [`ip saddr ${peer!} udp dport 7946 drop`]);
    try {
      await sleep(5000);
      assert.equal(await settledOwner(ip), owner);
      for (const sp of speakers.values())
        assert.equal(metricValue(await sp.metrics(), 'beaconlb_l2_fenced'), 0, `${sp.node} fenced`);
    } finally {
      await unNft(owner);
    }
  });

  it('hands over on SIGTERM without losing a ping every 20 ms', async () => {
    const ip = await service();
    const owner = await settledOwner(ip);
    const pings = execIn(bed.client.ns, ['ping', '-i', '0.02', '-c', '250', '-W', '1', ip], 20_000);
    await sleep(500);
    await speakers.get(owner)!.stop(5000);
    await startOn(owner);
    const res = await pings;
    const stats = /(\d+) packets transmitted, (\d+) received/.exec(res.stdout);
    assert.ok(stats, res.stdout + res.stderr);
    console.log(
      JSON.stringify({
        handover: 'SIGTERM',
        detection: 'probes',
        transmitted: Number(stats[1]),
        received: Number(stats[2]),
      }),
    );
    assert.equal(stats[2], stats[1], `lost ${Number(stats[1]) - Number(stats[2])} pings`);
    await allAnswering();
  });
});
