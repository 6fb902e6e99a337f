// The lab's cluster mode: Beacon LB as users run it. A real control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler) in its own network namespace on the node segment, and per node namespace
// a containerd, a kubelet and a kube-proxy (nftables); Beacon LB is installed from config/install.yaml and its
// image (built from the Dockerfile by scripts/image.sh) runs as real Pods.
//
//   cp (198.51.100.10) node1..N (.11..) client (.100) ── br-a (198.51.100.0/25, in the switch namespace)
//   Service CIDR 203.0.113.0/26, pod CIDRs 203.0.113.128/25 (a /27 per node): documentation prefixes only, since
//   kube-proxy really sends traffic to them. The root namespace gets nothing; the test process reaches the API
//   server through a Unix-socket bridge on its loopback (ADR 0001, ADR 0017).
//
// The node components' configuration files are written from cluster-node-config.ts. startClusterLab is one long
// sequence (~390 lines: control plane, then each node's containerd, kubelet and kube-proxy, then the waits), each
// step using what the last made and undoing everything on failure; it stays whole so the order reads top to bottom.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createControlPlaneCertificates, type ControlPlaneCertificates } from './certificates.ts';
import {
  CLUSTER_HOST_RECORD,
  createCgroupRoot,
  must,
  processesNaming,
  readSysctls,
  removeCgroupRoot,
  restoreSysctls,
  startMountHolder,
  type ClusterHostRecord,
  type MountHolder,
  type SysctlValues,
} from './cluster-host.ts';
import { nodeComponentBinaries, prepareClusterImages, type ClusterImages } from './cluster-images.ts';
import { controlPlaneBinaries } from './control-plane.ts';
import { freePort } from './free-port.ts';
import { writeKubeconfig } from './kubeconfig-file.ts';
import { startProcess, type ManagedProcess } from './managed-process.ts';
import { ipBatch, mustExecIn } from './netns.ts';
import { deleteNamespace, type Run } from './run-registry.ts';
import { waitUntil } from './wait-until.ts';
import { cniConfig, containerdConfig, kubeProxyConfig, kubeletConfig } from './cluster-node-config.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

export const CLUSTER_SEGMENT = { prefix: '198.51.100', length: 25 } as const;
export const CLUSTER_SERVICE_CIDR = '203.0.113.0/26';
/** The `kubernetes` Service's ClusterIP: the first address of the Service CIDR. */
export const KUBERNETES_SERVICE_IP = '203.0.113.1';
export const CLUSTER_POD_CIDR = '203.0.113.128/25';
/** Addresses on the node segment no host uses: the lab's IPPool. */
export const CLUSTER_POOL = '198.51.100.64/28';
const CP_IP = `${CLUSTER_SEGMENT.prefix}.10`;
const API_PORT = 6443;

export interface ClusterNode {
  readonly name: string;
  readonly ns: string;
  readonly ip: string;
  readonly podCidr: string;
  readonly mac: string;
  /** kubelet's cgroupRoot (in every cgroup v1 hierarchy): its Pods' processes are below it. */
  readonly cgroupRoot: string;
}

export interface ClusterLab {
  readonly dir: string;
  readonly nodes: readonly ClusterNode[];
  readonly client: { readonly ns: string; readonly ip: string };
  readonly cp: { readonly ns: string; readonly ip: string };
  readonly switchNs: string;
  /** Admin kubeconfig for this process (the root namespace's loopback bridge). */
  readonly kubeconfig: string;
  readonly certificates: ControlPlaneCertificates;
  readonly images: ClusterImages;
  /** Milliseconds per start-up phase and in total. */
  readonly timings: Readonly<Record<string, number>>;
  kubectl(args: readonly string[], input?: string, timeoutMs?: number): string;
  /** Imports a docker-archive into every node's containerd. */
  importImage(archive: string): void;
  /** Gives an image every node has another name on every node (`ctr images tag`), e.g. a new version's tag. */
  tagImage(source: string, target: string): void;
  stop(): Promise<void>;
}

export interface ClusterLabOptions {
  run: Run;
  dir: string;
  nodes?: number;
  /** Called with progress lines. */
  log?: (line: string) => void;
}

