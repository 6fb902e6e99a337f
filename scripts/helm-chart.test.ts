// charts/beaconlb against config/: helm lint passes, the CRDs are copies of config/crd, the default render is
// config/install.yaml (same objects, same fields, images and Helm's labels aside), and each value reaches the
// objects it promises to change. helm is the real CLI, built once by scripts/helm.sh.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { controllerCommand } from '../src/cmd/controller-command.ts';
import { speakerCommand } from '../src/cmd/speaker-command.ts';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CHART_DIR,
  CHART_NAMESPACE,
  HELM_LABELS,
  SYNC_HINT,
  chartDifferences,
  crdDifferences,
  installObjects,
  objectKey,
  parseObjects,
  renderChart,
  runHelm,
  type KubeObject,
} from './helm-chart.ts';

interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  resources?: unknown;
}
interface Workload extends KubeObject {
  spec: {
    replicas?: number;
    template: {
      metadata: { annotations?: Record<string, string> };
      spec: {
        containers: Container[];
        tolerations?: unknown[];
        nodeSelector?: Record<string, string>;
        priorityClassName?: string;
      };
    };
  };
}

const values = parse(readFileSync(join(import.meta.dirname, '..', CHART_DIR, 'values.yaml'), 'utf8')) as {
  logLevel: string;
  loadBalancerClass: string;
  bgpPasswords: { namespace: string };
  controller: { metrics: { host: string; port: number } };
  speaker: { metrics: { host: string; port: number } };
};

function workload(objects: readonly KubeObject[], kind: 'Deployment' | 'DaemonSet'): Workload {
  const found = objects.find((o) => o.kind === kind);
  assert.ok(found, `a ${kind} is rendered`);
  return found as Workload;
}

function container(objects: readonly KubeObject[], kind: 'Deployment' | 'DaemonSet'): Container {
  const [only] = workload(objects, kind).spec.template.spec.containers;
  assert.ok(only);
  return only;
}

function render(...set: string[]): KubeObject[] {
  return parseObjects(renderChart(set.flatMap((s) => ['--set', s])));
}

