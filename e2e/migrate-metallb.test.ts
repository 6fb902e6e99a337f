// beaconlb migrate-metallb against a real API server. The objects translated from a realistic MetalLB configuration
// (testdata/metallb-sample.yaml) are accepted by Beacon LB's CRDs through server-side apply (strict field
// validation: a field the schema does not know is an error, not silently pruned) and come back as written; read
// from a cluster holding the same MetalLB objects (stand-in metallb.io CRDs, testdata/metallb-crds.yaml), the
// command writes the same objects and the same notes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT, useCluster } from './support/cluster.ts';

const CLI = join(REPO_ROOT, 'bin/beaconlb');
const SAMPLE = join(REPO_ROOT, 'e2e/testdata/metallb-sample.yaml');
const METALLB_CRDS = join(REPO_ROOT, 'e2e/testdata/metallb-crds.yaml');
/** The plain BGP password in the sample: it must never appear in anything the command writes. */
const SAMPLE_PASSWORD = 's3cr3t-md5-Passw0rd';

interface Written {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  stringData?: Record<string, string>;
}

function migrate(args: readonly string[]): { code: number; out: string; err: string } {
  const res = spawnSync(CLI, ['migrate-metallb', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, KUBECONFIG: '' },
  });
  return { code: res.status ?? -1, out: res.stdout, err: res.stderr };
}

const documents = (text: string): Written[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Written)
    .filter(Boolean);

const RESOURCE: Record<string, string> = {
  IPPool: 'ippools.beaconlb.io',
  L2Advertisement: 'l2advertisements.beaconlb.io',
  BGPPeer: 'bgppeers.beaconlb.io',
  BGPAdvertisement: 'bgpadvertisements.beaconlb.io',
  Secret: 'secrets',
};

