// config/install.yaml and config/default on a real, empty API server: the rendered manifest is current, applies
// (really, not as a dry run) and applies again unchanged, creates what the install promises with the fields the
// binaries need, and stays within the Pod Security levels it claims. There are no kubelets or controllers here:
// Pods never start, so only the API objects are checked.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { INSTALL_MANIFEST, renderInstall } from '../scripts/render-install.ts';
import { INSTALL_NAMESPACE, REPO_ROOT, useCluster } from './support/cluster.ts';

const IMAGE = 'ghcr.io/beaconlb/beaconlb:0.1.0';
const manifestPath = join(REPO_ROOT, INSTALL_MANIFEST);

interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
}
interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}
interface Probe {
  httpGet?: { path: string; port: number | string };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: Array<{ name?: string; containerPort: number }>;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsUser?: number;
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    privileged?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
  };
}
interface PodSpec {
  serviceAccountName?: string;
  hostNetwork?: boolean;
  dnsPolicy?: string;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  tolerations?: Array<{ key?: string; operator?: string; effect?: string }>;
  topologySpreadConstraints?: Array<{ topologyKey: string; maxSkew: number; whenUnsatisfiable: string }>;
  containers: Container[];
}
interface Workload extends KubeObject {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    updateStrategy?: { type: string; rollingUpdate?: { maxUnavailable?: number | string } };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

/** kubectl as admin, with stderr (warnings) kept also on success. */
function kubectl(
  cp: { binaries: string; kubeconfig: string },
  args: readonly string[],
  input?: string,
): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(join(cp.binaries, 'kubectl'), [`--kubeconfig=${cp.kubeconfig}`, ...args], {
    encoding: 'utf8',
    input,
    timeout: 60_000,
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function manifestObjects(): KubeObject[] {
  return parseAllDocuments(readFileSync(manifestPath, 'utf8'))
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

/** `kubectl apply` prints one line per object: `<kind>.<group>/<name> <what happened>`. */
function appliedLines(stdout: string): Array<{ object: string; action: string }> {
  return stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [object = '', ...rest] = line.split(' ');
      return { object, action: rest.join(' ') };
    });
}

function container(workload: Workload): Container {
  const [only, ...more] = workload.spec.template.spec.containers;
  assert.ok(only, `${workload.kind} ${workload.metadata.name} has a container`);
  assert.equal(more.length, 0, `${workload.kind} ${workload.metadata.name} has one container`);
  return only;
}

function fieldRefOf(c: Container, name: string): string | undefined {
  return c.env?.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath;
}

/** The container port a probe points at (by name or number). */
function probePort(c: Container, probe: Probe | undefined): number | undefined {
  const port = probe?.httpGet?.port;
  return typeof port === 'number' ? port : c.ports?.find((p) => p.name === port)?.containerPort;
}

describe('install manifests on an empty API server', () => {
  const cluster = useCluster({ install: false });

  it(`${INSTALL_MANIFEST} is what scripts/render-install.ts renders from config/default`, () => {
    assert.equal(
      readFileSync(manifestPath, 'utf8'),
      renderInstall(),
      `${INSTALL_MANIFEST} is stale: run node scripts/render-install.ts`,
    );
  });

  it(`kubectl apply -f ${INSTALL_MANIFEST} creates every object on the empty API server`, () => {
    const first = kubectl(cluster.cp, ['apply', '-f', manifestPath]);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stderr.trim(), '', 'no warnings (unknown fields, deprecated APIs, Pod Security)');
    const created = appliedLines(first.stdout);
    assert.equal(created.length, manifestObjects().length, first.stdout);
    for (const { object, action } of created) assert.equal(action, 'created', `${object}: ${action}`);
  });

  it('the five CRDs become Established', () => {
    const crds = manifestObjects()
      .filter((o) => o.kind === 'CustomResourceDefinition')
      .map((o) => o.metadata.name)
      .sort();
    assert.deepEqual(crds, [
      'bgpadvertisements.beaconlb.io',
      'bgppeers.beaconlb.io',
      'ippools.beaconlb.io',
      'l2advertisements.beaconlb.io',
      'serviceannouncements.beaconlb.io',
    ]);
    const wait = kubectl(cluster.cp, [
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      ...crds.map((name) => `crd/${name}`),
    ]);
    assert.equal(wait.status, 0, wait.stderr);
    // Served: the API server lists each kind (none yet).
    const list = kubectl(cluster.cp, [
      'get',
      'ippools,l2advertisements,bgppeers,bgpadvertisements,serviceannouncements',
      '-A',
      '-o',
      'name',
    ]);
    assert.equal(list.status, 0, list.stderr);
    assert.equal(list.stdout.trim(), '');
  });

  it(`applying ${INSTALL_MANIFEST} again changes nothing`, () => {
    const versions = (): string => {
      const got = kubectl(cluster.cp, [
        'get',
        '-f',
        manifestPath,
        '-o',
        'jsonpath={range .items[*]}{.kind}/{.metadata.name}={.metadata.resourceVersion}{"\\n"}{end}',
      ]);
      assert.equal(got.status, 0, got.stderr);
      return got.stdout;
    };
    const before = versions();
    assert.equal(before.trim().split('\n').length, manifestObjects().length, before);
    const again = kubectl(cluster.cp, ['apply', '-f', manifestPath]);
    assert.equal(again.status, 0, again.stderr);
    const lines = appliedLines(again.stdout);
    assert.equal(lines.length, manifestObjects().length, again.stdout);
    for (const { object, action } of lines) {
      // A PodDisruptionBudget's selector has patchStrategy "replace", so client-side apply always sends it and
      // says "configured"; the server finds nothing to change (the resourceVersions below stay the same).
      const expected = object.startsWith('poddisruptionbudget.policy/') ? 'configured' : 'unchanged';
      assert.equal(action, expected, `${object}: ${action}`);
    }
    assert.equal(versions(), before, 'no object was written');
  });

  it('the ServiceAccounts exist and are bound to what each component needs', () => {
    for (const name of ['beaconlb-controller', 'beaconlb-speaker']) {
      const sa = kubectl(cluster.cp, ['get', 'serviceaccount', name, '-n', INSTALL_NAMESPACE, '-o', 'name']);
      assert.equal(sa.stdout.trim(), `serviceaccount/${name}`, sa.stderr);
    }
    const canI = (sa: string, ...args: string[]): string =>
      kubectl(cluster.cp, [
        'auth',
        'can-i',
        `--as=system:serviceaccount:${INSTALL_NAMESPACE}:${sa}`,
        ...args,
      ]).stdout.trim();
    assert.equal(canI('beaconlb-controller', 'update', 'services', '--subresource=status', '-A'), 'yes');
    assert.equal(canI('beaconlb-controller', 'update', 'leases', '-n', INSTALL_NAMESPACE), 'yes');
    assert.equal(canI('beaconlb-speaker', 'patch', 'leases', '-n', INSTALL_NAMESPACE), 'yes');
    assert.equal(canI('beaconlb-speaker', 'list', 'endpointslices.discovery.k8s.io', '-A'), 'yes');
    assert.equal(canI('beaconlb-speaker', 'update', 'services', '--subresource=status', '-A'), 'no');
    // BGP passwords only (ADR 0014): no Secret of the install namespace.
    assert.equal(canI('beaconlb-speaker', 'get', 'secrets', '-n', 'beaconlb-bgp-passwords'), 'yes');
    assert.equal(canI('beaconlb-speaker', 'get', 'secrets', '-n', INSTALL_NAMESPACE), 'no');
    assert.equal(canI('beaconlb-speaker', 'list', 'secrets', '-n', INSTALL_NAMESPACE), 'no');
  });

  it('the admission policies are installed, bound to Deny, and type-check without warnings', () => {
    for (const name of ['beaconlb-speaker-lease', 'beaconlb-allocation-record']) {
      const got = kubectl(cluster.cp, ['get', 'validatingadmissionpolicy', name, '-o', 'json']);
      assert.equal(got.status, 0, got.stderr);
      const policy = JSON.parse(got.stdout) as { status?: { typeChecking?: { expressionWarnings?: unknown[] } } };
      assert.deepEqual(policy.status?.typeChecking?.expressionWarnings ?? [], [], `${name}: CEL type-check warnings`);
      const binding = kubectl(cluster.cp, [
        'get',
        'validatingadmissionpolicybinding',
        name,
        '-o',
        'jsonpath={.spec.policyName} {.spec.validationActions}',
      ]);
      assert.equal(binding.stdout, `${name} ["Deny"]`, binding.stderr);
    }
  });

  it('the controller: a Deployment of 2 leader-electing, non-root replicas on different nodes, with a PodDisruptionBudget', () => {
    const got = kubectl(cluster.cp, [
      'get',
      'deployment',
      'beaconlb-controller',
      '-n',
      INSTALL_NAMESPACE,
      '-o',
      'json',
    ]);
    assert.equal(got.status, 0, got.stderr);
    const deployment = JSON.parse(got.stdout) as Workload;
    const pod = deployment.spec.template.spec;
    const c = container(deployment);
    assert.equal(deployment.spec.replicas, 2);
    assert.equal(pod.serviceAccountName, 'beaconlb-controller');
    assert.equal(c.image, IMAGE);
    assert.equal(c.command, undefined, 'the image ENTRYPOINT runs (args only)');
    assert.deepEqual(c.args, ['controller'], 'leader election stays on (no --no-leader-elect)');
    assert.equal(fieldRefOf(c, 'POD_NAME'), 'metadata.name');
    assert.equal(fieldRefOf(c, 'BEACONLB_NAMESPACE'), 'metadata.namespace');
    assert.equal(probePort(c, c.livenessProbe), 7472);
    assert.equal(c.livenessProbe?.httpGet?.path, '/healthz');
    assert.equal(probePort(c, c.readinessProbe), 7472);
    assert.equal(c.readinessProbe?.httpGet?.path, '/readyz');
    assert.deepEqual(c.resources, { requests: { cpu: '20m', memory: '80Mi' }, limits: { memory: '256Mi' } });
    const podSecurity = pod.securityContext;
    const security = c.securityContext;
    assert.ok(podSecurity && security);
    assert.equal(podSecurity.runAsNonRoot, true);
    assert.ok((podSecurity.runAsUser ?? 0) > 0, 'a numeric non-root user');
    assert.equal(podSecurity.seccompProfile?.type, 'RuntimeDefault');
    assert.equal(security.readOnlyRootFilesystem, true);
    assert.equal(security.allowPrivilegeEscalation, false);
    assert.deepEqual(security.capabilities, { drop: ['ALL'] });
    assert.ok(
      pod.topologySpreadConstraints?.some(
        (t) => t.topologyKey === 'kubernetes.io/hostname' && t.maxSkew === 1 && t.whenUnsatisfiable === 'DoNotSchedule',
      ),
      'replicas spread over nodes',
    );

    const pdb = JSON.parse(
      kubectl(cluster.cp, ['get', 'pdb', 'beaconlb-controller', '-n', INSTALL_NAMESPACE, '-o', 'json']).stdout,
    ) as {
      spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } };
    };
    assert.equal(pdb.spec.minAvailable, 1);
    assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
  });

