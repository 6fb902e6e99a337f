// Ownership stickiness (ADR 0036), measured on the real thing: three speakers in node namespaces, the real API
// server and controller, a client on the segment. The owner of the most addresses is killed (-9) and restarted;
// a move is a change of the MAC address in the client's neighbor entry for an address (the new owner's gratuitous
// ARP), polled every 100 ms. Without a quiet period each of its addresses moves twice (away, then back as soon as
// the node is live again); with --rejoin-quiet-period it moves once within the period, and back when it ends. Both
// failure detections: Lease liveness (the mark in the Lease) and probes (the detector's REJOINING claims).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { macAddress, mustExecIn } from '../src/lab/netns.ts';
import type { Host, TestBed } from '../src/lab/test-bed.ts';
import { serveNodeNames, startNodeBed } from './support/node-bed.ts';
import { useCluster } from './support/cluster.ts';
import { metricValue, startController, type ControllerProcess } from './support/controller-process.ts';
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
import { arpingMacs } from '../src/lab/layer2-probe.ts';

// 198.51.100.64/28: clear of the test bed's hosts (.1 router, .11-.13 nodes, .100 client).
const V4 = Array.from({ length: 9 }, (_, i) => `198.51.100.${64 + i}`);
/** How each case runs its speakers, and how long after the restart moves are counted. */
interface Mode {
  readonly detection: 'lease' | 'probes';
  args(host: Host): string[];
  /** Well inside the quiet period, well past a rejoin without one. */
  readonly windowMs: number;
}
const LEASE: Mode = {
  detection: 'lease',
  args: () => ['--renew-interval=250ms', '--lease-duration=1s', '--fence-margin=250ms', '--handover-overlap=500ms'],
  windowMs: 8000,
};
// Default probe timings (a kill is found in about 0.5 s). The Lease renewed every 500 ms (membership records
// 1.5 s apart), and lasting 10 s so the controller keeps the killed node in the record across its restart: the
// restart is a return, not a leave and a join. A restarted process answers after the switch's silence, its start-up
// quiet time and its monitors' hold-down: about 6 s, hence the longer window; the quiet period counts from then.
const PROBES: Mode = {
  detection: 'probes',
  args: (host) => [
    '--failure-detection=probes',
    `--probe-address=${host.ipv4}`,
    '--renew-interval=500ms',
    '--lease-duration=10s',
    '--fence-margin=250ms',
    '--handover-overlap=500ms',
  ],
  windowMs: 14_000,
};
const QUIET_MS = 20_000;

