// `beaconlb lab up|down|failover|status`: a local cluster with Beacon LB in network namespaces (see docs/lab.md).
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from './command.ts';
import { UsageError } from './command.ts';
import { integerFlag, stringFlag } from './flag-values.ts';
import { createLogger } from '../platform/logger.ts';
import { readLabState, type LabState } from '../lab/lab-state.ts';
import { superviseLab } from '../lab/lab-supervisor.ts';
import { execIn } from '../lab/netns.ts';
import { arpingMacs, ndiscMacs } from '../lab/layer2-probe.ts';
import { sweepStaleRuns } from '../lab/run-registry.ts';
import { controlPlaneBinaries } from '../lab/control-plane.ts';
import { mainEntry } from '../lab/component-process.ts';
import { pidRunning } from '../lab/managed-process.ts';
import { superviseClusterLab } from '../lab/cluster-supervisor.ts';
import { nodeComponentBinaries, prepareClusterImages } from '../lab/cluster-images.ts';
import { ingressCurlArgs } from '../lab/ingress-demo.ts';
import { traefikBinary } from '../lab/traefik-build.ts';

const actions = ['up', 'down', 'failover', 'status', 'env', 'supervise'] as const;

async function answeringNode(state: LabState, ip: string): Promise<string | undefined> {
  const client = state.client?.ns ?? '';
  const macs = ip.includes(':')
    ? await ndiscMacs(client, ip, 'eth0', 1, 500)
    : await arpingMacs(client, ip, 1, 'eth0', 1);
  const names = macs.map((mac) => state.nodes?.find((n) => n.mac === mac)?.name ?? mac);
  return names.length ? names.join('+') : undefined;
}

async function curl(ns: string, ip: string): Promise<string> {
  const url = ip.includes(':') ? `http://[${ip}]/` : `http://${ip}/`;
  const res = await execIn(ns, ['curl', '-s', '-g', '--max-time', '3', url], 5000);
  return res.code === 0 ? res.stdout.trim() : `failed (${res.stderr.trim() || `curl exit ${res.code}`})`;
}

/** The nodes the router's kernel forwards an address to (its ECMP next hops), by name. */
async function routedNodes(state: LabState, ip: string): Promise<string[]> {
  const res = await execIn(
    undefined,
    ['ip', '-n', state.router?.ns ?? '', '-j', ip.includes(':') ? '-6' : '-4', 'route', 'show', ip],
    5000,
  );
  if (res.code !== 0 || !res.stdout.trim()) return [];
  const routes = JSON.parse(res.stdout) as Array<{ gateway?: string; nexthops?: Array<{ gateway?: string }> }>;
  const gateways = routes.flatMap((r) => (r.nexthops ? r.nexthops.map((h) => h.gateway ?? '') : [r.gateway ?? '']));
  return gateways.map((g) => state.nodes?.find((n) => n.ipv4 === g || n.ipv6 === g)?.name ?? g).sort();
}

async function printStatus(state: LabState): Promise<void> {
  if (state.mode === 'cluster') {
    console.log(
      `Beacon LB cluster lab (run ${state.runId ?? '?'}): ${state.nodes?.length ?? 0} nodes with containerd, kubelet and kube-proxy; Beacon LB installed from config/install.yaml; one client`,
    );
    console.log(
      `  kubectl:   ${state.kubectl ?? 'kubectl'} --kubeconfig ${state.kubeconfig ?? '?'} get pods,svc -A -o wide`,
    );
    for (const [svc, ips] of Object.entries(state.services ?? {})) {
      for (const ip of ips)
        console.log(
          `  ${svc.padEnd(16)} ${ip.padEnd(20)} answered by ${(await answeringNode(state, ip)) ?? 'nobody'} (layer 2)`,
        );
    }
    return;
  }
  console.log(
    `Beacon LB lab (run ${state.runId ?? '?'}): ${state.nodes?.length ?? 0} nodes, a ${state.router?.kind ?? ''} router (AS ${state.router?.asn ?? '?'}), two clients`,
  );
  console.log(
    `  kubectl:   ${state.kubectl ?? 'kubectl'} --kubeconfig ${state.kubeconfig ?? '?'} get svc,ippools,bgppeers -A`,
  );
  for (const [svc, ips] of Object.entries(state.services ?? {})) {
    for (const ip of ips) {
      if (svc.endsWith('-bgp')) {
        const nodes = await routedNodes(state, ip);
        console.log(
          `  ${svc.padEnd(16)} ${ip.padEnd(20)} routed to ${nodes.length ? nodes.join(', ') : 'nobody'} (BGP, ECMP at the router)`,
        );
      } else {
        console.log(
          `  ${svc.padEnd(16)} ${ip.padEnd(20)} answered by ${(await answeringNode(state, ip)) ?? 'nobody'} (layer 2)`,
        );
      }
    }
  }
}