  it('the speaker: a DaemonSet on the host network with only NET_RAW added', () => {
    const got = kubectl(cluster.cp, ['get', 'daemonset', 'beaconlb-speaker', '-n', INSTALL_NAMESPACE, '-o', 'json']);
    assert.equal(got.status, 0, got.stderr);
    const daemonSet = JSON.parse(got.stdout) as Workload;
    const pod = daemonSet.spec.template.spec;
    const c = container(daemonSet);
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.dnsPolicy, 'ClusterFirstWithHostNet');
    assert.equal(pod.serviceAccountName, 'beaconlb-speaker');
    assert.equal(c.image, IMAGE);
    assert.equal(c.command, undefined, 'the image ENTRYPOINT runs (args only)');
    assert.deepEqual(c.args, ['speaker']);
    assert.equal(fieldRefOf(c, 'NODE_NAME'), 'spec.nodeName');
    assert.equal(fieldRefOf(c, 'BEACONLB_NAMESPACE'), 'metadata.namespace');
    const security = c.securityContext;
    assert.ok(security);
    assert.deepEqual(security.capabilities, { drop: ['ALL'], add: ['NET_RAW'] });
    assert.notEqual(security.privileged, true);
    assert.equal(security.allowPrivilegeEscalation, false);
    assert.equal(security.readOnlyRootFilesystem, true);
    assert.equal(security.runAsUser, 0, 'root: NET_RAW reaches the process only as root (see the manifest)');
    assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    // Probes go to --health-address (:7475, /healthz and /readyz only); the metrics stay on the node's loopback.
    assert.equal(probePort(c, c.livenessProbe), 7475);
    assert.equal(c.livenessProbe?.httpGet?.path, '/healthz');
    assert.equal(probePort(c, c.readinessProbe), 7475);
    assert.equal(c.readinessProbe?.httpGet?.path, '/readyz');
    assert.deepEqual(c.resources, { requests: { cpu: '20m', memory: '96Mi' }, limits: { memory: '256Mi' } });
    assert.equal(pod.terminationGracePeriodSeconds, 10);
    assert.ok(
      pod.tolerations?.some((t) => t.key === 'node-role.kubernetes.io/control-plane' && t.effect === 'NoSchedule'),
    );
    const strategy = daemonSet.spec.updateStrategy;
    assert.ok(strategy);
    assert.equal(strategy.type, 'RollingUpdate');
    assert.equal(strategy.rollingUpdate?.maxUnavailable, 1);
  });

  it('Pod Security: the controller meets restricted; the speaker exceeds baseline only by host network and NET_RAW', () => {
    // Admission warns about workload objects against a namespace's `warn` level; a server-side dry run of each
    // workload in such a namespace shows exactly what the level would refuse.
    const warnings = (level: string, kind: string): string => {
      const namespace = `psa-${level}`;
      const ns = {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: namespace, labels: { 'pod-security.kubernetes.io/warn': level } },
      };
      assert.equal(kubectl(cluster.cp, ['apply', '-f', '-'], JSON.stringify(ns)).status, 0);
      const workload = manifestObjects().find((o) => o.kind === kind);
      assert.ok(workload);
      const moved = { ...workload, metadata: { ...workload.metadata, namespace } };
      const result = kubectl(cluster.cp, ['create', '--dry-run=server', '-f', '-'], JSON.stringify(moved));
      assert.equal(result.status, 0, result.stderr);
      return result.stderr.trim();
    };
    assert.equal(warnings('restricted', 'Deployment'), '');
    const speaker = warnings('baseline', 'DaemonSet');
    assert.match(speaker, /would violate PodSecurity "baseline:latest"/);
    const violations = speaker
      .replace(/^.*would violate PodSecurity "baseline:latest": /s, '')
      .split(/\), /)
      .map((v) => v.replace(/ \(.*$/s, '').trim())
      .sort();
    // (Pods get hostPorts 7473 and 7475 defaulted from the container port on the host network; Pod Security allows a host
    // port only at privileged too, but that default is applied to Pods, not to the template checked here.)
    assert.deepEqual(violations, ['host namespaces', 'non-default capabilities'], speaker);
    assert.match(speaker, /"NET_RAW"/);
  });

  it('kubectl apply --dry-run=server -k config/default accepts the kustomization too', () => {
    const result = kubectl(cluster.cp, ['apply', '--dry-run=server', '-k', join(REPO_ROOT, 'config/default')]);
    assert.equal(result.status, 0, result.stderr);
    const lines = appliedLines(result.stdout);
    assert.equal(lines.length, manifestObjects().length, result.stdout);
    for (const { object, action } of lines) assert.match(action, /\(server dry run\)$/, object);
  });
});