/** Every field of `expected` is in `actual` with the same value (the API server may add defaults). */
function assertContains(actual: unknown, expected: unknown, path: string): void {
  if (typeof expected === 'object' && expected !== null && !Array.isArray(expected)) {
    assert.ok(typeof actual === 'object' && actual !== null, `${path}: missing on the server`);
    for (const [k, v] of Object.entries(expected))
      assertContains((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  } else assert.deepEqual(actual, expected, path);
}

/** The notes every translation of the sample must print (one line each), whatever it was read from. */
const EXPECTED_NOTES = [
  /^left out {2}BGPPeer metallb-system\/router-a spec\.password: .*Secret beaconlb-bgp-passwords\/router-a-bgp-password/m,
  /^changed {3}BGPPeer metallb-system\/router-a spec\.bfdProfile: BFDProfile fast copied into spec\.bfd/m,
  /^changed {3}IPAddressPool metallb-system\/edge spec\.serviceAllocation: given priority 11/m,
  /^changed {3}BGPPeer metallb-system\/router-b spec\.passwordSecret: .*copy Secret metallb-system\/router-b-md5/m,
  /^changed {3}BGPPeer metallb-system\/rr spec\.keepaliveTime: equals holdTime/m,
  /^changed {3}BGPPeer metallb-system\/fabric spec\.interface: unnumbered BGP over eth1/m,
  /^changed {3}L2Advertisement metallb-system\/restricted: became 2 objects \(restricted, restricted-2\)/m,
  /^changed {3}BGPAdvertisement metallb-system\/dc spec\.communities\[0\]: alias no-advertise .* written as 65535:65282/m,
  /^migrate-metallb: wrote 1 Secret, 4 IPPool, 3 L2Advertisement, 5 BGPPeer, 3 BGPAdvertisement; 1 left out, 13 changed, 0 skipped$/m,
];

describe('beaconlb migrate-metallb on a real API server', () => {
  const cluster = useCluster();
  const fromFile = (): { code: number; out: string; err: string } => migrate(['--from-file', SAMPLE]);

  it('translates the sample MetalLB configuration into objects the API server accepts as written', () => {
    const outFile = join(cluster.dir, 'beaconlb-from-file.yaml');
    const res = migrate(['--from-file', SAMPLE, '--output', outFile]);
    assert.equal(res.code, 2, `exit code 2 (something left out) expected\n${res.err}`);
    assert.equal(res.out, '', 'with --output nothing goes to stdout');
    for (const expected of EXPECTED_NOTES) assert.match(res.err, expected);
    const text = readFileSync(outFile, 'utf8');
    for (const written of [text, res.err]) assert.ok(!written.includes(SAMPLE_PASSWORD), 'the plain password leaked');

    const applied = cluster.cp.kubectl([
      'apply',
      '--server-side',
      '--field-manager=beaconlb-migrate-e2e',
      '-f',
      outFile,
    ]);
    const objects = documents(text);
    assert.deepEqual(
      objects.map((o) => `${o.kind}/${o.metadata.name}`),
      [
        'Secret/router-a-bgp-password',
        'IPPool/dc',
        'IPPool/edge',
        'IPPool/lan',
        'IPPool/team-a',
        'L2Advertisement/lan',
        'L2Advertisement/restricted',
        'L2Advertisement/restricted-2',
        'BGPPeer/fabric',
        'BGPPeer/router-a',
        'BGPPeer/router-b',
        'BGPPeer/rr',
        'BGPPeer/upstream',
        'BGPAdvertisement/dc',
        'BGPAdvertisement/dc-aggregate',
        'BGPAdvertisement/web-only',
      ],
    );
    for (const o of objects) {
      assert.match(applied, new RegExp(`${o.metadata.name} serverside-applied`));
      const args = [
        'get',
        RESOURCE[o.kind] ?? o.kind,
        o.metadata.name,
        '-o',
        'json',
        ...(o.metadata.namespace ? ['-n', o.metadata.namespace] : []),
      ];
      const onServer = JSON.parse(cluster.cp.kubectl(args)) as Written & { data?: Record<string, string> };
      if (o.kind === 'Secret') {
        assert.equal(
          Buffer.from(onServer.data?.['password'] ?? '', 'base64').toString(),
          'REPLACE-WITH-THE-BGP-PASSWORD',
        );
        continue;
      }
      assertContains(onServer.spec, o.spec, `${o.kind}/${o.metadata.name} spec`);
      assertContains(
        onServer.metadata,
        { ...(o.metadata.labels ? { labels: o.metadata.labels } : {}), annotations: o.metadata.annotations },
        `${o.kind}/${o.metadata.name} metadata`,
      );
    }
    // What MetalLB meant, checked on the stored objects.
    const peerB = JSON.parse(cluster.cp.kubectl(['get', 'bgppeers.beaconlb.io', 'router-b', '-o', 'json'])) as {
      spec: Record<string, unknown>;
    };
    assert.deepEqual(peerB.spec['addressFamilies'], ['ipv4-unicast', 'ipv6-unicast']);
    assert.equal(peerB.spec['peerPort'], 179, 'CRD default');
    const peerA = JSON.parse(cluster.cp.kubectl(['get', 'bgppeers.beaconlb.io', 'router-a', '-o', 'json'])) as {
      spec: Record<string, unknown>;
    };
    assert.deepEqual(
      peerA.spec['bfd'],
      { receiveInterval: '100ms', transmitInterval: '100ms', detectMultiplier: 3, passive: false },
      'BFDProfile fast, with the CRD default for passive',
    );
    const edge = JSON.parse(cluster.cp.kubectl(['get', 'ippools.beaconlb.io', 'edge', '-o', 'json'])) as {
      spec: { allocation: Record<string, unknown> };
    };
    assert.deepEqual(edge.spec.allocation, { namespaceSelector: { matchLabels: { edge: 'true' } }, priority: 11 });
    const upstream = JSON.parse(cluster.cp.kubectl(['get', 'bgppeers.beaconlb.io', 'upstream', '-o', 'json'])) as {
      spec: Record<string, unknown>;
    };
    assert.deepEqual([upstream.spec['dynamicASN'], upstream.spec['peerASN']], ['external', undefined]);
    const fabric = JSON.parse(cluster.cp.kubectl(['get', 'bgppeers.beaconlb.io', 'fabric', '-o', 'json'])) as {
      spec: Record<string, unknown>;
    };
    assert.deepEqual(
      [fabric.spec['interface'], fabric.spec['peerAddress'], fabric.spec['addressFamilies']],
      ['eth1', undefined, ['ipv6-unicast']],
      'an unnumbered peer: interface alone, accepted by the CRD',
    );
    const webOnly = JSON.parse(
      cluster.cp.kubectl(['get', 'bgpadvertisements.beaconlb.io', 'web-only', '-o', 'json']),
    ) as { spec: Record<string, unknown> };
    assert.deepEqual(
      [webOnly.spec['serviceSelector'], webOnly.spec['peers']],
      [{ matchLabels: { app: 'web' } }, ['rr']],
      'serviceSelectors kept',
    );
    assert.ok(!/spec\.serviceSelectors/.test(res.err), 'no note about serviceSelectors: they translate as they are');
  });

  it('reads the same MetalLB objects from a cluster and writes the same objects and notes', () => {
    cluster.cp.kubectl(['apply', '-f', METALLB_CRDS]);
    cluster.cp.kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=30s',
      'crd',
      '-l',
      'beaconlb.io/test=metallb-stand-in',
    ]);
    cluster.cp.kubectl(['create', 'namespace', 'metallb-system']);
    cluster.cp.kubectl(['apply', '-f', SAMPLE]);
    const stored = cluster.cp.kubectl(['get', 'bgppeers.v1beta2.metallb.io', '-n', 'metallb-system', '-o', 'name']);
    assert.deepEqual(stored.trim().split('\n').sort(), [
      'bgppeer.metallb.io/fabric',
      'bgppeer.metallb.io/router-a',
      'bgppeer.metallb.io/router-b',
      'bgppeer.metallb.io/rr',
      'bgppeer.metallb.io/upstream',
    ]);

    const fromCluster = migrate(['--kubeconfig', cluster.cp.kubeconfig]);
    assert.equal(fromCluster.code, 2, fromCluster.err);
    const files = fromFile();
    assert.equal(fromCluster.out, files.out, 'the objects differ from those translated from the file');
    assert.equal(fromCluster.err, files.err, 'the notes differ from those of the file');
    for (const expected of EXPECTED_NOTES) assert.match(fromCluster.err, expected);
    assert.ok(
      !fromCluster.out.includes(SAMPLE_PASSWORD) && !fromCluster.err.includes(SAMPLE_PASSWORD),
      'the plain password leaked',
    );

    const applied = cluster.cp.kubectl(
      ['apply', '--server-side', '--field-manager=beaconlb-migrate-e2e', '-f', '-'],
      fromCluster.out,
    );
    assert.equal(applied.trim().split('\n').length, 16);
  });

  it('says so when the namespace it reads holds no MetalLB objects', () => {
    const res = migrate(['--kubeconfig', cluster.cp.kubeconfig, '--metallb-namespace', 'elsewhere']);
    assert.equal(res.code, 0, res.err);
    assert.match(res.err, /^note: no MetalLB objects in namespace elsewhere/m);
    assert.match(res.err, /wrote nothing; 0 left out, 0 changed, 0 skipped/);
  });
});
