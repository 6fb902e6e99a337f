import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'bin', 'beaconlb');
const SAMPLE = join(ROOT, 'e2e', 'testdata', 'metallb-sample.yaml');

const run = (args: readonly string[], input?: string): { code: number; out: string; err: string } => {
  const res = spawnSync(CLI, ['migrate-metallb', ...args], {
    encoding: 'utf8',
    input,
    env: { ...process.env, KUBECONFIG: '' },
  });
  return { code: res.status ?? -1, out: res.stdout, err: res.stderr };
};

function withDir<T>(body: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'beaconlb-migrate-'));
  try {
    return body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const POOL =
  'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p, namespace: metallb-system}\nspec: {addresses: [198.51.100.0/28]}\n';
const L2 =
  'apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: l2, namespace: metallb-system}\nspec: {interfaces: [eth0]}\n';

describe('beaconlb migrate-metallb (files)', () => {
  it('exits 0 and writes only the summary on stderr when everything translated', () => {
    withDir((dir) => {
      writeFileSync(join(dir, 'a.yaml'), `${POOL}---\n${L2}`);
      const res = run(['--from-file', join(dir, 'a.yaml')]);
      assert.equal(res.code, 0, res.err);
      assert.equal(res.err, 'migrate-metallb: wrote 1 IPPool, 1 L2Advertisement; 0 left out, 0 changed, 0 skipped\n');
      const objects = parseAllDocuments(res.out).map((d) => d.toJS() as { kind: string; spec: unknown });
      assert.deepEqual(
        objects.map((o) => [o.kind, o.spec]),
        [
          ['IPPool', { addresses: ['198.51.100.0/28'] }],
          ['L2Advertisement', { interfaces: ['eth0'] }],
        ],
      );
    });
  });

  it('reads stdin (-), several --from-file and directories alike', () => {
    const single = run(['--from-file', SAMPLE]);
    assert.equal(single.code, 2);
    const stdin = run(['--from-file', '-'], readFileSync(SAMPLE, 'utf8'));
    assert.deepEqual([stdin.code, stdin.out, stdin.err], [single.code, single.out, single.err]);
    withDir((dir) => {
      const [head = '', ...tail] = readFileSync(SAMPLE, 'utf8').split('\n---\n');
      writeFileSync(join(dir, '1-pools.yaml'), head);
      writeFileSync(join(dir, '2-rest.yml'), tail.join('\n---\n'));
      writeFileSync(join(dir, 'README.md'), 'not a manifest');
      const repeated = run(['--from-file', join(dir, '2-rest.yml'), '--from-file', join(dir, '1-pools.yaml')]);
      assert.deepEqual(
        [repeated.code, repeated.out, repeated.err],
        [single.code, single.out, single.err],
        'a repeated --from-file lost a file',
      );
      const directory = run(['--from-file', dir]);
      assert.deepEqual([directory.code, directory.out], [single.code, single.out]);
    });
  });

  it('opens List documents (kubectl get -o yaml)', () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [parseAllDocuments(POOL)[0]?.toJS()] };
    const res = run(['--from-file', '-'], JSON.stringify(list));
    assert.equal(res.code, 0, res.err);
    assert.match(res.out, /kind: IPPool/);
  });

  it('writes with YAML 1.1 quoting, so kubectl reads yes and 64512:10 as strings', () => {
    const pool = POOL.replace('metadata: {', 'metadata: {labels: {enabled: "yes"}, ');
    const adv =
      'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: a}\nspec: {communities: ["64512:10"]}\n';
    const res = run(['--from-file', '-'], `${pool}---\n${adv}`);
    assert.match(res.out, /enabled: "yes"/);
    assert.match(res.out, /- "64512:10"/);
  });

  it('exits 1 naming the file and the document of unreadable input, writing nothing', () => {
    withDir((dir) => {
      const bad = join(dir, 'bad.yaml');
      writeFileSync(bad, `${POOL}---\nspec: [unclosed\n`);
      const syntax = run(['--from-file', bad]);
      assert.equal(syntax.code, 1);
      assert.match(syntax.err, new RegExp(`^beaconlb migrate-metallb: cannot read ${bad}: document 2: `));
      assert.equal(syntax.out, '');
      writeFileSync(bad, `${POOL}---\n---\n- just\n- a list\n`);
      const notObject = run(['--from-file', bad]);
      assert.equal(notObject.code, 1);
      assert.match(notObject.err, /bad\.yaml: document 3: not a Kubernetes object/);
      const missing = run(['--from-file', join(dir, 'nope.yaml')]);
      assert.equal(missing.code, 1);
      assert.match(missing.err, /cannot read .*nope\.yaml: ENOENT/);
      rmSync(bad);
      const empty = run(['--from-file', dir]);
      assert.equal(empty.code, 1);
      assert.match(empty.err, /the directory holds no \.yaml, \.yml, \.json file/);
    });
  });

  it('refuses a run without input with the usage (exit 2)', () => {
    const res = run([]);
    assert.equal(res.code, 2);
    assert.match(res.err, /give --from-file PATH \(repeatable\) or --kubeconfig FILE/);
    assert.match(run(['--from-file', SAMPLE, 'extra']).err, /unexpected argument "extra"/);
  });
});