describe('speaker: layer 2 ownership stickiness (moves per failure)', () => {
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
    serveNodeNames(cluster, bed.nodes, V4, []);
    await kube.core.createNamespace({ body: { metadata: { name: 'web' } } });
    await applyPool(kube, 'l2', { addresses: ['198.51.100.64/28'] });
    await createObject(kube, 'L2Advertisement', 'l2', { ipPools: ['l2'] });
    // Records at most every 1.5 s (3 x the probe cases' 500 ms renewals); none while speakers run Lease liveness.
    controller = await startController(cluster, ['--no-leader-elect', '--membership-interval=1500ms']);
    cluster.defer(() => controller.stop(1000));
    for (const [i, ip] of V4.entries()) {
      await createService(kube, {
        name: `s${i}`,
        namespace: 'web',
        annotations: { 'beaconlb.io/load-balancer-ips': ip },
      });
      await waitForIngress(kube, 'web', `s${i}`, 1);
    }
  });

  const host = (node: string) => bed.nodes.find((n) => n.role === node)!;
  const startAll = async (mode: Mode, extra: readonly string[]): Promise<void> => {
    await Promise.all([...speakers.values()].map((sp) => sp.stop(3000)));
    speakers.clear();
    // A fresh cluster: no Lease left by an earlier run, so no speaker starts as a re-join (ADR 0036, start-up).
    cluster.cp.kubectl(['-n', 'beaconlb-system', 'delete', 'lease', '-l', 'app.kubernetes.io/component=speaker']);
    for (const node of bed.nodes)
      speakers.set(node.role, await startSpeaker(cluster, node, [...mode.args(node), ...extra]));
    const marks = cluster.cp.kubectl([
      '-n',
      'beaconlb-system',
      'get',
      'lease',
      '-l',
      'app.kubernetes.io/component=speaker',
      '-o',
      'jsonpath={.items[*].metadata.annotations}',
    ]);
    assert.doesNotMatch(marks, /layer2-rejoining/, 'a fresh cluster starts with nobody rejoining');
  };
  const singleOwner = (ip: string): Promise<string> =>
    waitFor(
      `a single owner of ${ip}`,
      async () => {
        const answered = await arpingMacs(bed.client.ns, ip, 1);
        return answered.length === 1 ? macs.get(answered[0]!) : undefined;
      },
      15_000,
    );
  /** The node each address's client neighbor entry points at. */
  const neighbors = async (): Promise<Map<string, string | undefined>> => {
    const out = await mustExecIn(bed.client.ns, ['ip', '-4', 'neigh', 'show']);
    const seen = new Map<string, string | undefined>();
    for (const line of out.split('\n')) {
      const m = /^(\S+) .*lladdr (\S+)/.exec(line);
      if (m && V4.includes(m[1]!)) seen.set(m[1]!, macs.get(m[2]!.toLowerCase()));
    }
    return seen;
  };

  /**
   * Kills the owner of the most addresses, restarts it, and counts the moves of its addresses at the client until
   * the mode's window after the restart (then, with `untilBack`, until every one is back on it). Returns moves per
   * address.
   */
  const failAndRecover = async (
    mode: Mode,
    extra: readonly string[],
    untilBack: boolean,
  ): Promise<{ victim: string; moves: number[]; backAfterMs: number | undefined; otherMoves: number }> => {
    const WINDOW_MS = mode.windowMs;
    await startAll(mode, extra);
    // First every speaker ready and counting all of them live: a speaker that still counts two would place the
    // addresses over two nodes, and the kill would then measure moves of that transitional placement.
    for (const sp of speakers.values())
      await waitFor(
        `${sp.node} ready and counting every speaker live`,
        async () => {
          const text = await sp.metrics();
          return metricValue(text, 'beaconlb_l2_ready') === 1 &&
            metricValue(text, 'beaconlb_l2_live_speakers') === bed.nodes.length
            ? true
            : undefined;
        },
        30_000,
      );
    // The placement settles once every speaker counts the others live (the last one started joins a moment later):
    // owners read by ARP, then every address in the client's neighbor table, and both agree; else again.
    const owners = new Map<string, string>();
    await waitFor(
      "a stable placement the client's neighbor table agrees with",
      async () => {
        for (const ip of V4) owners.set(ip, await singleOwner(ip));
        await mustExecIn(bed.client.ns, ['ip', 'neigh', 'flush', 'all']);
        for (const ip of V4) await mustExecIn(bed.client.ns, ['ping', '-c', '1', '-W', '2', ip]);
        const seen = await neighbors();
        return V4.every((ip) => seen.get(ip) === owners.get(ip)) ? true : undefined;
      },
      60_000,
    );
    const counts = new Map<string, string>();
    for (const node of owners.values()) counts.set(node, String(Number(counts.get(node) ?? 0) + 1));
    const victim = [...counts].sort((a, b) => Number(b[1]) - Number(a[1]))[0]![0];
    const mine = V4.filter((ip) => owners.get(ip) === victim);
    const last = await neighbors();
    for (const ip of V4) assert.equal(last.get(ip), owners.get(ip), `${ip}: the client's entry points at its owner`);
    const moves = new Map<string, number>(V4.map((ip) => [ip, 0]));
    const polling = { on: true };
    const poll = (async () => {
      for (let i = 0; polling.on && i < 2000; i++) {
        for (const [ip, node] of await neighbors()) {
          if (node === last.get(ip)) continue;
          last.set(ip, node);
          moves.set(ip, (moves.get(ip) ?? 0) + 1);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await speakers.get(victim)!.kill();
      await waitFor('every address of the killed node to move', () =>
        mine.every((ip) => last.get(ip) !== victim) ? true : undefined,
      );
      speakers.set(victim, await startSpeaker(cluster, host(victim), [...mode.args(host(victim)), ...extra]));
      const restarted = performance.now();
      await new Promise((r) => setTimeout(r, WINDOW_MS / 2));
      // Mid-window: each address answered by exactly one node (arping sees every reply on the segment), never by two.
      // A returning node's share can go unanswered for up to maxDelay (1 s) when the last FENCED claim of its return
      // expires at its peers before its quiet time ends (ADR 0036, "Probe detector"): look again for up to 3 s.
      for (const ip of mine) {
        let answered: string[] = [];
        for (let i = 0; i < 4 && answered.length !== 1; i++) {
          answered = await arpingMacs(bed.client.ns, ip, 2);
          assert.ok(answered.length <= 1, `${ip} answered by ${answered.join(' and ')}`);
        }
        assert.equal(answered.length, 1, `${ip} answered by nobody for 3 s`);
      }
      await new Promise((r) => setTimeout(r, Math.max(0, WINDOW_MS - (performance.now() - restarted))));
      const inWindow = mine.map((ip) => moves.get(ip) ?? 0);
      let backAfterMs: number | undefined;
      if (untilBack) {
        await waitFor(
          'the addresses to return to the restarted node',
          () => (mine.every((ip) => last.get(ip) === victim) ? true : undefined),
          QUIET_MS + 25_000,
        );
        backAfterMs = Math.round(performance.now() - restarted);
      }
      const otherMoves = V4.filter((ip) => !mine.includes(ip)).reduce((n, ip) => n + (moves.get(ip) ?? 0), 0);
      return { victim, moves: inWindow, backAfterMs, otherMoves };
    } finally {
      polling.on = false;
      await poll;
    }
  };

  for (const mode of [LEASE, PROBES]) {
    it(`${mode.detection}: without a quiet period, each address of a failed node moves twice: away, and back when it recovers`, async () => {
      const r = await failAndRecover(mode, [], false);
      console.log(
        JSON.stringify({
          detection: mode.detection,
          stickiness: 'off',
          victim: r.victim,
          movesPerAddress: r.moves,
          otherMoves: r.otherMoves,
        }),
      );
      assert.ok(r.moves.length > 0);
      for (const moves of r.moves) assert.equal(moves, 2, `moves per address: ${r.moves.join(', ')}`);
    });

    it(`${mode.detection}: with --rejoin-quiet-period, each moves once within the period, and back only when it is over`, async () => {
      const r = await failAndRecover(mode, [`--rejoin-quiet-period=${QUIET_MS / 1000}s`], true);
      console.log(
        JSON.stringify({
          detection: mode.detection,
          stickiness: `${QUIET_MS / 1000}s`,
          victim: r.victim,
          movesPerAddressWithinWindow: r.moves,
          windowMs: mode.windowMs,
          backAfterRestartMs: r.backAfterMs,
          otherMoves: r.otherMoves,
        }),
      );
      assert.ok(r.moves.length > 0);
      for (const moves of r.moves) assert.equal(moves, 1, `moves per address: ${r.moves.join(', ')}`);
      // Back, and not before the quiet period (it starts when the restarted speaker's caches synced with Leases, when
      // it answers again with probes).
      assert.ok((r.backAfterMs ?? 0) >= QUIET_MS, `back after ${r.backAfterMs} ms`);
      for (const ip of V4) await singleOwner(ip);
    });
  }
});
