// `npm run lab` as a user runs it: `beaconlb lab up` in its own state directory prints working curls for the
// layer-2 and the BGP Service, `lab status` and `lab env` work, every command block of the docs marked
// `<!-- lab-test -->` runs as written against the lab, two host names reach their own backends through the ingress's
// one address (Traefik on every node, src/lab/lab-ingress.ts), also after the speaker or the Traefik of the node
// answering for it dies, `lab failover` shows a takeover, and `lab down` leaves no namespace and no process behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLabState } from '../src/lab/lab-state.ts';
import { arpingMacs } from '../src/lab/layer2-probe.ts';
import { pidRunning } from '../src/lab/managed-process.ts';
import { execIn } from '../src/lab/netns.ts';
import { REPO_ROOT } from './support/cluster.ts';

interface Run {
  code: number;
  out: string;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd: REPO_ROOT,
        env: { ...process.env, ...env },
        timeout: timeoutMs,
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, out: `${stdout}${stderr}` });
      },
    );
  });
}

/** Every ```sh block preceded by `<!-- lab-test -->` in README.md and docs/*.md, with where it comes from. */
export function labTestBlocks(): Array<{ where: string; script: string }> {
  const files = [
    'README.md',
    ...readdirSync(join(REPO_ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  const blocks: Array<{ where: string; script: string }> = [];
  for (const file of files) {
    const text = readFileSync(join(REPO_ROOT, file), 'utf8');
    const pattern = /<!-- lab-test -->\s*\n```sh\n([\s\S]*?)\n```/g;
    for (const match of text.matchAll(pattern)) {
      const line = text.slice(0, match.index).split('\n').length;
      blocks.push({ where: `${file}:${line}`, script: match[1] ?? '' });
    }
  }
  return blocks;
}

const INGRESS_IP = '198.51.100.72';
const INGRESS_CURL = [
  'curl',
  '-s',
  '--max-time',
  '3',
  '--resolve',
  `blue.example.test:80:${INGRESS_IP}`,
  '--resolve',
  `green.example.test:80:${INGRESS_IP}`,
  'http://blue.example.test/',
  'http://green.example.test/',
];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('the lab, as a user runs it', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'beaconlb-lab-test-'));
  const env = { BEACONLB_LAB_STATE_DIR: stateDir };
  const beaconlb = (args: readonly string[], timeoutMs = 60_000): Promise<Run> =>
    run(join(REPO_ROOT, 'bin/beaconlb'), args, env, timeoutMs);
  let up: Run;

  before(async () => {
    up = await beaconlb(['lab', 'up'], 300_000);
  });

  after(async () => {
    await beaconlb(['lab', 'down']);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('lab up ends with the layer-2 and the BGP Service answering, and says so', () => {
    assert.equal(up.code, 0, up.out);
    const answers = up.out.split('\n').filter((l) => /^\s*hello from node[1-3]$/.test(l));
    assert.equal(answers.length, 4, `four curls (two layer-2, two BGP) answered:\n${up.out}`);
    assert.match(up.out, /demo\/hello\s+198\.51\.100\.64\s+answered by node[1-3] \(layer 2\)/);
    assert.match(up.out, /demo\/hello-bgp\s+198\.51\.100\.128\s+routed to node1, node2, node3 \(BGP/);
    assert.match(up.out, /demo\/hello-bgp\s+2001:db8:c::\s+routed to node1, node2, node3 \(BGP/);
    assert.match(up.out, /ip netns exec blb\w+-client2 curl -s -g http:\/\/198\.51\.100\.128\//);
  });

  it('lab up ends with one curl to two host names through one address, each answered by its own backend', () => {
    assert.equal(up.code, 0, up.out);
    assert.match(up.out, /traefik\/traefik\s+198\.51\.100\.72\s+answered by node[1-3] \(layer 2\)/);
    const block = up.out.slice(up.out.indexOf('Two host names through one address'));
    assert.match(
      block,
      /^Two host names through one address \(Traefik; blue\.example\.test by an Ingress, green\.example\.test by an HTTPRoute\):\n {2}\$ ip netns exec blb\w+-client curl -s --max-time 3 --resolve blue\.example\.test:80:198\.51\.100\.72 --resolve green\.example\.test:80:198\.51\.100\.72 http:\/\/blue\.example\.test\/ http:\/\/green\.example\.test\/\n {2}blue from node[1-3]\n {2}green from node[1-3]\n\nNext:/,
      up.out,
    );
  });

  it('lab status and lab env describe the running lab', async () => {
    const status = await beaconlb(['lab', 'status']);
    assert.equal(status.code, 0, status.out);
    assert.match(status.out, /routed to node1, node2, node3/);
    const envOut = await beaconlb(['lab', 'env']);
    assert.equal(envOut.code, 0, envOut.out);
    assert.match(envOut.out, /^export KUBECONFIG=\//m);
    assert.match(envOut.out, /^export LAB_CLIENT2=blb\w+-client2$/m);
  });

  it('every command block marked lab-test in the docs runs as written', async () => {
    const blocks = labTestBlocks();
    assert.ok(blocks.length >= 5, `found ${blocks.length} blocks`);
    for (const block of blocks) {
      const result = await run('bash', ['-euo', 'pipefail', '-c', block.script], env, 60_000);
      assert.equal(result.code, 0, `${block.where} failed:\n${block.script}\n--- output ---\n${result.out}`);
    }
  });

  /** The node whose MAC answers ARP for the ingress address from the client, alone; undefined if none or several. */
  const ingressOwner = async (): Promise<string | undefined> => {
    const state = readLabState(stateDir);
    const macs = await arpingMacs(state?.client?.ns ?? '', INGRESS_IP, 1, 'eth0', 1);
    const names = macs.map((mac) => state?.nodes?.find((n) => n.mac === mac)?.name ?? mac);
    return names.length === 1 ? names[0] : undefined;
  };
  /** Polls until another node than `from` alone answers for the ingress address; returns it and the seconds taken. */
  const takeover = async (from: string): Promise<{ node: string; seconds: number }> => {
    const start = performance.now();
    while (performance.now() - start < 20_000) {
      const now = await ingressOwner();
      if (now && now !== from) return { node: now, seconds: (performance.now() - start) / 1000 };
      await sleep(100);
    }
    assert.fail(`no node but ${from} took over ${INGRESS_IP} within about 20 s`);
  };
  /** Both host names through the one address, from the client: each answered by its own backend (any node). */
  const bothHostsAnswer = async (): Promise<void> => {
    const res = await execIn(readLabState(stateDir)?.client?.ns ?? '', INGRESS_CURL, 8000);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^blue from node[1-3]\ngreen from node[1-3]\n$/, res.stdout);
  };

  it('a node whose Traefik dies stops answering for the ingress address (externalTrafficPolicy Local)', async () => {
    const owner = await ingressOwner();
    assert.ok(owner, `one node answers for ${INGRESS_IP}`);
    const ns = readLabState(stateDir)?.nodes?.find((n) => n.name === owner)?.ns ?? '';
    const pids = (await execIn(undefined, ['ip', 'netns', 'pids', ns])).stdout.split('\n').filter(Boolean);
    const traefik = pids.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'traefik';
      } catch {
        return false;
      }
    });
    assert.equal(traefik.length, 1, `one Traefik in ${ns}: ${traefik.join()}`);
    process.kill(Number(traefik[0]), 'SIGKILL');
    const moved = await takeover(owner);
    await bothHostsAnswer();
    console.log(`# ${moved.node} took over ${INGRESS_IP} from ${owner} after ${moved.seconds.toFixed(2)} s`);
    // The lab starts Traefik again (5 s later) and marks it ready once it answers /ping.
    const kubectl = readLabState(stateDir)?.kubectl ?? 'kubectl';
    let ready = false;
    for (let i = 0; i < 60 && !ready; i++) {
      await sleep(500);
      const slice = await run(
        kubectl,
        [
          '-n',
          'traefik',
          'get',
          'endpointslice',
          'traefik-lab',
          '-o',
          `jsonpath={.endpoints[?(@.nodeName=="${owner}")].conditions.ready}`,
        ],
        { KUBECONFIG: readLabState(stateDir)?.kubeconfig ?? '' },
        10_000,
      );
      ready = slice.out.trim() === 'true';
    }
    assert.ok(ready, `Traefik on ${owner} is ready again`);
  });

  it('the ingress address moves when the speaker of the node answering for it is killed; both hosts still answer', async () => {
    const owner = await ingressOwner();
    assert.ok(owner, `one node answers for ${INGRESS_IP}`);
    const speakerPid = readLabState(stateDir)?.nodes?.find((n) => n.name === owner)?.speakerPid;
    assert.ok(speakerPid);
    process.kill(speakerPid, 'SIGKILL');
    const moved = await takeover(owner);
    await bothHostsAnswer();
    // The lab restarts the speaker (5 s later, as a DaemonSet would): wait for it, so later tests find three.
    for (let i = 0; i < 150; i++) {
      const now = readLabState(stateDir)?.nodes?.find((n) => n.name === owner)?.speakerPid;
      if (now && now !== speakerPid) break;
      await sleep(200);
    }
    assert.notEqual(readLabState(stateDir)?.nodes?.find((n) => n.name === owner)?.speakerPid, speakerPid);
    console.log(`# ${moved.node} took over ${INGRESS_IP} from ${owner} after ${moved.seconds.toFixed(2)} s`);
  });

  it('lab failover kills the owner and another node takes over within the lease', async () => {
    const failover = await beaconlb(['lab', 'failover'], 60_000);
    assert.equal(failover.code, 0, failover.out);
    const took = /took over 198\.51\.100\.64 after ([\d.]+) s/.exec(failover.out);
    assert.ok(took, failover.out);
    assert.ok(Number(took[1]) < 10, failover.out);
  });

  it('lab down leaves no namespace and no process of the lab', async () => {
    const state = readLabState(stateDir);
    assert.ok(state?.runId);
    const pids = [state.supervisorPid, ...(state.nodes ?? []).flatMap((n) => (n.speakerPid ? [n.speakerPid] : []))];
    const down = await beaconlb(['lab', 'down']);
    assert.equal(down.code, 0, down.out);
    const namespaces = await run('ip', ['netns', 'list'], {}, 10_000);
    assert.doesNotMatch(namespaces.out, new RegExp(`blb${state.runId}-`), namespaces.out);
    for (const pid of pids) assert.equal(pidRunning(pid), false, `pid ${pid} still runs`);
    const leftovers = await run('pgrep', ['-f', stateDir], {}, 10_000);
    assert.equal(leftovers.out.trim(), '', `processes still use ${stateDir}: ${leftovers.out}`);
  });
});
