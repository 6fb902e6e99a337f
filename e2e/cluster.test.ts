// Beacon LB as users run it: the image built from the Dockerfile, installed from config/install.yaml on a real
// cluster (the lab's cluster mode: kube-apiserver, etcd, kube-controller-manager, kube-scheduler, and per node
// namespace containerd, kubelet and kube-proxy in nftables mode). Traffic goes from a client namespace through the
// address Beacon LB announces, kube-proxy's rules on the answering node, to real Pods.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CHART_DIR, CHART_NAMESPACE, RELEASE_NAME, runHelm } from '../scripts/helm-chart.ts';
import { cgroupProcesses } from '../src/lab/cluster-host.ts';
import {
  CLUSTER_POOL,
  installBeaconLb,
  startClusterLab,
  type ClusterLab,
  type ClusterNode,
} from '../src/lab/cluster-lab.ts';
import {
  INGRESS_CONTROLLER,
  INGRESS_IP,
  INGRESS_ROUTES_NAMESPACE,
  ingressCurlArgs,
  installIngressDemo,
} from '../src/lab/ingress-demo.ts';
import { arpingMacs } from '../src/lab/layer2-probe.ts';
import { execIn } from '../src/lab/netns.ts';
import { registerRun, sweepStaleRuns, type Run } from '../src/lab/run-registry.ts';
import { waitUntil } from '../src/lab/wait-until.ts';

const NS = 'beaconlb-system';
const DEMO_PORT = 8080;

interface Pod {
  metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
  spec: {
    nodeName?: string;
    containers: Array<{ name: string; image: string; securityContext?: Record<string, unknown> }>;
  };
  status: { podIP?: string; phase?: string; conditions?: Array<{ type: string; status: string }> };
}