describe(`${CHART_DIR} beside config/`, () => {
  it('helm lint --strict passes', () => {
    const lint = runHelm(['lint', '--strict', CHART_DIR]);
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
    assert.match(lint.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it(`${CHART_DIR}/crds holds the CRDs of config/crd, byte for byte`, () => {
    assert.deepEqual(crdDifferences(), [], `${CHART_DIR}/crds is stale: run node scripts/helm-chart.ts --sync-crds`);
  });

  it(`with default values, helm template renders the objects of config/install.yaml (kind, namespace, name)`, () => {
    const keys = (objects: readonly KubeObject[]): string[] => objects.map(objectKey).sort();
    assert.deepEqual(keys(render()), keys(installObjects()), SYNC_HINT);
  });

  it('with default values, every object has the same fields as in config/install.yaml, images and Helm labels aside', () => {
    const differences = chartDifferences(installObjects(), render());
    assert.deepEqual(differences, [], `${differences.join('\n')}\n${SYNC_HINT}`);
  });

  it('the comparison sees a changed container field and a missing object', () => {
    const changed = chartDifferences(
      installObjects(),
      render('speaker.resources.limits.memory=1Gi', 'controller.podDisruptionBudget.enabled=false'),
    );
    assert.ok(
      changed.some((d) =>
        d.startsWith(
          'DaemonSet beaconlb-system/beaconlb-speaker .spec.template.spec.containers[0].resources.limits.memory',
        ),
      ),
      changed.join('\n'),
    );
    assert.ok(
      changed.includes(
        'PodDisruptionBudget beaconlb-system/beaconlb-controller: in config/install.yaml, not rendered by the chart',
      ),
      changed.join('\n'),
    );
  });

  it('the images come from image.repository and image.tag, the tag defaulting to the appVersion', () => {
    const appVersion = (
      parse(readFileSync(join(import.meta.dirname, '..', CHART_DIR, 'Chart.yaml'), 'utf8')) as { appVersion: string }
    ).appVersion;
    const installed = container(installObjects(), 'Deployment').image;
    assert.equal(container(render(), 'Deployment').image, installed);
    assert.equal(
      installed,
      `ghcr.io/beaconlb/beaconlb:${appVersion}`,
      'Chart.yaml appVersion is the image tag config/ installs',
    );
    const custom = render('image.repository=registry.example/beaconlb', 'image.tag=0.2.0', 'image.pullPolicy=Always');
    for (const kind of ['Deployment', 'DaemonSet'] as const)
      assert.equal(container(custom, kind).image, 'registry.example/beaconlb:0.2.0');
  });

  it("values.yaml's logLevel, loadBalancerClass, metrics ports and BGP password namespace are the binaries' defaults (so no flag is passed)", () => {
    for (const command of [controllerCommand, speakerCommand]) {
      assert.equal(command.flags['log-level']?.default, values.logLevel, `${command.name} --log-level`);
      assert.equal(
        command.flags['load-balancer-class']?.default,
        values.loadBalancerClass,
        `${command.name} --load-balancer-class`,
      );
    }
    assert.equal(
      controllerCommand.flags['metrics-address']?.default,
      `${values.controller.metrics.host}:${values.controller.metrics.port}`,
    );
    assert.equal(
      speakerCommand.flags['metrics-address']?.default,
      `${values.speaker.metrics.host}:${values.speaker.metrics.port}`,
    );
    assert.equal(speakerCommand.flags['password-namespace']?.default, values.bgpPasswords.namespace);
  });

  it('log level, loadBalancerClass, metrics addresses and extra flags become flags; the metrics port follows', () => {
    const objects = render(
      'logLevel=debug',
      'loadBalancerClass=example.com/lb',
      'controller.metrics.port=9472',
      'speaker.metrics.host=[::]',
      'speaker.metrics.port=9473',
      'controller.extraArgs={--quarantine=30s}',
      'speaker.extraArgs={--announce-interval=30s}',
    );
    const controller = container(objects, 'Deployment');
    const speaker = container(objects, 'DaemonSet');
    assert.deepEqual(controller.args, [
      'controller',
      '--log-level=debug',
      '--load-balancer-class=example.com/lb',
      '--metrics-address=:9472',
      '--quarantine=30s',
    ]);
    assert.deepEqual(speaker.args, [
      'speaker',
      '--log-level=debug',
      '--load-balancer-class=example.com/lb',
      '--metrics-address=[::]:9473',
      '--announce-interval=30s',
    ]);
    assert.deepEqual(controller.ports, [{ name: 'metrics', containerPort: 9472, protocol: 'TCP' }]);
    assert.deepEqual(speaker.ports, [
      { name: 'metrics', containerPort: 9473, protocol: 'TCP' },
      { name: 'health', containerPort: 7475, protocol: 'TCP' },
      { name: 'memberlist', containerPort: 7946, protocol: 'UDP' },
    ]);
  });

  it('failure detection: probes by default (no flag, the UDP port declared); lease and another probe port become flags', () => {
    assert.equal(speakerCommand.flags['failure-detection']?.default, 'probes');
    assert.equal(speakerCommand.flags['probe-port']?.default, '7946');
    const lease = container(render('speaker.failureDetection=lease'), 'DaemonSet');
    assert.deepEqual(lease.args, ['speaker', '--failure-detection=lease']);
    assert.deepEqual(
      lease.ports?.map((p) => p.containerPort),
      [7473, 7475],
    );
    const port = container(render('speaker.probePort=8946'), 'DaemonSet');
    assert.deepEqual(port.args, ['speaker', '--probe-port=8946']);
    assert.deepEqual(port.ports?.at(-1), { name: 'memberlist', containerPort: 8946, protocol: 'UDP' });
  });

  it('speaker metrics: loopback by default, probes on the health port; no ServiceMonitor unless enabled', () => {
    const objects = render();
    const speaker = container(objects, 'DaemonSet') as Container & {
      livenessProbe: { httpGet: { host?: string; port: string } };
    };
    assert.deepEqual(speaker.args, ['speaker']);
    assert.equal(speakerCommand.flags['health-address']?.default, ':7475');
    assert.deepEqual(speaker.livenessProbe.httpGet, { path: '/healthz', port: 'health' });
    assert.deepEqual(container(render('speaker.health.host=[::]'), 'DaemonSet').args, [
      'speaker',
      '--health-address=[::]:7475',
    ]);
    assert.equal(objects.filter((o) => o.kind === 'ServiceMonitor').length, 0);
    assert.ok(
      objects.some((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'beaconlb-speaker-auth-delegator'),
      'TokenReview / SubjectAccessReview RBAC',
    );
  });

  it('speaker.metrics.serviceMonitor: the authenticated listener, a headless Service, a ServiceMonitor over HTTPS and the readers bound', () => {
    const objects = render(
      'speaker.metrics.serviceMonitor.enabled=true',
      'speaker.metrics.serviceMonitor.labels.release=prometheus',
      'speaker.metrics.serviceMonitor.readers[0].name=prometheus-k8s',
      'speaker.metrics.serviceMonitor.readers[0].namespace=monitoring',
    );
    const speaker = container(objects, 'DaemonSet');
    assert.deepEqual(speaker.args, ['speaker', '--secure-metrics-address=:7474']);
    assert.deepEqual(
      speaker.ports?.map((p) => p.containerPort),
      [7473, 7475, 7474, 7946],
    );
    const monitor = objects.find((o) => o.kind === 'ServiceMonitor') as
      | (KubeObject & { spec: { endpoints: Array<{ port: string; scheme: string; bearerTokenFile: string }> } })
      | undefined;
    assert.ok(monitor, 'a ServiceMonitor');
    assert.equal(monitor.metadata.labels?.['release'], 'prometheus');
    assert.deepEqual(
      monitor.spec.endpoints.map((e) => [e.port, e.scheme, e.bearerTokenFile]),
      [['https-metrics', 'https', '/var/run/secrets/kubernetes.io/serviceaccount/token']],
    );
    const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'beaconlb-speaker-metrics') as
      (KubeObject & { spec: { clusterIP: string; ports: Array<{ port: number }> } }) | undefined;
    assert.equal(service?.spec.clusterIP, 'None');
    assert.deepEqual(
      service.spec.ports.map((p) => p.port),
      [7474],
    );
    const readers = objects.find(
      (o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'beaconlb-metrics-reader',
    ) as (KubeObject & { subjects: unknown[] }) | undefined;
    assert.deepEqual(readers?.subjects, [{ kind: 'ServiceAccount', name: 'prometheus-k8s', namespace: 'monitoring' }]);
  });

  it('replicas, resources, tolerations, nodeSelector, priority class and Pod annotations reach the workloads', () => {
    const objects = render(
      'controller.replicas=3',
      'controller.resources.limits.memory=512Mi',
      'controller.tolerations[0].key=dedicated',
      'controller.tolerations[0].operator=Exists',
      'speaker.nodeSelector.role=edge',
      'speaker.tolerations=null',
      'speaker.priorityClassName=system-node-critical',
      'speaker.podAnnotations.example\\.com/team=edge',
    );
    const deployment = workload(objects, 'Deployment');
    const daemonSet = workload(objects, 'DaemonSet');
    assert.equal(deployment.spec.replicas, 3);
    assert.deepEqual(container(objects, 'Deployment').resources, {
      requests: { cpu: '20m', memory: '80Mi' },
      limits: { memory: '512Mi' },
    });
    assert.deepEqual(deployment.spec.template.spec.tolerations, [{ key: 'dedicated', operator: 'Exists' }]);
    assert.deepEqual(daemonSet.spec.template.spec.nodeSelector, { 'kubernetes.io/os': 'linux', role: 'edge' });
    assert.equal(daemonSet.spec.template.spec.tolerations, undefined);
    assert.equal(daemonSet.spec.template.spec.priorityClassName, 'system-node-critical');
    assert.deepEqual(daemonSet.spec.template.metadata.annotations, { 'example.com/team': 'edge' });
  });

  it('leader election: off passes --no-leader-elect and is refused with more than one replica', () => {
    const single = render('controller.leaderElection=false', 'controller.replicas=1');
    assert.deepEqual(container(single, 'Deployment').args, ['controller', '--no-leader-elect']);
    const refused = runHelm(['template', 'beaconlb', CHART_DIR, '--set', 'controller.leaderElection=false']);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /set controller\.replicas to 1/);
  });

  it('namespace.create=false leaves the Namespace out; every namespaced object, RBAC subject and policy follows the release namespace', () => {
    const objects = parseObjects(renderChart(['--set', 'namespace.create=false'], 'lb'));
    assert.deepEqual(
      objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name),
      ['beaconlb-bgp-passwords'],
    );
    for (const o of objects) {
      const clusterScoped = [
        'CustomResourceDefinition',
        'ClusterRole',
        'ClusterRoleBinding',
        'Namespace',
        'ValidatingAdmissionPolicy',
        'ValidatingAdmissionPolicyBinding',
      ].includes(o.kind);
      const inPasswordNamespace =
        (o.kind === 'Role' || o.kind === 'RoleBinding') && o.metadata.namespace === 'beaconlb-bgp-passwords';
      assert.equal(
        o.metadata.namespace,
        clusterScoped ? undefined : inPasswordNamespace ? 'beaconlb-bgp-passwords' : 'lb',
        objectKey(o),
      );
      for (const subject of (o['subjects'] as Array<{ namespace?: string }> | undefined) ?? [])
        assert.equal(subject.namespace, 'lb', objectKey(o));
    }
    // The admission policies name the release namespace and its ServiceAccounts, and nothing of beaconlb-system.
    const policies = JSON.stringify(objects.filter((o) => o.kind === 'ValidatingAdmissionPolicy'));
    assert.ok(
      policies.includes('system:serviceaccount:lb:beaconlb-speaker') &&
        policies.includes('system:serviceaccount:lb:beaconlb-controller'),
      policies,
    );
    assert.ok(policies.includes('"kubernetes.io/metadata.name":"lb"'), policies);
    assert.ok(!policies.includes(CHART_NAMESPACE), policies);
    const namespace = render().find((o) => o.kind === 'Namespace' && o.metadata.name === CHART_NAMESPACE);
    assert.equal(namespace?.metadata.name, CHART_NAMESPACE);
    assert.equal(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'privileged');
  });

  it('bgpPasswords.namespace moves the speaker password Role there and becomes --password-namespace; createNamespace=false leaves it out', () => {
    const objects = parseObjects(
      renderChart(['--set', 'bgpPasswords.namespace=bgp-secrets', '--set', 'bgpPasswords.createNamespace=false']),
    );
    assert.deepEqual(
      objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name),
      [CHART_NAMESPACE],
    );
    const secretRoles = objects.filter((o) => o.kind === 'Role' && JSON.stringify(o['rules']).includes('"secrets"'));
    assert.deepEqual(secretRoles.map(objectKey), [
      'Role beaconlb-system/beaconlb-controller',
      'Role beaconlb-system/beaconlb-speaker',
      'Role bgp-secrets/beaconlb-speaker',
    ]);
    // In the install namespace only the failure-detector key, by name (ADR 0019); the controller may also create it.
    for (const role of secretRoles.filter((o) => o.metadata.namespace === CHART_NAMESPACE)) {
      const rules = role['rules'] as Array<{ resources: string[]; resourceNames?: string[]; verbs: string[] }>;
      for (const rule of rules.filter((r) => r.resources.includes('secrets'))) {
        assert.ok(
          rule.verbs.every((v) => v === 'create') || JSON.stringify(rule.resourceNames) === '["beaconlb-memberlist"]',
          `${objectKey(role)}: ${JSON.stringify(rule)}`,
        );
      }
    }
    const daemonSet = objects.find((o) => o.kind === 'DaemonSet');
    assert.ok(
      JSON.stringify(daemonSet).includes('"--password-namespace=bgp-secrets"'),
      'the speaker gets --password-namespace',
    );
  });

  it("every object carries Helm's labels; selectors stay those of config/ (they cannot change on upgrade)", () => {
    const objects = render();
    for (const o of objects.filter((x) => x.kind !== 'CustomResourceDefinition')) {
      for (const label of HELM_LABELS) assert.ok(o.metadata.labels?.[label], `${objectKey(o)} has ${label}`);
    }
    const selectors = (list: readonly KubeObject[]): Record<string, unknown> =>
      Object.fromEntries(
        list
          .filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet')
          .map((o) => [o.kind, (o['spec'] as { selector: unknown }).selector]),
      );
    assert.deepEqual(selectors(objects), selectors(installObjects()));
  });

  it('values.schema.json refuses an unknown log level, a bad port and an unknown key', () => {
    for (const bad of ['logLevel=loud', 'controller.metrics.port=70000', 'controller.replica=2']) {
      const result = runHelm(['template', 'beaconlb', CHART_DIR, '--set', bad]);
      assert.notEqual(result.status, 0, bad);
      assert.match(
        result.stderr,
        /values don't meet the specifications of the schema|at '\//,
        `${bad}: ${result.stderr}`,
      );
    }
  });
});