/** The ingress demo's one curl to every host name through the one address, with its answers. */
async function printIngress(state: LabState): Promise<void> {
  if (!state.ingress) return;
  const { ip, hosts } = state.ingress;
  const client = state.client?.ns ?? '';
  console.log(
    `\nTwo host names through one address (Traefik; ${hosts.map((h) => `${h.host} by an ${h.route}`).join(', ')}):`,
  );
  const argv = ingressCurlArgs(ip, hosts);
  console.log(`  $ ip netns exec ${client} ${argv.join(' ')}`);
  const res = await execIn(client, argv, 8000);
  const answer = res.code === 0 ? res.stdout.trim() : `failed (${res.stderr.trim() || `curl exit ${res.code}`})`;
  for (const line of answer.split('\n')) console.log(`  ${line}`);
}

/** Cluster mode: deletes the speaker Pod on the node answering for `ip` (its DaemonSet makes a new one). */
async function clusterFailover(state: LabState, ip: string, owner: string | undefined): Promise<number> {
  if (!owner || owner.includes('+') || !state.kubectl || !state.kubeconfig) {
    console.log(`cannot tell which node owns ${ip} (answered by ${owner ?? 'nobody'})`);
    return 1;
  }
  const kubectl = [state.kubectl, `--kubeconfig=${state.kubeconfig}`, '-n', 'beaconlb-system'];
  const pods = await execIn(
    undefined,
    [
      ...kubectl,
      'get',
      'pods',
      '-l',
      'app.kubernetes.io/component=speaker',
      '--field-selector',
      `spec.nodeName=${owner}`,
      '-o',
      'name',
    ],
    20_000,
  );
  const pod = pods.stdout.trim().split('\n')[0];
  if (!pod) {
    console.log(`no speaker Pod on ${owner}`);
    return 1;
  }
  console.log(`${ip} is answered by ${owner}; deleting its speaker Pod (${pod})`);
  const deleted = performance.now();
  await execIn(undefined, [...kubectl, 'delete', pod, '--wait=false'], 20_000);
  for (let i = 0; i < 200; i++) {
    const now = await answeringNode(state, ip);
    if (now && now !== owner && !now.includes('+')) {
      console.log(
        `${now} took over ${ip} after ${((performance.now() - deleted) / 1000).toFixed(2)} s; the client says: ${await curl(state.client?.ns ?? '', ip)}`,
      );
      return 0;
    }
    await sleep(50);
  }
  console.log('no other node took over within 10 s');
  return 1;
}