describe('Beacon LB on a real cluster', { timeout: 40 * 60_000 }, () => {
  let run: Run;
  let dir: string;
  let lab: ClusterLab;
  let demoImage: string;

  const kubectlJson = (args: readonly string[]): unknown => JSON.parse(lab.kubectl([...args, '-o', 'json']));
  const pods = (namespace: string, selector: string): Pod[] =>
    (kubectlJson(['-n', namespace, 'get', 'pods', '-l', selector]) as { items: Pod[] }).items.filter(
      (p) => !p.metadata.deletionTimestamp,
    );
  const ready = (pod: Pod): boolean =>
    pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const nodeByMac = (mac: string): ClusterNode | undefined => lab.nodes.find((n) => n.mac === mac);
  async function answeringNodes(ip: string): Promise<string[]> {
    const macs = await arpingMacs(lab.client.ns, ip, 2, 'eth0', 2);
    return macs.map((mac) => nodeByMac(mac)?.name ?? mac).sort();
  }
  async function curl(ip: string): Promise<string | undefined> {
    const res = await execIn(lab.client.ns, ['curl', '-s', '--max-time', '2', `http://${ip}/`], 4000);
    return res.code === 0 ? res.stdout.trim() : undefined;
  }
  function ingressOf(name: string): Promise<string> {
    return waitUntil(
      `an address for Service ${name}`,
      () =>
        (kubectlJson(['get', 'service', name]) as { status: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } })
          .status.loadBalancer?.ingress?.[0]?.ip,
      60_000,
      250,
    );
  }
  function demoService(name: string, policy: 'Cluster' | 'Local'): void {
    lab.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: 'default' },
        spec: {
          type: 'LoadBalancer',
          externalTrafficPolicy: policy,
          selector: { app: name },
          ports: [{ port: 80, targetPort: DEMO_PORT }],
        },
      }),
    );
  }
  /** One replica of the demo server, on one of `onNodes`. */
  function demoDeployment(name: string, onNodes: readonly string[]): void {
    lab.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace: 'default' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: {
              affinity: {
                nodeAffinity: {
                  requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [
                      { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: onNodes }] },
                    ],
                  },
                },
              },
              containers: [
                {
                  name: 'hello',
                  image: demoImage,
                  imagePullPolicy: 'Never',
                  ports: [{ containerPort: DEMO_PORT }],
                  readinessProbe: { httpGet: { path: '/', port: DEMO_PORT }, periodSeconds: 1 },
                },
              ],
            },
          },
        },
      }),
    );
    lab.kubectl(['rollout', 'status', `deployment/${name}`, '--timeout=120s'], undefined, 130_000);
  }
  function applyPool(): void {
    lab.kubectl(
      ['apply', '-f', '-'],
      [
        `{"apiVersion":"beaconlb.io/v1alpha1","kind":"IPPool","metadata":{"name":"lab"},"spec":{"addresses":["${CLUSTER_POOL}"]}}`,
        '{"apiVersion":"beaconlb.io/v1alpha1","kind":"L2Advertisement","metadata":{"name":"lab"},"spec":{"ipPools":["lab"]}}',
      ].join('\n'),
    );
  }
  function leaseHolder(): string | undefined {
    return (
      (kubectlJson(['-n', NS, 'get', 'lease', 'beaconlb-controller']) as { spec: { holderIdentity?: string } }).spec
        .holderIdentity || undefined
    );
  }

  before(
    async () => {
      sweepStaleRuns();
      run = registerRun();
      dir = mkdtempSync(join(tmpdir(), `beaconlb-${run.id}-`));
      lab = await startClusterLab({
        run,
        dir,
        log: (line) => {
          console.log(`cluster lab: ${line}`);
        },
      });
      demoImage = lab.images.demo;
      const installStart = performance.now();
      installBeaconLb(lab);
      console.log(
        JSON.stringify({ clusterStartMs: lab.timings, installMs: Math.round(performance.now() - installStart) }),
      );
      applyPool();
      // Cold, this builds kubelet and friends, the image and its bases first (see ADR 0017 for the costs).
    },
    { timeout: 60 * 60_000 },
  );

  after(async () => {
    // before() may have failed at any point: each may be unset.
    const started = lab as ClusterLab | undefined;
    await started?.stop();
    const made = dir as string | undefined;
    if (made) rmSync(made, { recursive: true, force: true });
    (run as Run | undefined)?.close();
  });

  it('runs the controller Deployment with 2 Ready replicas and one leader', async () => {
    const controllers = pods(NS, 'app.kubernetes.io/component=controller');
    assert.equal(controllers.filter(ready).length, 2, JSON.stringify(controllers.map((p) => p.metadata.name)));
    const holder = await waitUntil('a controller leader', leaseHolder, 60_000, 500);
    assert.ok(
      controllers.some((p) => holder.includes(p.metadata.name)),
      `leader ${holder} is not one of the Pods`,
    );
  });

  it('runs a Ready speaker on every node as root with only CAP_NET_RAW and a read-only root filesystem', () => {
    const speakers = pods(NS, 'app.kubernetes.io/component=speaker');
    assert.deepEqual(
      speakers
        .filter(ready)
        .map((p) => p.spec.nodeName)
        .sort(),
      lab.nodes.map((n) => n.name),
    );
    for (const node of lab.nodes) {
      // The process itself, found through its node's cgroups: its capabilities and its root mount.
      const pid = cgroupProcesses(node.cgroupRoot).find((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes('speaker');
        } catch {
          return false;
        }
      });
      assert.ok(pid, `no speaker process under ${node.cgroupRoot}`);
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const capEff = BigInt(`0x${/^CapEff:\s+([0-9a-f]+)$/m.exec(status)?.[1] ?? 'ffff'}`);
      assert.equal(capEff, 1n << 13n, `CapEff ${capEff.toString(16)} on ${node.name} (CAP_NET_RAW is bit 13)`);
      assert.match(status, /^Uid:\s+0\s/m);
      const rootMount = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
        .split('\n')
        .find((line) => line.split(' ')[4] === '/');
      assert.match(rootMount ?? '', /^\S+ \S+ \S+ \S+ \/ ro[, ]/, `root mount on ${node.name}: ${rootMount}`);
    }
  });

  it('answers a LoadBalancer Service (externalTrafficPolicy Cluster) through kube-proxy from a Pod on another node', async () => {
    demoService('hello-cluster', 'Cluster');
    const ip = await ingressOf('hello-cluster');
    const owners = await waitUntil(
      'one node answering ARP',
      async () => {
        const answering = await answeringNodes(ip);
        return answering.length === 1 ? answering : undefined;
      },
      30_000,
      200,
    );
    const others = lab.nodes.map((n) => n.name).filter((n) => !owners.includes(n));
    demoDeployment('hello-cluster', others);
    const [pod] = pods('default', 'app=hello-cluster');
    assert.ok(
      pod?.spec.nodeName && others.includes(pod.spec.nodeName),
      `pod on ${pod?.spec.nodeName}, owner ${owners.join()}`,
    );
    const answer = await waitUntil(`HTTP from ${ip}`, () => curl(ip), 30_000, 250);
    assert.equal(answer, pod.metadata.name);
    console.log(JSON.stringify({ service: 'hello-cluster', ip, owner: owners[0], podNode: pod.spec.nodeName }));
  });

  it('announces an externalTrafficPolicy Local Service only from the node of its Pod', async () => {
    demoService('hello-local', 'Local');
    const ip = await ingressOf('hello-local');
    demoDeployment('hello-local', [lab.nodes[lab.nodes.length - 1]?.name ?? 'node3']);
    const [pod] = pods('default', 'app=hello-local');
    assert.ok(pod?.spec.nodeName);
    const answering = await waitUntil(
      `only ${pod.spec.nodeName} answering for ${ip}`,
      async () => {
        const got = await answeringNodes(ip);
        return got.length === 1 && got[0] === pod.spec.nodeName ? got : undefined;
      },
      60_000,
      250,
    );
    assert.deepEqual(answering, [pod.spec.nodeName]);
    assert.equal(await waitUntil(`HTTP from ${ip}`, () => curl(ip), 30_000, 250), pod.metadata.name);
  });

  it('routes two host names through one address to two backends (Traefik behind Beacon LB: an Ingress and an HTTPRoute)', async () => {
    const start = performance.now();
    const demo = await installIngressDemo(lab, lab.images.ingress, demoImage);
    const installMs = Math.round(performance.now() - start);
    assert.equal(demo.ip, INGRESS_IP, 'the address pinned by beaconlb.io/load-balancer-ips');
    // Layer 2: one node answers ARP for the address, and (externalTrafficPolicy Local) it runs a ready Traefik.
    const traefikNodes = pods(INGRESS_CONTROLLER.namespace, INGRESS_CONTROLLER.selector)
      .filter(ready)
      .map((p) => p.spec.nodeName ?? '');
    const owners = await waitUntil(
      `one node answering ARP for ${demo.ip}`,
      async () => {
        const answering = await answeringNodes(demo.ip);
        return answering.length === 1 ? answering : undefined;
      },
      60_000,
      250,
    );
    assert.ok(
      traefikNodes.includes(owners[0] ?? ''),
      `${owners.join()} answers, Traefik runs on ${traefikNodes.join()}`,
    );
    // Each host name reaches its own backend, from the client, through the one address.
    const backendPod = (backend: string): string =>
      pods(INGRESS_ROUTES_NAMESPACE, `app=${backend}`)[0]?.metadata.name ?? `no ${backend} Pod`;
    const answers = await waitUntil(
      `both host names through ${demo.ip}`,
      async () => {
        const res = await execIn(lab.client.ns, ingressCurlArgs(demo.ip, demo.hosts), 8000);
        const lines = res.stdout.trim().split('\n');
        return res.code === 0 &&
          lines.length === demo.hosts.length &&
          lines.every((line, i) => line === backendPod(demo.hosts[i]?.backend ?? ''))
          ? lines
          : undefined;
      },
      90_000,
      500,
    );
    assert.notEqual(answers[0], answers[1]);
    // A host name no route names gets Traefik's 404 from the same address: the routing is by host name.
    const other = await execIn(
      lab.client.ns,
      [
        'curl',
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--max-time',
        '3',
        '--resolve',
        `unrouted.example.test:80:${demo.ip}`,
        'http://unrouted.example.test/',
      ],
      8000,
    );
    assert.equal(other.stdout, '404');
    // externalTrafficPolicy Local keeps the client's address: Traefik's access log names the client, not a node.
    const logged = await waitUntil(
      'access log entries from the client',
      () => {
        const lines = lab
          .kubectl(['-n', INGRESS_CONTROLLER.namespace, 'logs', '-l', INGRESS_CONTROLLER.selector, '--tail=-1'])
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as { ClientHost?: string; RequestHost?: string });
        const hosts = new Set(
          lines.filter((entry) => entry.ClientHost === lab.client.ip).map((entry) => entry.RequestHost),
        );
        return demo.hosts.every(({ host }) => hosts.has(host)) ? lines : undefined;
      },
      30_000,
      500,
    );
    assert.ok(logged.length > 0);
    // Traefik publishes the address on what it serves: the Ingress status and the Gateway status.
    const ingressStatus = await waitUntil(
      'the Ingress status',
      () => {
        const ingress = kubectlJson(['-n', INGRESS_ROUTES_NAMESPACE, 'get', 'ingress', 'blue']) as {
          status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } };
        };
        return ingress.status?.loadBalancer?.ingress?.[0]?.ip;
      },
      60_000,
      500,
    );
    assert.equal(ingressStatus, demo.ip);
    const gatewayStatus = await waitUntil(
      'the Gateway status',
      () => {
        const gateway = kubectlJson(['-n', INGRESS_CONTROLLER.namespace, 'get', 'gateway', 'traefik']) as {
          status?: { addresses?: Array<{ value?: string }> };
        };
        return gateway.status?.addresses?.[0]?.value;
      },
      60_000,
      500,
    );
    assert.equal(gatewayStatus, demo.ip);
    console.log(JSON.stringify({ ingress: demo.ip, owner: owners[0], traefikNodes, answers, installMs }));
  });

  it('serves kubectl logs of a speaker Pod (the API server reaches the kubelets)', () => {
    const [speaker] = pods(NS, 'app.kubernetes.io/component=speaker');
    assert.ok(speaker);
    const logs = lab.kubectl(['-n', NS, 'logs', speaker.metadata.name, '--tail=20']);
    assert.match(logs, /"component":"speaker"/);
    // Each kubelet serves with its own certificate, kept in its node's directory: not in the host's
    // /var/lib/kubelet/pki, where kubelets of concurrent runs overwrote each other's.
    for (const node of lab.nodes)
      assert.ok(
        existsSync(join(lab.dir, node.name, 'kubelet', 'pki', 'kubelet.crt')),
        `${node.name}: no serving certificate in its directory`,
      );
  });

  it('moves an address to another node when its owner node’s speaker Pod is deleted (takeover measured)', async () => {
    const ip = await ingressOf('hello-cluster');
    const [owner] = await answeringNodes(ip);
    assert.ok(owner);
    const speaker = pods(NS, 'app.kubernetes.io/component=speaker').find((p) => p.spec.nodeName === owner);
    assert.ok(speaker);
    const start = performance.now();
    lab.kubectl(['-n', NS, 'delete', 'pod', speaker.metadata.name, '--wait=false']);
    // One request per probe: arping returns at the first answer.
    const next = await waitUntil(
      'another node answering ARP',
      async () => {
        const macs = await arpingMacs(lab.client.ns, ip, 1, 'eth0', 1);
        const got = macs.map((mac) => nodeByMac(mac)?.name ?? mac);
        return got.length >= 1 && !got.includes(owner) ? got : undefined;
      },
      30_000,
      50,
    );
    const takeoverMs = Math.round(performance.now() - start);
    assert.ok(await waitUntil(`HTTP from ${ip} after takeover`, () => curl(ip), 30_000, 250));
    console.log(JSON.stringify({ takeoverMs, from: owner, to: next }));
    lab.kubectl(['-n', NS, 'rollout', 'status', 'daemonset/beaconlb-speaker', '--timeout=120s'], undefined, 130_000);
  });

  it('fails the controller over to the other replica when the leader Pod is deleted', async () => {
    const holder = await waitUntil('a controller leader', leaseHolder, 60_000, 500);
    const leader = pods(NS, 'app.kubernetes.io/component=controller').find((p) => holder.includes(p.metadata.name));
    assert.ok(leader, `leader ${holder}`);
    const start = performance.now();
    lab.kubectl(['-n', NS, 'delete', 'pod', leader.metadata.name, '--wait=false']);
    const next = await waitUntil(
      'a new leader',
      () => {
        const now = leaseHolder();
        return now && !now.includes(leader.metadata.name) ? now : undefined;
      },
      60_000,
      100,
    );
    const failoverMs = Math.round(performance.now() - start);
    // The new leader allocates: a new Service gets an address.
    demoService('hello-after-failover', 'Cluster');
    assert.ok(await ingressOf('hello-after-failover'));
    console.log(JSON.stringify({ failoverMs, from: leader.metadata.name, to: next }));
    lab.kubectl(
      ['-n', NS, 'rollout', 'status', 'deployment/beaconlb-controller', '--timeout=120s'],
      undefined,
      130_000,
    );
  });

  it('rolls the speakers to a new image tag without losing a request every 20 ms', async () => {
    const ip = await ingressOf('hello-cluster');
    const image = lab.images.beaconlb.image;
    const next = `${image}-rollout`;
    lab.tagImage(image, next);
    const stopFile = join(dir, 'stop-probe');
    // At least 300 requests, one every 20 ms, until the rollout is done.
    const probe = execIn(
      lab.client.ns,
      [
        'bash',
        '-c',
        `n=0; while [ $n -lt 300 ] || [ ! -e ${stopFile} ]; do curl -s -o /dev/null -w '%{http_code}\\n' --max-time 1 http://${ip}/; n=$((n+1)); sleep 0.02; done`,
      ],
      15 * 60_000,
    );
    await sleep(500);
    lab.kubectl(['-n', NS, 'set', 'image', 'daemonset/beaconlb-speaker', `speaker=${next}`]);
    lab.kubectl(['-n', NS, 'rollout', 'status', 'daemonset/beaconlb-speaker', '--timeout=300s'], undefined, 310_000);
    await sleep(500);
    await execIn(undefined, ['touch', stopFile]);
    const result = await probe;
    const codes = result.stdout.split('\n').filter(Boolean);
    const lost = codes.filter((code) => code !== '200').length;
    console.log(JSON.stringify({ rollout: next, requests: codes.length, lost }));
    assert.ok(codes.length >= 300, `${codes.length} requests`);
    assert.equal(lost, 0, `${lost} of ${codes.length} requests failed`);
    const images = pods(NS, 'app.kubernetes.io/component=speaker').map((p) => p.spec.containers[0]?.image);
    assert.deepEqual(
      images,
      lab.nodes.map(() => next),
    );
  });

  it('installs the same way from the Helm chart after config/install.yaml is removed', async () => {
    lab.kubectl(
      ['delete', '-f', join(import.meta.dirname, '..', 'config', 'install.yaml'), '--wait=true', '--timeout=180s'],
      undefined,
      190_000,
    );
    const home = join(dir, 'helm');
    const helm = runHelm(
      [
        `--kubeconfig=${lab.kubeconfig}`,
        'install',
        RELEASE_NAME,
        join(import.meta.dirname, '..', CHART_DIR),
        '--namespace',
        CHART_NAMESPACE,
        '--create-namespace',
      ],
      {
        ...process.env,
        HELM_CONFIG_HOME: join(home, 'config'),
        HELM_CACHE_HOME: join(home, 'cache'),
        HELM_DATA_HOME: join(home, 'data'),
      },
    );
    assert.equal(helm.status, 0, helm.stderr);
    for (const workload of ['deployment/beaconlb-controller', 'daemonset/beaconlb-speaker']) {
      lab.kubectl(['-n', NS, 'rollout', 'status', workload, '--timeout=240s'], undefined, 250_000);
    }
    assert.equal(pods(NS, 'app.kubernetes.io/component=speaker').filter(ready).length, lab.nodes.length);
    // The CRDs went with config/install.yaml, and with them the pool: the Service keeps its address once it is back.
    applyPool();
    const ip = await ingressOf('hello-cluster');
    assert.ok(await waitUntil(`HTTP from ${ip} after the Helm install`, () => curl(ip), 60_000, 250));
  });
});
