// The configuration files of one cluster-lab node's components, as text: containerd, the CNI bridge network, the
// kubelet and kube-proxy (nftables). Written by startClusterLab (cluster-lab.ts) into the node's directory.
import { join } from 'node:path';
import { CLUSTER_POD_CIDR, type ClusterNode } from './cluster-lab.ts';

export function containerdConfig(nodeDir: string, pauseImage: string): string {
  return `version = 2
root = "${nodeDir}/containerd/root"
state = "${nodeDir}/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "${nodeDir}/containerd/containerd.sock"
[ttrpc]
  address = "${nodeDir}/containerd/containerd.sock.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "${nodeDir}/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${pauseImage}"
  restrict_oom_score_adj = true
  enable_selinux = false
  max_container_log_line_size = 16384
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "${nodeDir}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${nodeDir}/cni"
`;
}

export function cniConfig(nodeDir: string, podCidr: string): string {
  return `${JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'beaconlb-lab',
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: podCidr }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: join(nodeDir, 'cni-ipam'),
          },
        },
      ],
    },
    null,
    2,
  )}\n`;
}

export function kubeletConfig(nodeDir: string, node: ClusterNode, caCert: string, cgroupRoot: string): string {
  return `${JSON.stringify(
    {
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      kind: 'KubeletConfiguration',
      failCgroupV1: false,
      cgroupDriver: 'cgroupfs',
      cgroupRoot,
      failSwapOn: false,
      address: node.ip,
      healthzBindAddress: '127.0.0.1',
      readOnlyPort: 0,
      podLogsDir: join(nodeDir, 'pod-logs'),
      containerRuntimeEndpoint: `unix://${nodeDir}/containerd/containerd.sock`,
      // The lab's API server reads logs through kubelet's API without a client certificate of its own.
      authentication: { anonymous: { enabled: true }, webhook: { enabled: false }, x509: { clientCAFile: caCert } },
      authorization: { mode: 'AlwaysAllow' },
      resolvConf: '',
      // Images are imported, never pulled: garbage collection must not remove them.
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
      maxPods: 40,
      serializeImagePulls: false,
      shutdownGracePeriod: '0s',
      nodeStatusUpdateFrequency: '4s',
    },
    null,
    2,
  )}\n`;
}

export function kubeProxyConfig(node: ClusterNode, kubeconfig: string): string {
  return `${JSON.stringify(
    {
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      mode: 'nftables',
      clientConnection: { kubeconfig },
      hostnameOverride: node.name,
      clusterCIDR: CLUSTER_POD_CIDR,
      metricsBindAddress: '127.0.0.1:10249',
      healthzBindAddress: '127.0.0.1:10256',
      // Per-namespace and global conntrack settings stay as they are.
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    },
    null,
    2,
  )}\n`;
}