export async function startClusterLab(options: ClusterLabOptions): Promise<ClusterLab> {
  const { run, dir } = options;
  const nodeCount = options.nodes ?? 3;
  if (nodeCount > 4) throw new Error('the cluster lab has pod CIDRs for at most 4 nodes');
  const log = options.log ?? (() => undefined);
  const timings: Record<string, number> = {};
  const started = performance.now();
  let phaseStart = started;
  const phase = (name: string): void => {
    const now = performance.now();
    timings[name] = Math.round(now - phaseStart);
    phaseStart = now;
    log(`${name}: ${(timings[name] / 1000).toFixed(1)} s`);
  };
  mkdirSync(dir, { recursive: true });

  const cpBin = controlPlaneBinaries();
  const nodeBin = nodeComponentBinaries();
  phase('binaries');
  const images = prepareClusterImages();
  phase('images');

  const processes: ManagedProcess[] = [];
  const namespaces: string[] = [];
  const cgroupRoots: string[] = [];
  let holder: MountHolder | undefined;
  const sysctls: SysctlValues = readSysctls();
  // For a later run's sweep, should this one die without its teardown.
  const record: ClusterHostRecord = { dir, cgroupRoots, sysctls };
  const writeRecord = (): void => {
    writeFileSync(join(run.dir, CLUSTER_HOST_RECORD), `${JSON.stringify(record)}\n`);
  };
  writeRecord();
  const track = (p: ManagedProcess): ManagedProcess => {
    processes.push(p);
    run.recordProcess(p.pid);
    return p;
  };

  const stop = async (): Promise<void> => {
    // Node components first (kubelet would restart containers), then what they left: shims and containers.
    for (const p of [...processes].reverse()) await p.stop(p.name.startsWith('kube-apiserver') ? 1500 : 800);
    for (const pid of processesNaming(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    const left = (await Promise.all(cgroupRoots.map((root) => removeCgroupRoot(root)))).flat();
    await holder?.stop();
    const changed = restoreSysctls(sysctls);
    if (changed.length) log(`restored host settings kubelet changed: ${changed.join(', ')}`);
    for (const ns of [...namespaces].reverse()) deleteNamespace(ns);
    if (left.length) throw new Error(`cgroups left behind:\n${left.join('\n')}`);
  };

  try {
    // Network: a switch namespace with the segment's bridge, the control plane, nodes and a client on it.
    const switchNs = run.namespace('sw');
    const newNs = async (role: string, sysctlSettings: readonly string[]): Promise<string> => {
      const ns = run.namespace(role);
      await mustExecIn(undefined, ['ip', 'netns', 'add', ns]);
      namespaces.push(ns);
      ipBatch(ns, ['link set lo up']);
      if (sysctlSettings.length) await mustExecIn(ns, ['sysctl', '-q', '-w', ...sysctlSettings]);
      return ns;
    };
    await newNs('sw', []);
    ipBatch(switchNs, ['link add br-a type bridge stp_state 0 forward_delay 0 mcast_snooping 0', 'link set br-a up']);
    const attach = async (role: string, ip: string, sysctlSettings: readonly string[]): Promise<string> => {
      const ns = await newNs(role, sysctlSettings);
      ipBatch(switchNs, [
        `link add a-${role} type veth peer name eth0 netns ${ns}`,
        `link set a-${role} master br-a up`,
      ]);
      ipBatch(ns, ['link set eth0 up', `address add ${ip}/${CLUSTER_SEGMENT.length} dev eth0`]);
      return ns;
    };
    const cpNs = await attach('cp', CP_IP, []);
    const nodes: ClusterNode[] = [];
    for (let i = 1; i <= nodeCount; i++) {
      const name = `node${i}`;
      const ip = `${CLUSTER_SEGMENT.prefix}.${10 + i}`;
      // arp_ignore=1: a node answers ARP only for its own interface's addresses (the speaker answers for the rest).
      const ns = await attach(name, ip, ['net.ipv4.ip_forward=1', 'net.ipv4.conf.all.arp_ignore=1']);
      const macs = JSON.parse(await mustExecIn(ns, ['ip', '-j', 'link', 'show', 'dev', 'eth0'])) as Array<{
        address: string;
      }>;
      nodes.push({
        name,
        ns,
        ip,
        podCidr: `203.0.113.${128 + 32 * (i - 1)}/27`,
        mac: macs[0]?.address ?? '',
        cgroupRoot: ns,
      });
    }
    const clientIp = `${CLUSTER_SEGMENT.prefix}.100`;
    const clientNs = await attach('client', clientIp, []);
    // Pod CIDRs are routed node to node and from the control plane (in-cluster clients reach the API server).
    for (const node of nodes) {
      ipBatch(
        node.ns,
        nodes.filter((other) => other !== node).map((other) => `route add ${other.podCidr} via ${other.ip}`),
      );
    }
    ipBatch(
      cpNs,
      nodes.map((node) => `route add ${node.podCidr} via ${node.ip}`),
    );
    // Host-network clients on a node (kubelet's probes, the speaker's in-cluster API client) connect to ClusterIPs:
    // the kernel needs a route before kube-proxy's output DNAT rewrites the destination.
    for (const node of nodes) ipBatch(node.ns, [`route add ${CLUSTER_SERVICE_CIDR} via ${CP_IP}`]);
    phase('network');

    // Control plane inside cp, reached from here through a socat bridge on loopback.
    const certificates = createControlPlaneCertificates(dir, ['127.0.0.1', CP_IP, KUBERNETES_SERVICE_IP]);
    const inClusterKubeconfig = writeKubeconfig(
      join(dir, 'cluster.kubeconfig'),
      `https://${CP_IP}:${API_PORT}`,
      certificates.caCert,
      'admin',
      {
        clientCertificate: certificates.adminCert,
        clientKey: certificates.adminKey,
      },
    );
    track(
      startProcess({
        name: 'etcd',
        command: join(cpBin, 'etcd'),
        netns: cpNs,
        args: [
          '--name=beaconlb-lab',
          `--data-dir=${join(dir, 'etcd-data')}`,
          '--listen-client-urls=http://127.0.0.1:2379',
          '--advertise-client-urls=http://127.0.0.1:2379',
          '--listen-peer-urls=http://127.0.0.1:2380',
          '--initial-advertise-peer-urls=http://127.0.0.1:2380',
          '--initial-cluster=beaconlb-lab=http://127.0.0.1:2380',
          '--unsafe-no-fsync',
          '--log-level=warn',
        ],
        logFile: join(dir, 'etcd.log'),
      }),
    );
    track(
      startProcess({
        name: 'kube-apiserver',
        command: join(cpBin, 'kube-apiserver'),
        netns: cpNs,
        args: [
          '--etcd-servers=http://127.0.0.1:2379',
          `--cert-dir=${dir}`,
          `--tls-cert-file=${certificates.serverCert}`,
          `--tls-private-key-file=${certificates.serverKey}`,
          `--client-ca-file=${certificates.caCert}`,
          `--secure-port=${API_PORT}`,
          '--bind-address=0.0.0.0',
          `--advertise-address=${CP_IP}`,
          `--service-cluster-ip-range=${CLUSTER_SERVICE_CIDR}`,
          '--allow-privileged',
          '--authorization-mode=Node,RBAC',
          '--service-account-issuer=https://kubernetes.default.svc',
          `--service-account-key-file=${certificates.serviceAccountPublicKey}`,
          `--service-account-signing-key-file=${certificates.serviceAccountPrivateKey}`,
          '--kubelet-preferred-address-types=InternalIP',
          '--shutdown-delay-duration=0s',
          '--v=1',
        ],
        logFile: join(dir, 'kube-apiserver.log'),
      }),
    );
    const socket = join(dir, 'api.sock');
    track(
      startProcess({
        name: 'api-bridge-cp',
        command: 'socat',
        netns: cpNs,
        args: [`UNIX-LISTEN:${socket},fork,unlink-early,mode=600`, `TCP:${CP_IP}:${API_PORT}`],
        logFile: join(dir, 'api-bridge-cp.log'),
      }),
    );
    const localPort = await freePort();
    track(
      startProcess({
        name: 'api-bridge-local',
        command: 'socat',
        args: [`TCP-LISTEN:${localPort},bind=127.0.0.1,fork,reuseaddr`, `UNIX-CONNECT:${socket}`],
        logFile: join(dir, 'api-bridge-local.log'),
      }),
    );
    const kubeconfig = writeKubeconfig(
      join(dir, 'admin.kubeconfig'),
      `https://127.0.0.1:${localPort}`,
      certificates.caCert,
      'admin',
      {
        clientCertificate: certificates.adminCert,
        clientKey: certificates.adminKey,
      },
    );
    const kubectl = (args: readonly string[], input?: string, timeoutMs = 60_000): string =>
      execFileSync(join(cpBin, 'kubectl'), [`--kubeconfig=${kubeconfig}`, ...args], {
        encoding: 'utf8',
        input,
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
      });
    const alive = (): void => {
      const dead = processes.find((p) => !p.running());
      if (dead) throw new Error(`${dead.name} exited:\n${dead.tail()}`);
    };
    await waitUntil(
      'kube-apiserver /readyz',
      () => {
        alive();
        return kubectl(['get', '--raw', '/readyz']).trim() === 'ok' ? true : undefined;
      },
      90_000,
      250,
    );
    track(
      startProcess({
        name: 'kube-controller-manager',
        command: join(nodeBin, 'kube-controller-manager'),
        netns: cpNs,
        args: [
          `--kubeconfig=${inClusterKubeconfig}`,
          '--leader-elect=false',
          `--root-ca-file=${certificates.caCert}`,
          `--service-account-private-key-file=${certificates.serviceAccountPrivateKey}`,
          `--service-cluster-ip-range=${CLUSTER_SERVICE_CIDR}`,
          '--bind-address=127.0.0.1',
          '--secure-port=10257',
          '--node-monitor-grace-period=20s',
          '--v=1',
        ],
        logFile: join(dir, 'kube-controller-manager.log'),
      }),
    );
    track(
      startProcess({
        name: 'kube-scheduler',
        command: join(nodeBin, 'kube-scheduler'),
        netns: cpNs,
        args: [
          `--kubeconfig=${inClusterKubeconfig}`,
          '--leader-elect=false',
          '--bind-address=127.0.0.1',
          '--secure-port=10259',
          '--v=1',
        ],
        logFile: join(dir, 'kube-scheduler.log'),
      }),
    );
    phase('control plane');

    // Nodes: containerd, images, kubelet, kube-proxy, each in the node's network namespace and the shared private
    // mount namespace.
    holder = await startMountHolder(dir, run);
    const enter = (ns: string): string[] => holder?.enter(ns) ?? [];
    const sockets: string[] = [];
    await Promise.all(
      nodes.map(async (node) => {
        const nodeDir = join(dir, node.name);
        for (const sub of ['containerd', 'cni', 'cni-ipam', 'pod-logs', 'kubelet', 'runc'])
          mkdirSync(join(nodeDir, sub), { recursive: true });
        writeFileSync(join(nodeDir, 'containerd.toml'), containerdConfig(nodeDir, images.pause));
        writeFileSync(join(nodeDir, 'cni', '10-beaconlb-lab.conflist'), cniConfig(nodeDir, node.podCidr));
        const sock = join(nodeDir, 'containerd', 'containerd.sock');
        sockets.push(sock);
        track(
          startProcess({
            name: `containerd-${node.name}`,
            command: enter(node.ns)[0] ?? 'nsenter',
            args: [
              ...enter(node.ns).slice(1),
              'containerd',
              `--config=${join(nodeDir, 'containerd.toml')}`,
              '--log-level=warn',
            ],
            logFile: join(nodeDir, 'containerd.log'),
          }),
        );
        await waitUntil(
          `containerd on ${node.name}`,
          () => {
            alive();
            execFileSync('ctr', ['--address', sock, 'version'], { stdio: 'ignore', timeout: 5000 });
            return true;
          },
          30_000,
          200,
        );
        for (const archive of [
          join(images.dir, 'pause.tar'),
          join(images.dir, 'demo.tar'),
          images.beaconlb.archive,
          images.ingress.archive,
        ]) {
          must('ctr', ['--address', sock, '-n', 'k8s.io', 'images', 'import', archive], 300_000);
        }
      }),
    );
    phase('containerd and images');

    for (const node of nodes) {
      const nodeDir = join(dir, node.name);
      const cgroupRoot = node.cgroupRoot;
      cgroupRoots.push(cgroupRoot);
      writeRecord();
      createCgroupRoot(cgroupRoot);
      writeFileSync(join(nodeDir, 'kubelet.json'), kubeletConfig(nodeDir, node, certificates.caCert, `/${cgroupRoot}`));
      writeFileSync(join(nodeDir, 'kube-proxy.json'), kubeProxyConfig(node, inClusterKubeconfig));
      const [nsenter = 'nsenter', ...prefix] = enter(node.ns);
      track(
        startProcess({
          name: `kubelet-${node.name}`,
          command: nsenter,
          args: [
            ...prefix,
            join(nodeBin, 'kubelet'),
            `--config=${join(nodeDir, 'kubelet.json')}`,
            `--kubeconfig=${inClusterKubeconfig}`,
            `--hostname-override=${node.name}`,
            `--node-ip=${node.ip}`,
            `--root-dir=${join(nodeDir, 'kubelet')}`,
            // Not derived from --root-dir: without it every kubelet (of every run) shares /var/lib/kubelet/pki on the
            // host, and one overwrites the serving certificate another is loading.
            `--cert-dir=${join(nodeDir, 'kubelet', 'pki')}`,
            '--v=1',
          ],
          logFile: join(nodeDir, 'kubelet.log'),
        }),
      );
      track(
        startProcess({
          name: `kube-proxy-${node.name}`,
          command: nsenter,
          args: [...prefix, join(nodeBin, 'kube-proxy'), `--config=${join(nodeDir, 'kube-proxy.json')}`, '--v=1'],
          logFile: join(nodeDir, 'kube-proxy.log'),
        }),
      );
    }
    await waitUntil(
      `${nodeCount} Ready nodes`,
      () => {
        alive();
        const list = JSON.parse(kubectl(['get', 'nodes', '-o', 'json'])) as {
          items: Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }>;
        };
        const ready = list.items.filter((n) =>
          n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return ready.length === nodeCount ? true : undefined;
      },
      180_000,
      500,
    );
    phase('nodes ready');
    timings['total'] = Math.round(performance.now() - started);

    return {
      dir,
      nodes,
      client: { ns: clientNs, ip: clientIp },
      cp: { ns: cpNs, ip: CP_IP },
      switchNs,
      kubeconfig,
      certificates,
      images,
      timings,
      kubectl,
      importImage(archive) {
        for (const sock of sockets)
          must('ctr', ['--address', sock, '-n', 'k8s.io', 'images', 'import', archive], 300_000);
      },
      tagImage(source, target) {
        for (const sock of sockets)
          must('ctr', ['--address', sock, '-n', 'k8s.io', 'images', 'tag', '--force', source, target]);
      },
      stop,
    };
  } catch (err) {
    await stop().catch((cleanupError: unknown) => {
      log(`cleanup after a failed start: ${(cleanupError as Error).message}`);
    });
    throw err;
  }
}

/** Installs Beacon LB from config/install.yaml, as users do, and waits for the controller and speakers. */
export function installBeaconLb(lab: ClusterLab, timeoutSeconds = 240): void {
  lab.kubectl(['apply', '-f', join(REPO_ROOT, 'config', 'install.yaml')]);
  for (const workload of ['deployment/beaconlb-controller', 'daemonset/beaconlb-speaker']) {
    lab.kubectl(
      ['-n', 'beaconlb-system', 'rollout', 'status', workload, `--timeout=${timeoutSeconds}s`],
      undefined,
      (timeoutSeconds + 10) * 1000,
    );
  }
}