export const labCommand: Command = {
  name: 'lab',
  summary: 'Run a local lab: control plane, node namespaces with speakers, a router and clients.',
  usage: 'lab <up|down|failover|status|env> [flags]',
  flags: {
    nodes: { type: 'string', description: 'Number of node namespaces.', default: '3' },
    'state-dir': {
      type: 'string',
      description: 'Where the lab keeps its state and logs.',
      default: '/var/lib/beaconlb-lab',
      env: 'BEACONLB_LAB_STATE_DIR',
    },
    router: { type: 'string', description: 'The BGP router: bird or frr.', default: 'bird' },
    cluster: {
      type: 'boolean',
      description:
        "A real cluster: kubelet, containerd and kube-proxy per node, Beacon LB's image installed from config/install.yaml.",
      default: false,
    },
  },
  // Long (~170 lines): one branch per lab action, each a few calls; splitting it would only move the branches apart.
  async run(flags, positionals) {
    const action = positionals[0];
    if (!action || !(actions as readonly string[]).includes(action)) {
      throw new UsageError(`expected one of up, down, failover, status, env, got ${action ?? 'nothing'}`);
    }
    const dir = stringFlag(flags, 'state-dir');
    const state = readLabState(dir);
    const running = state !== undefined && pidRunning(state.supervisorPid);

    const router = stringFlag(flags, 'router');
    if (router !== 'bird' && router !== 'frr') throw new UsageError(`--router must be bird or frr, not ${router}`);
    const cluster = flags['cluster'] === true;
    if (action === 'supervise') {
      if (cluster)
        return superviseClusterLab(dir, integerFlag(flags, 'nodes'), createLogger({ level: 'info', component: 'lab' }));
      return superviseLab(dir, integerFlag(flags, 'nodes'), router, createLogger({ level: 'info', component: 'lab' }));
    }
    if (action === 'up') {
      if (running && state.phase === 'ready') {
        await printStatus(state);
        return 0;
      }
      if (running)
        throw new UsageError(`a lab is ${state.phase} (supervisor pid ${state.supervisorPid}); run lab down first`);
      controlPlaneBinaries(); // builds or finds the control plane first, with its progress on the terminal
      if (cluster) {
        // The same for kubelet and friends and the images: minutes the first time, then cached.
        nodeComponentBinaries();
        prepareClusterImages();
      } else {
        await traefikBinary(); // the ingress's Traefik: minutes the first time (with progress), then cached
      }
      mkdirSync(join(dir, 'logs'), { recursive: true });
      const log = openSync(join(dir, 'logs', 'supervisor.log'), 'a');
      const supervise = [
        mainEntry(),
        'lab',
        'supervise',
        `--state-dir=${dir}`,
        `--nodes=${integerFlag(flags, 'nodes')}`,
        `--router=${router}`,
      ];
      const child = spawn(process.execPath, cluster ? [...supervise, '--cluster'] : supervise, {
        detached: true,
        stdio: ['ignore', log, log],
      });
      closeSync(log);
      child.unref();
      process.stdout.write('starting the lab ');
      let current: LabState | undefined;
      for (let i = 0; i < (cluster ? 720 : 360); i++) {
        await sleep(500);
        current = readLabState(dir);
        if (current && current.supervisorPid === child.pid && (current.phase === 'ready' || current.phase === 'failed'))
          break;
        if (child.exitCode !== null) break;
        process.stdout.write('.');
      }
      process.stdout.write('\n');
      if (current === undefined || current.phase !== 'ready') {
        console.error(
          `the lab did not start: ${current?.error ?? 'see the log'}\n  log: ${join(dir, 'logs', 'supervisor.log')}`,
        );
        return 1;
      }
      await printStatus(current);
      const client = current.client?.ns ?? '';
      console.log("\nFrom the client on the nodes' segment:");
      for (const ip of current.services?.['demo/hello'] ?? []) {
        const url = ip.includes(':') ? `'http://[${ip}]/'` : `http://${ip}/`;
        console.log(`  $ ip netns exec ${client} curl -s -g ${url}`);
        console.log(`  ${await curl(client, ip)}`);
      }
      if (current.mode === 'cluster') {
        await printIngress(current);
        console.log(
          `\nup in ${((current.startMillis ?? 0) / 1000).toFixed(1)} s. Next: bin/beaconlb lab failover   (deletes the owner's speaker Pod and times the takeover)`,
        );
        console.log(`      eval "$(bin/beaconlb lab env)"; kubectl get pods -A -o wide | bin/beaconlb lab down`);
        return 0;
      }
      const client2 = current.client2?.ns ?? '';
      console.log(
        `\nFrom the client behind the router (BGP, ${current.router?.kind ?? 'router'} spreads flows over the nodes):`,
      );
      for (const ip of current.services?.['demo/hello-bgp'] ?? []) {
        const url = ip.includes(':') ? `'http://[${ip}]/'` : `http://${ip}/`;
        console.log(`  $ ip netns exec ${client2} curl -s -g ${url}`);
        console.log(`  ${await curl(client2, ip)}`);
      }
      await printIngress(current);
      console.log(`\nNext: bin/beaconlb lab failover   (kills the owner's speaker and times the takeover)`);
      console.log(`      bin/beaconlb lab status | bin/beaconlb lab down`);
      return 0;
    }
    if (action === 'env') {
      // For `eval "$(bin/beaconlb lab env)"`: kubectl and beaconlb status reach the lab; the namespaces by role.
      if (!running || state.phase !== 'ready') {
        console.error('no lab is running (bin/beaconlb lab up)');
        return 1;
      }
      const lines = [
        `export KUBECONFIG=${state.kubeconfig ?? ''}`,
        `export PATH=${dirname(state.kubectl ?? 'kubectl')}:$PATH`,
        `export LAB_CLIENT=${state.client?.ns ?? ''}`,
        `export LAB_CLIENT2=${state.client2?.ns ?? ''}`,
        `export LAB_ROUTER=${state.router?.ns ?? ''}`,
        `export LAB_LOGS=${state.logDir ?? ''}`,
        ...(state.nodes ?? []).map((n) => `export LAB_${n.name.toUpperCase()}=${n.ns}`),
      ];
      console.log(lines.join('\n'));
      return 0;
    }
    if (action === 'status') {
      if (!running) {
        console.log('no lab is running (bin/beaconlb lab up)');
        return 1;
      }
      await printStatus(state);
      return 0;
    }
    if (action === 'failover') {
      if (!running || state.phase !== 'ready') {
        console.log('no lab is running (bin/beaconlb lab up)');
        return 1;
      }
      const ip = (state.services?.['demo/hello'] ?? [])[0];
      if (!ip) return 1;
      const owner = await answeringNode(state, ip);
      if (state.mode === 'cluster') return clusterFailover(state, ip, owner);
      const node = state.nodes?.find((n) => n.name === owner);
      if (!node?.speakerPid) {
        console.log(`cannot tell which node owns ${ip} (answered by ${owner ?? 'nobody'})`);
        return 1;
      }
      console.log(`${ip} is answered by ${node.name}; killing its speaker (kill -9, pid ${node.speakerPid})`);
      const killed = performance.now();
      process.kill(node.speakerPid, 'SIGKILL');
      for (let i = 0; i < 200; i++) {
        const now = await answeringNode(state, ip);
        if (now && now !== node.name && !now.includes('+')) {
          console.log(
            `${now} took over ${ip} after ${((performance.now() - killed) / 1000).toFixed(2)} s (lease duration 3 s); the client says: ${await curl(state.client?.ns ?? '', ip)}`,
          );
          console.log(`the lab restarts ${node.name}'s speaker, as its DaemonSet would`);
          return 0;
        }
        await sleep(50);
      }
      console.log('no other node took over within 10 s');
      return 1;
    }
    // down
    if (running) {
      process.kill(state.supervisorPid, 'SIGTERM');
      for (let i = 0; i < 600 && pidRunning(state.supervisorPid); i++) await sleep(50);
      if (pidRunning(state.supervisorPid)) process.kill(state.supervisorPid, 'SIGKILL');
    }
    const swept = sweepStaleRuns();
    console.log(`lab down${swept.length ? ` (removed ${swept.length} leftover namespaces)` : ''}`);
    return 0;
  },
};
