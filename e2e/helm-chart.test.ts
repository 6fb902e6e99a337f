// charts/beaconlb on a real, empty API server: the `helm template` output applies server-side (really, not as a
// dry run) without warnings, applies again without writing anything, and creates the objects config/install.yaml
// creates; before that, the documented Helm life cycle (install --create-namespace, CRD update, upgrade, uninstall)
// with the real helm CLI, in a namespace of its own. There are no kubelets or controllers here: Pods never start, so only the API objects are checked.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  CHART_DIR,
  CHART_NAMESPACE,
  installObjects,
  objectKey,
  parseObjects,
  renderChart,
  runHelm,
  type KubeObject,
} from '../scripts/helm-chart.ts';
import { REPO_ROOT, useCluster } from './support/cluster.ts';

interface Workload extends KubeObject {
  spec: {
    replicas?: number;
    template: {
      spec: {
        hostNetwork?: boolean;
        containers: Array<{ args?: string[]; securityContext?: { capabilities?: unknown } }>;
      };
    };
  };
}

describe('the Helm chart on an empty API server', () => {
  const cluster = useCluster({ install: false });
  const rendered = renderChart();
  const objects = parseObjects(rendered);

  function kubectl(args: readonly string[], input?: string): { status: number; stdout: string; stderr: string } {
    const result = spawnSync(join(cluster.cp.binaries, 'kubectl'), [`--kubeconfig=${cluster.cp.kubeconfig}`, ...args], {
      encoding: 'utf8',
      input,
      timeout: 60_000,
    });
    return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
  }

  /** helm against the test API server, with its own config, cache and data directories. */
  function helm(args: readonly string[]): { status: number; stdout: string; stderr: string } {
    const home = join(cluster.dir, 'helm');
    return runHelm([`--kubeconfig=${cluster.cp.kubeconfig}`, ...args], {
      ...process.env,
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_DATA_HOME: join(home, 'data'),
    });
  }

  function resourceVersions(): string {
    const got = kubectl(
      [
        'get',
        '-f',
        '-',
        '-o',
        'jsonpath={range .items[*]}{.kind}/{.metadata.name}={.metadata.resourceVersion}{"\\n"}{end}',
      ],
      rendered,
    );
    assert.equal(got.status, 0, got.stderr);
    return got.stdout;
  }

  it('helm template (default values) renders the objects of config/install.yaml', () => {
    assert.deepEqual(objects.map(objectKey).sort(), installObjects().map(objectKey).sort());
  });

  it('helm install --create-namespace, upgrade and uninstall work as docs/install.md says', () => {
    const namespace = 'beaconlb-helm';
    // Its own BGP password namespace: there is no namespace controller here, so the one uninstall deletes stays
    // Terminating, and the default one is applied by the next test.
    const passwords = 'beaconlb-helm-bgp-passwords';
    const install = helm([
      'install',
      'beaconlb',
      join(REPO_ROOT, CHART_DIR),
      '--namespace',
      namespace,
      '--create-namespace',
      '--set',
      `bgpPasswords.namespace=${passwords}`,
    ]);
    assert.equal(install.status, 0, install.stderr);
    const canRead = (ns: string): string =>
      kubectl([
        'auth',
        'can-i',
        'get',
        'secrets',
        '-n',
        ns,
        `--as=system:serviceaccount:${namespace}:beaconlb-speaker`,
      ]).stdout.trim();
    assert.equal(canRead(passwords), 'yes', 'the speaker reads the BGP password namespace');
    assert.equal(canRead(namespace), 'no', 'and no Secret of the release namespace');
    assert.match(install.stdout, /STATUS: deployed/);
    const labels = kubectl(['get', 'namespace', namespace, '-o', 'jsonpath={.metadata.labels}']);
    assert.match(
      labels.stdout,
      /"pod-security.kubernetes.io\/enforce":"privileged"/,
      'the chart labels the namespace helm created',
    );
    const subjects = kubectl([
      'get',
      'clusterrolebinding',
      'beaconlb-speaker',
      '-o',
      'jsonpath={.subjects[0].namespace}',
    ]);
    assert.equal(subjects.stdout, namespace);
    const list = helm(['list', '--namespace', namespace, '-o', 'json']);
    assert.match(list.stdout, /"status":"deployed"/);
    const crdsInstalled = kubectl(['get', 'crd', '-l', 'app.kubernetes.io/name=beaconlb', '-o', 'name']);
    assert.equal(crdsInstalled.stdout.trim().split('\n').length, 5, 'helm installed the CRDs from crds/');
    // The documented CRD update before an upgrade works on CRDs helm created.
    const crdUpdate = kubectl([
      'apply',
      '--server-side',
      '--force-conflicts',
      '-f',
      join(REPO_ROOT, CHART_DIR, 'crds'),
    ]);
    assert.equal(crdUpdate.status, 0, crdUpdate.stderr);

    const upgrade = helm([
      'upgrade',
      'beaconlb',
      join(REPO_ROOT, CHART_DIR),
      '--namespace',
      namespace,
      '--set',
      'logLevel=debug',
      '--set',
      'controller.replicas=3',
      '--set',
      `bgpPasswords.namespace=${passwords}`,
    ]);
    assert.equal(upgrade.status, 0, upgrade.stderr);
    const args = kubectl([
      'get',
      'daemonset',
      'beaconlb-speaker',
      '-n',
      namespace,
      '-o',
      'jsonpath={.spec.template.spec.containers[0].args}',
    ]);
    assert.equal(args.stdout, `["speaker","--log-level=debug","--password-namespace=${passwords}"]`);
    const replicas = kubectl([
      'get',
      'deployment',
      'beaconlb-controller',
      '-n',
      namespace,
      '-o',
      'jsonpath={.spec.replicas}',
    ]);
    assert.equal(replicas.stdout, '3');

    const uninstall = helm(['uninstall', 'beaconlb', '--namespace', namespace]);
    assert.equal(uninstall.status, 0, uninstall.stderr);
    const gone = kubectl([
      'get',
      'clusterrole',
      'beaconlb-controller',
      'beaconlb-speaker',
      '--ignore-not-found',
      '-o',
      'name',
    ]);
    assert.equal(gone.stdout.trim(), '', 'the release removed its cluster-wide objects');
    const crds = kubectl(['get', 'crd', 'ippools.beaconlb.io', '-o', 'name']);
    assert.equal(
      crds.stdout.trim(),
      'customresourcedefinition.apiextensions.k8s.io/ippools.beaconlb.io',
      'helm keeps CRDs on uninstall',
    );
  });

  it('kubectl apply --server-side of the rendered chart is accepted for every object, without warnings', () => {
    // The CRDs are left from the helm release above (helm keeps them), with the same content.
    const applied = kubectl(['apply', '--server-side', '--field-manager=beaconlb-e2e', '-f', '-'], rendered);
    assert.equal(applied.status, 0, applied.stderr);
    assert.equal(applied.stderr.trim(), '', 'no warnings (unknown fields, deprecated APIs, Pod Security)');
    const lines = applied.stdout.trim().split('\n');
    assert.equal(lines.length, objects.length, applied.stdout);
    for (const line of lines) assert.match(line, / serverside-applied$/);
    assert.equal(resourceVersions().trim().split('\n').length, objects.length);
  });

  it('the CRDs become Established and are served', () => {
    const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => `crd/${o.metadata.name}`);
    assert.equal(crds.length, 5);
    const wait = kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...crds]);
    assert.equal(wait.status, 0, wait.stderr);
    const list = kubectl([
      'get',
      'ippools,l2advertisements,bgppeers,bgpadvertisements,serviceannouncements',
      '-A',
      '-o',
      'name',
    ]);
    assert.equal(list.status, 0, list.stderr);
  });

  it('applying it again writes nothing', () => {
    const before = resourceVersions();
    const again = kubectl(['apply', '--server-side', '--field-manager=beaconlb-e2e', '-f', '-'], rendered);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(resourceVersions(), before);
  });

  it('the server holds the workloads as rendered: 2 controller replicas, the speaker on the host network with NET_RAW only', () => {
    const get = (kind: string, name: string): Workload => {
      const got = kubectl(['get', kind, name, '-n', CHART_NAMESPACE, '-o', 'json']);
      assert.equal(got.status, 0, got.stderr);
      return JSON.parse(got.stdout) as Workload;
    };
    const deployment = get('deployment', 'beaconlb-controller');
    assert.equal(deployment.spec.replicas, 2);
    assert.deepEqual(deployment.spec.template.spec.containers[0]?.args, ['controller']);
    const daemonSet = get('daemonset', 'beaconlb-speaker');
    assert.equal(daemonSet.spec.template.spec.hostNetwork, true);
    assert.deepEqual(daemonSet.spec.template.spec.containers[0]?.securityContext?.capabilities, {
      drop: ['ALL'],
      add: ['NET_RAW'],
    });
    const ns = kubectl([
      'get',
      'namespace',
      CHART_NAMESPACE,
      '-o',
      'jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}',
    ]);
    assert.equal(ns.stdout, 'privileged');
    const canI = kubectl([
      'auth',
      'can-i',
      `--as=system:serviceaccount:${CHART_NAMESPACE}:beaconlb-controller`,
      'update',
      'services',
      '--subresource=status',
      '-A',
    ]);
    assert.equal(canI.stdout.trim(), 'yes');
  });
});
